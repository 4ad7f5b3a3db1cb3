"""Latency of every zoo model in loadrun next to ONNX Runtime, one thread.

Both run in this process on the same input, interleaved round by round so
that machine noise hits both alike; the figure is the median per model and
the ratio loadrun/ORT. ORT gets intra_op_num_threads=1 and all graph
optimisations. Usage: python bench/zoo_latency.py [--rounds 5] [--weight-preprocess]
[models...] (--weight-preprocess: loadrun transforms weights once at load,
as ORT always prepacks them).
"""
import argparse
import os
import statistics
import time

import numpy as np
import onnxruntime as ort

import loadrun
from loadrun import zoo
from loadrun.cli.machine import describe




def cpu_model():
    return describe()["cpu"]


def feeds_for(net, given=None):
    """Seeded inputs for a compiled network (a dim not yet known counts as 1).

    given: {name: array} for the inputs that need particular values (a model's
    state, its sample rate, byte values in a range; the real models' feeds from
    test_real_models.make_feeds); the others are drawn here.
    """
    rng = np.random.default_rng(0)
    feeds = {}
    for i in net.inputs:
        if given and i.name in given:
            feeds[i.name] = given[i.name]
            continue
        shape = [d if d > 0 else 1 for d in i.shape]
        if i.dtype.startswith(("int", "uint")):
            feeds[i.name] = rng.integers(0, 2, size=shape).astype(i.dtype)
        else:
            feeds[i.name] = rng.standard_normal(shape).astype(i.dtype)
    return feeds


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("models", nargs="*")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--iters", type=int, default=1, help="timed runs per round and engine")
    ap.add_argument("--weight-preprocess", action="store_true",
                    help="loadrun.load(weight_preprocess=True): packed / Winograd-transformed weights")
    args = ap.parse_args()
    names = args.models or [n for n, _ in zoo.list_models()]
    print(f"machine: {cpu_model()}, {os.cpu_count()} logical cores; loadrun {loadrun.__version__}, "
          f"onnxruntime {ort.__version__}; 1 thread"
          + ("; loadrun weight preprocess" if args.weight_preprocess else ""))
    print(f"{'model':<12} {'loadrun ms':>11} {'ORT ms':>9} {'ratio':>7}")
    for name in names:
        model = zoo.build(name)
        net = loadrun.load(model, weight_preprocess=args.weight_preprocess)
        feeds = feeds_for(net)
        net.set_inputs(feeds)
        so = ort.SessionOptions()
        so.intra_op_num_threads = 1
        so.inter_op_num_threads = 1
        so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        sess = ort.InferenceSession(model.SerializeToString(), so, providers=["CPUExecutionProvider"])
        net.benchmark(iters=0, warmup=1)
        sess.run(None, feeds)
        lr, ot = [], []
        for _ in range(args.rounds):
            lr.extend(net.benchmark(iters=args.iters, warmup=0))
            for _ in range(args.iters):
                t0 = time.perf_counter()
                sess.run(None, feeds)
                ot.append((time.perf_counter() - t0) * 1e3)
        a, b = statistics.median(lr), statistics.median(ot)
        print(f"{name:<12} {a:11.2f} {b:9.2f} {a / b:7.2f}", flush=True)


if __name__ == "__main__":
    main()
