"""The SGEMM algorithm of MatMul and Gemm against their NAIVE algorithm on the
same inputs (float32, per element |sgemm - naive| <= ATOL + RTOL |naive|
with RTOL 1e-5 and ATOL 1e-4: the NAIVE loops sum in another order, and a
sum of up to 600 standard-normal products that cancels to near zero keeps
float32 rounding of ~3e-5 (x2 with alpha -2) in absolute terms), on awkward shapes around the 6x16 tile and
the cache blocks, batched and broadcast MatMul, 1-D operands, GEMV shapes
(M == 1, N == 1), shapes around the AVX-512 12x32 tile and its KC (256) and MC
(144) blocks, every Gemm transpose / alpha / beta / C shape, with B as a
run-time input (packed into the workspace) and as a constant with
weight_preprocess (packed once). steps() shows which algorithm ran and whether
it preprocessed. Every ISA level the CPU supports runs (isa_levels.py: the one
in use here, the others in a child pytest with LOADRUN_ISA set), the test level
avx512_emu included: the AVX-512 kernels, emulated, on every AVX2 machine.
"""

import numpy as np
import pytest
from onnx import TensorProto, helper

import loadrun
from isa_levels import other_isa_levels_test
from onnx_ref import assert_close, assert_close_elementwise, make_model

RTOL = 1e-5
ATOL = 1e-4
rng = np.random.default_rng(7)


def r(*shape):
    return rng.standard_normal(shape).astype(np.float32)


def run_both(model, feeds, weight_preprocess, op_type):
    """Outputs of algo SGEMM and algo NAIVE; checks the SGEMM step."""
    fast = loadrun.load(model, algo="SGEMM", weight_preprocess=weight_preprocess)
    got = fast.run(feeds)
    steps = [s for s in fast.steps() if s[0].startswith(op_type) or op_type in s[0]]
    assert steps, fast.steps()
    ref = loadrun.load(model, algo="NAIVE").run(feeds)
    naive_steps = loadrun.load(model, algo="NAIVE").steps()
    assert all(s[1] == "NAIVE" for s in naive_steps)
    for k in ref:
        assert_close_elementwise(got[k], ref[k], RTOL, ATOL, k)
    return steps


def matmul_model(a_shape, b_shape, b_const=None):
    inputs = [("a", np.float32, list(a_shape))]
    inits = []
    if b_const is None:
        inputs.append(("b", np.float32, list(b_shape)))
    else:
        inits.append(("b", b_const))
    node = helper.make_node("MatMul", ["a", "b"], ["y"], name="MatMul_0")
    return make_model([node], inputs, [("y", TensorProto.FLOAT, None)], inits)


MATMUL_SHAPES = [
    ((1, 1), (1, 1)),
    ((5, 7), (7, 17)),
    ((6, 16), (16, 16)),
    ((7, 15), (15, 31)),
    ((17, 97), (97, 5)),
    ((31, 600), (600, 33)),    # k crosses the KC block
    ((100, 9), (9, 255)),      # m crosses the MC block
    ((13, 33), (33, 31)),      # one off the 12x32 tile each way
    ((29, 257), (257, 65)),    # k crosses the AVX-512 KC block (256)
    ((145, 1), (1, 33)),       # m crosses the AVX-512 MC block (144), k == 1
    ((1, 300), (300, 97)),     # GEMV, m == 1
    ((1, 7), (7, 65)),         # GEMV, m == 1, k off the unroll by 4
    ((97, 255), (255, 1)),     # GEMV, n == 1
    ((2, 3, 7, 15), (15, 17)),     # batches fold into M
    ((2, 1, 7, 15), (3, 15, 6)),   # broadcast batch dims on both sides
    ((5, 16), (4, 16, 7)),         # A broadcast over B's batches
    ((3, 1, 9), (3, 9, 16)),       # batched GEMV
    ((15,), (15, 17)),             # 1-D A
    ((4, 6, 15), (15,)),           # 1-D B
    ((15,), (15,)),                # dot product
    ((3, 0, 5), (5, 4)),           # empty output
    ((4, 0), (0, 6)),              # k == 0
]


@pytest.mark.parametrize("a_shape,b_shape", MATMUL_SHAPES)
@pytest.mark.parametrize("const_b", [False, True])
def test_matmul_sgemm(a_shape, b_shape, const_b):
    a, b = r(*a_shape), r(*b_shape)
    feeds = {"a": a} if const_b else {"a": a, "b": b}
    model = matmul_model(a_shape, b_shape, b if const_b else None)
    steps = run_both(model, feeds, const_b, "MatMul")
    (step,) = steps
    assert step[1] == "SGEMM"
    n = b_shape[-1] if len(b_shape) > 1 else 1
    k = a_shape[-1]
    # A constant B is packed at compile time except for GEMV-by-column (n == 1).
    assert step[5] == (const_b and n > 1 and k > 0), step
    if not const_b:
        # Rows per product: the batches fold into M when B has no batch dims
        # (A is never broadcast then); a product of one row is a GEMV.
        m = a_shape[-2] if len(a_shape) > 1 else 1
        rows = int(np.prod(a_shape[:-1])) if len(b_shape) <= 2 else m
        assert (step[4] > 0) == (n > 1 and k > 0 and rows > 1), step


