"""Per-operator overhead: a chain of N tiny Add operators, loadrun against ORT.

The model (built here): x[16] -> Add(c_0) -> Add(c_1) -> ... -> y, N nodes, each
adding its own 16-float constant, so the arithmetic is negligible and the time
is dispatch. Timed in one process, interleaved round by round: loadrun
`net.run()` (a Python call), loadrun `net.benchmark()` (timed in C++), loadrun
with record_comp_seq (when the build has it), ORT with ORT_ENABLE_ALL and ORT
with ORT_DISABLE_ALL (one thread each). Figure: median over rounds of the
per-inference time divided by N, in microseconds per operator.

Note: loadrun's chain fusion may merge the Adds into fewer steps; the steps
count is printed. ORT_ENABLE_ALL may fold the constant Adds too.

    python bench/op_overhead.py [--ops 1000] [--rounds 21] [--iters 20]
"""
import argparse
import os
import statistics
import sys
import time

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper

import loadrun

HERE = os.path.dirname(os.path.abspath(__file__))


def chain(n):
    rng = np.random.default_rng(0)
    nodes, inits = [], []
    prev = "x"
    for i in range(n):
        c = f"c{i}"
        inits.append(numpy_helper.from_array(rng.standard_normal(16).astype(np.float32), c))
        out = "y" if i == n - 1 else f"t{i}"
        nodes.append(helper.make_node("Add", [prev, c], [out], name=f"add{i}"))
        prev = out
    g = helper.make_graph(nodes, "chain", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [16])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, [16])], inits)
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])


def ort_session(data, level):
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    so.inter_op_num_threads = 1
    so.graph_optimization_level = level
    return ort.InferenceSession(data, so, providers=["CPUExecutionProvider"])


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--ops", type=int, default=1000)
    ap.add_argument("--rounds", type=int, default=21)
    ap.add_argument("--iters", type=int, default=20, help="inferences per engine per round")
    args = ap.parse_args()
    sys.path.insert(0, HERE)
    from zoo_latency import cpu_model

    model = chain(args.ops)
    data = model.SerializeToString()
    x = np.random.default_rng(1).standard_normal(16).astype(np.float32)
    feeds = {"x": x}
    net = loadrun.load(model)
    want = x + sum(numpy_helper.to_array(t) for t in model.graph.initializer)
    got = net.run(feeds)["y"]
    print(f"machine: {cpu_model()}, {os.cpu_count()} logical cores; loadrun {loadrun.__version__}, "
          f"onnxruntime {ort.__version__}; {args.ops} Add ops; loadrun steps: {len(net.memory_info()['steps'])}; "
          f"max |loadrun - numpy| {float(np.max(np.abs(got - want))):.1e}")
    net.set_inputs(feeds)
    try:
        rec = loadrun.load(model, record_comp_seq=1)
        rec.set_inputs(feeds)
        rec.benchmark(iters=2, warmup=1)
    except Exception as e:  # noqa: BLE001 - report, go on
        print(f"record_comp_seq: not available ({type(e).__name__}: {str(e).splitlines()[0][:120]})")
        rec = None
    sessions = {"ort_all": ort_session(data, ort.GraphOptimizationLevel.ORT_ENABLE_ALL),
                "ort_none": ort_session(data, ort.GraphOptimizationLevel.ORT_DISABLE_ALL)}

    def py_loop(fn):
        t = time.perf_counter()
        for _ in range(args.iters):
            fn(feeds)
        return (time.perf_counter() - t) * 1e3 / args.iters

    for s in sessions.values():
        s.run(None, feeds)
    net.run(feeds)
    times = {k: [] for k in ("loadrun_run", "loadrun_cpp", "loadrun_recorded", "ort_all", "ort_none")}
    for _ in range(args.rounds):
        times["loadrun_run"].append(py_loop(net.run))
        times["loadrun_cpp"].append(statistics.median(net.benchmark(iters=args.iters, warmup=1)))
        if rec is not None:
            times["loadrun_recorded"].append(statistics.median(rec.benchmark(iters=args.iters, warmup=1)))
        for k, s in sessions.items():
            times[k].append(py_loop(lambda f, s=s: s.run(None, f)))
    us = {k: statistics.median(v) * 1e3 / args.ops for k, v in times.items() if v}
    print(f"{'engine':<18} {'us/op':>7} {'/ ORT all':>9} {'/ ORT none':>10}")
    for k, v in us.items():
        print(f"{k:<18} {v:7.3f} {v / us['ort_all']:9.2f} {v / us['ort_none']:10.2f}")


if __name__ == "__main__":
    main()
