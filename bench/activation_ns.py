"""Nanoseconds per element of the transformer's elementwise hot path, one thread.

The shapes of bert_tiny's feed-forward block and attention: the standalone
Gelu op (erf and tanh forms) on a 128 x 512 float32 tensor (256 KiB: the
L2-resident block FusedMatMul's elementwise pass sees), Softmax over rows of
128, and FusedMatMul 128 x 128 -> 512 with and without a fused Gelu, whose
difference is what the activation adds to the GEMM step. Each one-node model
is timed with loadrun's benchmark (best of --rounds rounds of --iters runs;
the machine may be shared, the best is the least disturbed), the cases
interleaved round by round. Run it on two builds (PYTHONPATH) to compare.

    python bench/activation_ns.py [--rounds 15] [--iters 20]
"""
import argparse

import numpy as np
from onnx import TensorProto, helper, numpy_helper

import loadrun

rng = np.random.default_rng(0)


def unary(op, shape, opset=20, **attrs):
    node = helper.make_node(op, ["x"], ["y"], **attrs)
    g = helper.make_graph([node], "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, shape)],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, shape)])
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)])


def fused_matmul(act, rows=128, k=128, n=512):
    w = numpy_helper.from_array((rng.standard_normal((k, n)) / np.sqrt(k)).astype(np.float32), "w")
    b = numpy_helper.from_array((rng.standard_normal(n) * 0.1).astype(np.float32), "b")
    node = helper.make_node("FusedMatMul", ["x", "w", "b"], ["y"], domain="loadrun",
                            **({"activation": act} if act else {}))
    g = helper.make_graph([node], "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, rows, k])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, rows, n])], [w, b])
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("loadrun", 1)])


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=15)
    ap.add_argument("--iters", type=int, default=20)
    args = ap.parse_args()
    elems = 128 * 512
    cases = [("Gelu (erf) 128x512", unary("Gelu", [128, 512])),
             ("Gelu (tanh) 128x512", unary("Gelu", [128, 512], approximate="tanh")),
             ("Softmax rows of 128, 512 rows", unary("Softmax", [512, 128], opset=13, axis=-1)),
             ("FusedMatMul 128x128x512", fused_matmul(None)),
             ("FusedMatMul 128x128x512 + Gelu", fused_matmul("Gelu")),
             ("FusedMatMul 128x128x512 + GeluTanh", fused_matmul("GeluTanh"))]
    nets = []
    for name, model in cases:
        net = loadrun.load(model)
        shape = [d if d > 0 else 1 for d in net.inputs[0].shape]
        net.set_inputs({"x": (rng.standard_normal(shape) * 2).astype(np.float32)})
        nets.append((name, net))
    best = {name: float("inf") for name, _ in nets}
    for _ in range(args.rounds):
        for name, net in nets:
            best[name] = min(best[name], min(net.benchmark(iters=args.iters, warmup=1)))
    print(f"| {'case':36} | µs | ns/element |")
    print("|---|---:|---:|")
    for name, _ in nets:
        print(f"| {name:36} | {best[name] * 1e3:7.1f} | {best[name] * 1e6 / elems:6.3f} |")
    base = best["FusedMatMul 128x128x512"]
    for act in ("Gelu", "GeluTanh"):
        extra = best[f"FusedMatMul 128x128x512 + {act}"] - base
        print(f"{act} inside FusedMatMul: +{extra * 1e3:.1f} µs, {extra * 1e6 / elems:.3f} ns/element")


if __name__ == "__main__":
    main()
