"""SGEMM speed against the machine's FMA peak, and MatMul/Gemm beside numpy and
ONNX Runtime, one thread, in one run.

- peak: the built-in FMA loop (independent 8-lane FMA chains), best of many
  short runs;
- sgemm: loadrun's kernel called directly from C++ (no Python per call), best
  round; "cpu" is the same on the thread's CPU time (what the kernel itself
  achieves when other work shares the cores), "pk" with B packed beforehand
  (weight preprocess);
- op columns: a one-node ONNX model (A an input, B a constant weight) run
  through loadrun (weight_preprocess=True) and ONNX Runtime (1 thread, all
  graph optimisations), and numpy's matmul on the same arrays, each the best
  of many calls from Python ("run": every engine pays its Python call, input
  and output copies); "bench" is loadrun's Network.benchmark (timed in C++, no
  Python per call, as bench/zoo_latency.py times loadrun); "ovh" is each
  engine's run() time on a 1x1x1 model, the per-call cost outside the kernel.
Shapes: 1024^3, then the GEMMs of the zoo's bert_tiny (batch 1: hidden 128,
FFN 512, 2 heads of 64) and mlp (batch 1: three 1024x1024 Linear layers,
Gemm with transB=1 and a bias).
Usage: python bench/gemm.py [--quick]
"""
import argparse
import os
import time

# One thread everywhere, before numpy loads its BLAS.
for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(var, "1")

import numpy as np  # noqa: E402
import onnxruntime as ort  # noqa: E402
from onnx import TensorProto, helper, numpy_helper  # noqa: E402

import loadrun  # noqa: E402
from loadrun import _core  # noqa: E402

# (label, M, N, K, op): op "matmul" = A[M,K] @ B[K,N]; "gemm_tb" = Gemm(A, W[N,K], bias, transB=1)
SHAPES = [
    ("square 1024", 1024, 1024, 1024, "matmul"),
    ("bert qkv/out 128x128x128", 128, 128, 128, "matmul"),
    ("bert ffn up 128x512x128", 128, 512, 128, "matmul"),
    ("bert ffn down 128x128x512", 128, 128, 512, "matmul"),
    ("bert scores 128x128x64", 128, 128, 64, "matmul"),
    ("bert context 128x64x128", 128, 64, 128, "matmul"),
    ("mlp layer 1x1024x1024", 1, 1024, 1024, "gemm_tb"),
    ("mlp batch 32 32x1024x1024", 32, 1024, 1024, "gemm_tb"),
]


def cpu_model():
    from loadrun.cli.machine import describe

    return describe()["cpu"]

def best_time(fn, min_total=0.3, min_calls=5):
    """Best seconds per call over many calls (at least min_total seconds)."""
    fn()
    best = float("inf")
    calls, t_start = 0, time.perf_counter()
    while calls < min_calls or time.perf_counter() - t_start < min_total:
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
        calls += 1
    return best


