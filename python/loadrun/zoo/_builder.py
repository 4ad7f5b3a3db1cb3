"""A small ONNX graph builder shared by the zoo models.

It names things the way torch.onnx.export does: nodes "/layer1/layer1.0/conv1/Conv",
their outputs "<node>_output_0", weights by module path ("layer1.0.conv1.weight").
Weights come from one seeded NumPy generator, drawn in a fixed order, so a
model's bytes depend only on its seed. Initialisation is He-style (std
sqrt(2/fan_in) before a ReLU, sqrt(1/fan_in) otherwise) and BatchNorm gets
running statistics near what a trained network has (mean near 0, var near 1),
so activations stay O(1) from input to output.
"""
import numpy as np
from onnx import TensorProto, helper, numpy_helper

OPSET = 17
IR_VERSION = 8
# Initializer names that hold running statistics, not trained parameters
# (torch's parameter count leaves them out, and so does ours).
_NOT_PARAMS = ("running_mean", "running_var")


class Builder:
    def __init__(self, seed):
        self.rng = np.random.default_rng(seed)
        self.nodes = []
        self.inits = []
        self._names = set()

    # -- weights -----------------------------------------------------------
    def weight(self, name, array):
        """Add an initializer; returns its name."""
        assert name not in self._names, name
        self._names.add(name)
        self.inits.append(numpy_helper.from_array(np.ascontiguousarray(array), name))
        return name

    def normal(self, shape, std):
        return (self.rng.standard_normal(shape, dtype=np.float32) * np.float32(std)).astype(np.float32)

    def uniform(self, shape, lo, hi):
        return self.rng.uniform(lo, hi, shape).astype(np.float32)

    # -- nodes -------------------------------------------------------------
    def node(self, op, inputs, name, n_out=1, out=None, **attrs):
        """Add a node named `name` ("/path/Op"); returns its output name(s).

        `out` names the (single) output, e.g. the graph output "output".
        """
        assert name not in self._names, name
        self._names.add(name)
        outs = [out] if out else [f"{name}_output_{i}" for i in range(n_out)]
        self.nodes.append(helper.make_node(op, list(inputs), outs, name=name, **attrs))
        return outs[0] if n_out == 1 else outs

    def const(self, name, value):
        """A Constant node holding `value` (a NumPy array)."""
        assert name not in self._names, name
        self._names.add(name)
        out = f"{name}_output_0"
        self.nodes.append(helper.make_node("Constant", [], [out], name=name,
                                           value=numpy_helper.from_array(np.asarray(value))))
        return out

    # -- layers, torch style ---------------------------------------------------
    def conv(self, x, path, cin, cout, k, stride=1, pad=0, groups=1, bias=False, gain=2.0):
        """Conv2d without bias by default (torchvision convs before BN have none)."""
        fan_in = cin // groups * k * k
        w = self.weight(f"{path}.weight", self.normal((cout, cin // groups, k, k), np.sqrt(gain / fan_in)))
        ins = [x, w]
        if bias:
            ins.append(self.weight(f"{path}.bias", self.normal((cout,), 0.01)))
        return self.node("Conv", ins, f"/{_slash(path)}/Conv", dilations=[1, 1], group=groups,
                         kernel_shape=[k, k], pads=[pad] * 4, strides=[stride, stride])

    def batchnorm(self, x, path, c, gamma=(0.5, 1.0)):
        """BatchNormalization in inference form; `gamma` is the range of the scale."""
        ins = [x,
               self.weight(f"{path}.weight", self.uniform((c,), *gamma)),
               self.weight(f"{path}.bias", self.normal((c,), 0.1)),
               self.weight(f"{path}.running_mean", self.normal((c,), 0.1)),
               self.weight(f"{path}.running_var", self.uniform((c,), 0.5, 1.5))]
        return self.node("BatchNormalization", ins, f"/{_slash(path)}/BatchNormalization",
                         epsilon=1e-5, momentum=0.9)

    def relu(self, x, path):
        return self.node("Relu", [x], f"/{_slash(path)}/Relu")

    def relu6(self, x, path):
        """torch's ReLU6 as exported: Clip(x, 0, 6) with Constant bounds."""
        p = _slash(path)
        lo = self.const(f"/{p}/Constant", np.array(0.0, dtype=np.float32))
        hi = self.const(f"/{p}/Constant_1", np.array(6.0, dtype=np.float32))
        return self.node("Clip", [x, lo, hi], f"/{p}/Clip")

    def linear_gemm(self, x, path, cin, cout, gain=1.0, out=None):
        """nn.Linear on a 2-D input: Gemm(x, W[cout, cin], b, transB=1)."""
        w = self.weight(f"{path}.weight", self.normal((cout, cin), np.sqrt(gain / cin)))
        b = self.weight(f"{path}.bias", self.normal((cout,), 0.01))
        return self.node("Gemm", [x, w, b], f"/{_slash(path)}/Gemm", out=out, alpha=1.0, beta=1.0, transB=1)

    # -- the model -----------------------------------------------------------
    def model(self, name, inputs, outputs, doc=""):
        """inputs/outputs: [(name, TensorProto type, shape with "batch" for the symbolic dim)]."""
        graph = helper.make_graph(
            self.nodes, name,
            [helper.make_tensor_value_info(n, t, s) for n, t, s in inputs],
            [helper.make_tensor_value_info(n, t, s) for n, t, s in outputs],
            self.inits)
        m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], ir_version=IR_VERSION,
                              producer_name="loadrun.zoo", producer_version="1", doc_string=doc)
        return m


def _slash(path):
    """torch's scope path: "features.1.conv.0.0" -> "features/features.1/conv/conv.0/conv.0.0"."""
    out = []
    for p in path.split("."):
        out.append(f"{out[-1]}.{p}" if p.isdigit() and out else p)
    return "/".join(out)


def count_params(model):
    """Trained parameters in `model` (BatchNorm running statistics excluded)."""
    n = 0
    for t in model.graph.initializer:
        if t.name.endswith(_NOT_PARAMS):
            continue
        size = 1
        for d in t.dims:
            size *= d
        n += size
    return n


FLOAT = TensorProto.FLOAT
INT64 = TensorProto.INT64
