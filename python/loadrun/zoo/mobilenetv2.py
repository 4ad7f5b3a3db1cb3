"""MobileNetV2 as torchvision builds it (width 1.0, 1000 classes): inverted
residual blocks of 1x1 expand, 3x3 depthwise, 1x1 project, each conv followed
by BatchNormalization and ReLU6 (exported as Clip(x, 0, 6)) except the
projection, which is linear.
"""
from loadrun.zoo._builder import FLOAT, Builder

# (expansion t, output channels c, repeats n, first stride s), from the paper.
_SETTINGS = [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2),
             (6, 320, 1, 1)]
# Projection BN of a residual block: smaller scale keeps the running sums O(1).
_PROJ_BN_GAMMA = (0.3, 0.6)


def _conv_bn_relu6(b, x, path, cin, cout, k, stride=1, groups=1):
    """torchvision's Conv2dNormActivation: path.0 conv, path.1 BN, path.2 ReLU6."""
    y = b.conv(x, f"{path}.0", cin, cout, k, stride, (k - 1) // 2, groups)
    y = b.batchnorm(y, f"{path}.1", cout)
    return b.relu6(y, f"{path}.2")


def _inverted_residual(b, x, path, cin, cout, stride, t):
    hidden = int(round(cin * t))
    use_res = stride == 1 and cin == cout
    y, i = x, 0
    if t != 1:
        y = _conv_bn_relu6(b, y, f"{path}.conv.{i}", cin, hidden, 1)
        i += 1
    y = _conv_bn_relu6(b, y, f"{path}.conv.{i}", hidden, hidden, 3, stride, groups=hidden)
    y = b.conv(y, f"{path}.conv.{i + 1}", hidden, cout, 1)
    y = b.batchnorm(y, f"{path}.conv.{i + 2}", cout, _PROJ_BN_GAMMA if use_res else (0.5, 1.0))
    if use_res:
        layer, idx = path.split(".")
        y = b.node("Add", [x, y], f"/{layer}/{layer}.{idx}/Add")
    return y


def mobilenetv2():
    b = Builder(2)
    x = _conv_bn_relu6(b, "input", "features.0", 3, 32, 3, 2)
    c, f = 32, 1
    for t, cout, n, s in _SETTINGS:
        for i in range(n):
            x = _inverted_residual(b, x, f"features.{f}", c, cout, s if i == 0 else 1, t)
            c, f = cout, f + 1
    x = _conv_bn_relu6(b, x, f"features.{f}", c, 1280, 1)
    x = b.node("GlobalAveragePool", [x], "/GlobalAveragePool")
    x = b.node("Flatten", [x], "/Flatten", axis=1)
    b.linear_gemm(x, "classifier.1", 1280, 1000, out="output")  # classifier.0 is Dropout
    return b.model("mobilenetv2", [("input", FLOAT, ["batch", 3, 224, 224])], [("output", FLOAT, ["batch", 1000])],
                   "MobileNetV2 1.0 (torchvision structure), seeded random weights")
