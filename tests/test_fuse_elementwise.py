"""Elementwise-chain fusion (csrc/passes/fuse_elementwise.cpp) and its
ElementwiseChain op (csrc/ops/elementwise_chain.cpp).

- the 9-op tanh GELU shape (with a constant that is no GELU: a real GELU is a
  Gelu node, passes/fuse_gelu.cpp), x * sigmoid(x) after a Conv,
  HardSwish spelt Add/Clip/Mul/Div, chains with broadcast operands: each
  becomes one ElementwiseChain step; ELEMWISE_FAST (float32, any broadcast)
  gives bit for bit what the unfused
  ops' ELEMWISE_FAST give (same kernels, same order), and NAIVE (the program
  in double, one rounding) matches the unfused NAIVE within float rounding;
  both match ONNX Runtime (rtol 1e-5).
- what must not fuse: integer chains (shape arithmetic), a chain whose
  middle value is a graph output or feeds another op, a lone op.
The file reruns at every other ISA level of this CPU (isa_levels.py).
"""
import numpy as np
import pytest
from onnx import helper

import loadrun
from isa_levels import other_isa_levels_test
from onnx_ref import assert_close, make_model, ort_run

rng = np.random.default_rng(3)


def c(name, v, dt=np.float32):
    return (name, np.array(v, dt))


def gelu_tanh_nodes(x="x", y="y"):
    """The 9 ops of PyTorch's export of 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))).
    With GELU_INITS' k1 = 0.8 (not sqrt(2/pi)) it is no GELU, so the GELU pass
    (passes/fuse_gelu.cpp, tests/test_fuse_transformer.py) leaves it to the
    chain fusion."""
    n = helper.make_node
    return [n("Mul", [x, x], ["g1"]), n("Mul", ["g1", x], ["g2"]), n("Mul", ["g2", "k0"], ["g3"]),
            n("Add", [x, "g3"], ["g4"]), n("Mul", ["g4", "k1"], ["g5"]), n("Tanh", ["g5"], ["g6"]),
            n("Add", ["g6", "one"], ["g7"]), n("Mul", [x, "g7"], ["g8"]), n("Mul", ["g8", "half"], [y])]


K1 = 0.8  # sqrt(2/pi) = 0.79788 would make it a Gelu node
GELU_INITS = [c("k0", 0.044715), c("k1", K1), c("one", 1.0), c("half", 0.5)]


def chain_steps(net):
    return [s for s in net.steps() if s[0].endswith("{ElementwiseChain}")]


def check(model, feeds, n_chains, n_steps):
    """Fused vs unfused, FAST and NAIVE, and vs ORT; returns the fused net."""
    net = loadrun.load(model)
    got = net.run(feeds)
    assert len(chain_steps(net)) == n_chains and len(net.steps()) == n_steps, net.steps()
    unfused = loadrun.load(model, optimize=False)
    ref = unfused.run(feeds)
    ort = ort_run(model, feeds)
    for k in ref:
        g, r = np.asarray(got[k]), np.asarray(ref[k])
        if all(s[1] == "ELEMWISE_FAST" for s in chain_steps(net)) and all(
                s[1] in ("ELEMWISE_FAST",) for s in unfused.steps() if "Conv" not in s[0]):
            np.testing.assert_array_equal(g, r, err_msg=k)  # same kernels, same order
        assert_close(g, ort[k], 1e-5, k)
    naive = loadrun.load(model, algo="NAIVE").run(feeds)
    naive_unfused = loadrun.load(model, algo="NAIVE", optimize=False).run(feeds)
    for k in naive:
        assert_close(naive[k], naive_unfused[k], 1e-6, k)
    return net


@pytest.mark.parametrize("shape", [(1,), (7,), (2, 255), (3, 257), (1, 128, 512)])
def test_gelu_tanh_chain_is_one_step(shape):
    x = (rng.standard_normal(shape) * 3).astype(np.float32)
    m = make_model(gelu_tanh_nodes(), [("x", np.float32, list(shape))], [("y", np.float32, None)], GELU_INITS)
    net = check(m, {"x": x}, 1, 1)
    assert chain_steps(net)[0][1] == "ELEMWISE_FAST"


def test_silu_after_conv():
    n = helper.make_node
    nodes = [n("Conv", ["x", "w"], ["c"], pads=[1, 1, 1, 1]), n("Sigmoid", ["c"], ["s"]), n("Mul", ["c", "s"], ["y"])]
    m = make_model(nodes, [("x", np.float32, [1, 4, 9, 9])], [("y", np.float32, None)],
                   [("w", (rng.standard_normal((8, 4, 3, 3)) * 0.3).astype(np.float32))])
    check(m, {"x": rng.standard_normal((1, 4, 9, 9)).astype(np.float32)}, 1, 2)


