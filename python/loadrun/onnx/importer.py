"""Read an ONNX model and build the core Graph from it.

Every node is checked against the core's OpDef registry first, and all the
unsupported ones are reported in one error. Older-opset nodes are rewritten
into the newest form of their op (see opset_compat) so that the C++ ops
implement one form only. Initializers and Constant nodes become constants.

Subgraphs (GRAPH attributes: If's branches, Loop's and Scan's body) become
core Graphs of their own, passed to the op as attributes. A subgraph never
resolves a name in an enclosing graph: every name it (or a subgraph nested in
it, at any depth) reads from outside becomes
  - a constant of the subgraph, when the enclosing graph knows its value
    (an initializer or a Constant node, at any level up), or else
  - a capture: an extra input of the node that owns the subgraph, appended
    after its ONNX inputs, and an input of each of its subgraphs, after their
    formal inputs, in the same order. The attribute `_loadrun_captures` tells
    the op how many inputs are captures.
Subgraph inputs are declared loosely (the op gives them the dtype and rank of
what it feeds, Graph::retype_input): ONNX lets subgraphs leave them untyped.
Their kinds (tensor, sequence, optional) are fixed here, from their declared
types (else, for Loop's carried values, from what the node feeds) and, for
captures, from the enclosing graph.

Graph inputs may be sequences and optionals (of tensors); the kind of every
other var follows from the op that makes it (the core's Op::value_kinds).
"""
import os
from dataclasses import dataclass, field

import numpy as np
import onnx
import onnx.checker
import onnx.defs
import onnx.shape_inference
from onnx import helper, numpy_helper

from loadrun import _core
from loadrun.errors import ModelError, UnsupportedError
from loadrun.fileio import read_regular
from loadrun.onnx.external_data import all_tensors, load_external_data, uses_external_data
from loadrun.onnx.dtypes import ONNX_TO_NAME, onnx_type_name
from loadrun.onnx.opset_compat import REPLACED_OPS, REWRITERS

MIN_OPSET = 7
# Ops the importer itself turns into constants.
PYTHON_OPS = {("", "Constant")}


MAX_MODEL_BYTES = 2**31 - 1  # protobuf's limit on one message: larger models keep weights outside


def read_zoo(spec):
    """The ModelProto of `zoo:NAME`."""
    name = spec[4:]
    try:
        from loadrun import zoo
    except ImportError:
        raise ModelError("the model zoo is not available in this build of loadrun") from None
    names = [n for n, _ in zoo.list_models()]
    if name not in names:
        raise ModelError(f"no zoo model named '{name}' (zoo models: {', '.join(names) or 'none'})")
    return zoo.build(name)


def read_model(src):
    """A ModelProto from a path, `zoo:NAME` or a ModelProto; ModelError with one line otherwise.

    Only a regular file is read, of at most 2 GiB (protobuf's limit). External
    data, wherever a tensor has it (initializers, Constant nodes, any tensor
    attribute, in subgraphs and functions), is read from the model's
    directory (external_data.py), never from elsewhere; a ModelProto given as
    such has no directory, so its tensors must hold their data."""
    if isinstance(src, onnx.ModelProto):
        if any(uses_external_data(t) for t, _ in all_tensors(src)):
            raise ModelError("the model's tensors keep their data in external files, and a ModelProto has no "
                             "directory to read them from: give the model's path instead")
        return src
    if isinstance(src, str) and src.startswith("zoo:"):
        return read_zoo(src)
    path = os.fspath(src)
    data = read_regular(path, ModelError, "", MAX_MODEL_BYTES, missing=f"model file not found: {path}")
    if not data:
        raise ModelError(f"{path}: the file is empty")
    try:
        model = onnx.load_model_from_string(data)
    except Exception as e:  # protobuf raises several types
        raise ModelError(f"{path}: not a valid ONNX model (cannot parse: "
                         f"{' '.join(str(e).split()) if str(e) else type(e).__name__})") from None
    if model.ir_version <= 0 or not model.HasField("graph") or not model.graph.output:
        raise ModelError(f"{path}: not an ONNX model (no ir_version or no graph outputs)")
    load_external_data(model, os.path.dirname(os.path.abspath(path)), path)
    return model


