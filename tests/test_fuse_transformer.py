"""Transformer subgraph fusions (csrc/passes/fuse_{gelu,layernorm,matmul_bias,
attention}.cpp) and the ops they make (ops/fused_matmul.cpp FusedMatMul,
ops/fused_attention.cpp MultiHeadAttention with kernels/attention.*).

Each decomposed subgraph is built with onnx.helper as PyTorch / Hugging Face
export it and checked three ways:
- the fused node is in the plan (net.steps()) and the parts are gone;
- outputs vs ONNX Runtime (optimisations off) at a stated relative
  tolerance (max abs error over max |ref|): 1e-5 for GELU, LayerNorm and
  MatMul + bias, 2e-5 for attention (float32 dot products over D and T and
  an exp per score); the fast algorithm and NAIVE both;
- near misses stay unfused: a wrong constant, a wrong axis, an intermediate
  read by another node or being a graph output.
Fast vs NAIVE (each also vs ORT), outputs NaN-filled before the run so an
unwritten element fails: MultiHeadAttention's ATTENTION_TILED on awkward
sizes (S around the row block of min(128, 32768 / T) rows: 127, 129 (a
one-row block), 130, and 110 rows at T = 600 (blocks of 54); D, Dv odd;
empty batch, queries or keys; broadcast masks); FusedMatMul's SGEMM on one
row (GEMV), 1-D A, 65 and 70 rows, with W packed per run or preprocessed.
Threads: 3 real threads (load(threads=3)) give the same bits as 1 (the
attention splits over (batch, head, row block) items, FusedMatMul over row
ranges; each item is computed whole by one thread) and the step fanned out.
"""
import math

import numpy as np
import pytest
from onnx import TensorProto, helper

import loadrun
from isa_levels import other_isa_levels_test
from onnx_ref import assert_close, make_model, ort_run

rng = np.random.default_rng(11)
n = helper.make_node


def f32(*shape, scale=1.0):
    return (rng.standard_normal(shape) * scale).astype(np.float32)


def c(name, v, dt=np.float32):
    return (name, np.array(v, dt))


def types(net):
    return [s[0].rsplit("{", 1)[1][:-1] for s in net.steps()]


def check(model, feeds, fused, rtol=1e-5, absent=()):
    """The fused op type is in the plan, `absent` types are not; FAST and
    NAIVE vs ORT. Returns the default net."""
    ref = ort_run(model, feeds)
    net = loadrun.load(model, debug_fill_nan=True)  # an unwritten element shows as NaN
    got = net.run(feeds)
    ts = types(net)
    assert fused in ts, net.steps()
    for t in absent:
        assert t not in ts, net.steps()
    for k in ref:
        assert_close(got[k], ref[k], rtol, k)
    naive = loadrun.load(model, algo="NAIVE").run(feeds)
    for k in ref:
        assert_close(naive[k], ref[k], rtol, k)
        assert_close(got[k], naive[k], rtol, k)  # the fast algorithm against NAIVE
    return net


def check_unfused(model, feeds, fused, rtol=1e-5):
    ref = ort_run(model, feeds)
    net = loadrun.load(model)
    assert fused not in types(net), net.steps()
    got = net.run(feeds)
    for k in ref:
        assert_close(got[k], ref[k], rtol, k)


# --- GELU ------------------------------------------------------------------------

def gelu_erf(x="x", y="y", sqrt2=math.sqrt(2.0), half=0.5, one=1.0, div=True, half_first=False):
    """torch's export of x * 0.5 * (1 + erf(x / sqrt 2)) (or x * (1/sqrt 2))."""
    nodes = [n("Div", [x, "k"], ["a"]) if div else n("Mul", [x, "k"], ["a"]), n("Erf", ["a"], ["e"]),
             n("Add", ["e", "one"], ["t"])]
    if half_first:
        nodes += [n("Mul", [x, "half"], ["h"]), n("Mul", ["h", "t"], [y])]
    else:
        nodes += [n("Mul", [x, "t"], ["m"]), n("Mul", ["m", "half"], [y])]
    inits = [c("k", sqrt2 if div else 1 / sqrt2), c("one", one), c("half", half)]
    return nodes, inits


