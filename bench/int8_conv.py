"""int8 QLinearConv layers: loadrun's direct dot-product convolution against ONNX Runtime, one thread.

Per layer (uint8 activations, int8 weights, per-tensor zero points not 0,
B): loadrun's QLinearConv with its default algorithm (INT8_DIRECT_DOT,
NCHW in and out), the same conv as QLinearConvNCHW44 on blocked tensors
(NCHW44_DOT, what --enable-nchw44-dot runs between relayouts), and ONNX
Runtime's QLinearConv (intra_op_num_threads=1, ORT_ENABLE_ALL). Interleaved
round by round; median ms, GOP/s (2 ops per multiply-add) and the ratio to
ORT (below 1.0: loadrun is faster). --naive also times NAIVE once per layer.
loadrun's bytes equal NAIVE's exactly (tests/test_ops_qlinear_conv_fast.py);
ORT's are not compared here, its int8 kernels round differently.

    python bench/int8_conv.py [--rounds 7] [--iters 5] [--naive]
"""
import argparse
import os
import statistics
import sys
import time

import numpy as np
from onnx import helper, numpy_helper

import loadrun

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from compare import ort_session  # noqa: E402

# name, ic, oc, h, w, k, stride, group
LAYERS = [
    ("3x3 64->64 56x56", 64, 64, 56, 56, 3, 1, 1),
    ("1x1 128->128 28x28", 128, 128, 28, 28, 1, 1, 1),
    ("3x3 s2 128->256 28x28", 128, 256, 28, 28, 3, 2, 1),
    ("1x1 32->192 56x56", 32, 192, 56, 56, 1, 1, 1),
    ("dw 3x3 144 56x56", 144, 144, 56, 56, 3, 1, 144),
]


def model(op, domain, x_shape, ic, oc, k, stride, group, rng):
    inits = [("xs", np.array(0.05, np.float32)), ("xzp", np.array(131, np.uint8)),
             ("w", rng.integers(-128, 128, (oc, ic // group, k, k)).astype(np.int8)),
             ("ws", np.array(0.004, np.float32)), ("wzp", np.array(0, np.int8)),
             ("ys", np.array(0.4, np.float32)), ("yzp", np.array(120, np.uint8)),
             ("b", rng.integers(-5000, 5000, oc).astype(np.int32))]
    node = helper.make_node(op, ["x"] + [n for n, _ in inits], ["y"], domain=domain, group=group,
                            strides=[stride, stride], pads=[k // 2] * 4)
    g = helper.make_graph([node], "l", [helper.make_tensor_value_info("x", 2, x_shape)],
                          [helper.make_tensor_value_info("y", 2, None)],
                          [numpy_helper.from_array(a, n) for n, a in inits])
    ops = [helper.make_opsetid("", 21)] + ([helper.make_opsetid(domain, 1)] if domain else [])
    return helper.make_model(g, opset_imports=ops, ir_version=10)


def bench(layer, rounds, iters, naive):
    name, ic, oc, h, w, k, s, group = layer
    rng = np.random.default_rng(1)
    x = rng.integers(0, 256, (1, ic, h, w)).astype(np.uint8)
    xb = np.zeros((1, -(-ic // 4) * 4, h, w), np.uint8)
    xb[:, :ic] = x
    xb = xb.reshape(1, -1, 4, h, w).transpose(0, 1, 3, 4, 2).copy()
    plain = model("QLinearConv", "", list(x.shape), ic, oc, k, s, group, rng)
    nets = {"nchw": (loadrun.load(plain), {"x": x}),
            "nchw44": (loadrun.load(model("QLinearConvNCHW44", "loadrun", list(xb.shape), ic, oc, k, s,
                                          group, np.random.default_rng(1))), {"x": xb})}
    for n, feeds in nets.values():
        n.set_inputs(feeds)
        n.benchmark(iters=0, warmup=2)
    sess = ort_session(plain.SerializeToString())
    for _ in range(2):
        sess.run(None, {"x": x})
    times = {"nchw": [], "nchw44": [], "ort": []}
    for _ in range(rounds):
        for key, (n, _) in nets.items():
            times[key].extend(n.benchmark(iters=iters, warmup=0))
        for _ in range(iters):
            t = time.perf_counter()
            sess.run(None, {"x": x})
            times["ort"].append((time.perf_counter() - t) * 1e3)
    med = {key: statistics.median(v) for key, v in times.items()}
    if naive:
        n = loadrun.load(plain, algo="NAIVE")
        n.set_inputs({"x": x})
        med["naive"] = statistics.median(n.benchmark(iters=1, warmup=0))
    oh, ow = -(-h // s), -(-w // s)
    macs = oc * oh * ow * (ic // group) * k * k
    algo = [a for st, a, *_ in nets["nchw"][0].steps() if st.endswith("{QLinearConv}")]
    return med, 2 * macs / 1e6, algo


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--iters", type=int, default=5)
    ap.add_argument("--naive", action="store_true")
    a = ap.parse_args()
    print(f"isa {loadrun.isa_level()}; median ms over {a.rounds}x{a.iters} runs; ratio = loadrun / ORT")
    print("| layer | algo | NCHW ms | GOP/s | NCHW44 ms | ORT ms | NCHW/ORT | NCHW44/ORT |"
          + (" NAIVE ms |" if a.naive else ""))
    print("|---|---|---:|---:|---:|---:|---:|---:|" + ("---:|" if a.naive else ""))
    for layer in LAYERS:
        med, mops, algo = bench(layer, a.rounds, a.iters, a.naive)
        o = med["ort"]
        print(f"| {layer[0]} | {','.join(algo)} | {med['nchw']:.3f} | {mops / med['nchw']:.1f} | "
              f"{med['nchw44']:.3f} | {o:.3f} | {med['nchw'] / o:.2f} | {med['nchw44'] / o:.2f} |"
              + (f" {med['naive']:.1f} |" if a.naive else ""), flush=True)


if __name__ == "__main__":
    main()