def norm_domain(domain):
    return "" if domain in ("", "ai.onnx") else domain


@dataclass
class InputSpec:
    name: str
    dtype: str  # of a sequence or optional: its elements'
    shape: list  # ints; -1 for a symbolic or unknown dim; [] for a sequence or optional
    dim_names: list  # the dim_param of symbolic dims, "" elsewhere
    rank_known: bool = True
    kind: str = "tensor"  # "sequence", "optional(tensor)", "optional(sequence)"


@dataclass
class NodeSpec:
    """One node as the core will receive it (after opset rewriting)."""

    op_type: str
    domain: str
    name: str
    inputs: list
    outputs: list
    attrs: dict = field(default_factory=dict)


@dataclass
class ImportedModel:
    graph: object  # _core.Graph
    inputs: list  # [InputSpec]
    outputs: list  # [str]
    opset: int
    producer: str


class _Ctx:
    """What a rewriter may use: the opset, adding constants, and `used`: the
    names some node reads or the graph outputs (to drop unused optional outputs)."""

    def __init__(self, graph, opset, used=()):
        self.graph = graph
        self.opset = opset
        self.used = set(used)
        self._n = 0

    def add_const(self, array, hint="const"):
        self._n += 1
        name = f"__loadrun_{hint}_{self._n}"
        self.graph.add_const(name, np.asarray(array, order="C"))
        return name


def type_kind(tp, what):
    """(kind, element dtype name) of a TypeProto: a tensor, a sequence of
    tensors, or an optional of either; UnsupportedError for the rest."""
    def elem(tt):
        et = tt.elem_type
        if et not in ONNX_TO_NAME:
            raise UnsupportedError(f"{what}: element type {onnx_type_name(et)} is not supported")
        return ONNX_TO_NAME[et]

    field = tp.WhichOneof("value")
    if field == "tensor_type":
        return "tensor", elem(tp.tensor_type)
    if field == "sequence_type" and tp.sequence_type.elem_type.WhichOneof("value") == "tensor_type":
        return "sequence", elem(tp.sequence_type.elem_type.tensor_type)
    if field == "optional_type":
        kind, dt = type_kind(tp.optional_type.elem_type, what)
        if kind in ("tensor", "sequence"):
            return f"optional({kind})", dt
    raise UnsupportedError(f"{what}: type {field or 'undefined'} is not supported "
                           "(tensors, sequences of tensors and optionals of those are)")


def attr_value(a):
    if a.type == onnx.AttributeProto.TYPE_PROTO:  # Optional's `type`: "tensor DTYPE" / "sequence DTYPE"
        kind, dt = type_kind(a.tp, f"attribute '{a.name}'")
        return f"{kind} {dt}"
    try:
        v = helper.get_attribute_value(a)
    except (TypeError, ValueError) as e:
        raise ModelError(f"attribute '{a.name}' is corrupt: {' '.join(str(e).split()) or type(e).__name__}") from None
    if isinstance(v, bytes):
        return v.decode("utf-8", "replace")
    if isinstance(v, onnx.TensorProto):
        return tensor_array(v, f"attribute '{a.name}'")
    if isinstance(v, list) and v and isinstance(v[0], bytes):
        return [x.decode("utf-8", "replace") for x in v]
    if isinstance(v, (onnx.GraphProto, onnx.SparseTensorProto)) or (
        isinstance(v, list) and v and not isinstance(v[0], (int, float, str))
    ):
        raise UnsupportedError(f"attribute '{a.name}' of type {onnx.AttributeProto.AttributeType.Name(a.type)} is not supported")
    return v


def tensor_array(t, what):
    """The array of a TensorProto; ModelError when its dims or data are wrong."""
    if any(d < 0 for d in t.dims):
        raise ModelError(f"{what}: dims {list(t.dims)} hold a negative size")
    try:
        return numpy_helper.to_array(t)
    except Exception as e:
        raise ModelError(f"{what} is corrupt: {' '.join(str(e).split()) or type(e).__name__}") from None


