"""Mutated --input values: .npy files, JSON files, binary PPM/PGM images,
shape specs ({1,3,4,4}) and inline literals, each made valid first and then
mutated (bytes of the file, structure of the JSON, characters of the text).
The spec is parsed by loadrun.inputs.parse_input_arg and the model run on the
result; one case in four instead runs the whole `load_and_run` CLI, whose
answer must be exit code 0, or a non-zero code with one line on stderr.
"""
import io
import json
import os

import numpy as np
from onnx import TensorProto, helper

import loadrun
from fuzz import corpus
from fuzz.model_bytes import mutate_bytes
from loadrun.inputs import parse_input_arg

_MODEL = {}
DTYPES = [np.float32, np.float64, np.int8, np.uint8, np.int32, np.int64, np.bool_, np.float16, np.complex64,
          np.uint64, np.int16]


def model(workdir):
    """A model with a float image input, an int64 and a bool one; its file."""
    if not _MODEL:
        nodes = [helper.make_node("ReduceSum", ["data"], ["s"], keepdims=0),
                 helper.make_node("Cast", ["ids"], ["f"], to=TensorProto.FLOAT),
                 helper.make_node("ReduceSum", ["f"], ["t"], keepdims=0),
                 helper.make_node("Add", ["s", "t"], ["u"]),
                 helper.make_node("Where", ["mask", "u", "u"], ["y"])]
        g = helper.make_graph(nodes, "inputs", [
            helper.make_tensor_value_info("data", TensorProto.FLOAT, [1, 3, "h", "w"]),
            helper.make_tensor_value_info("ids", TensorProto.INT64, [2, 3]),
            helper.make_tensor_value_info("mask", TensorProto.BOOL, ["n"])],
            [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)])
        m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 11)], ir_version=8)
        path = os.path.join(workdir, "inputs_model.onnx")
        with open(path, "wb") as f:
            f.write(m.SerializeToString())
        _MODEL["path"] = path
        _MODEL["net"] = loadrun.load(path, progress=False)
    return _MODEL["path"], _MODEL["net"]


def rand_array(rng):
    dt = np.dtype(DTYPES[int(rng.integers(len(DTYPES)))])
    shp = [int(rng.integers(0, 5)) for _ in range(int(rng.integers(0, 5)))]
    a = (rng.standard_normal(shp) * 10).astype(dt)
    if rng.random() < 0.2:
        a = np.asfortranarray(a)
    return a


def mutate_text(s, rng):
    chars = "[]{},:;.-+e0123456789 \"'\\nanif\x00\u00e9x"
    s = list(s)
    for _ in range(int(rng.integers(1, 4))):
        k = int(rng.integers(0, 4))
        i = int(rng.integers(len(s) + 1))
        if k == 0:
            s.insert(i, chars[int(rng.integers(len(chars)))])
        elif k == 1 and s:
            del s[min(i, len(s) - 1)]
        elif k == 2:
            s.insert(i, str(rng.choice(["1e999", "-1e999", "nan", "NaN", "Infinity", "9" * 40, "-0", "0x10",
                                        "1_000", "\u0661"])))
        else:
            del s[i:]
    return "".join(s)


def json_doc(rng):
    doc = {}
    for name in ("data", "ids", "mask", "other")[: int(rng.integers(1, 5))]:
        a = rand_array(rng)
        e = {"raw": a.astype(np.float64).tolist() if a.dtype.kind not in "c" else [1, 2]}
        if rng.random() < 0.7:
            e["shape"] = list(a.shape)
        if rng.random() < 0.7:
            e["type"] = str(rng.choice(["float32", "float", "int32", "int", "int8", "uint8", "int64", "bool",
                                        "float64"]))
        doc[name] = e
    k = int(rng.integers(0, 6))
    if k == 0:  # a structural mutation
        e = doc[list(doc)[0]]
        key = str(rng.choice(["raw", "shape", "type", "extra"]))
        e[key] = [None, {}, [], "x", 1e300, -1, [2**40, 2**40], [[1], [1, 2]], True, [-1]][int(rng.integers(10))]
    elif k == 1:  # deep nesting (spliced in as text: json.dumps would recurse too)
        depth = int(rng.choice([10, 100, 900, 5000]))
        doc[list(doc)[0]]["raw"] = "@DEEP@"
        doc[list(doc)[0]].pop("shape", None)
        text = json.dumps(doc).replace('"@DEEP@"', "[" * depth + "1" + "]" * depth)
    if k != 1:
        text = json.dumps(doc)
    if rng.random() < 0.4:
        text = mutate_text(text, rng)
    return text


def pnm(rng):
    c = int(rng.choice([1, 3]))
    w, h = int(rng.integers(1, 9)), int(rng.integers(1, 9))
    maxval = int(rng.choice([255, 255, 1, 65535, 0, 256]))
    px = rng.integers(0, 256, (h, w, c), dtype=np.uint8).tobytes()
    sep = str(rng.choice([" ", "\n", "\t", "\n# comment\n"]))
    data = f"P{6 if c == 3 else 5}{sep}{w}{sep}{h}{sep}{maxval}\n".encode() + px
    return data if rng.random() < 0.2 else mutate_bytes(data, rng), ".ppm" if c == 3 else ".pgm"


def item(rng, workdir, idx):
    """One --input item (with its file written, where it has one)."""
    name = str(rng.choice(["data", "ids", "mask", "nope", ""]))
    k = int(rng.integers(0, 5))
    path = os.path.join(workdir, f"in{idx}")
    if k == 0:
        buf = io.BytesIO()
        np.save(buf, rand_array(rng), allow_pickle=False)
        data = buf.getvalue()
        if rng.random() < 0.6:
            data = mutate_bytes(data, rng)
        path += ".npy"
        with open(path, "wb") as f:
            f.write(data)
        payload = path
    elif k == 1:
        path += str(rng.choice([".json", ".JSON"]))
        with open(path, "w", encoding="utf-8", errors="surrogatepass") as f:
            f.write(json_doc(rng))
        payload = path
    elif k == 2:
        data, ext = pnm(rng)
        path += ext
        with open(path, "wb") as f:
            f.write(data)
        payload = path
    elif k == 3:
        dims = [int(rng.choice([0, 1, 2, 3, 4, -1, 2**31, 2**62])) for _ in range(int(rng.integers(0, 6)))]
        payload = "{" + ",".join(map(str, dims)) + "}"
        if rng.random() < 0.3:
            payload = mutate_text(payload, rng)
    else:
        a = rand_array(rng)
        payload = json.dumps(a.astype(np.float64).tolist() if a.dtype.kind != "c" else [1])
        if rng.random() < 0.5:
            payload = mutate_text(payload, rng)
    if rng.random() < 0.1:  # a directory or a missing file where a file is expected
        payload = str(rng.choice([workdir + "/.npy", workdir + "/missing.json", "/dev/null.ppm"]))
    return f"{name}:{payload}" if name else payload


def prepare(workdir):
    model(workdir)
    import loadrun.cli.main  # noqa: F401


def run_case(rng, workdir):
    path, net = model(workdir)
    spec = ";".join(item(rng, workdir, i) for i in range(int(rng.integers(1, 4))))
    if rng.random() < 0.25:
        return corpus.run_cli([path, "--input", spec, "--iter", "1", "--warmup-iter", "0"])
    feeds = parse_input_arg(spec, net.inputs)
    net.run(feeds)
    return "ran"
