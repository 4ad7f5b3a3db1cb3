"""Sequences and optionals (core/value.h), their operators, and FlexAttention's
score_mod / prob_mod subgraphs.

Sequence and optional models are compared with ONNX Runtime (sequence
outputs come back as lists of arrays, an empty optional as None).
FlexAttention (ai.onnx.preview) has no ORT kernel: it is compared with
onnx.reference.ReferenceEvaluator.
"""
import warnings

import numpy as np
import onnx
import pytest
from onnx import TensorProto as TP
from onnx import helper, numpy_helper

import loadrun
import loadrun.backend as backend
from onnx_ref import IR_VERSION, assert_close, ort_run

F = TP.FLOAT
I64 = TP.INT64
rng = np.random.default_rng(11)


def r(*shape, dtype=np.float32):
    return rng.standard_normal(shape).astype(dtype)


def t_vi(name, et, shape=None):
    return helper.make_tensor_value_info(name, et, shape)


def seq_vi(name, et, shape=None):
    return helper.make_value_info(name, helper.make_sequence_type_proto(helper.make_tensor_type_proto(et, shape)))


def opt_vi(name, inner):
    return helper.make_value_info(name, helper.make_optional_type_proto(inner))


def model(nodes, inputs, outputs, opset=18, inits=()):
    g = helper.make_graph(nodes, "m", inputs, outputs, [numpy_helper.from_array(np.asarray(a), n) for n, a in inits])
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)], ir_version=IR_VERSION)


def same(got, ref, name=""):
    """Outputs of any kind equal (within 1e-5 for floats): arrays, lists, None."""
    if ref is None:
        assert got is None, f"{name}: expected None, got {got!r}"
        return
    if isinstance(ref, list):
        assert isinstance(got, list) and len(got) == len(ref), f"{name}: {got!r} vs {ref!r}"
        for i, (g, w) in enumerate(zip(got, ref)):
            same(g, w, f"{name}[{i}]")
        return
    assert_close(got, np.asarray(ref), 1e-5, name)


def check_ort(m, feeds, net=None):
    """Run `m` in loadrun (or on `net`) and ONNX Runtime; compare every output."""
    ref = ort_run(m, feeds)
    net = net or loadrun.load(m)
    got = net.run(feeds)
    assert set(got) == set(ref)
    for k in ref:
        same(got[k], ref[k], k)
    return got


# ------------------------------------------------------------------ sequence ops
def test_construct_at_length_erase_concat():
    nodes = [
        helper.make_node("Relu", ["x"], ["xr"]),  # a static tensor node before the sequence
        helper.make_node("SequenceConstruct", ["xr", "y", "x"], ["s"]),
        helper.make_node("SequenceLength", ["s"], ["n"]),
        helper.make_node("SequenceAt", ["s", "pos"], ["at"]),
        helper.make_node("SequenceErase", ["s", "pos"], ["s2"]),
        helper.make_node("SequenceErase", ["s2"], ["s3"]),  # erases the last
        helper.make_node("ConcatFromSequence", ["s"], ["cat"], axis=0),
        helper.make_node("ConcatFromSequence", ["s3"], ["cat3"], axis=-2),
    ]
    m = model(nodes, [t_vi("x", F, [2, 3]), t_vi("y", F, [4, 3]), t_vi("pos", I64, [])],
              [t_vi("n", I64), t_vi("at", F), seq_vi("s2", F), t_vi("cat", F), t_vi("cat3", F)])
    net = loadrun.load(m)
    steps = {s[0]: s[1] for s in net.steps()}
    assert steps["Relu_0{Relu}"] != "(run time)"  # tensor nodes stay static
    assert steps["SequenceAt_3{SequenceAt}"] == "(run time)"
    x, y = r(2, 3), r(4, 3)
    for pos in [0, 1, 2, -1, -3]:  # one network, positions changing the output shapes
        check_ort(m, {"x": x, "y": y, "pos": np.array(pos, np.int64)}, net)
    with pytest.raises(loadrun.ModelError, match="out of range"):
        net.run({"x": x, "y": y, "pos": np.array(3, np.int64)})
    with pytest.raises(loadrun.ModelError, match="out of range"):
        net.run({"x": x, "y": y, "pos": np.array(-4, np.int64)})