def constant_value(node):
    """The array a Constant node holds."""
    for a in node.attribute:
        if a.name == "value":
            return tensor_array(a.t, f"Constant node '{node.name}'")
        if a.name == "value_float":
            return np.array(a.f, dtype=np.float32)
        if a.name == "value_floats":
            return np.array(list(a.floats), dtype=np.float32)
        if a.name == "value_int":
            return np.array(a.i, dtype=np.int64)
        if a.name == "value_ints":
            return np.array(list(a.ints), dtype=np.int64)
    raise UnsupportedError(f"Constant node '{node.name}': only value, value_float(s), value_int(s) are supported")


def subgraphs(node):
    """[(attribute name, GraphProto)] of a node's GRAPH attributes."""
    return [(a.name, a.g) for a in node.attribute if a.type == onnx.AttributeProto.GRAPH]


def all_nodes(graph):
    """(index in its graph, node) for every node of `graph` and of its subgraphs, at any depth."""
    for i, node in enumerate(graph.node):
        yield i, node
        for _, sub in subgraphs(node):
            yield from all_nodes(sub)


def free_names(graph):
    """Names `graph` (or a subgraph of it, at any depth) reads but does not define, in order of first use."""
    defined = {vi.name for vi in graph.input} | {t.name for t in graph.initializer}
    free = []

    def use(n):
        if n and n not in defined and n not in free:
            free.append(n)

    for node in graph.node:
        for n in node.input:
            use(n)
        for _, sub in subgraphs(node):
            for n in free_names(sub):
                use(n)
        defined.update(node.output)
    for vi in graph.output:
        use(vi.name)
    return free


def check_supported(model):
    """Raise one UnsupportedError naming every unsupported op and its nodes."""
    known = {(d, t) for d, t, _ in _core.list_ops()} | PYTHON_OPS | {("", t) for t in REPLACED_OPS}
    missing = {}
    for i, node in all_nodes(model.graph):
        key = (norm_domain(node.domain), node.op_type)
        if key not in known:
            missing.setdefault(key, []).append(node.name or f"#{i}")
    if missing:
        parts = []
        for (dom, op), names in sorted(missing.items()):
            shown = ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
            parts.append(f"{op} (domain {dom or 'ai.onnx'}) at {'node' if len(names) == 1 else 'nodes'} {shown}")
        raise UnsupportedError("unsupported operators: " + "; ".join(parts))


def model_opset(model):
    for imp in model.opset_import:
        if norm_domain(imp.domain) == "":
            return imp.version
    # No ai.onnx import (an ai.onnx.ml-only model, say): no ai.onnx op to date.
    return onnx.defs.onnx_opset_version()


def _same_since(op_type, opset):
    """Is op_type defined at `opset` exactly as at MIN_OPSET?"""
    try:
        old = onnx.defs.get_schema(op_type, opset, "")
        new = onnx.defs.get_schema(op_type, MIN_OPSET, "")
    except onnx.defs.SchemaError:
        return False
    return old.since_version == new.since_version


def effective_opset(model, opset):
    """Models older than MIN_OPSET import as MIN_OPSET when none of their ops
    changed definition in between (Not, Abs... at opset 1); else one error."""
    if opset >= MIN_OPSET:
        return opset
    changed = sorted({n.op_type for n in model.graph.node
                      if norm_domain(n.domain) == "" and not _same_since(n.op_type, opset)})
    if changed:
        raise UnsupportedError(f"model uses ai.onnx opset {opset}; the oldest supported is {MIN_OPSET} "
                               f"(older models import when their ops are unchanged since; "
                               f"{', '.join(changed)} changed)")
    return MIN_OPSET