def one_node_model(m, n, k, op, rng):
    if op == "matmul":
        w = rng.standard_normal((k, n)).astype(np.float32)
        node = helper.make_node("MatMul", ["a", "w"], ["y"])
        inits = [numpy_helper.from_array(w, "w")]
        ref = lambda a: a @ w  # noqa: E731
    else:
        w = rng.standard_normal((n, k)).astype(np.float32)
        bias = rng.standard_normal(n).astype(np.float32)
        node = helper.make_node("Gemm", ["a", "w", "bias"], ["y"], transB=1)
        inits = [numpy_helper.from_array(w, "w"), numpy_helper.from_array(bias, "bias")]
        ref = lambda a: a @ w.T + bias  # noqa: E731
    g = helper.make_graph([node], "g", [helper.make_tensor_value_info("a", TensorProto.FLOAT, [m, k])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, [m, n])], inits)
    model = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)
    return model, ref


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="fewer repetitions")
    args = ap.parse_args(argv)
    min_total = 0.1 if args.quick else 0.4
    rounds = 5 if args.quick else 15

    peak, isa = _core.fma_peak(30 if args.quick else 60)
    print(f"machine: {cpu_model()}, {os.cpu_count()} logical cores; loadrun {loadrun.__version__} "
          f"(sgemm {_core.sgemm_impl_name()}), onnxruntime {ort.__version__}, numpy {np.__version__}; 1 thread")
    print(f"FMA peak ({isa}, one core): {peak:.1f} GFLOP/s")
    print("sgemm columns: GFLOP/s and % of peak, best round by wall clock / by thread CPU time; "
          "op columns: GFLOP/s, best call from Python")
    rng = np.random.default_rng(0)
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    so.inter_op_num_threads = 1
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    model, _ = one_node_model(1, 1, 1, "matmul", rng)
    a1 = np.ones((1, 1), np.float32)
    net1 = loadrun.load(model, weight_preprocess=True)
    sess1 = ort.InferenceSession(model.SerializeToString(), so, providers=["CPUExecutionProvider"])
    ovh_lr = min(best_time(lambda: net1.run({"a": a1}), min_total) for _ in range(3))
    ovh_ort = min(best_time(lambda: sess1.run(None, {"a": a1}), min_total) for _ in range(3))
    print(f"per-call overhead (1x1x1 model, run() from Python): loadrun {ovh_lr * 1e6:.1f} us, "
          f"ORT {ovh_ort * 1e6:.1f} us")
    hdr = (f"{'shape':<28} {'sgemm':>6} {'%pk':>3} {'cpu':>6} {'%pk':>3} {'packed':>6} {'%pk':>3} | "
           f"{'lr run':>6} {'lr bench':>8} {'ORT run':>7} {'numpy':>6} | {'run/ORT':>7} {'bench/ORT':>9}")
    print(hdr)
    for label, m, n, k, op in SHAPES:
        flops = 2.0 * m * n * k
        tb = op == "gemm_tb"
        _, g_wall, _, g_cpu = _core.sgemm_bench(m, n, k, trans_b=tb, packed_b=False, rounds=rounds)
        _, g_pk, _, _ = _core.sgemm_bench(m, n, k, trans_b=tb, packed_b=True, rounds=rounds)

        model, ref = one_node_model(m, n, k, op, rng)
        a = rng.standard_normal((m, k)).astype(np.float32)
        net = loadrun.load(model, weight_preprocess=True)
        sess = ort.InferenceSession(model.SerializeToString(), so, providers=["CPUExecutionProvider"])
        y_lr = net.run({"a": a})["y"]
        y_ort = sess.run(None, {"a": a})[0]
        want = ref(a)
        scale = max(float(np.abs(want).max()), 1e-6)
        assert float(np.abs(y_lr - want).max()) / scale < 1e-4, label
        assert float(np.abs(y_ort - want).max()) / scale < 1e-4, label
        net.set_inputs({"a": a})
        iters = max(1, int(min_total / max(flops / 50e9, 1e-6) / 10))
        # Interleave the engines round by round so that noise hits all alike.
        t_lr = t_bench = t_ort = t_np = float("inf")
        for _ in range(3):
            t_lr = min(t_lr, best_time(lambda: net.run({"a": a}), min_total))
            t_bench = min([t_bench] + [ms * 1e-3 for ms in net.benchmark(iters=iters, warmup=1)])
            t_ort = min(t_ort, best_time(lambda: sess.run(None, {"a": a}), min_total))
            t_np = min(t_np, best_time(lambda: ref(a), min_total))
        gf = lambda t: flops / t * 1e-9  # noqa: E731
        print(f"{label:<28} {g_wall:6.1f} {100 * g_wall / peak:3.0f} {g_cpu:6.1f} {100 * g_cpu / peak:3.0f} "
              f"{g_pk:6.1f} {100 * g_pk / peak:3.0f} | {gf(t_lr):6.1f} {gf(t_bench):8.1f} {gf(t_ort):7.1f} "
              f"{gf(t_np):6.1f} | {t_lr / t_ort:7.2f} {t_bench / t_ort:9.2f}", flush=True)
    print("op columns in GFLOP/s; run/ORT and bench/ORT: loadrun time / ORT run time (< 1: loadrun faster)")


if __name__ == "__main__":
    main()
