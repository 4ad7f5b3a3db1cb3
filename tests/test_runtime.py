"""The runtime's seams and memory plan (issue 9).

- Observers: a callback registered on a Network sees every step of a run, in
  the comp seq's order, with its inputs and outputs readable and its time.
- Memory: every plan is verified when it is made (an overlap raises); views
  (Reshape, Flatten, ...) share their input's buffer, elementwise ops write
  over a dying input, the arena sits between the lower bound and the no-reuse
  total, --disable-mem-opt gives every tensor its own bytes, and a run on an
  arena filled with NaN gives the same results (no kernel reads memory that
  nothing wrote).
"""
import numpy as np
import pytest
from onnx import TensorProto, helper

import loadrun
from loadrun import zoo
from onnx_ref import make_model

ZOO = [n for n, _ in zoo.list_models()]


def feeds(name, batch=1):
    rng = np.random.default_rng(7)
    if name == "bert_tiny":
        return {"input_ids": rng.integers(0, 1000, (batch, 128), dtype=np.int64),
                "attention_mask": np.ones((batch, 128), np.int64)}
    if name == "mlp":
        return {"input": rng.standard_normal((batch, 1024), dtype=np.float32)}
    return {"input": rng.standard_normal((batch, 3, 224, 224), dtype=np.float32)}


def test_observer_sees_every_step_in_order():
    net = loadrun.load(zoo.build("resnet18"))
    x = feeds("resnet18")
    want = net.run(x)
    seen = []
    handle = net.add_step_callback(lambda i, node, algo, ins, outs, ms: seen.append((i, node, algo, ins, outs, ms)))
    got = net.run(x)
    steps = net.steps()
    assert [s[0] for s in seen] == list(range(len(steps)))
    assert [(s[1], s[2]) for s in seen] == [(st[0], st[1]) for st in steps]
    assert all(s[5] >= 0 for s in seen)
    # the last step's output is the network's output, the first step's input the feed
    name = net.outputs[0].name
    assert np.array_equal(seen[-1][4][0], got[name])
    assert np.array_equal(seen[0][3][0], x["input"])
    assert np.array_equal(got[name], want[name])
    net.remove_step_callback(handle)
    net.run(x)
    assert len(seen) == len(steps)


@pytest.mark.parametrize("name", ZOO)
def test_memory_plan_bounds(name):
    net = loadrun.load(zoo.build(name))
    net.run(feeds(name))
    m = net.memory_info()
    assert m["lower_bound_bytes"] <= m["arena_bytes"] <= m["no_reuse_bytes"]
    # reuse pays: less than the no-reuse total, and at most half of it on the
    # conv nets (their many intermediates; inputs are kept whole runs)
    assert m["arena_bytes"] < m["no_reuse_bytes"], m
    if name in ("resnet18", "resnet50", "mobilenetv2"):
        assert m["arena_bytes"] <= 0.5 * m["no_reuse_bytes"], m
    # no two tensors of different buffers live at one step overlap in bytes
    ts = m["tensors"]
    for i, a in enumerate(ts):
        for b in ts[i + 1:]:
            if a[5] == b[5] or a[1] == 0 or b[1] == 0:
                continue
            live = a[2] <= b[3] and b[2] <= a[3]
            bytes_overlap = a[4] < b[4] + b[1] and b[4] < a[4] + a[1]
            assert not (live and bytes_overlap), (a, b)


@pytest.mark.parametrize("name", ZOO)
def test_nan_filled_arena_and_no_reuse_give_the_same_results(name):
    x = feeds(name, batch=2)
    want = loadrun.load(zoo.build(name)).run(x)
    for kw in ({"debug_fill_nan": True}, {"disable_mem_opt": True}):
        net = loadrun.load(zoo.build(name), **kw)
        for _ in range(2):  # the second run sees the first's leftovers
            got = net.run(x)
            for k in want:
                assert np.array_equal(got[k], want[k]), (kw, k)
    m = loadrun.load(zoo.build(name), disable_mem_opt=True)
    m.run(x)
    info = m.memory_info()
    assert info["arena_bytes"] == info["no_reuse_bytes"]
    assert len({t[5] for t in info["tensors"]}) == len(info["tensors"])  # no shared buffers


def view_and_inplace_model():
    """x -> Relu -> Reshape -> Add(c) -> Sigmoid -> Flatten -> y."""
    nodes = [helper.make_node("Relu", ["x"], ["r"]),
             helper.make_node("Reshape", ["r", "shape"], ["rs"]),
             helper.make_node("Add", ["rs", "c"], ["a"]),
             helper.make_node("Sigmoid", ["a"], ["s"]),
             helper.make_node("Flatten", ["s"], ["y"])]
    return make_model(nodes, [("x", np.float32, [4, 6])], [("y", np.float32, None)],
                      [("shape", np.array([2, 12], np.int64)), ("c", np.ones(12, np.float32))])


def test_views_share_and_elementwise_ops_write_in_place():
    net = loadrun.load(view_and_inplace_model(), optimize=False)  # no chain fusion: one op per step
    x = np.linspace(-3, 3, 24, dtype=np.float32).reshape(4, 6)
    got = net.run({"x": x})["y"]
    want = 1 / (1 + np.exp(-(np.maximum(x, 0).reshape(2, 12) + 1)))
    np.testing.assert_allclose(got, want.reshape(2, 12), rtol=1e-6)
    buf = {t[0]: t[5] for t in net.memory_info()["tensors"]}
    assert buf["r"] == buf["rs"]  # Reshape: a view
    assert buf["a"] == buf["r"]   # Add writes over its dying input
    assert buf["s"] == buf["a"] == buf["y"]  # Sigmoid in place, Flatten a view
    assert buf["x"] != buf["r"]   # a graph input is never written over
    assert net.run({"x": x})["y"].tolist() == got.tolist()  # the input survives the run


def test_no_in_place_over_a_tensor_read_later():
    # a = x + 1 is read by Relu and again by the last Add: Relu must not overwrite it
    nodes = [helper.make_node("Add", ["x", "one"], ["a"]),
             helper.make_node("Relu", ["a"], ["r"]),
             helper.make_node("Add", ["r", "a"], ["y"])]
    m = make_model(nodes, [("x", np.float32, [5])], [("y", np.float32, None)],
                   [("one", np.ones(5, np.float32))])
    x = np.array([-3, -1, 0, 1, 2], np.float32)
    got = loadrun.load(m, optimize=False).run({"x": x})["y"]
    a = x + 1
    assert got.tolist() == (np.maximum(a, 0) + a).tolist()


def test_output_view_of_input():
    """Identity from input to output: both in one buffer, the output still right."""
    m = make_model([helper.make_node("Identity", ["x"], ["y"])], [("x", np.float32, [3])],
                   [("y", np.float32, None)])
    net = loadrun.load(m)
    for v in ([1, 2, 3], [4, 5, 6]):
        assert net.run({"x": np.array(v, np.float32)})["y"].tolist() == v


def test_inputs_survive_repeated_runs():
    """benchmark() runs again on inputs bound once, so no tensor may reuse
    their bytes (bert_tiny's Gather read overwritten ids: an index error)."""
    net = loadrun.load(zoo.build("bert_tiny"))
    x = feeds("bert_tiny")
    net.set_inputs(x)
    net.benchmark(iters=2, warmup=1)
    live = {t[0]: t[3] for t in net.memory_info()["tensors"]}
    assert live["input_ids"] == live["attention_mask"] == 2**31 - 1  # through the whole sequence
