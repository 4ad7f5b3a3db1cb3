"""The native .lrm model format from Python: `loadrun convert` and loading.

The core writes and reads the file (csrc/graph/lrm.h: versioned header,
checksum, weights 64-byte aligned); what it stores is the Graph as the ONNX
importer made it, before any graph pass, so loading an .lrm runs the same
passes, and gives the same outputs bit for bit, as loading the ONNX model.

What the Python layer knows about a model beyond its graph -- the opset,
the producer, the inputs' symbolic dim names and whether their rank was
declared, the outputs as the ONNX model declared them (for --model-info) --
travels in one metadata entry, `loadrun.model`, as JSON. The core carries
it without reading it, so an .lrm file without it (written from C++) still
loads: inputs then take their names, kinds, dtypes and shapes from the graph.
"""
import json
import os
import stat

from loadrun import _core
from loadrun.errors import ModelError

MAGIC = b"\x89LRM\r\n\x1a\n"
META_KEY = "loadrun.model"


def is_lrm(src):
    """Whether `src` names an .lrm file: by its suffix, or (for a file named
    otherwise) by its first bytes."""
    if not isinstance(src, (str, os.PathLike)) or (isinstance(src, str) and src.startswith("zoo:")):
        return False
    path = os.fspath(src)
    if str(path).lower().endswith(".lrm"):
        return True
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):  # never open a FIFO or device to sniff it
            return False
        with open(path, "rb") as f:
            return f.read(len(MAGIC)) == MAGIC
    except (OSError, ValueError):
        return False


def _meta(imported, declared_outputs):
    return json.dumps({
        "opset": imported.opset,
        "producer": imported.producer,
        "inputs": [{"name": s.name, "dtype": s.dtype, "shape": list(s.shape), "dim_names": list(s.dim_names),
                    "rank_known": s.rank_known, "kind": s.kind} for s in imported.inputs],
        "outputs": list(imported.outputs),
        "declared_outputs": [[n, shape, dt] for n, shape, dt in declared_outputs],
    })


def convert(src, out_path):
    """Import `src` (an .onnx path, `zoo:NAME` or ModelProto) and write it to
    `out_path` as .lrm. Returns the ImportedModel."""
    from loadrun.cli.main import declared_io
    from loadrun.onnx.importer import import_model, read_model

    proto = read_model(src)
    imported = import_model(proto)
    _ins, outs = declared_io(proto, imported)
    _core.write_lrm(imported.graph, os.fspath(out_path), [(META_KEY, _meta(imported, outs))])
    return imported


def read(path):
    """(ImportedModel, declared outputs [(name, shape or None, dtype)]) of an .lrm file."""
    from loadrun.onnx.importer import ImportedModel, InputSpec

    path = os.fspath(path)
    graph, meta = _core.read_lrm(path)
    info = None
    for k, v in meta:
        if k == META_KEY.encode():
            try:
                info = json.loads(v.decode("utf-8"))
                inputs = [InputSpec(d["name"], d["dtype"], [int(x) for x in d["shape"]], list(d["dim_names"]),
                                    bool(d["rank_known"]), d["kind"]) for d in info["inputs"]]
                outputs = [str(n) for n in info["outputs"]]
                declared = [(str(n), s, str(dt)) for n, s, dt in info["declared_outputs"]]
                opset, producer = int(info["opset"]), str(info["producer"])
            except (ValueError, KeyError, TypeError) as e:
                raise ModelError(f"{path}: corrupt '{META_KEY}' metadata ({type(e).__name__}: {e})") from None
            break
    if info is None:  # written without the Python layer: what the graph says
        inputs, outputs, declared, opset, producer = [], [], [], 0, ""
        for name, shape, dtype in graph.io()[0]:
            inputs.append(InputSpec(name, dtype, list(shape), ["?" if d < 0 else "" for d in shape], True,
                                    graph.var_kind(name)))
        outputs = [name for name, _s, _d in graph.io()[1]]
        declared = [(n, None, "") for n in outputs]
    have = [n for n, _s, _d in graph.io()[0]]
    if [s.name for s in inputs] != have or outputs != [n for n, _s, _d in graph.io()[1]]:
        raise ModelError(f"{path}: the '{META_KEY}' metadata does not match the graph's inputs and outputs")
    return ImportedModel(graph, inputs, outputs, opset, producer), declared