def gelu_tanh(x="x", y="y", k0=0.044715, k1=math.sqrt(2 / math.pi), pow3=True):
    """HF gelu_new: 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))."""
    cube = [n("Pow", [x, "three"], ["g2"])] if pow3 else [n("Mul", [x, x], ["g1"]), n("Mul", ["g1", x], ["g2"])]
    nodes = cube + [n("Mul", ["k0", "g2"], ["g3"]), n("Add", [x, "g3"], ["g4"]), n("Mul", ["g4", "k1"], ["g5"]),
                    n("Tanh", ["g5"], ["g6"]), n("Add", ["one", "g6"], ["g7"]), n("Mul", [x, "g7"], ["g8"]),
                    n("Mul", ["half", "g8"], [y])]
    return nodes, [c("k0", k0), c("k1", k1), c("one", 1.0), c("half", 0.5), c("three", 3.0)]


def unary_model(nodes, inits, shape=(3, 37)):
    x = f32(*shape, scale=2.0)
    return make_model(nodes, [("x", np.float32, list(shape))], [("y", np.float32, None)], inits), {"x": x}


@pytest.mark.parametrize("div,half_first", [(True, False), (False, False), (True, True)])
def test_gelu_erf_fused(div, half_first):
    m, f = unary_model(*gelu_erf(div=div, half_first=half_first))
    net = check(m, f, "Gelu", absent=("Erf", "ElementwiseChain"))
    assert len(net.steps()) == 1


@pytest.mark.parametrize("pow3", [True, False])
def test_gelu_tanh_fused(pow3):
    m, f = unary_model(*gelu_tanh(pow3=pow3))
    net = check(m, f, "Gelu", absent=("Tanh", "ElementwiseChain"))
    assert len(net.steps()) == 1


@pytest.mark.parametrize("bad", [dict(sqrt2=1.5), dict(half=0.4), dict(one=2.0)])
def test_gelu_erf_wrong_constant_not_fused(bad):
    m, f = unary_model(*gelu_erf(**bad))
    check_unfused(m, f, "Gelu")


def test_gelu_tanh_wrong_constant_not_fused():
    m, f = unary_model(*gelu_tanh(k0=0.05))
    check_unfused(m, f, "Gelu")


def test_gelu_constant_of_higher_rank_not_fused():
    """x / sqrt(2) with sqrt(2) of shape (1, 1, 1) makes a rank-2 x's result rank 3: no Gelu."""
    nodes, inits = gelu_erf()
    inits[0] = ("k", np.full((1, 1, 1), math.sqrt(2.0), np.float32))
    m, f = unary_model(nodes, inits)
    check_unfused(m, f, "Gelu")


def test_gelu_float64():
    """float64 constants exact to float64 fuse; float32-rounded ones in a float64
    model do not (tests/test_fuse_elementwise.py::test_float64_chain)."""
    nodes, inits = gelu_erf()
    inits = [(k, v.astype(np.float64)) for k, v in inits]
    inits[0] = ("k", np.array(math.sqrt(2.0)))
    x = np.random.default_rng(5).standard_normal((5, 9)) * 4
    m = make_model(nodes, [("x", np.float64, [5, 9])], [("y", np.float64, None)], inits)
    net = loadrun.load(m)
    assert types(net) == ["Gelu"]
    ref = np.vectorize(lambda v: 0.5 * v * math.erfc(-v / math.sqrt(2.0)))(x)  # ORT has no float64 Erf
    for algo in (None, "NAIVE"):
        np.testing.assert_allclose(loadrun.load(m, algo=algo).run({"x": x})["y"], ref, rtol=1e-12, atol=1e-300)


def test_gelu_intermediate_read_elsewhere_not_fused():
    nodes, inits = gelu_erf()
    nodes.append(n("Neg", ["e"], ["z"]))  # erf's output read outside
    x = f32(4, 8)
    m = make_model(nodes, [("x", np.float32, [4, 8])], [("y", np.float32, None), ("z", np.float32, None)], inits)
    check_unfused(m, {"x": x}, "Gelu")


def test_gelu_intermediate_graph_output_not_fused():
    nodes, inits = gelu_erf()
    x = f32(4, 8)
    m = make_model(nodes, [("x", np.float32, [4, 8])], [("y", np.float32, None), ("t", np.float32, None)], inits)
    check_unfused(m, {"x": x}, "Gelu")


# --- LayerNorm ----------------------------------------------------------------------