def input_spec(vi):
    t = vi.type
    if not t.HasField("tensor_type"):
        kind, dt = type_kind(t, f"input '{vi.name}'")
        return InputSpec(vi.name, dt, [], [], True, kind)
    et = t.tensor_type.elem_type
    if et not in ONNX_TO_NAME:
        raise UnsupportedError(f"input '{vi.name}': element type {onnx_type_name(et)} is not supported")
    shape, names, rank_known = [], [], t.tensor_type.HasField("shape")
    for d in t.tensor_type.shape.dim:
        if d.HasField("dim_value") and d.dim_value >= 0:
            shape.append(d.dim_value)
            names.append("")
        else:
            shape.append(-1)
            names.append(d.dim_param or "?")
    return InputSpec(vi.name, ONNX_TO_NAME[et], shape, names, rank_known)


CAPTURES_ATTR = "_loadrun_captures"


class _GraphImporter:
    """Adds one ONNX graph's initializers and nodes to a core Graph.

    consts: {name: loader} of every constant this graph can see by name (its
    own, and those of enclosing graphs that it holds as constants of its own);
    a loader makes the array again from the proto when a subgraph needs it,
    so the import does not hold a second copy of every weight (the core
    graph has its own).
    """

    def __init__(self, g, opset, gproto):
        self.g = g
        self.opset = opset
        self.consts = {}
        used = {n for node in gproto.node for n in node.input} | {o.name for o in gproto.output}
        self.ctx = _Ctx(g, opset, used)

    def add_const(self, name, load):
        self.g.add_const(name, np.asarray(load(), order="C"))
        self.consts[name] = load

    def add_initializers(self, gproto):
        for t in gproto.initializer:
            if t.data_type not in ONNX_TO_NAME:
                raise UnsupportedError(f"initializer '{t.name}': element type {onnx_type_name(t.data_type)} is not supported")
            self.add_const(t.name, lambda t=t: tensor_array(t, f"initializer '{t.name}'"))

    def add_nodes(self, gproto):
        for i, node in enumerate(gproto.node):
            name = node.name or f"{node.op_type}_{i}"
            if node.op_type == "Constant" and norm_domain(node.domain) == "":
                self.add_const(node.output[0], lambda node=node: constant_value(node))
                continue
            attrs = {}
            for a in node.attribute:
                if a.type == onnx.AttributeProto.GRAPHS:
                    raise UnsupportedError(f"node '{name}' ({node.op_type}): attribute '{a.name}' of type GRAPHS is not supported")
                if a.type != onnx.AttributeProto.GRAPH:
                    attrs[a.name] = attr_value(a)
            spec = NodeSpec(node.op_type, norm_domain(node.domain), name, list(node.input), list(node.output), attrs)
            subs = subgraphs(node)
            if subs:
                # Every name the subgraphs read from outside: a constant here
                # is copied into them; anything else is captured.
                outer = []
                for _, sub in subs:
                    outer += [n for n in free_names(sub) if n not in outer]
                inline = {n: self.consts[n] for n in outer if n in self.consts}
                captures = [n for n in outer if n not in inline]
                captured = [(n, self.g.var_kind(n), self.g.var_dtype(n)) if self.g.has_var(n) else (n, "tensor", "float32")
                            for n in captures]
                # Loop's body may leave its inputs untyped: a carried value has the kind the node feeds.
                fed = ([None, None] + [self.g.var_kind(n) if n and self.g.has_var(n) else None for n in node.input[2:]]
                       if node.op_type == "Loop" and norm_domain(node.domain) == "" else [])
                for attr_name, sub in subs:
                    spec.attrs[attr_name] = import_subgraph(sub, self.opset, inline, captured, f"{name}.{attr_name}", fed)
                spec.attrs[CAPTURES_ATTR] = len(captures)
            rewrite = REWRITERS.get(spec.op_type) if spec.domain == "" else None
            if rewrite:
                rewrite(spec, self.ctx)
            if subs:
                spec.inputs += captures
            self.g.add_op(spec.op_type, spec.domain, spec.name, spec.attrs, spec.inputs, spec.outputs)


