"""Thread scaling, loadrun against ONNX Runtime: 1 -> N threads (default 1
and 2) on every zoo model and the public real models bench/compare.py knows.

For every model, in this process and on the same seeded input: loadrun with
`threads=T` (the default heuristic algorithm choice) and ONNX Runtime with
`intra_op_num_threads=T` (inter_op 1, ORT_ENABLE_ALL), for each T. All the
sessions are interleaved round by round so machine noise hits them alike;
each cell is a median latency in ms. Ratios: speedup = time at 1 thread /
time at T threads, per engine; lr/ORT = loadrun / ORT at the same thread
count (below 1.0: loadrun is faster). Blocks of runs are separated by a
short pause, so that no engine runs while the other's pool still spins.
Prints a markdown table.

    python bench/threads.py [--threads 1,2] [--rounds 5] [--iters 3] [--no-real] [models...]
"""
import argparse
import os
import statistics
import sys
import time

import onnxruntime as ort

import loadrun
from loadrun import zoo

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "tests"))
sys.path.insert(0, HERE)

from compare import models  # noqa: E402
from zoo_latency import cpu_model, feeds_for  # noqa: E402


# A pause after each block of runs: a pool's workers spin for a while after
# their last job (ORT's for milliseconds), and on a 2-core machine the next
# block, of the other engine, would otherwise run against a spinning thread.
PAUSE_S = 0.1


def ort_session(model_bytes, threads):
    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    so.inter_op_num_threads = 1
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    return ort.InferenceSession(model_bytes, so, providers=["CPUExecutionProvider"])


def bench_model(model, shapes, thread_counts, rounds, iters):
    """{("lr" | "ort", T): median ms}."""
    first = loadrun.load(model, input_shapes=shapes)
    feeds = feeds_for(first)
    fixed = {k: list(v.shape) for k, v in feeds.items()}
    runners = {}
    for t in thread_counts:
        net = first if t == 1 else loadrun.load(model, input_shapes=fixed, threads=t)
        net.set_inputs(feeds)
        runners[("lr", t)] = lambda n=iters, net=net: list(net.benchmark(iters=n, warmup=0))
        sess = ort_session(model.SerializeToString(), t)

        def ort_run(n=iters, sess=sess):
            out = []
            for _ in range(n):
                t0 = time.perf_counter()
                sess.run(None, feeds)
                out.append((time.perf_counter() - t0) * 1e3)
            return out

        runners[("ort", t)] = ort_run
    for run in runners.values():  # warm-up: first-run allocations, thread start
        run(2)
        time.sleep(PAUSE_S)
    times = {k: [] for k in runners}
    for _ in range(rounds):
        for k, run in runners.items():
            times[k].extend(run())
            time.sleep(PAUSE_S)
    return {k: statistics.median(v) for k, v in times.items()}


def header(thread_counts):
    base = thread_counts[0]
    cols = ["model"]
    for t in thread_counts:
        cols += [f"lr {t}T ms", f"ORT {t}T ms"]
    for t in thread_counts[1:]:
        cols += [f"lr {base}→{t}T", f"ORT {base}→{t}T"]
    cols += [f"lr/ORT {t}T" for t in thread_counts]
    return cols


def row(name, med, thread_counts):
    base = thread_counts[0]
    cells = [name]
    for t in thread_counts:
        cells += [f"{med[('lr', t)]:.2f}", f"{med[('ort', t)]:.2f}"]
    for t in thread_counts[1:]:
        cells += [f"{med[('lr', base)] / med[('lr', t)]:.2f}×", f"{med[('ort', base)] / med[('ort', t)]:.2f}×"]
    cells += [f"{med[('lr', t)] / med[('ort', t)]:.2f}" for t in thread_counts]
    return cells


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("models", nargs="*", help="zoo models (default: all)")
    ap.add_argument("--threads", default="1,2", help="thread counts, comma-separated (default 1,2)")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--iters", type=int, default=3, help="timed runs per round and session")
    ap.add_argument("--no-real", action="store_true", help="zoo models only")
    args = ap.parse_args(argv)
    counts = sorted({int(t) for t in args.threads.split(",")})
    if not counts or counts[0] < 1:
        ap.error("--threads: thread counts >= 1")
    names = args.models or [n for n, _ in zoo.list_models()]
    print(f"machine: {cpu_model()}, {os.cpu_count()} logical cores; loadrun {loadrun.__version__} "
          f"(isa {loadrun.isa_level()}), onnxruntime {ort.__version__}; threads {counts}; "
          f"median of {args.rounds}×{args.iters} runs\n")
    cols = header(counts)
    print("| " + " | ".join(cols) + " |")
    print("|" + "|".join(["---"] + ["---:"] * (len(cols) - 1)) + "|", flush=True)
    for name, model, shapes in models(names, not args.no_real):
        med = bench_model(model, shapes, counts, args.rounds, args.iters)
        print("| " + " | ".join(row(name, med, counts)) + " |", flush=True)


if __name__ == "__main__":
    main()