def layer_norm_nodes(axes=(-1,), eps=1e-5, pow_exp=2.0, mul_square=False, reciprocal=False, beta=True,
                     axes_input=False, keepdims=1):
    """torch's pre-opset-17 LayerNorm export."""
    ax = dict(axes=list(axes)) if not axes_input else {}
    rm_in = ["x"] + (["axes"] if axes_input else [])
    nodes = [n("ReduceMean", rm_in, ["m"], keepdims=keepdims, **ax), n("Sub", ["x", "m"], ["d"]),
             n("Mul", ["d", "d"], ["p"]) if mul_square else n("Pow", ["d", "two"], ["p"]),
             n("ReduceMean", ["p"] + (["axes"] if axes_input else []), ["v"], keepdims=keepdims, **ax),
             n("Add", ["v", "eps"], ["e"]), n("Sqrt", ["e"], ["s"])]
    if reciprocal:
        nodes += [n("Reciprocal", ["s"], ["r"]), n("Mul", ["d", "r"], ["nrm"])]
    else:
        nodes += [n("Div", ["d", "s"], ["nrm"])]
    nodes += [n("Mul", ["nrm", "gamma"], ["g" if beta else "y"])]
    if beta:
        nodes += [n("Add", ["g", "beta"], ["y"])]
    return nodes


def layer_norm_model(shape=(2, 5, 48), norm=(48,), opset=17, **kw):
    x = f32(*shape, scale=3.0) + 1.5
    inits = [c("two", kw.pop("pow_exp", 2.0)), c("eps", kw.get("eps", 1e-5)),
             ("gamma", f32(*norm) + 1), ("beta", f32(*norm))]
    if kw.get("axes_input"):
        inits.append(("axes", np.array(kw.get("axes", (-1,)), np.int64)))
    nodes = layer_norm_nodes(**kw)
    m = make_model(nodes, [("x", np.float32, list(shape))], [("y", np.float32, None)], inits, opset=opset)
    return m, {"x": x}


@pytest.mark.parametrize("kw", [dict(), dict(mul_square=True), dict(reciprocal=True), dict(beta=False),
                                dict(eps=1e-12), dict(axes=(-2, -1), norm=(5, 48)),
                                dict(axes_input=True, opset=18)])
def test_layer_norm_fused(kw):
    kw = dict(kw)
    m, f = layer_norm_model(norm=kw.pop("norm", (48,)), opset=kw.pop("opset", 17), **kw)
    net = check(m, f, "LayerNormalization", absent=("ReduceMean", "Sqrt"))
    assert len(net.steps()) == 1


@pytest.mark.parametrize("kw", [dict(axes=(1,)), dict(axes=(-2,)), dict(pow_exp=3.0), dict(keepdims=0)])
def test_layer_norm_near_miss_not_fused(kw):
    # keepdims 0 on a square input: x - mean broadcasts the row means along rows
    m, f = layer_norm_model(shape=(48, 48), **kw) if kw.get("keepdims") == 0 else layer_norm_model(**kw)
    check_unfused(m, f, "LayerNormalization")


def test_layer_norm_gamma_over_unnormalised_dims_not_fused():
    m, f = layer_norm_model(norm=(5, 48))  # gamma (5, 48) but only the last axis is normalised
    check_unfused(m, f, "LayerNormalization")


def test_layer_norm_deviation_read_elsewhere_not_fused():
    nodes = layer_norm_nodes() + [n("Abs", ["d"], ["z"])]
    inits = [c("two", 2.0), c("eps", 1e-5), ("gamma", f32(48)), ("beta", f32(48))]
    m = make_model(nodes, [("x", np.float32, [2, 48])], [("y", np.float32, None), ("z", np.float32, None)], inits)
    check_unfused(m, {"x": f32(2, 48)}, "LayerNormalization")


# --- MatMul + bias (+ activation) ------------------------------------------------------

def linear_model(shape=(2, 7, 33), k=33, nout=45, act=None, bias_shape=None, const_bias=True):
    w = f32(k, nout, scale=0.2)
    b = f32(*(bias_shape or (nout,)))
    nodes = [n("MatMul", ["x", "w"], ["mm"]), n("Add", ["mm", "b"], ["y" if not act else "s"])]
    if act:
        nodes.append(n(act, ["s"], ["y"]))
    inputs = [("x", np.float32, list(shape))]
    inits = [("w", w)]
    feeds = {"x": f32(*shape)}
    if const_bias:
        inits.append(("b", b))
    else:
        inputs.append(("b", np.float32, list(b.shape)))
        feeds["b"] = b
    return make_model(nodes, inputs, [("y", np.float32, None)], inits), feeds