def test_matmul_zoo_shapes_prefer_sgemm_by_default():
    """Without algo=, the heuristic picks SGEMM for float32 (first non-NAIVE)."""
    model = matmul_model((1, 128, 128), (128, 512), r(128, 512))
    net = loadrun.load(model, weight_preprocess=True)
    net.run({"a": r(1, 128, 128)})
    assert [s[1] for s in net.steps() if "MatMul" in s[0]] == ["SGEMM"]


def test_matmul_float64_stays_naive():
    a = rng.standard_normal((3, 4))
    b = rng.standard_normal((4, 5))
    node = helper.make_node("MatMul", ["a", "b"], ["y"])
    model = make_model([node], [("a", np.float64, [3, 4]), ("b", np.float64, [4, 5])],
                       [("y", TensorProto.DOUBLE, None)])
    net = loadrun.load(model, algo="SGEMM")
    got = net.run({"a": a, "b": b})["y"]
    np.testing.assert_allclose(got, a @ b, rtol=1e-12)
    assert [s[1] for s in net.steps()] == ["NAIVE"]


def gemm_model(a_shape, b_shape, c_shape, const_b, b, c, **attrs):
    inputs = [("a", np.float32, list(a_shape))]
    inits = []
    names = ["a", "b"]
    if const_b:
        inits.append(("b", b))
    else:
        inputs.append(("b", np.float32, list(b_shape)))
    if c_shape is not None:
        names.append("c")
        inputs.append(("c", np.float32, list(c_shape)))
    node = helper.make_node("Gemm", names, ["y"], name="Gemm_0", **attrs)
    return make_model([node], inputs, [("y", TensorProto.FLOAT, None)], inits)


# (M, N, K, C shape or None) with C shapes covering every broadcast form.
GEMM_CASES = [
    (1, 1, 1, None),
    (5, 17, 7, (17,)),
    (6, 16, 16, (1, 16)),
    (7, 31, 15, (7, 1)),
    (17, 5, 97, (17, 5)),
    (31, 33, 600, ()),
    (100, 255, 9, (1, 1)),
    (15, 33, 257, (33,)),    # around the 12x32 tile, k past 256
    (145, 31, 1, (145, 1)),  # m past 144, k == 1
    (1, 97, 300, (97,)),     # GEMV (batch-1 Linear)
    (1, 97, 300, (1, 1)),
    (97, 1, 255, (97, 1)),   # GEMV by column
    (16, 1, 7, (1,)),
]


@pytest.mark.parametrize("m,n,k,c_shape", GEMM_CASES)
@pytest.mark.parametrize("trans", [(0, 0), (0, 1), (1, 0), (1, 1)])
@pytest.mark.parametrize("alpha,beta", [(1.0, 1.0), (0.5, 1.0), (1.0, 0.25), (-2.0, 0.0)])
@pytest.mark.parametrize("const_b", [False, True])
def test_gemm_sgemm(m, n, k, c_shape, trans, alpha, beta, const_b):
    ta, tb = trans
    a_shape = (k, m) if ta else (m, k)
    b_shape = (n, k) if tb else (k, n)
    a, b = r(*a_shape), r(*b_shape)
    c = r(*c_shape) if c_shape is not None else None
    feeds = {"a": a}
    if not const_b:
        feeds["b"] = b
    if c is not None:
        feeds["c"] = c
    model = gemm_model(a_shape, b_shape, c_shape, const_b, b, c, alpha=alpha, beta=beta,
                       transA=ta, transB=tb)
    (step,) = run_both(model, feeds, const_b, "Gemm")
    assert step[1] == "SGEMM"
    assert step[5] == (const_b and n > 1), step
    if not const_b and m > 1 and n > 1:
        assert step[4] > 0, "B is packed into the workspace"


def test_gemm_mlp_layer_preprocessed_matches_numpy():
    """A Linear layer as torch exports it (transB=1, bias (N,)), batch 1 and 3."""
    w, bias = r(64, 48), r(64)
    model = gemm_model(("batch", 48), (64, 48), (64,), True, w, None, transB=1)
    model.graph.input.pop()  # C becomes an initializer
    from onnx import numpy_helper
    model.graph.initializer.append(numpy_helper.from_array(bias, "c"))
    for batch in (1, 3):
        x = r(batch, 48)
        net = loadrun.load(model, {"a": [batch, 48]}, weight_preprocess=True)
        y = net.run({"a": x})["y"]
        np.testing.assert_allclose(y, x @ w.T + bias, rtol=1e-5, atol=1e-5)
        assert [(s[1], s[5]) for s in net.steps() if "Gemm" in s[0]] == [("SGEMM", True)]


# The whole file again at each other ISA level this CPU runs (isa_levels.py).
test_other_isa_levels = other_isa_levels_test(__file__)
