"""Where loadrun's time goes against ONNX Runtime's, per kernel family, one thread.

For each model: loadrun's default plan runs --runs times with a StepTimer
(the executor's own clock around every kernel, no copies: runtime/
step_timer.h), and ONNX Runtime (intra_op_num_threads=1, ORT_ENABLE_ALL)
the same number of times with its profiler on (each node's "dur"). Both
sides' node times are summed per kernel family (conv, gemm, attention,
norm, pool, layout, other: ORT's fused nodes FusedConv / FusedMatMul /
SkipLayerNormalization ... fall in the family of the kernel they run, as
loadrun's fused Conv / FusedMatMul steps do), divided by the runs, and
printed side by side with the difference: the family with the largest
positive difference holds the gap (ORT's node times are taken with its
profiler on, which costs it a little per node). The heading gives each
whole run's median (loadrun's benchmark(), ORT's run() wall time without
the profiler), so the per-node sums can be checked against it (what is left
is per-run overhead).

    python bench/gap_profile.py [--runs 30] [--no-real] [--top 3] [models...]
"""
import argparse
import collections
import json
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

from compare import models  # noqa: E402
from zoo_latency import cpu_model, feeds_for  # noqa: E402

FAMILIES = {
    "conv": {"Conv", "FusedConv", "NhwcFusedConv", "ConvTranspose", "QLinearConv", "ConvInteger"},
    "gemm": {"MatMul", "Gemm", "FusedMatMul", "FusedGemm", "MatMulInteger", "QGemm", "MatMulIntegerToFloat"},
    "attention": {"Attention", "MultiHeadAttention", "GroupQueryAttention"},
    "norm": {"LayerNormalization", "SkipLayerNormalization", "SimplifiedLayerNormalization",
             "BatchNormalization", "InstanceNormalization", "GroupNormalization", "RMSNormalization"},
    "pool": {"MaxPool", "AveragePool", "GlobalAveragePool", "GlobalMaxPool", "LpPool"},
    "layout": {"ReorderInput", "ReorderOutput", "Transpose", "Reshape", "Flatten", "Squeeze", "Unsqueeze",
               "Concat", "Slice", "Split", "Gather", "Expand", "Pad", "Resize"},
}


def family(op):
    for fam, ops in FAMILIES.items():
        if op in ops:
            return fam
    return "other"


def loadrun_profile(net, runs):
    timer = net._core.add_step_timer()
    net.benchmark(iters=runs, warmup=0)
    steps = timer.steps()
    net._core.remove_step_timer(timer)
    fam = collections.defaultdict(float)
    per_step = []
    for label, algo, total_ms, n in steps:
        op = label[label.rfind("{") + 1:-1] if label.endswith("}") else label
        fam[family(op)] += total_ms / runs
        per_step.append((total_ms / runs, label, algo))
    return fam, sorted(per_step, reverse=True)


def ort_profile(model, feeds, runs):
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    so.inter_op_num_threads = 1
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    # wall time from a session without the profiler (it adds per-node cost)
    plain = ort.InferenceSession(model.SerializeToString(), so, providers=["CPUExecutionProvider"])
    for _ in range(2):
        plain.run(None, feeds)
    wall = []
    for _ in range(runs):
        t = time.perf_counter()
        plain.run(None, feeds)
        wall.append((time.perf_counter() - t) * 1e3)
    so.enable_profiling = True
    so.profile_file_prefix = os.path.join(tempfile.mkdtemp(prefix="ort-prof-"), "p")
    sess = ort.InferenceSession(model.SerializeToString(), so, providers=["CPUExecutionProvider"])
    for _ in range(2):
        sess.run(None, feeds)
    for _ in range(runs):
        sess.run(None, feeds)
    path = sess.end_profiling()
    with open(path) as f:
        events = json.load(f)
    os.remove(path)
    fam = collections.defaultdict(float)
    for e in events:
        if e.get("cat") == "Node" and e.get("name", "").endswith("_kernel_time"):
            fam[family(e.get("args", {}).get("op_name", ""))] += e["dur"] / 1e3
    total_runs = runs + 2  # the profile holds the warm-up runs too
    return {k: v / total_runs for k, v in fam.items()}, statistics.median(wall)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("models", nargs="*", help="zoo models (default: all)")
    ap.add_argument("--runs", type=int, default=30)
    ap.add_argument("--top", type=int, default=3, help="loadrun's slowest steps listed per model")
    ap.add_argument("--no-real", action="store_true", help="zoo models only")
    args = ap.parse_args()
    zoo_names = [n for n, _ in zoo.list_models()]
    names = args.models or zoo_names  # zoo and real model names (test_real_models.CASES) mix
    real_only = [n for n in args.models if n not in zoo_names]
    print(f"machine: {cpu_model()}, {os.cpu_count()} logical cores; loadrun {loadrun.__version__} "
          f"(ISA {loadrun.isa_level()}), onnxruntime {ort.__version__}; 1 thread; {args.runs} runs; "
          "ms per run (node sums)")
    for name, model, shapes, given in models(names, not args.no_real, zoo_names, real_only):
        net = loadrun.load(model, input_shapes=shapes)
        feeds = feeds_for(net, given)
        net.set_inputs(feeds)
        net.benchmark(iters=2, warmup=1)
        lr_wall = statistics.median(net.benchmark(iters=args.runs, warmup=0))
        lr, steps = loadrun_profile(net, args.runs)
        ort_fam, ort_wall = ort_profile(model, feeds, args.runs)
        print(f"\n{name}: loadrun {lr_wall:.2f} ms, ORT {ort_wall:.2f} ms, ratio {lr_wall / ort_wall:.2f}")
        print(f"  {'family':<10} {'loadrun':>8} {'ORT':>8} {'diff':>8}")
        fams = sorted(set(lr) | set(ort_fam), key=lambda f: -(lr.get(f, 0) - ort_fam.get(f, 0)))
        for f in fams:
            a, b = lr.get(f, 0.0), ort_fam.get(f, 0.0)
            print(f"  {f:<10} {a:8.3f} {b:8.3f} {a - b:+8.3f}")
        print(f"  {'sum':<10} {sum(lr.values()):8.3f} {sum(ort_fam.values()):8.3f}")
        for ms, label, algo in steps[:args.top]:
            print(f"  slowest: {ms:.3f} ms {label} algo={algo}")


if __name__ == "__main__":
    main()
