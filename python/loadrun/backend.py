"""loadrun as an ONNX backend (onnx.backend.base.Backend).

    import loadrun.backend as backend
    rep = backend.prepare(model)          # imports the model (unsupported ops raise here)
    outputs = rep.run([x, y])             # list in graph-output order

Inputs are given as a list, in graph-input order without initializers, or as
a dict {name: array}. The model is compiled for the shapes of the arrays fed
(symbolic or unknown dims take them); feeding new shapes compiles again. The
ir_version is not checked.
Sequence inputs and outputs are lists of arrays; an empty optional is None. loadrun errors (ModelError, UnsupportedError, ...)
propagate as exceptions.
"""
import numpy as np
import onnx
from onnx import helper
from onnx.backend.base import Backend, BackendRep, Device, DeviceType

from loadrun.network import Network
from loadrun.onnx.importer import import_model


def _check_device(device):
    if not LoadrunBackend.supports_device(device):
        raise RuntimeError(f"loadrun runs on CPU only, not on '{device}'")


class LoadrunRep(BackendRep):
    """A prepared model; run() compiles for the shapes of the inputs given."""

    def __init__(self, imported):
        self._imported = imported
        self._net = None
        self.input_names = [s.name for s in imported.inputs]
        self._kinds = {s.name: s.kind for s in imported.inputs}
        self.output_names = list(imported.outputs)

    def _feeds(self, inputs):
        if isinstance(inputs, dict):
            return dict(inputs)
        if isinstance(inputs, np.ndarray) or np.isscalar(inputs):
            inputs = [inputs]
        inputs = list(inputs)
        if len(inputs) != len(self.input_names):
            raise ValueError(f"the model has {len(self.input_names)} inputs ({', '.join(self.input_names)}), "
                             f"{len(inputs)} were given")
        return dict(zip(self.input_names, inputs))

    def run(self, inputs, **kwargs):
        feeds = {k: np.asarray(v) if self._kinds.get(k, "tensor") == "tensor" else v
                 for k, v in self._feeds(inputs).items()}
        if self._net is None:
            shapes = {k: list(v.shape) for k, v in feeds.items() if self._kinds.get(k) == "tensor"}
            self._net = Network(self._imported, shapes)
        outs = self._net.run(feeds)
        return [outs[name] for name in self.output_names]


class LoadrunBackend(Backend):
    @classmethod
    def is_compatible(cls, model, device="CPU", **kwargs):
        return cls.supports_device(device)

    @classmethod
    def prepare(cls, model, device="CPU", **kwargs):
        """Import `model` (ModelProto, bytes or a path) for running; returns a LoadrunRep."""
        _check_device(device)
        if isinstance(model, (bytes, bytearray)):
            model = onnx.load_model_from_string(bytes(model))
        return LoadrunRep(import_model(model))

    @classmethod
    def run_model(cls, model, inputs, device="CPU", **kwargs):
        return cls.prepare(model, device, **kwargs).run(inputs)

    @classmethod
    def run_node(cls, node, inputs, device="CPU", outputs_info=None, **kwargs):
        """Run one NodeProto on `inputs` (a list for the node's non-empty inputs,
        or a dict by name); returns the list of its outputs."""
        _check_device(device)
        names = [n for n in node.input if n]
        if isinstance(inputs, dict):
            arrays = {k: np.asarray(v) for k, v in inputs.items()}
        else:
            inputs = list(inputs)
            if len(inputs) != len(names):
                raise ValueError(f"node {node.op_type} has {len(names)} inputs, {len(inputs)} were given")
            arrays = {n: np.asarray(v) for n, v in zip(names, inputs)}
        graph_inputs = [
            helper.make_tensor_value_info(n, helper.np_dtype_to_tensor_dtype(arrays[n].dtype), arrays[n].shape)
            for n in names
        ]
        outs = [n for n in node.output if n]
        graph_outputs = []
        for i, n in enumerate(outs):
            if outputs_info is not None and i < len(outputs_info):
                dtype, shape = outputs_info[i]
                graph_outputs.append(
                    helper.make_tensor_value_info(n, helper.np_dtype_to_tensor_dtype(np.dtype(dtype)), shape))
            else:
                graph_outputs.append(helper.make_empty_tensor_value_info(n))
        graph = helper.make_graph([node], f"run_node_{node.op_type}", graph_inputs, graph_outputs)
        domain = node.domain if node.domain not in ("", "ai.onnx") else ""
        opset = kwargs.get("opset_version")
        if domain:  # opset_version is for ai.onnx; a custom domain gets version 1
            imports = [helper.make_opsetid(domain, 1), helper.make_opsetid("", onnx.defs.onnx_opset_version())]
        else:
            imports = [helper.make_opsetid("", opset if opset is not None else onnx.defs.onnx_opset_version())]
        model = helper.make_model(graph, opset_imports=imports)
        return cls.prepare(model, device).run(arrays)

    @classmethod
    def supports_device(cls, device):
        try:
            return Device(device).type == DeviceType.CPU
        except Exception:
            return False


# Module-level functions, as onnx.backend.test.BackendTest(loadrun.backend) expects.
is_compatible = LoadrunBackend.is_compatible
prepare = LoadrunBackend.prepare
run_model = LoadrunBackend.run_model
run_node = LoadrunBackend.run_node
supports_device = LoadrunBackend.supports_device
