"""Per-step profile of a zoo model: each step of loadrun's plan timed alone.

Every node that survives compilation (net.steps()) is cut out into a
one-node ONNX model: its inputs that loadrun knows at compile time (weights,
folded shape arithmetic) become initializers, the others graph inputs fed
with the values the full model computes there (ONNX Runtime gives every
intermediate value). Each one-node model is timed with loadrun's benchmark
(thread CPU time, best of --rounds rounds of --iters runs, one thread;
the machine may be noisy, the best is the least disturbed). The table sums the time per
operator type, with the algorithm that ran, and the full model's time for
comparison (the sum misses only the per-step overhead of the full plan and
cache effects between steps). A step the fusion pass built (Conv with BN,
residual Add and activation folded in) is timed as its plain Conv node.

With --ort, ONNX Runtime's own per-node profile (one thread, ORT_ENABLE_ALL,
enable_profiling; the best of --ort-runs runs per node) is put beside each
step. ORT names a node it fused (Conv+BN+Clip, NCHWc) after the last output
of the chain, so a step is paired with the ORT node named after its own
output or one of the outputs of the single-consumer BatchNormalization /
Clip / Relu / Add chain that follows it.

Usage: python bench/step_profile.py [--algo NAIVE] [--top 15] [--ort] [models...]
"""
import argparse
import collections
import json
import os
import re
import tempfile
import time

import numpy as np
import onnx
import onnxruntime as ort
from onnx import helper

import loadrun
from loadrun import zoo


def batch1(model):
    m = onnx.ModelProto()
    m.CopyFrom(model)
    for i in m.graph.input:
        for d in i.type.tensor_type.shape.dim:
            if d.HasField("dim_param"):
                d.dim_value = 1
    return m


def feeds_for(model):
    rng = np.random.default_rng(0)
    inits = {i.name for i in model.graph.initializer}
    feeds = {}
    for i in model.graph.input:
        if i.name in inits:
            continue
        tt = i.type.tensor_type
        shape = [d.dim_value for d in tt.shape.dim]
        dt = helper.tensor_dtype_to_np_dtype(tt.elem_type)
        if dt.kind == "i":
            feeds[i.name] = rng.integers(0, 2, size=shape).astype(dt)
        else:
            feeds[i.name] = rng.standard_normal(shape).astype(dt)
    return feeds


def all_values(model, feeds):
    """{name: array} of every tensor of the model (ONNX Runtime, no optimisation)."""
    m = onnx.ModelProto()
    m.CopyFrom(model)
    have = {o.name for o in m.graph.output}
    for n in m.graph.node:
        for o in n.output:
            if o and o not in have:
                m.graph.output.append(helper.make_empty_tensor_value_info(o))
    so = ort.SessionOptions()
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    so.intra_op_num_threads = 1
    sess = ort.InferenceSession(m.SerializeToString(), so, providers=["CPUExecutionProvider"])
    names = [o.name for o in m.graph.output]
    vals = dict(zip(names, sess.run(names, feeds)))
    vals.update(feeds)
    for t in model.graph.initializer:
        vals[t.name] = onnx.numpy_helper.to_array(t)
    return vals


def one_node_model(model, node, vals, runtime):
    """node alone; inputs in `runtime` are graph inputs, the rest initializers."""
    inputs, inits, feeds = [], [], {}
    for name in node.input:
        if not name or name in feeds or any(t.name == name for t in inits):
            continue
        v = vals[name]
        if name in runtime:
            inputs.append(helper.make_tensor_value_info(name, helper.np_dtype_to_tensor_dtype(v.dtype), v.shape))
            feeds[name] = v
        else:
            inits.append(onnx.numpy_helper.from_array(np.asarray(v), name))
    outputs = [helper.make_empty_tensor_value_info(o) for o in node.output if o]
    g = helper.make_graph([node], "step", inputs, outputs, inits)
    m = helper.make_model(g, opset_imports=model.opset_import, ir_version=8)
    return m, feeds


def time_net(net, rounds, iters):
    """Best per-run CPU time of this thread (ms) over `rounds` rounds of `iters` runs.

    CPU time rather than wall time: on a machine shared with other busy
    processes a run is preempted now and then, which wall time would count.
    """
    net.benchmark(iters=0, warmup=1)
    best = float("inf")
    for _ in range(rounds):
        t0 = time.thread_time()
        net.benchmark(iters=iters, warmup=0)
        best = min(best, (time.thread_time() - t0) * 1e3 / iters)
    return best


def ort_node_times(model, feeds, runs):
    """{node name: best ms} from ONNX Runtime's profiler, one thread, ORT_ENABLE_ALL."""
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    so.inter_op_num_threads = 1
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    so.enable_profiling = True
    with tempfile.TemporaryDirectory() as d:
        so.profile_file_prefix = os.path.join(d, "ort")
        sess = ort.InferenceSession(model.SerializeToString(), so, providers=["CPUExecutionProvider"])
        for _ in range(runs):
            sess.run(None, feeds)
        with open(sess.end_profiling()) as f:
            events = json.load(f)
    best = {}
    for e in events:
        if e.get("cat") == "Node" and e["name"].endswith("_kernel_time"):
            n = e["name"][: -len("_kernel_time")]
            best[n] = min(best.get(n, float("inf")), e["dur"] / 1e3)
    return best


