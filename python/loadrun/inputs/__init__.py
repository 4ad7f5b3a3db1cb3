"""The `--input` argument: `item;item;...`, each item `name:payload`.

Items are split on `;` (empty items are skipped), each at its FIRST `:` into
an input name and a payload. The payload decides the format:

- ends with `.ppm`/`.pgm` (any case): binary PPM/PGM image -> uint8 {1,H,W,C} (pnm.py)
- ends with `.json`: several inputs, names from the file's keys (json_input.py)
- ends with `.npy`: a NumPy array file (npy.py)
- starts with `{`: shape only, a tensor of ones of the input's dtype (shape.py)
- anything else: an inline literal list of numbers (literal.py)

Names. An item without a colon names no input; it goes to the input called
`data` if the model has one, else to the model's only input if it has
exactly one, else it is an error (name it). An item whose text before the
first colon is not an input name but which as a whole is an existing file
(a Windows path like `C:\\img.ppm`) is also unnamed. Every other name must be
an input of the model; an input given twice is an error.

Values are converted to the model input's dtype when that loses nothing
(int32 literal into a float32 input: fine; 1.5 into an int32 input:
refused). Shapes are checked against the model's input (rank and fixed
dims; InputError naming the input) before anything of that shape is
allocated: a `{shape}` before it is filled, a .npy or an image from its
header, before its data is read; the core checks them again when it
compiles. Only regular files are read (fileio.py), and no more of them than
their format says; an allocation larger than the machine's memory is a
ResourceError. Inputs not given at all get zeros
of the model's shape (default_feeds), a symbolic leading dim taking 1.
"""
import os

import numpy as np

from loadrun.errors import InputError
from loadrun.inputs import json_input, literal, npy, pnm, shape
from loadrun.network import convert_feed
from loadrun.onnx.dtypes import numpy_dtype

FILE_SUFFIXES = (".ppm", ".pgm", ".json", ".npy")


def _spec_names(model_inputs):
    return ", ".join(s.name for s in model_inputs) or "none"


def _unnamed_target(item, specs, model_inputs):
    if "data" in specs:
        return "data"
    if len(model_inputs) == 1:
        return model_inputs[0].name
    raise InputError(f"--input item '{item}' names no input and the model has no input called 'data': "
                     f"write NAME:VALUE (inputs: {_spec_names(model_inputs)})")


def split_item(item, model_inputs):
    """(name or None, payload) of one item."""
    specs = {s.name: s for s in model_inputs}
    name, colon, payload = item.partition(":")
    if not colon:
        return None, item
    if name not in specs and os.path.exists(item):
        return None, item
    return name, payload


def parse_input_arg(text, model_inputs):
    """{input name: array of the input's dtype} from an --input string.

    model_inputs: the model's inputs, objects with .name, .shape and .dtype
    (InputSpec from the importer or TensorInfo from a Network).
    """
    specs = {s.name: s for s in model_inputs}
    feeds = {}

    def add(name, arr, where):
        if name not in specs:
            raise InputError(f"{where}: '{name}' is not an input of the model (inputs: {_spec_names(model_inputs)})")
        if name in feeds:
            raise InputError(f"input '{name}' is given twice")
        feeds[name] = convert_feed(name, arr, specs[name].dtype)

    for raw_item in text.split(";"):
        item = raw_item.strip()
        if not item:
            continue
        name, payload = split_item(item, model_inputs)
        payload = payload.strip()
        low = payload.lower()
        if low.endswith(".json"):
            for key, arr in json_input.load(payload).items():
                add(key, arr, payload)
            continue
        if name is None:
            name = _unnamed_target(item, specs, model_inputs)
        elif name not in specs:
            raise InputError(f"--input '{item}': '{name}' is not an input of the model "
                             f"(inputs: {_spec_names(model_inputs)})")
        if not payload:
            raise InputError(f"input '{name}': no value given after '{name}:'")
        if low.endswith((".ppm", ".pgm")):
            arr = pnm.load(name, payload, specs[name])
        elif low.endswith(".npy"):
            arr = npy.load(name, payload, specs[name])
        elif payload.startswith("{"):
            arr = shape.parse(name, payload, specs[name].dtype, specs[name])
        else:
            arr = literal.parse(name, payload)
        add(name, arr, f"input '{name}'")
    return feeds


def default_feeds(model_inputs, given=None):
    """Zeros of the model's shape for every input not in `given`; `given` included.
    A sequence input gets an empty list, an optional one None (empty)."""
    feeds = dict(given or {})
    for s in model_inputs:
        if s.name in feeds:
            continue
        kind = getattr(s, "kind", "tensor")
        if kind != "tensor":
            feeds[s.name] = [] if kind == "sequence" else None
            continue
        dims = list(s.shape)
        for d, v in enumerate(dims):
            if v < 0:
                if d > 0:
                    dim_names = getattr(s, "dim_names", None)
                    label = f" ('{dim_names[d]}')" if dim_names else ""
                    raise InputError(f"input '{s.name}' dim {d}{label} is symbolic: give its shape, "
                                     f"e.g. {shape.shape_hint(s)} with numbers for the names")
                dims[d] = 1
        feeds[s.name] = shape.filled(s.name, dims, numpy_dtype(s.dtype), 0)
    return feeds