@pytest.mark.parametrize("pos", [None, 0, 1, 3, -1, -3])
def test_insert(pos):
    ins = ["s", "t"] + (["p"] if pos is not None else [])
    m = model([helper.make_node("SequenceInsert", ins, ["out"])],
              [seq_vi("s", I64), t_vi("t", I64, [2])] + ([t_vi("p", TP.INT32, [])] if pos is not None else []),
              [seq_vi("out", I64)], opset=11)
    feeds = {"s": [np.arange(4), np.arange(3), np.arange(2)], "t": np.array([7, 8])}
    if pos is not None:
        feeds["p"] = np.array(pos, np.int32)
    check_ort(m, feeds)


def test_insert_errors():
    m = model([helper.make_node("SequenceInsert", ["s", "t", "p"], ["out"])],
              [seq_vi("s", F), t_vi("t", F, [2]), t_vi("p", I64, [])], [seq_vi("out", F)])
    net = loadrun.load(m)
    with pytest.raises(loadrun.ModelError, match="out of range"):
        net.run({"s": [r(2)], "t": r(2), "p": np.array(2, np.int64)})  # -1..1 allowed
    m = model([helper.make_node("SequenceInsert", ["s", "t"], ["out"])],
              [seq_vi("s", F), t_vi("t", TP.DOUBLE, [2])], [seq_vi("out", F)])
    with pytest.raises(loadrun.ModelError, match="float64 tensor into a sequence of float32"):
        loadrun.load(m).run({"s": [], "t": np.zeros(2)})


@pytest.mark.parametrize("axis,new_axis", [(0, 0), (1, 0), (-1, 0), (0, 1), (2, 1), (-1, 1), (-3, 1)])
def test_concat_from_sequence(axis, new_axis):
    shapes = [(2, 3), (2, 3), (2, 3)] if new_axis else [(2, 3), (2, 3), (2, 3)]
    if not new_axis:  # vary the concatenated dim
        shapes = [tuple(d + i if k == axis % 2 else d for k, d in enumerate((2, 3))) for i in range(3)]
    nodes = [helper.make_node("SplitToSequence", ["big"], ["s"], axis=0, keepdims=0),
             helper.make_node("ConcatFromSequence", ["seq"], ["y"], axis=axis, new_axis=new_axis)]
    m = model(nodes[1:], [seq_vi("seq", I64)], [t_vi("y", I64)])
    check_ort(m, {"seq": [rng.integers(-9, 9, s) for s in shapes]})


def test_concat_from_sequence_errors():
    m = model([helper.make_node("ConcatFromSequence", ["seq"], ["y"], axis=0)], [seq_vi("seq", F)], [t_vi("y", F)])
    net = loadrun.load(m)
    with pytest.raises(loadrun.ModelError, match="does not fit"):
        net.run({"seq": [r(2, 3), r(2, 4)]})
    with pytest.raises(loadrun.ModelError, match="empty"):
        net.run({"seq": []})
    with pytest.raises(loadrun.ModelError, match="new_axis"):
        loadrun.load(model([helper.make_node("ConcatFromSequence", ["seq"], ["y"], axis=0, new_axis=2)],
                           [seq_vi("seq", F)], [t_vi("y", F)]))


@pytest.mark.parametrize("split,axis,keepdims", [
    (None, 1, 1), (None, 1, 0), (None, -2, 0), (np.array(3), 0, 1), (np.array(2), 1, 1),
    (np.array([1, 4, 2]), 0, 1), (np.array([0, 5]), 1, 1),
])
def test_split_to_sequence(split, axis, keepdims):
    x = rng.integers(-5, 5, (7, 5)).astype(np.int64)
    ins = [t_vi("x", I64, [7, 5])] + ([t_vi("split", I64, list(split.shape))] if split is not None else [])
    m = model([helper.make_node("SplitToSequence", ["x"] + (["split"] if split is not None else []), ["s"],
                                axis=axis, keepdims=keepdims)], ins, [seq_vi("s", I64)])
    feeds = {"x": x} if split is None else {"x": x, "split": split.astype(np.int64)}
    got = check_ort(m, feeds)
    assert len(got["s"]) >= 2