@pytest.mark.parametrize("shape", [(2, 7, 33), (1, 33), (33,), (3, 65, 33)])
@pytest.mark.parametrize("act", [None, "Relu", "Tanh", "Sigmoid"])
def test_matmul_bias_fused(shape, act):
    m, f = linear_model(shape=shape, act=act)
    net = check(m, f, "FusedMatMul", absent=("MatMul", "Add") + ((act,) if act else ()))
    assert len(net.steps()) == 1
    assert net.steps()[0][1] == "SGEMM"


def test_matmul_bias_gelu_fused():
    """MatMul + Add + erf GELU: the GELU pass runs first, then the FusedMatMul takes the Gelu in."""
    nodes, inits = gelu_erf(x="s")
    nodes = [n("MatMul", ["x", "w"], ["mm"]), n("Add", ["b", "mm"], ["s"])] + nodes
    inits += [("w", f32(16, 40, scale=0.3)), ("b", f32(40))]
    m = make_model(nodes, [("x", np.float32, [3, 16])], [("y", np.float32, None)], inits)
    net = check(m, {"x": f32(3, 16)}, "FusedMatMul", absent=("Gelu", "Erf"))
    assert len(net.steps()) == 1


@pytest.mark.parametrize("rshape,algo", [((2, 7, 45), "SGEMM"), ((45,), "NAIVE"), ((3, 2, 7, 45), "NAIVE")])
@pytest.mark.parametrize("act", [None, "Relu"])
def test_matmul_bias_residual_fused(rshape, algo, act):
    """MatMul + bias + residual Add (+ activation): SGEMM takes a residual of
    the product's shape in its epilogue; one that broadcasts (even to a larger
    output, as Add would) runs on NAIVE."""
    w, b = f32(33, 45, scale=0.2), f32(45)
    nodes = [n("MatMul", ["x", "w"], ["mm"]), n("Add", ["mm", "b"], ["s"]), n("Add", ["r", "s"], ["y" if not act else "t"])]
    if act:
        nodes.append(n(act, ["t"], ["y"]))
    m = make_model(nodes, [("x", np.float32, [2, 7, 33]), ("r", np.float32, list(rshape))],
                   [("y", np.float32, None)], [("w", w), ("b", b)])
    net = check(m, {"x": f32(2, 7, 33), "r": f32(*rshape)}, "FusedMatMul", absent=("MatMul", "Add"))
    assert [s[1] for s in net.steps()] == [algo]


def test_matmul_bias_constant_second_addend_not_residual():
    nodes = [n("MatMul", ["x", "w"], ["mm"]), n("Add", ["mm", "b"], ["s"]), n("Add", ["s", "b2"], ["y"])]
    m = make_model(nodes, [("x", np.float32, [3, 8])], [("y", np.float32, None)],
                   [("w", f32(8, 5)), ("b", f32(5)), ("b2", f32(3, 5))])
    net = check(m, {"x": f32(3, 8)}, "FusedMatMul")
    assert len(net.steps()) == 2  # the constant (3, 5) addend stays an Add


@pytest.mark.parametrize("shape", [(2, 7, 33), (1, 33), (70, 33)])
def test_matmul_bias_weight_preprocess(shape):
    """W packed once at load (Algo::preprocess) gives the per-run packing's result."""
    m, f = linear_model(shape=shape, act="Relu")
    net = loadrun.load(m, weight_preprocess=True)
    assert net.steps()[0][1] == "SGEMM" and net.steps()[0][5], net.steps()  # preprocessed
    got = net.run(f)["y"]
    per_run = loadrun.load(m).run(f)["y"]
    if len(shape) == 1 or shape[0] == 1:  # one row: GEMV on packed vs plain W, other summation order
        assert_close(got, per_run, 1e-6)
    else:
        np.testing.assert_array_equal(got, per_run)  # the same packed kernel either way
    assert_close(got, ort_run(m, f)["y"], 1e-5)


def test_matmul_bias_threads_same_bits():
    m, f = linear_model(shape=(4, 50, 33), act="Relu")
    one = loadrun.load(m).run(f)["y"]
    net = loadrun.load(m, threads=3)
    three = net.run(f)["y"]
    np.testing.assert_array_equal(one, three)  # row blocks are whole products either way
    assert net._core.dispatches > 0


