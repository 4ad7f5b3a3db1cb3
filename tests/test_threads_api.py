"""loadrun.load(threads=, core_ids=) (issue 12): validation errors, the pool
and its pinning read back, the dispatch counter, 8 Python threads on one
2-thread Network and on 8 of them giving the single-caller outputs, and the
fast-run cache category carrying the thread count (an old cache, without
it, reads as one thread)."""
import os
import struct
import threading

import numpy as np
import pytest
from onnx import TensorProto, helper

import loadrun
from loadrun import _core, zoo
from loadrun.errors import InputError
from threaded_callers import N_THREADS, hammer, same_answers

_core._register_runtime_test_ops()
_core._register_fastrun_test_op()

CORES = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []


def par_model(shape=(4, 1000)):
    g = helper.make_graph(
        [helper.make_node("ParScale2", ["x"], ["t"], name="par", domain="test.runtime"),
         helper.make_node("Scale2", ["t"], ["y"], name="one", domain="test.runtime")],
        "par", [helper.make_tensor_value_info("x", TensorProto.FLOAT, list(shape))],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, list(shape))])
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("test.runtime", 1)],
                             ir_version=8)


@pytest.mark.parametrize("kw, message", [
    ({"threads": 0}, "threads must be a whole number >= 1, got 0"),
    ({"threads": -2}, "threads must be a whole number >= 1, got -2"),
    ({"threads": True}, "threads must be a whole number >= 1, got True"),
    ({"threads": 2.0}, "threads must be a whole number >= 1, got 2.0"),
    ({"threads": "2"}, "threads must be a whole number >= 1, got '2'"),
    ({"threads": 2, "core_ids": [0]}, "core_ids: 1 given for 2 threads (one per thread)"),
    ({"threads": 1, "core_ids": [-1]}, "core_ids must be core numbers >= 0"),
    ({"threads": 1, "core_ids": [False]}, "core_ids must be core numbers >= 0"),
    ({"threads": 2, "core_ids": [0, 100000]}, "core id 100000 does not exist or is not available to this process"),
])
def test_bad_threads_and_core_ids(kw, message):
    with pytest.raises(InputError) as e:
        loadrun.load(zoo.build("mlp"), **kw)
    assert message in str(e.value)


def test_threads_read_back_and_the_pool_dispatches():
    x = np.arange(4000, dtype=np.float32).reshape(4, 1000)
    one = loadrun.load(par_model())
    two = loadrun.load(par_model(), threads=2)
    assert (one._core.num_threads, two._core.num_threads) == (1, 2)
    assert np.array_equal(one.run({"x": x})["y"], 4 * x)
    d = two._core.dispatches
    for _ in range(3):
        assert np.array_equal(two.run({"x": x})["y"], 4 * x)
    assert two._core.dispatches - d == 3  # ParScale2 fans out once per run; Scale2 never
    assert one._core.dispatches == 0
    assert one._core.thread_affinity() == []  # no pool
    assert len(two._core.thread_affinity()) == 2


@pytest.mark.skipif(not CORES, reason="no thread affinity on this platform")
def test_affinity_read_back_per_thread():
    """Worker i on core_ids[i], the calling thread on the last id once it ran.
    Runs on a thread of its own: the caller stays pinned after the run."""
    a, b = CORES[0], CORES[1] if len(CORES) > 1 else CORES[0]
    got = {}

    def pinned():
        for ids in ([a, b], [b, a], [a, a, b]):
            net = loadrun.load(par_model(), threads=len(ids), core_ids=ids)
            net.run({"x": np.ones((4, 1000), np.float32)})
            got[tuple(ids)] = (net._core.thread_affinity(), sorted(os.sched_getaffinity(0)))

    t = threading.Thread(target=pinned)
    t.start()
    t.join()
    for ids, (aff, caller) in got.items():
        assert aff[0] == [ids[-1]] and caller == [ids[-1]]
        assert aff[1:] == [[c] for c in ids[:-1]]