def test_split_to_sequence_keepdims_ignored_with_split():
    """keepdims applies only without split (ORT 1.31 applies it anyway and
    fails): compared with onnx.reference."""
    from onnx.reference import ReferenceEvaluator

    m = model([helper.make_node("SplitToSequence", ["x", "split"], ["s"], axis=1, keepdims=0)],
              [t_vi("x", F, [3, 5]), t_vi("split", I64, [])], [seq_vi("s", F)])
    f = {"x": r(3, 5), "split": np.array(2, np.int64)}
    ref = ReferenceEvaluator(m).run(None, f)[0]
    got = loadrun.load(m).run(f)["s"]
    assert [a.shape for a in got] == [(3, 2), (3, 2), (3, 1)]
    same(got, list(ref))


def test_split_to_sequence_errors():
    m = model([helper.make_node("SplitToSequence", ["x", "split"], ["s"])],
              [t_vi("x", F, [4]), t_vi("split", I64, [2])], [seq_vi("s", F)])
    with pytest.raises(loadrun.ModelError, match="sums to"):
        loadrun.load(m).run({"x": r(4), "split": np.array([1, 2])})
    m = model([helper.make_node("SplitToSequence", ["x", "split"], ["s"])],
              [t_vi("x", F, [4]), t_vi("split", I64, [])], [seq_vi("s", F)])
    with pytest.raises(loadrun.ModelError, match="> 0"):
        loadrun.load(m).run({"x": r(4), "split": np.array(0)})


def test_sequence_io_and_identity():
    m = model([helper.make_node("Identity", ["s"], ["o"]), helper.make_node("SequenceLength", ["s"], ["n"])],
              [seq_vi("s", F)], [seq_vi("o", F), t_vi("n", I64)])
    net = loadrun.load(m)
    for items in ([r(2, 2), r(3)], [], [r(1)] * 5, [r(4, 1, 2)]):  # lengths and shapes change between runs
        check_ort(m, {"s": items}, net)
    assert net.inputs[0].dtype == "float32"
    with pytest.raises(loadrun.InputError, match="list of arrays"):
        net.run({"s": r(2)})
    with pytest.raises(loadrun.InputError):
        net.run({"s": None})
    with pytest.raises(loadrun.InputError, match="float32"):
        net.run({"s": [np.array(["a"])]})
    rep = backend.prepare(m)
    o, n = rep.run([[r(3), r(3)]])
    assert len(o) == 2 and n == 2
    with pytest.raises(loadrun.InputError, match="run_values"):  # the tensor-only core API says what to use
        net._core.run([r(2)])


def test_empty_and_loop_builds_a_sequence():
    """SequenceEmpty, then a Loop whose carried sequence grows (trip count a graph input)."""
    body = helper.make_graph(
        [helper.make_node("Identity", ["c"], ["c_out"]),
         helper.make_node("Unsqueeze", ["i", "ax"], ["i1"]),
         helper.make_node("Slice", ["x", "zero", "i1"], ["part"]),
         helper.make_node("Mul", ["part", "k"], ["part2"]),  # k: captured from the outer graph
         helper.make_node("SequenceInsert", ["s_in", "part2"], ["s_out"]),
         helper.make_node("SequenceLength", ["s_in"], ["len"])],
        "body", [t_vi("i", I64, []), t_vi("c", TP.BOOL, []), seq_vi("s_in", F)],
        [t_vi("c_out", TP.BOOL, []), seq_vi("s_out", F), t_vi("len", I64, [])],
        [numpy_helper.from_array(np.array([0], np.int64), "zero"), numpy_helper.from_array(np.array([0], np.int64), "ax")])
    nodes = [helper.make_node("SequenceEmpty", [], ["s0"]),
             helper.make_node("Loop", ["M", "", "s0"], ["s", "lens"], body=body),
             helper.make_node("ConcatFromSequence", ["s"], ["cat"], axis=0)]
    m = model(nodes, [t_vi("M", I64, []), t_vi("x", F, [6]), t_vi("k", F, [])],
              [seq_vi("s", F), t_vi("lens", I64), t_vi("cat", F)])
    net = loadrun.load(m)
    for trips in [1, 4, 6]:
        check_ort(m, {"M": np.array(trips, np.int64), "x": r(6), "k": np.array(2.0, np.float32)}, net)