@pytest.mark.parametrize("kw", [dict(bias_shape=(1, 45)), dict(const_bias=False)])
def test_matmul_bias_near_miss_not_fused(kw):
    m, f = linear_model(**kw)
    check_unfused(m, f, "FusedMatMul")


def test_matmul_product_read_elsewhere_not_fused():
    nodes = [n("MatMul", ["x", "w"], ["mm"]), n("Add", ["mm", "b"], ["y"]), n("Neg", ["mm"], ["z"])]
    m = make_model(nodes, [("x", np.float32, [3, 8])], [("y", np.float32, None), ("z", np.float32, None)],
                   [("w", f32(8, 5)), ("b", f32(5))])
    check_unfused(m, {"x": f32(3, 8)}, "FusedMatMul")


# --- attention ---------------------------------------------------------------------------

def attention_model(b=2, s=11, t=None, heads=3, d=8, dv=None, mask_shape="b11t", scale_op="Div",
                    softmax_axis=-1, out_transpose=True, k_two_transposes=False, extra_output=None):
    """HF BERT self-attention from the projected q, k, v (b, s, heads*d): head
    split by Reshape + Transpose, scores MatMul, Div by sqrt(d), + mask,
    Softmax, context MatMul, Transpose back, Reshape to (b, s, heads*dv)."""
    t = t or s
    dv = dv or d
    nodes = [n("Reshape", ["q", "qshape"], ["q4"]), n("Transpose", ["q4"], ["qh"], perm=[0, 2, 1, 3]),
             n("Reshape", ["k", "kshape"], ["k4"]), n("Reshape", ["v", "vshape"], ["v4"]),
             n("Transpose", ["v4"], ["vh"], perm=[0, 2, 1, 3])]
    if k_two_transposes:
        nodes += [n("Transpose", ["k4"], ["kh0"], perm=[0, 2, 1, 3]),
                  n("Transpose", ["kh0"], ["kh"], perm=[0, 1, 3, 2])]
    else:
        nodes += [n("Transpose", ["k4"], ["kh"], perm=[0, 2, 3, 1])]
    nodes += [n("MatMul", ["qh", "kh"], ["sc"])]
    inits = [("qshape", np.array([b, s, heads, d], np.int64)), ("kshape", np.array([b, t, heads, d], np.int64)),
             ("vshape", np.array([b, t, heads, dv], np.int64))]
    cur = "sc"
    if scale_op == "Div":
        nodes.append(n("Div", [cur, "scale"], ["scd"]))
        inits.append(c("scale", math.sqrt(d)))
        cur = "scd"
    elif scale_op == "Mul":
        nodes.append(n("Mul", ["scale", cur], ["scd"]))
        inits.append(c("scale", 1 / math.sqrt(d)))
        cur = "scd"
    inputs = [("q", np.float32, [b, s, heads * d]), ("k", np.float32, [b, t, heads * d]),
              ("v", np.float32, [b, t, heads * dv])]
    feeds = {"q": f32(b, s, heads * d), "k": f32(b, t, heads * d), "v": f32(b, t, heads * dv)}
    if mask_shape:
        mshape = {"b11t": (b, 1, 1, t), "t": (t,), "bhst": (b, heads, s, t), "1st": (1, s, t)}[mask_shape]
        mask = np.where(rng.random(mshape) < 0.25, np.finfo(np.float32).min, 0).astype(np.float32)
        mask += f32(*mshape, scale=0.5)
        inputs.append(("mask", np.float32, list(mshape)))
        feeds["mask"] = mask
        nodes.append(n("Add", [cur, "mask"], ["msk"]))
        cur = "msk"
    nodes += [n("Softmax", [cur], ["p"], axis=softmax_axis), n("MatMul", ["p", "vh"], ["ctx"])]
    if out_transpose:
        nodes += [n("Transpose", ["ctx"], ["ctxt"], perm=[0, 2, 1, 3]), n("Reshape", ["ctxt", "oshape"], ["y"])]
        inits.append(("oshape", np.array([b, s, heads * dv], np.int64)))
    else:
        nodes[-1] = n("MatMul", ["p", "vh"], ["y"])
    outputs = [("y", np.float32, None)]
    if extra_output:
        outputs.append((extra_output, np.float32, None))
    return make_model(nodes, inputs, outputs, inits), feeds