def fused_chain(model, node):
    """node's outputs and those of the single-consumer BN/Clip/Relu/Add chain after it."""
    consumers = collections.defaultdict(list)
    for n in model.graph.node:
        for i in n.input:
            consumers[i].append(n)
    names, cur = list(node.output), node
    while len(cur.output) == 1 and len(consumers[cur.output[0]]) == 1:
        nxt = consumers[cur.output[0]][0]
        if nxt.op_type not in ("BatchNormalization", "Clip", "Relu", "Add"):
            break
        names += list(nxt.output)
        cur = nxt
    return names


def ort_match(ort_ms, names):
    for o in reversed(names):
        for key in (o + "_nchwc", o):
            if key in ort_ms:
                return key
    return None


def profile(name, algo, rounds, iters, top, ort_runs=0):
    model = batch1(zoo.build(name))
    feeds = feeds_for(model)
    vals = all_values(model, feeds)
    net = loadrun.load(model, algo=algo)
    net.set_inputs(feeds)
    full = time_net(net, rounds, iters)
    by_name = {n.name: n for n in model.graph.node}
    weights = {t.name for t in model.graph.initializer}
    weights |= {o for n in model.graph.node if n.op_type == "Constant" for o in n.output}
    # Tensors computed at run time: model inputs and outputs of planned steps.
    steps = net.steps()
    runtime = set(feeds)
    for s in steps:
        node = by_name[re.sub(r"\{[^}]*\}$", "", s[0])]
        runtime.update(o for o in node.output if o)
    per_type = collections.defaultdict(lambda: [0.0, 0, collections.Counter()])
    rows = []
    ort_ms = ort_node_times(model, feeds, ort_runs) if ort_runs else {}
    side = []  # (ours ms, ORT ms or None, step, algo)
    for s in steps:
        node = by_name[re.sub(r"\{[^}]*\}$", "", s[0])]
        m, f = one_node_model(model, node, vals, runtime)
        n1 = loadrun.load(m, algo=algo)
        if not n1.steps():
            # A step the fusion pass made (Conv+BN+Add+Relu): its data input comes from
            # a node fused away, so it is not in `runtime`; feed every non-weight input.
            m, f = one_node_model(model, node, vals, runtime | (set(node.input) - weights))
            n1 = loadrun.load(m, algo=algo)
        if f:
            n1.set_inputs(f)
        ms = time_net(n1, rounds, iters)
        algo_ran = n1.steps()[0][1] if n1.steps() else "-"
        e = per_type[node.op_type]
        e[0] += ms
        e[1] += 1
        e[2][algo_ran] += 1
        rows.append((ms, s[0], algo_ran))
        if ort_runs:
            key = ort_match(ort_ms, fused_chain(model, node))
            side.append((ms, ort_ms.pop(key) if key else None, s[0], algo_ran))
    total = sum(e[0] for e in per_type.values())
    print(f"\n{name}: full model {full:.3f} ms, sum of steps {total:.3f} ms ({len(steps)} steps, algo={algo or 'default'})")
    print(f"  {'op type':<22} {'ms':>9} {'share':>6} {'steps':>5}  algos")
    for t, (ms, cnt, algos) in sorted(per_type.items(), key=lambda kv: -kv[1][0]):
        al = ", ".join(f"{a}x{c}" for a, c in algos.most_common())
        print(f"  {t:<22} {ms:9.3f} {100 * ms / total:5.1f}% {cnt:5d}  {al}")
    if top:
        print(f"  slowest {top} steps:")
        for ms, s, a in sorted(rows, reverse=True)[:top]:
            print(f"    {ms:8.3f} ms  {a:<16} {s}")
    if ort_runs:
        paired = [r for r in side if r[1] is not None]
        ours, theirs = sum(r[0] for r in paired), sum(r[1] for r in paired)
        print(f"  beside ORT's profile ({len(paired)} steps paired; ORT sum {theirs:.3f} ms, ours"
              f" {ours:.3f} ms; unpaired ORT nodes: {sum(ort_ms.values()):.3f} ms)")
        by_algo = collections.defaultdict(lambda: [0.0, 0.0, 0])
        for ms, o, _, a in paired:
            by_algo[a][0] += ms
            by_algo[a][1] += o
            by_algo[a][2] += 1
        print(f"  {'algo':<18} {'ours':>8} {'ORT':>8} {'gap':>8} {'steps':>5}")
        for a, (m1, m2, c) in sorted(by_algo.items(), key=lambda kv: kv[1][1] - kv[1][0]):
            print(f"  {a:<18} {m1:8.3f} {m2:8.3f} {m1 - m2:+8.3f} {c:5d}")
        print("  steps by gap (ours - ORT, ms):")
        for ms, o, st, a in sorted(paired, key=lambda r: r[1] - r[0])[: top or len(paired)]:
            print(f"    {ms:7.3f} {o:7.3f} {ms - o:+7.3f}  {a:<16} {st}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("models", nargs="*")
    ap.add_argument("--algo", default=None, help="prefer this algo (e.g. NAIVE)")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--iters", type=int, default=3)
    ap.add_argument("--top", type=int, default=0)
    ap.add_argument("--ort", action="store_true", help="ORT's per-node profile beside each step")
    ap.add_argument("--ort-runs", type=int, default=30)
    args = ap.parse_args()
    for name in args.models or [n for n, _ in zoo.list_models()]:
        profile(name, args.algo, args.rounds, args.iters, args.top, args.ort_runs if args.ort else 0)


if __name__ == "__main__":
    main()