def test_if_with_sequences_and_optionals():
    then_b = helper.make_graph([helper.make_node("SequenceConstruct", ["x", "x"], ["ts"]),
                                helper.make_node("Optional", ["x"], ["to"])],
                               "then", [], [seq_vi("ts", F), opt_vi("to", helper.make_tensor_type_proto(F, None))])
    else_b = helper.make_graph([helper.make_node("SequenceEmpty", [], ["es"], dtype=F),
                                helper.make_node("Optional", [], ["eo"], type=helper.make_tensor_type_proto(F, None))],
                               "else", [], [seq_vi("es", F), opt_vi("eo", helper.make_tensor_type_proto(F, None))])
    m = model([helper.make_node("If", ["c"], ["s", "o"], then_branch=then_b, else_branch=else_b),
               helper.make_node("OptionalHasElement", ["o"], ["has"])],
              [t_vi("c", TP.BOOL, []), t_vi("x", F, [3])],
              [seq_vi("s", F), opt_vi("o", helper.make_tensor_type_proto(F, None)), t_vi("has", TP.BOOL)])
    net = loadrun.load(m)
    x = r(3)
    got = check_ort(m, {"c": np.array(True), "x": x}, net)
    assert got["has"] and len(got["s"]) == 2
    got = check_ort(m, {"c": np.array(False), "x": x}, net)
    assert got["o"] is None and got["s"] == [] and not got["has"]


# ------------------------------------------------------------------ SequenceMap
def test_sequence_map():
    """Two sequences and a tensor, the body reading an outer graph input too."""
    body = helper.make_graph([helper.make_node("Add", ["a", "b"], ["ab"]),
                              helper.make_node("Mul", ["ab", "w"], ["out0"]),  # w: captured
                              helper.make_node("Shape", ["a"], ["out1"])],
                             "body", [t_vi("a", F, ["N"]), t_vi("b", F, ["N"])],
                             [t_vi("out0", F, ["N"]), t_vi("out1", I64, [1])])
    m = model([helper.make_node("SequenceMap", ["s1", "s2"], ["y0", "y1"], body=body)],
              [seq_vi("s1", F), seq_vi("s2", F), t_vi("w", F, [])],
              [seq_vi("y0", F), seq_vi("y1", I64)], opset=17)
    net = loadrun.load(m)
    check_ort(m, {"s1": [r(3), r(1), r(5)], "s2": [r(3), r(1), r(5)], "w": np.array(3, np.float32)}, net)
    check_ort(m, {"s1": [r(2)], "s2": [r(2)], "w": np.array(-1, np.float32)}, net)
    with pytest.raises(loadrun.ModelError, match="has 1 tensors"):
        net.run({"s1": [r(2), r(2)], "s2": [r(2)], "w": np.array(1, np.float32)})
    # a tensor as the second input: fed whole at every position
    m2 = model([helper.make_node("SequenceMap", ["s1", "t"], ["y0", "y1"], body=body)],
               [seq_vi("s1", F), t_vi("t", F, [4]), t_vi("w", F, [])], [seq_vi("y0", F), seq_vi("y1", I64)], opset=17)
    check_ort(m2, {"s1": [r(4), r(4)], "t": r(4), "w": np.array(2, np.float32)})


# ------------------------------------------------------------------ optionals
def test_optional_tensor_input():
    tp = helper.make_tensor_type_proto(F, [4])
    m = model([helper.make_node("OptionalHasElement", ["o"], ["has"]),
               helper.make_node("If", ["has"], ["y"],
                                then_branch=helper.make_graph([helper.make_node("OptionalGetElement", ["o"], ["g"])],
                                                              "t", [], [t_vi("g", F, [4])]),
                                else_branch=helper.make_graph([helper.make_node("Constant", [], ["z"], value=numpy_helper.from_array(np.zeros(4, np.float32)))],
                                                              "e", [], [t_vi("z", F, [4])]))],
              [opt_vi("o", tp)], [t_vi("has", TP.BOOL), t_vi("y", F)])
    net = loadrun.load(m)
    x = r(4)
    check_ort(m, {"o": x}, net)
    got = net.run({"o": None})
    assert not got["has"] and got["y"].tolist() == [0] * 4  # ORT cannot be fed None for an optional input