def close(a, b):
    return a.shape == b.shape and np.allclose(a, b, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("name, shape", [("mlp", (3, 1024)), ("mobilenetv2", (1, 3, 224, 224))])
def test_eight_python_threads_on_one_two_thread_network(name, shape):
    model = zoo.build(name)
    one = loadrun.load(model)
    net = loadrun.load(model, threads=2)
    out = net.outputs[0].name
    rng = np.random.default_rng(0)
    feeds = [rng.standard_normal(shape, dtype=np.float32) for _ in range(3)]
    single = [one.run({"input": x})[out] for x in feeds]
    want = [net.run({"input": x})[out] for x in feeds]  # one caller: the static split's bits
    assert all(close(w, s) for w, s in zip(want, single))  # 2 threads agree with 1
    job = same_answers(net, feeds, want, out, lambda i, r: (i + r) % len(feeds))
    assert hammer(job, rounds=2 if name == "mobilenetv2" else 6) == []


def test_eight_two_thread_networks_at_once():
    model = zoo.build("mlp")
    one = loadrun.load(model)
    nets = [loadrun.load(model, threads=2) for _ in range(N_THREADS)]
    rng = np.random.default_rng(1)
    feeds = [rng.standard_normal((1 + i, 1024), dtype=np.float32) for i in range(N_THREADS)]
    single = [one.run({"input": x})["output"] for x in feeds]

    def job(i, r):
        got = nets[i].run({"input": feeds[(i + r) % N_THREADS]})["output"]
        return None if close(got, single[(i + r) % N_THREADS]) else "wrong result"

    assert hammer(job) == []


# -- the fast-run cache category ----------------------------------------------------
def copy_model():
    """x [2, 8] -> FrCopy (test.fastrun: several candidates to profile) -> y."""
    g = helper.make_graph([helper.make_node("FrCopy", ["x"], ["y"], name="c0", domain="test.fastrun", p=1)],
                          "fastrun", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 8])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 8])])
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("test.fastrun", 1)],
                             ir_version=8)


def fnv1a(data):
    h = 1469598103934665603
    for byte in data:
        h = ((h ^ byte) * 1099511628211) & 0xFFFFFFFFFFFFFFFF
    return h


def rename_category(path, old, new):
    """Rewrites the cache file with category `old` renamed `new` (length, checksum)."""
    raw = open(path, "rb").read()
    payload = raw[20:-8]
    enc = lambda s: struct.pack("<I", len(s)) + s.encode()  # noqa: E731
    assert payload.count(enc(old)) == 1
    payload = payload.replace(enc(old), enc(new))
    with open(path, "wb") as f:
        f.write(raw[:12] + struct.pack("<Q", len(payload)) + payload + struct.pack("<Q", fnv1a(payload)))


def categories(path):
    status, why, entries = _core.fastrun_cache_read(str(path))
    assert status == "ok", why
    return {e[0] for e in entries}


def test_cache_category_has_the_thread_count(tmp_path, capsys):
    from loadrun.cli.tools import cache_show

    cache = tmp_path / "algo.cache"
    model = copy_model()
    assert _core.fastrun_category(2).endswith(";threads=2")
    assert _core.fastrun_category() == _core.fastrun_category(1) and _core.fastrun_category().endswith(";threads=1")
    loadrun.load(model, fast_run=True, fast_run_algo_policy=str(cache), progress=False)
    assert categories(cache) == {_core.fastrun_category(1)}
    loadrun.load(model, threads=2, fast_run=True, fast_run_algo_policy=str(cache), progress=False)
    assert categories(cache) == {_core.fastrun_category(1), _core.fastrun_category(2)}
    # a 2-thread network uses the 2-thread entries only
    net = loadrun.load(model, threads=2, fast_run_algo_policy=str(cache))
    assert net.fastrun_stats()["cache_misses"] == 0 and net.fastrun_stats()["cache_hits"] > 0
    net = loadrun.load(model, threads=3, fast_run_algo_policy=str(cache))
    assert net.fastrun_stats()["cache_hits"] == 0
    cache_show(str(cache))
    shown = [line for line in capsys.readouterr().out.splitlines() if line.startswith("category ")]
    assert len(shown) == 2 and any(";threads=2" in line for line in shown)


def test_old_cache_without_thread_count_reads_as_one_thread(tmp_path):
    cache = tmp_path / "old.cache"
    model = copy_model()
    loadrun.load(model, fast_run=True, fast_run_algo_policy=str(cache), progress=False)
    cat = _core.fastrun_category(1)
    rename_category(cache, cat, cat[: -len(";threads=1")])  # as a loadrun before threads wrote it
    assert categories(cache) == {cat}  # read back with threads=1
    net = loadrun.load(model, fast_run_algo_policy=str(cache))
    stats = net.fastrun_stats()
    assert stats["cache_hits"] > 0 and stats["cache_misses"] == 0 and stats["profiled"] == 0
    net = loadrun.load(model, threads=2, fast_run_algo_policy=str(cache))
    assert net.fastrun_stats()["cache_hits"] == 0
