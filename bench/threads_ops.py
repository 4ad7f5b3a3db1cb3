"""The non-GEMM operators at 1 and N threads (issue 12): one-node models of
the sizes where a split should pay (a 4M-element Add with broadcast, a 4M
Sigmoid, a large softmax, the resnet stem's MaxPool, transposes, a row
reduction, BatchNormalization), each timed with Network.benchmark (in C++,
no Python per run).

The thread counts run interleaved round by round and each keeps its best
round, so noise from other work on the machine hits them alike; "cpu/wall"
is this process's CPU time over wall time during the N-thread rounds (near
N when the threads had their cores, far below it when other work held
them: then the ratio says little).

    python bench/threads_ops.py [--threads 2] [--rounds 5] [--iters 20] [names...]
"""
import argparse
import os
import sys
import time

import numpy as np

import loadrun

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tests"))
from onnx_ref import node_model  # noqa: E402


def cases():
    rng = np.random.default_rng(0)

    def f(*s):
        return rng.standard_normal(s).astype(np.float32)

    x4m = f(4, 64, 128, 128)
    bn = [("s", f(64)), ("b", f(64)), ("m", f(64)), ("v", np.abs(f(64)) + 0.1)]
    stem = dict(kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1])
    yield "add_4m_bcast", "Add", {"a": x4m, "b": f(64, 1, 1)}, [], {}
    yield "sigmoid_4m", "Sigmoid", {"x": x4m}, [], {}
    yield "softmax_4608x384", "Softmax", {"x": f(12 * 384, 384)}, [], dict(axis=-1)
    yield "maxpool_stem_n1", "MaxPool", {"x": f(1, 64, 112, 112)}, [], stem
    yield "maxpool_stem_n8", "MaxPool", {"x": f(8, 64, 112, 112)}, [], stem
    yield "transpose_0213", "Transpose", {"x": f(1, 384, 12, 64)}, [], dict(perm=[0, 2, 1, 3])
    yield "transpose_nchw_nhwc_4m", "Transpose", {"x": f(1, 64, 256, 256)}, [], dict(perm=[0, 2, 3, 1])
    yield "reducemean_rows_4m", "ReduceMean", {"x": f(64, 256, 256)}, [("ax", np.array([-1], np.int64))], {}
    yield "batchnorm_4m", "BatchNormalization", {"x": x4m}, bn, {}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--iters", type=int, default=20)
    ap.add_argument("names", nargs="*")
    a = ap.parse_args()
    n = a.threads
    print(f"{'case':24s} {'algo':15s} {'1T ms':>8s} {f'{n}T ms':>8s} {'speedup':>8s} {'cpu/wall':>8s}")
    for name, op, feeds, inits, attrs in cases():
        if a.names and name not in a.names:
            continue
        model = node_model(op, feeds, initializers=inits, **attrs)
        nets = {t: loadrun.load(model, threads=t) for t in (1, n)}
        best = {1: float("inf"), n: float("inf")}
        cpu = wall = 0.0
        for _ in range(a.rounds):
            for t in (1, n):
                c0, w0 = time.process_time(), time.perf_counter()
                best[t] = min(best[t], min(nets[t].benchmark(iters=a.iters, warmup=1)))
                if t == n:
                    cpu += time.process_time() - c0
                    wall += time.perf_counter() - w0
        algo = nets[n].steps()[0][1]
        print(f"{name:24s} {algo:15s} {best[1]:8.3f} {best[n]:8.3f} {best[1] / best[n]:8.2f} {cpu / wall:8.2f}",
              flush=True)


if __name__ == "__main__":
    main()