def import_subgraph(gproto, opset, inline, captures, where, fed_kinds=()):
    """A core Graph for a GRAPH attribute: inputs are its formal inputs then
    `captures` ([(name, kind, dtype)]); `inline` ({name: loader}) are outer
    constants it reads. fed_kinds: per formal input, the kind the node feeds
    (or None), for inputs declared without a type."""
    g = _core.Graph()
    imp = _GraphImporter(g, opset, gproto)
    for i, vi in enumerate(gproto.input):
        if vi.type.WhichOneof("value") is None:
            kind, dt = (fed_kinds[i] if i < len(fed_kinds) and fed_kinds[i] else "tensor"), "float32"
        elif vi.type.HasField("tensor_type"):
            kind, dt = "tensor", ONNX_TO_NAME.get(vi.type.tensor_type.elem_type, "float32")
        else:
            kind, dt = type_kind(vi.type, f"subgraph {where} input '{vi.name}'")
        g.add_input(vi.name, dt, [], kind)  # dtype and rank retyped by the op
    for n, kind, dt in captures:
        g.add_input(n, dt, [], kind)
    for n, load in inline.items():
        imp.add_const(n, load)
    imp.add_initializers(gproto)
    imp.add_nodes(gproto)
    if not gproto.output:
        raise ModelError(f"subgraph {where} has no outputs")
    for vi in gproto.output:
        g.add_output(vi.name)
    return g


def import_model(src):
    """ImportedModel of a path, `zoo:NAME` or ModelProto. onnx's own checker
    errors (ValidationError, InferenceError) become one-line ModelErrors."""
    try:
        return _import_model(src)
    except (onnx.checker.ValidationError, onnx.shape_inference.InferenceError) as e:
        raise ModelError(" ".join(str(e).split()) or type(e).__name__) from None


def _check_text(model):
    """ModelError for a name or op type that is not valid UTF-8 (onnx is
    proto2: such a string field comes back as bytes), at any depth."""
    def bad(s):
        return isinstance(s, bytes)

    def graph(gr, where):
        for vi in list(gr.input) + list(gr.output) + list(gr.value_info):
            if bad(vi.name):
                raise ModelError(f"{where}a graph input/output name is not valid UTF-8: {vi.name[:40]!r}")
            if vi.type.HasField("tensor_type"):
                for d in vi.type.tensor_type.shape.dim:
                    if bad(d.dim_param):
                        raise ModelError(f"{where}'{vi.name}': a dim name is not valid UTF-8: {d.dim_param[:40]!r}")
        for t in gr.initializer:
            if bad(t.name):
                raise ModelError(f"{where}an initializer name is not valid UTF-8: {t.name[:40]!r}")
        for i, n in enumerate(gr.node):
            for s in [n.op_type, n.domain, n.name, *n.input, *n.output]:
                if bad(s):
                    raise ModelError(f"{where}node #{i}: a name or op type is not valid UTF-8: {s[:40]!r}")
            for a in n.attribute:
                if bad(a.name):
                    raise ModelError(f"{where}node #{i}: an attribute name is not valid UTF-8: {a.name[:40]!r}")
                if a.HasField("g"):
                    graph(a.g, f"{where}node #{i} attribute '{a.name}': ")
                for sub in a.graphs:
                    graph(sub, f"{where}node #{i} attribute '{a.name}': ")

    for o in model.opset_import:
        if bad(o.domain):
            raise ModelError(f"an opset domain is not valid UTF-8: {o.domain[:40]!r}")
    graph(model.graph, "")


def _import_model(src):
    model = read_model(src)
    _check_text(model)
    opset = effective_opset(model, model_opset(model))
    check_supported(model)
    g = _core.Graph()
    imp = _GraphImporter(g, opset, model.graph)
    imp.add_initializers(model.graph)
    inputs = []
    for vi in model.graph.input:
        if vi.name in imp.consts:
            continue
        spec = input_spec(vi)
        g.add_input(spec.name, spec.dtype, spec.shape if spec.rank_known else [], spec.kind)
        inputs.append(spec)
    imp.add_nodes(model.graph)
    outputs = []
    for vi in model.graph.output:
        g.add_output(vi.name)
        outputs.append(vi.name)
    return ImportedModel(g, inputs, outputs, opset, model.producer_name)