ATTN_ABSENT = ("Softmax", "MatMul", "Transpose")


@pytest.mark.parametrize("kw", [dict(), dict(s=1), dict(s=63, t=65, d=5, dv=7), dict(s=130, heads=2, d=64),
                                dict(mask_shape=None), dict(mask_shape="t"), dict(mask_shape="bhst"),
                                dict(mask_shape="1st", b=1), dict(scale_op="Mul"), dict(scale_op=None),
                                dict(softmax_axis=3), dict(k_two_transposes=True), dict(b=1, heads=1, d=1),
                                dict(b=0), dict(s=0, t=3), dict(s=3, t=0, mask_shape=None),
                                dict(s=127, heads=1, d=4), dict(s=129, heads=1, d=4),
                                dict(b=1, s=110, t=600, heads=1, d=4, dv=3)])
def test_attention_fused(kw):
    m, f = attention_model(**kw)
    net = check(m, f, "MultiHeadAttention", rtol=2e-5, absent=ATTN_ABSENT)
    step = [s for s in net.steps() if s[0].endswith("{MultiHeadAttention}")][0]
    assert step[1] == "ATTENTION_TILED"


def test_attention_without_output_transpose():
    m, f = attention_model(out_transpose=False)
    check(m, f, "MultiHeadAttention", rtol=2e-5, absent=("Softmax", "MatMul"))


def test_attention_threads_same_bits():
    m, f = attention_model(b=2, s=70, heads=3, d=16)
    one = loadrun.load(m).run(f)["y"]
    net = loadrun.load(m, threads=3)
    three = net.run(f)["y"]
    np.testing.assert_array_equal(one, three)  # each (b, h, row block) is computed whole by one thread
    assert net._core.dispatches > 0


def test_attention_key_transpose_read_elsewhere_keeps_it():
    """A head-split Transpose that is also a graph output stays; the fused node reads its output."""
    m, f = attention_model(extra_output="kh")
    net = check(m, f, "MultiHeadAttention", rtol=2e-5, absent=("Softmax",))
    assert types(net).count("Transpose") == 1


@pytest.mark.parametrize("kw", [dict(softmax_axis=2), dict(extra_output="p"), dict(extra_output="sc")])
def test_attention_near_miss_not_fused(kw):
    m, f = attention_model(**kw)
    check_unfused(m, f, "MultiHeadAttention", rtol=2e-5)


def test_attention_scale_not_scalar_not_fused():
    m, f = attention_model()
    for init in m.graph.initializer:
        if init.name == "scale":
            init.CopyFrom(helper.make_tensor("scale", TensorProto.FLOAT, [2], [8.0 ** 0.5, 1.0]))
    # Div by a (2,) tensor broadcasts along t: left to the plain ops
    f = dict(f)
    m2, f2 = attention_model(t=2, s=2)
    for init in m2.graph.initializer:
        if init.name == "scale":
            init.CopyFrom(helper.make_tensor("scale", TensorProto.FLOAT, [2], [8.0 ** 0.5, 1.0]))
    check_unfused(m2, f2, "MultiHeadAttention", rtol=2e-5)


# --- zoo -----------------------------------------------------------------------------------

def test_bert_tiny_fused_and_matches_ort():
    from loadrun import zoo
    m = zoo.build("bert_tiny")
    ids = rng.integers(0, 30522, (2, 128)).astype(np.int64)
    mask = np.ones((2, 128), np.int64)
    mask[1, 90:] = 0
    feeds = {"input_ids": ids, "attention_mask": mask}
    net = loadrun.load(m)
    ts = types(net)
    assert ts.count("MultiHeadAttention") == 2 and ts.count("FusedMatMul") == 12, net.steps()
    for t in ("Softmax", "Erf", "Transpose", "MatMul", "Add"):  # residual Adds in the dense layers
        assert t not in ts, net.steps()
    # the intermediate dense takes the GELU in its epilogue
    assert sum(1 for s in net.steps() if "intermediate" in s[0] and s[0].endswith("{FusedMatMul}")) == 2
    got = net.run(feeds)
    ref = ort_run(m, feeds)
    assert_close(got["output"], ref["output"], 1e-5, "output")


# The whole file again at each other ISA level this CPU runs (isa_levels.py).
test_other_isa_levels = other_isa_levels_test(__file__)
