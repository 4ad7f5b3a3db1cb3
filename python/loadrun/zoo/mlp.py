"""A plain MLP: three fully connected layers of 1024, ReLU between them, as
torch.onnx exports nn.Sequential(Linear, ReLU, Linear, ReLU, Linear): Gemm
with transB=1. A pure GEMM benchmark.
"""
from loadrun.zoo._builder import FLOAT, Builder

WIDTH = 1024


def mlp():
    b = Builder(1024)
    x = "input"
    for i in range(3):
        last = i == 2
        x = b.linear_gemm(x, f"layers.{2 * i}", WIDTH, WIDTH, gain=1.0 if last else 2.0,
                          out="output" if last else None)
        if not last:
            x = b.relu(x, f"layers.{2 * i + 1}")
    return b.model("mlp", [("input", FLOAT, ["batch", WIDTH])], [("output", FLOAT, ["batch", WIDTH])],
                   "MLP: 3 Gemm layers of 1024 with ReLU, seeded random weights")
