"""ResNet-18 and ResNet-50 as torchvision builds them (v1.5: the stride of a
bottleneck sits on its 3x3 conv), 1000 classes, exported the torch.onnx way
with BatchNormalization kept after each Conv.
"""
from loadrun.zoo._builder import FLOAT, Builder

# The last BN of a residual branch gets a smaller scale, so that the sum of
# 16 residual blocks stays O(1) (what zero_init_residual aims for, softened).
_LAST_BN_GAMMA = (0.2, 0.4)


def _basic(b, x, path, cin, planes, stride):
    out = b.conv(x, f"{path}.conv1", cin, planes, 3, stride, 1)
    out = b.relu(b.batchnorm(out, f"{path}.bn1", planes), f"{path}.relu")
    out = b.conv(out, f"{path}.conv2", planes, planes, 3, 1, 1)
    out = b.batchnorm(out, f"{path}.bn2", planes, _LAST_BN_GAMMA)
    idt = _downsample(b, x, path, cin, planes, stride)
    out = b.node("Add", [out, idt], _name(path, "Add"))
    return b.node("Relu", [out], _name(path, "relu_1/Relu")), planes


def _bottleneck(b, x, path, cin, planes, stride):
    width, cout = planes, planes * 4
    out = b.conv(x, f"{path}.conv1", cin, width, 1)
    out = b.relu(b.batchnorm(out, f"{path}.bn1", width), f"{path}.relu")
    out = b.conv(out, f"{path}.conv2", width, width, 3, stride, 1)  # v1.5: stride here
    out = b.node("Relu", [b.batchnorm(out, f"{path}.bn2", width)], _name(path, "relu_1/Relu"))
    out = b.conv(out, f"{path}.conv3", width, cout, 1)
    out = b.batchnorm(out, f"{path}.bn3", cout, _LAST_BN_GAMMA)
    idt = _downsample(b, x, path, cin, cout, stride)
    out = b.node("Add", [out, idt], _name(path, "Add"))
    return b.node("Relu", [out], _name(path, "relu_2/Relu")), cout


def _downsample(b, x, path, cin, cout, stride):
    if stride == 1 and cin == cout:
        return x
    y = b.conv(x, f"{path}.downsample.0", cin, cout, 1, stride, 0, gain=1.0)
    return b.batchnorm(y, f"{path}.downsample.1", cout)


def _name(path, tail):
    """Node name in the block's scope, e.g. "/layer1/layer1.0/Add"."""
    layer, idx = path.split(".")
    return f"/{layer}/{layer}.{idx}/{tail}"


def _resnet(name, block, layers, seed, doc):
    b = Builder(seed)
    x = b.conv("input", "conv1", 3, 64, 7, 2, 3)
    x = b.relu(b.batchnorm(x, "bn1", 64), "relu")
    x = b.node("MaxPool", [x], "/maxpool/MaxPool", ceil_mode=0, dilations=[1, 1], kernel_shape=[3, 3],
               pads=[1, 1, 1, 1], strides=[2, 2])
    c = 64
    for li, (planes, n) in enumerate(zip((64, 128, 256, 512), layers), 1):
        for bi in range(n):
            stride = 2 if li > 1 and bi == 0 else 1
            x, c = block(b, x, f"layer{li}.{bi}", c, planes, stride)
    x = b.node("GlobalAveragePool", [x], "/avgpool/GlobalAveragePool")
    x = b.node("Flatten", [x], "/Flatten", axis=1)
    b.linear_gemm(x, "fc", c, 1000, out="output")
    return b.model(name, [("input", FLOAT, ["batch", 3, 224, 224])], [("output", FLOAT, ["batch", 1000])], doc)


def resnet18():
    return _resnet("resnet18", _basic, (2, 2, 2, 2), 18, "ResNet-18 (torchvision structure), seeded random weights")


def resnet50():
    return _resnet("resnet50", _bottleneck, (3, 4, 6, 3), 50,
                   "ResNet-50 v1.5 (torchvision structure), seeded random weights")
