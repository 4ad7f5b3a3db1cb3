"""Concurrent callers and bounded memory (issue 8, parts 2 and 3).

One Network called from 8 Python threads with mixed input shapes gives every
caller the results of its own inputs (each compared with the same Network's
single-threaded answer, bit for bit: the same plan runs the same kernels);
many Networks from one import (nested subgraphs included) run at once; the
plans a Network keeps are bounded by max_plans, and preprocessed weights are
shared by every plan.
"""
import numpy as np
import pytest
from onnx import TensorProto, helper

import loadrun
from loadrun import zoo
from loadrun.errors import InputError
from loadrun.network import Network
from loadrun.onnx.importer import import_model
from onnx_ref import make_model
from threaded_callers import N_THREADS, hammer, same_answers

def test_one_network_eight_threads_mixed_batches():
    net = loadrun.load(zoo.build("mlp"))
    rng = np.random.default_rng(0)
    feeds = [rng.standard_normal((1 + (i * 5) % 13, 1024), dtype=np.float32) for i in range(N_THREADS * 2)]
    want = [net.run({"input": x})["output"] for x in feeds]  # one thread: the answers
    job = same_answers(net, feeds, want, "output", lambda i, r: (i + r * N_THREADS) % len(feeds))
    assert hammer(job, rounds=6) == []


def test_one_conv_network_eight_threads():
    net = loadrun.load(zoo.build("mobilenetv2"))
    rng = np.random.default_rng(1)
    feeds = [rng.standard_normal((1 + i % 2, 3, 224, 224), dtype=np.float32) for i in range(3)]
    name = net.outputs[0].name
    want = [net.run({"input": x})[name] for x in feeds]
    job = same_answers(net, feeds, want, name, lambda i, r: (i + r) % len(feeds))
    assert hammer(job, rounds=2) == []


def test_benchmark_and_run_from_two_threads():
    """benchmark() binds its inputs and times under the same lock as run()."""
    net = loadrun.load(zoo.build("mlp"))
    x = np.ones((2, 1024), np.float32)
    want = net.run({"input": x})["output"]

    def job(i, r):
        if i % 2:
            net.benchmark(iters=2, warmup=0)
            return None
        got = net.run({"input": x})["output"]
        return None if np.array_equal(got, want) else "wrong result"

    assert hammer(job, n_threads=4, rounds=3) == []


def loop_model():
    """y = x * 2^n by a Loop whose body doubles its carried value (a nested network)."""
    body = helper.make_graph(
        [helper.make_node("Identity", ["cond_in"], ["cond_out"]),
         helper.make_node("Add", ["v_in", "v_in"], ["v_out"])],
        "body",
        [helper.make_tensor_value_info("i", TensorProto.INT64, []),
         helper.make_tensor_value_info("cond_in", TensorProto.BOOL, []),
         helper.make_tensor_value_info("v_in", TensorProto.FLOAT, None)],
        [helper.make_tensor_value_info("cond_out", TensorProto.BOOL, []),
         helper.make_tensor_value_info("v_out", TensorProto.FLOAT, None)])
    node = helper.make_node("Loop", ["n", "", "x"], ["y"], body=body)
    return make_model([node], [("n", np.int64, []), ("x", np.float32, ["a"])], [("y", np.float32, None)],
                      opset=17)


def test_networks_sharing_nested_subgraphs_run_concurrently():
    m = loop_model()
    imported = import_model(m)  # one import: its Loop op (and nested network) is shared
    nets = [Network(imported) for _ in range(4)]
    rng = np.random.default_rng(2)

    def job(i, r):
        n = np.array(1 + (i + r) % 5, np.int64)
        x = rng.standard_normal(3 + i).astype(np.float32)
        got = nets[i % len(nets)].run({"n": n, "x": x})["y"]
        want = x * np.float32(2.0 ** int(n))
        return None if np.array_equal(got, want) else f"n={int(n)}: {got} != {want}"

    assert hammer(job, rounds=4) == []


def test_plans_are_bounded_lru():
    net = loadrun.load(zoo.build("mlp"), max_plans=3)
    for b in range(1, 11):
        net.run({"input": np.ones((b, 1024), np.float32)})
        assert net.num_plans <= 3
    assert net.num_plans == 3
    # the most recent shapes are kept; an evicted one compiles again and is right
    x = np.full((1, 1024), 0.5, np.float32)
    ref = loadrun.load(zoo.build("mlp")).run({"input": x})["output"]
    assert np.array_equal(net.run({"input": x})["output"], ref)
    assert net.num_plans == 3


def test_default_plan_bound_and_bad_values():
    net = loadrun.load(zoo.build("mlp"))
    for b in range(1, 20):
        net.run({"input": np.zeros((b, 1024), np.float32)})
    assert net.num_plans == loadrun.network.DEFAULT_MAX_PLANS
    for bad in (0, -1, 1.5, True, "3"):
        with pytest.raises(InputError):
            loadrun.load(zoo.build("mlp"), max_plans=bad)


def test_preprocessed_weights_shared_by_every_plan():
    """Weight preprocessing happens once per weight, whatever the batch."""
    net = loadrun.load(zoo.build("mlp"), weight_preprocess=True)
    net.run({"input": np.ones((1, 1024), np.float32)})
    once = net.num_prepared
    assert once > 0
    for b in (2, 3, 7):
        net.run({"input": np.ones((b, 1024), np.float32)})
    assert net.num_plans == 4
    assert net.num_prepared == once