def test_hardswish_spelt_out():
    n = helper.make_node
    nodes = [n("Add", ["x", "three"], ["a"]), n("Clip", ["a", "zero", "six"], ["b"]), n("Mul", ["x", "b"], ["m"]),
             n("Div", ["m", "six"], ["y"])]
    x = np.concatenate([np.linspace(-5, 5, 41), [np.nan, 1e30, -1e30]]).astype(np.float32).reshape(1, -1)
    m = make_model(nodes, [("x", np.float32, list(x.shape))], [("y", np.float32, None)],
                   [c("three", 3.0), c("zero", 0.0), c("six", 6.0)])
    check(m, {"x": x}, 1, 1)


@pytest.mark.parametrize("xs", [(2, 3, 4, 5), (1, 3, 1, 300)])
def test_broadcast_operands(xs):
    """[C,1,1] operands and a [1,1,W] one: the broadcast runs of ELEMWISE_FAST."""
    n = helper.make_node
    nodes = [n("Mul", ["x", "s"], ["a"]), n("Add", ["a", "b"], ["t"]), n("Sigmoid", ["t"], ["u"]),
             n("Add", ["u", "m"], ["y"])]
    m = make_model(nodes, [("x", np.float32, list(xs)), ("m", np.float32, [1, 1, xs[-1]])],
                   [("y", np.float32, None)],
                   [c("s", rng.standard_normal((3, 1, 1))), c("b", rng.standard_normal((3, 1, 1)))])
    feeds = {"x": rng.standard_normal(xs).astype(np.float32),
             "m": rng.standard_normal((1, 1, xs[-1])).astype(np.float32)}
    net = check(m, feeds, 1, 1)
    assert chain_steps(net)[0][1] == "ELEMWISE_FAST"


def test_float64_chain():
    x = rng.standard_normal((3, 17))
    m = make_model(gelu_tanh_nodes(), [("x", np.float64, [3, 17])], [("y", np.float64, None)],
                   [(k, v.astype(np.float64)) for k, v in GELU_INITS])
    net = loadrun.load(m)
    y = net.run({"x": x})["y"]
    assert len(chain_steps(net)) == 1 and y.dtype == np.float64
    k0, k1 = (float(np.float32(v)) for v in (0.044715, K1))  # the constants as stored
    ref = 0.5 * x * (1 + np.tanh(k1 * (x + k0 * x * x * x)))
    np.testing.assert_allclose(y, ref, rtol=1e-13)


def test_what_must_not_fuse():
    n = helper.make_node
    # integer arithmetic (no float op, integer constants)
    nodes = [n("Add", ["i", "k"], ["a"]), n("Mul", ["a", "k"], ["y"])]
    m = make_model(nodes, [("i", np.int64, [4])], [("y", np.int64, None)], [c("k", 3, np.int64)])
    net = loadrun.load(m)
    assert net.run({"i": np.arange(4)})["y"].tolist() == [9, 12, 15, 18]
    assert not chain_steps(net) and len(net.steps()) == 2
    # no evidence of a float dtype: Relu and Add of two graph inputs
    nodes = [n("Add", ["u", "v"], ["a"]), n("Relu", ["a"], ["y"])]
    m = make_model(nodes, [("u", np.int32, [3]), ("v", np.int32, [3])], [("y", np.int32, None)])
    net = loadrun.load(m)
    assert net.run({"u": np.array([1, -5, 2], np.int32), "v": np.array([1, 1, 1], np.int32)})["y"].tolist() == [2, 0, 3]
    assert not chain_steps(net)
    # a middle value that is a graph output, or read by another op, splits the chain
    nodes = [n("Sigmoid", ["x"], ["a"]), n("Mul", ["a", "x"], ["y"]), n("Tanh", ["y"], ["z"])]
    m = make_model(nodes, [("x", np.float32, [5])], [("y", np.float32, None), ("z", np.float32, None)])
    net = loadrun.load(m)
    x = rng.standard_normal(5).astype(np.float32)
    out = net.run({"x": x})
    assert len(net.steps()) == 2 and len(chain_steps(net)) == 1
    assert_close(out["z"], np.tanh(x / (1 + np.exp(-x)) * 1.0), 1e-6)
    # a lone op stays itself
    m = make_model([n("Sigmoid", ["x"], ["y"])], [("x", np.float32, [5])], [("y", np.float32, None)])
    assert not chain_steps(loadrun.load(m))


# The whole file again at each other ISA level this CPU runs (isa_levels.py).
test_other_isa_levels = other_isa_levels_test(__file__)
