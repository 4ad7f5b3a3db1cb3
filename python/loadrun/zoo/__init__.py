"""The model zoo: standard architectures generated as ONNX with seeded random
weights, so that a benchmark needs no model file and every machine runs the
same bytes. `zoo:NAME` on the command line builds one of these.

Each model is shaped the way torch.onnx.export (opset 17) writes it:
BatchNormalization after Conv, ReLU6 as Clip(x, 0, 6), Flatten + Gemm heads,
input "input" with a symbolic batch dim "batch", output "output".
"""
import os
from typing import Callable, NamedTuple

from loadrun.errors import InputError
from loadrun.zoo import bert_tiny as _bert
from loadrun.zoo import mlp as _mlp
from loadrun.zoo import mobilenetv2 as _mnv2
from loadrun.zoo import resnet as _resnet


class ZooModel(NamedTuple):
    build: Callable
    summary: str  # architecture, input, size
    params: int  # trained parameters (BatchNorm running stats excluded); checked by the tests


_MODELS = {
    "resnet18": ZooModel(_resnet.resnet18, "ResNet-18 (torchvision), 1000 classes, input [batch,3,224,224] float32",
                         11_689_512),
    "resnet50": ZooModel(_resnet.resnet50,
                         "ResNet-50 v1.5 (torchvision), 1000 classes, input [batch,3,224,224] float32", 25_557_032),
    "mobilenetv2": ZooModel(_mnv2.mobilenetv2,
                            "MobileNetV2 1.0 (torchvision), 1000 classes, input [batch,3,224,224] float32", 3_504_872),
    "bert_tiny": ZooModel(_bert.bert_tiny,
                          "BERT-tiny-sized encoder (2 layers, hidden 128, 2 heads), inputs input_ids and "
                          "attention_mask [batch,128] int64, output [batch,128,128]", 4_320_128),
    "mlp": ZooModel(_mlp.mlp, "MLP, 3 Gemm layers of 1024 with ReLU, input [batch,1024] float32", 3_148_800),
}


def _millions(n):
    return f"{n / 1e6:.2f}M params"


def list_models():
    """[(name, one-line description)] of every zoo model."""
    return [(name, f"{m.summary}, {_millions(m.params)}") for name, m in _MODELS.items()]


def build(name):
    """The zoo model `name` as an onnx.ModelProto (deterministic bytes)."""
    m = _MODELS.get(name)
    if m is None:
        raise InputError(f"unknown zoo model '{name}' (known: {', '.join(_MODELS)})")
    return m.build()


def export(name, path):
    """Write the zoo model `name` to `path` (an .onnx file); returns the path."""
    import onnx

    model = build(name)
    path = os.fspath(path)
    onnx.save_model(model, path)
    return path