def test_optional_ops():
    nodes = [helper.make_node("Optional", ["x"], ["ox"]),
             helper.make_node("OptionalHasElement", ["ox"], ["h1"]),
             helper.make_node("OptionalGetElement", ["ox"], ["gx"]),
             helper.make_node("SequenceConstruct", ["x"], ["sx"]),
             helper.make_node("Optional", ["sx"], ["osx"]),
             helper.make_node("OptionalGetElement", ["osx"], ["gs"]),
             helper.make_node("OptionalHasElement", ["x"], ["h2"]),  # a tensor: always true (opset 18)
             helper.make_node("OptionalGetElement", ["x"], ["g2"])]
    m = model(nodes, [t_vi("x", TP.INT32, [2, 3])],
              [t_vi("h1", TP.BOOL), t_vi("gx", TP.INT32), seq_vi("gs", TP.INT32), t_vi("h2", TP.BOOL),
               t_vi("g2", TP.INT32), opt_vi("osx", helper.make_sequence_type_proto(helper.make_tensor_type_proto(TP.INT32, None)))])
    check_ort(m, {"x": rng.integers(0, 9, (2, 3)).astype(np.int32)})


def test_optional_empty_errors_and_kinds():
    m = model([helper.make_node("OptionalGetElement", ["o"], ["y"])],
              [opt_vi("o", helper.make_tensor_type_proto(F, [2]))], [t_vi("y", F)])
    net = loadrun.load(m)
    assert net.run({"o": np.ones(2, np.float32)})["y"].tolist() == [1, 1]
    with pytest.raises(loadrun.ModelError, match="empty"):
        net.run({"o": None})
    # kinds are checked when the graph is built
    with pytest.raises(loadrun.UnsupportedError, match="takes tensors only"):
        loadrun.load(model([helper.make_node("Relu", ["s"], ["y"])], [seq_vi("s", F)], [t_vi("y", F)]))
    with pytest.raises(loadrun.ModelError, match="must be a sequence"):
        loadrun.load(model([helper.make_node("SequenceLength", ["x"], ["y"])], [t_vi("x", F, [2])], [t_vi("y", I64)]))
    with pytest.raises(loadrun.ModelError, match="type attribute"):
        loadrun.load(model([helper.make_node("Optional", [], ["y"])], [], [opt_vi("y", helper.make_tensor_type_proto(F, None))]))
    mp = helper.make_map_type_proto(TP.INT64, helper.make_tensor_type_proto(F, None))
    with pytest.raises(loadrun.UnsupportedError, match="map_type"):
        loadrun.load(model([helper.make_node("Identity", ["x"], ["y"])], [helper.make_value_info("x", mp)],
                           [helper.make_value_info("y", mp)]))


def test_sequences_survive_graph_passes():
    """A Conv + Relu fusion rebuilds the graph: the sequence input stays one."""
    w = r(4, 3, 3, 3)
    nodes = [helper.make_node("Conv", ["x", "w"], ["c"], pads=[1, 1, 1, 1]),
             helper.make_node("Relu", ["c"], ["y"]),
             helper.make_node("SequenceInsert", ["s", "y"], ["out"])]
    m = model(nodes, [t_vi("x", F, [1, 3, 5, 5]), seq_vi("s", F)], [seq_vi("out", F)], inits=[("w", w)])
    net = loadrun.load(m)
    assert len(net.steps()) == 2  # Conv with the Relu fused, SequenceInsert
    check_ort(m, {"x": r(1, 3, 5, 5), "s": [r(2)]}, net)


def test_tensor_models_unchanged():
    """A tensor-only model has no run-time step and no sequence I/O path."""
    m = model([helper.make_node("Relu", ["x"], ["y"]), helper.make_node("Add", ["y", "x"], ["z"])],
              [t_vi("x", F, [2, 3])], [t_vi("z", F)])
    net = loadrun.load(m)
    assert all(s[1] != "(run time)" for s in net.steps())
    assert not net._values


