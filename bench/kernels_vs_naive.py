"""Per-kernel speed of the fast algorithms against NAIVE, one thread.

Each case is a one-node model on a large tensor (a few MB: L3 or DRAM, as a
real model's activations), timed with loadrun's benchmark (best of --rounds
rounds of --iters runs; the machine may be shared, the best is the least
disturbed) once with algo="NAIVE" and once with the fast algorithm forced by
name. The table gives both times, the speed-up and the fast one's GB/s
(bytes read + written). The "Conv1x1 + act" cases time the default plan
only (NAIVE Conv is no yardstick): run the script on two builds to compare
a fused activation epilogue with an unfused one.

    python bench/kernels_vs_naive.py [--rounds 5] [--iters 10] [name filter...]
"""
import argparse
import sys

import numpy as np
from onnx import TensorProto, helper

import loadrun

sys.path.insert(0, __file__.rsplit("/", 2)[0] + "/tests")
from onnx_ref import make_model, node_model  # noqa: E402

rng = np.random.default_rng(0)


def f32(*s):
    return rng.standard_normal(s).astype(np.float32)


def cases():
    x = f32(8, 64, 64, 64)  # 8 MiB
    yield "Slice [:, ::2] (rows)", "COPY_FAST", node_model(
        "Slice", {"x": x}, opset=13, initializers=[("s", np.array([0], np.int64)), ("e", np.array([64], np.int64)),
                                                 ("a", np.array([1], np.int64)), ("st", np.array([2], np.int64))]), {"x": x}
    yield "Slice [..., ::-1] (reversed)", "COPY_FAST", node_model(
        "Slice", {"x": x}, opset=13, initializers=[("s", np.array([-1], np.int64)),
                                                 ("e", np.array([-(2 ** 63)], np.int64)),
                                                 ("a", np.array([3], np.int64)), ("st", np.array([-1], np.int64))]), {"x": x}
    b = f32(1, 64, 1, 64)
    yield "Expand [1,64,1,64] -> [8,64,64,64]", "COPY_FAST", node_model(
        "Expand", {"x": b}, initializers=[("shape", np.array([8, 64, 64, 64], np.int64))]), {"x": b}
    h = f32(8, 64, 64, 32)
    yield "Concat 2 x [8,64,64,32] axis -1", "COPY_FAST", node_model("Concat", {"x": h, "z": h}, axis=-1), {"x": h, "z": h}
    emb = f32(30522, 128)
    ids = rng.integers(0, 30522, (8, 512)).astype(np.int64)
    yield "Gather embedding [30522,128] x [8,512]", "COPY_FAST", node_model("Gather", {"x": emb, "i": ids}), \
        {"x": emb, "i": ids}
    idx = rng.integers(0, 64, 32).astype(np.int64)
    yield "Gather axis -1, 32 of 64", "COPY_FAST", node_model("Gather", {"x": x, "i": idx}, axis=3), {"x": x, "i": idx}
    a, c = f32(8, 64, 64, 64), f32(64, 1, 1)
    yield "Equal float32 per-channel", "ELEMWISE_FAST", node_model("Equal", {"a": a, "c": c}), {"a": a, "c": c}
    ia = rng.integers(0, 3, (8, 64, 64, 64)).astype(np.int64)
    yield "Less int64 same shape", "ELEMWISE_FAST", node_model("Less", {"a": ia, "b": ia[::-1].copy()}), \
        {"a": ia, "b": ia[::-1].copy()}
    for to, name in ((TensorProto.INT64, "int64"), (TensorProto.FLOAT16, "float16"), (TensorProto.BOOL, "bool")):
        yield f"Cast float32 -> {name}", "ELEMWISE_FAST", node_model("Cast", {"x": x}, to=to, out_dtypes=[to]), {"x": x}
    hx = x.astype(np.float16)
    yield "Cast float16 -> float32", "ELEMWISE_FAST", node_model("Cast", {"x": hx}, to=TensorProto.FLOAT,
                                                                 out_dtypes=[TensorProto.FLOAT]), {"x": hx}
    cond = rng.random((8, 64, 64, 64)) < 0.5
    yield "Where float32 same shape", "ELEMWISE_FAST", node_model("Where", {"c": cond, "x": x, "y": a}), \
        {"c": cond, "x": x, "y": a}
    for act, attrs in (("Sigmoid", {}), ("HardSigmoid", {}), ("Gelu", {}), ("Tanh", {})):
        xi = f32(1, 64, 56, 56)
        w = f32(64, 64, 1, 1) * 0.1
        nodes = [helper.make_node("Conv", ["x", "w"], ["c"]), helper.make_node(act, ["c"], ["y"], **attrs)]
        m = make_model(nodes, [("x", np.float32, list(xi.shape))], [("y", np.float32, None)], [("w", w)], opset=20)
        yield f"Conv1x1 64->64 56x56 + {act} (fused)", "CONV1x1_GEMM", m, {"x": xi}


def nbytes(feeds, net_out):
    return sum(np.asarray(v).nbytes for v in feeds.values()) + sum(np.asarray(v).nbytes for v in net_out.values())


def best(model, feeds, algo, rounds, iters):
    net = loadrun.load(model, algo=algo)
    out = net.run(feeds)
    steps = [s[1] for s in net.steps()]
    t = min(min(net.benchmark(iters, 1)) for _ in range(rounds))
    return t, steps, out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("filter", nargs="*")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--iters", type=int, default=10)
    args = ap.parse_args()
    level = loadrun.isa_level() if hasattr(loadrun, "isa_level") else "(before isa.h)"
    print(f"ISA level: {level}; best of {args.rounds} x {args.iters} runs, 1 thread")
    print(f"| {'case':42} | NAIVE ms | fast ms | speed-up | fast GB/s | algorithm |")
    print("|---|---|---|---|---|---|")
    for name, algo, model, feeds in cases():
        if args.filter and not any(f.lower() in name.lower() for f in args.filter):
            continue
        if name.startswith("Conv"):
            tf, steps, out = best(model, feeds, None, args.rounds, args.iters)
            gbs = nbytes(feeds, out) / (tf * 1e-3) / 1e9
            print(f"| {name:42} |        - | {tf:7.3f} |        - | {gbs:9.1f} | {'+'.join(steps)} |", flush=True)
            continue
        tn, _, out = best(model, feeds, "NAIVE", args.rounds, args.iters)
        tf, steps, _ = best(model, feeds, algo, args.rounds, args.iters)
        assert algo in steps, (name, steps)
        gbs = nbytes(feeds, out) / (tf * 1e-3) / 1e9
        print(f"| {name:42} | {tn:8.3f} | {tf:7.3f} | {tn / tf:7.1f}x | {gbs:9.1f} | {algo} |", flush=True)


if __name__ == "__main__":
    main()