# ------------------------------------------------------------------ FlexAttention
def flex(q, k, v, extra=(), **attrs):
    node = helper.make_node("FlexAttention", ["Q", "K", "V"], ["Y"], domain="ai.onnx.preview", **attrs)
    et = helper.np_dtype_to_tensor_dtype(q.dtype)
    feeds = {"Q": q, "K": k, "V": v, **dict(extra)}
    g = helper.make_graph([node], "flex", [t_vi(n, helper.np_dtype_to_tensor_dtype(a.dtype), a.shape)
                                           for n, a in feeds.items()], [t_vi("Y", et, None)])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 26), helper.make_opsetid("ai.onnx.preview", 1)],
                          ir_version=IR_VERSION)
    return m, feeds


def check_reference(m, feeds, rtol=1e-4):
    from onnx.reference import ReferenceEvaluator

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = ReferenceEvaluator(m).run(None, feeds)
    got = loadrun.load(m).run(feeds)
    assert_close(got["Y"], np.asarray(ref[0]), rtol, "Y")


def mod_graph(nodes, et=F, name="mod", inits=()):
    return helper.make_graph(nodes, name, [t_vi("s", et, None)], [t_vi("t", et, None)],
                             [numpy_helper.from_array(np.asarray(a), n) for n, a in inits])


CAUSAL = [helper.make_node("Shape", ["s"], ["sh"]),
          helper.make_node("Gather", ["sh", "i2"], ["L"], axis=0),
          helper.make_node("Gather", ["sh", "i3"], ["S"], axis=0),
          helper.make_node("Range", ["zero", "L", "one"], ["qr"]),
          helper.make_node("Range", ["zero", "S", "one"], ["kr"]),
          helper.make_node("Unsqueeze", ["qr", "ax1"], ["qi"]),
          helper.make_node("GreaterOrEqual", ["qi", "kr"], ["mask"]),
          helper.make_node("Where", ["mask", "s", "ninf"], ["t"])]
CAUSAL_INITS = [("i2", np.array(2)), ("i3", np.array(3)), ("zero", np.array(0)), ("one", np.array(1)),
                ("ax1", np.array([1])), ("ninf", np.array(-np.inf, np.float32))]


@pytest.mark.parametrize("b,hq,hkv,sq,skv,d,dv", [(1, 2, 2, 4, 6, 8, 8), (2, 4, 2, 3, 5, 4, 6), (1, 1, 1, 1, 1, 1, 1)])
def test_flex_score_mod_causal(b, hq, hkv, sq, skv, d, dv):
    m, f = flex(r(b, hq, sq, d), r(b, hkv, skv, d), r(b, hkv, skv, dv),
                score_mod=mod_graph(CAUSAL, inits=CAUSAL_INITS), scale=0.3)
    check_reference(m, f)


def test_flex_prob_mod_and_captures():
    """score_mod adds a bias, prob_mod rescales; GQA. The bias as a constant of
    the subgraph is checked with the reference; read from a graph input (a
    capture, which the reference cannot resolve) it must give the same."""
    bias = r(1, 1, 3, 5)
    prob = mod_graph([helper.make_node("Mul", ["s", "half"], ["t"])], inits=[("half", np.array(0.5, np.float32))])
    q, k, v = r(2, 4, 3, 8), r(2, 2, 5, 8), r(2, 2, 5, 3)
    inner = mod_graph([helper.make_node("Add", ["s", "bias"], ["t"])], inits=[("bias", bias)])
    m, f = flex(q, k, v, score_mod=inner, prob_mod=prob)
    check_reference(m, f)
    want = loadrun.load(m).run(f)["Y"]
    captured = mod_graph([helper.make_node("Add", ["s", "bias"], ["t"])])
    m, f = flex(q, k, v, extra=[("bias", bias)], score_mod=captured, prob_mod=prob)
    got = loadrun.load(m).run(f)["Y"]
    np.testing.assert_array_equal(got, want)
    m, f = flex(q, k, v, extra=[("bias", np.zeros_like(bias))], score_mod=captured)
    assert not np.allclose(loadrun.load(m).run(f)["Y"], want)  # the capture is read
    m, f = flex(r(1, 2, 3, 4), r(1, 2, 3, 4), r(1, 2, 3, 4), prob_mod=prob)
    check_reference(m, f)


def test_flex_mod_float64_and_errors():
    score = mod_graph([helper.make_node("Tanh", ["s"], ["t"])], et=TP.DOUBLE)
    m, f = flex(r(1, 2, 3, 4, dtype=np.float64), r(1, 2, 5, 4, dtype=np.float64), r(1, 2, 5, 4, dtype=np.float64),
                score_mod=score)
    check_reference(m, f, rtol=1e-6)  # the reference rounds sqrt(scale) to float32
    bad = mod_graph([helper.make_node("ReduceSum", ["s"], ["t"])])  # not the scores' shape
    m, f = flex(r(1, 1, 2, 4), r(1, 1, 2, 4), r(1, 1, 2, 4), score_mod=bad)
    with pytest.raises(loadrun.ModelError, match="expected"):
        loadrun.load(m).run(f)
    two = helper.make_graph([helper.make_node("Identity", ["s"], ["t"])], "two",
                            [t_vi("s", F, None), t_vi("s2", F, None)], [t_vi("t", F, None)])
    m, f = flex(r(1, 1, 2, 4), r(1, 1, 2, 4), r(1, 1, 2, 4), score_mod=two)
    with pytest.raises(loadrun.ModelError, match="one tensor"):
        loadrun.load(m)


# ------------------------------------------------------------------ conformance case the runner cannot compare
def test_loop16_seq_none_result():
    """onnx's runner fails test_loop16_seq_none for every backend (len() of a
    0-d array inside a sequence); the result itself is right."""
    from onnx.backend.test.loader import load_node_model_tests

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        case = next(c for c in load_node_model_tests() if c.name == "test_loop16_seq_none")
    rep = backend.prepare(case.model)
    for ins, outs in case.data_sets:
        same(rep.run(ins)[0], list(outs[0]))


def test_cli_times_a_sequence_model(tmp_path, capsys):
    """load_and_run feeds an empty sequence (and zeros) when no input is given."""
    from loadrun.cli.main import main

    m = model([helper.make_node("SequenceInsert", ["s", "x"], ["s2"]),
               helper.make_node("ConcatFromSequence", ["s2"], ["y"], axis=0)],
              [seq_vi("s", F), t_vi("x", F, [2, 3])], [t_vi("y", F)])
    path = tmp_path / "seq.onnx"
    onnx.save(m, str(path))
    assert main([str(path), "--iter", "2", "--verbose"]) == 0
    out = capsys.readouterr().out
    assert "SequenceInsert" in out and "avg_time" in out


def test_sequences_inside_tensor_subgraphs():
    """If and Loop of tensors whose subgraphs use sequences inside: their
    shapes are only known by running, at run time."""
    then_b = helper.make_graph([helper.make_node("SequenceConstruct", ["x", "x"], ["s"]),
                                helper.make_node("ConcatFromSequence", ["s"], ["y"], axis=0)],
                               "then", [], [t_vi("y", F)])
    else_b = helper.make_graph([helper.make_node("Neg", ["x"], ["y2"])], "else", [], [t_vi("y2", F)])
    body = helper.make_graph([helper.make_node("Identity", ["c"], ["c_out"]),
                              helper.make_node("SplitToSequence", ["v"], ["s"], axis=0),
                              helper.make_node("SequenceInsert", ["s", "x"], ["s2"]),
                              helper.make_node("ConcatFromSequence", ["s2"], ["v_out"], axis=0)],
                             "body", [t_vi("i", I64, []), t_vi("c", TP.BOOL, []), t_vi("v", F, None)],
                             [t_vi("c_out", TP.BOOL, []), t_vi("v_out", F, None)])
    m = model([helper.make_node("If", ["c"], ["y"], then_branch=then_b, else_branch=else_b),
               helper.make_node("Loop", ["M", "", "x"], ["v"], body=body)],
              [t_vi("c", TP.BOOL, []), t_vi("x", F, [2, 3]), t_vi("M", I64, [])], [t_vi("y", F), t_vi("v", F)])
    net = loadrun.load(m)
    for c, trips in [(True, 2), (False, 0), (True, 3)]:
        check_ort(m, {"c": np.array(c), "x": r(2, 3), "M": np.array(trips, np.int64)}, net)
