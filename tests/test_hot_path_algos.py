"""No NAIVE step on a hot path: in every zoo model and every public real model
(test_real_models.CASES, at the shapes the tests use), no step that the
default compile binds to the NAIVE algorithm reads or writes a float tensor of
more than HOT_ELEMS elements. NAIVE is the reference (simple loops, one
thread); a large float tensor on it is a missing fast algorithm.

The steps come from net.steps(): (label, algo, in_layouts, out_layouts,
workspace, preprocessed), a layout printed as "{d0(stride),d1(stride),...
DType}". Steps inside an If / Loop body are not listed there; the real
models' bodies (Silero VAD) work on one audio chunk. The first tests check
the parser and that the check does catch a NAIVE step.
"""
import re

import numpy as np
import pytest

import loadrun
from loadrun import zoo
from onnx_ref import node_model
from test_real_models import CASES, input_shapes, load_or_skip

HOT_ELEMS = 4096

_LAYOUT = re.compile(r"^\{(.*?)\s*(\w+)\}$")


def layout_numel_dtype(layout):
    """(element count, dtype name) of a printed layout."""
    m = _LAYOUT.match(layout.strip())
    assert m, layout
    dims = [int(d) for d in re.findall(r"(\d+)\(", m.group(1))]
    return int(np.prod(dims, dtype=np.int64)) if dims else 1, m.group(2)


def naive_hot_steps(net):
    """The steps bound to NAIVE that touch a float tensor of > HOT_ELEMS elements."""
    hot = []
    for label, algo, ins, outs, *_ in net.steps():
        if algo != "NAIVE":
            continue
        big = [(n, dt) for n, dt in map(layout_numel_dtype, list(ins) + list(outs))
               if "Float" in dt and n > HOT_ELEMS]
        if big:
            hot.append((label, big))
    return hot


def test_layout_parser():
    assert layout_numel_dtype("{1(319200),42(7600),100(76),76(1) Float32}") == (319200, "Float32")
    assert layout_numel_dtype("{ Bool}") == (1, "Bool")
    assert layout_numel_dtype("{2(1) Int64}") == (2, "Int64")


def test_check_catches_a_naive_step():
    x = np.zeros((1, 42, 100, 76), np.float32)
    model = node_model("Split", {"x": x}, n_outputs=2, initializers=[("split", np.array([10, 32], np.int64))],
                       axis=1)
    forced = naive_hot_steps(loadrun.load(model, algo="NAIVE"))
    assert [label for label, _ in forced] and forced[0][1][0] == (319200, "Float32")
    assert naive_hot_steps(loadrun.load(model)) == []
    small = node_model("Split", {"x": x[:, :, :8, :8]}, n_outputs=2,
                       initializers=[("split", np.array([10, 32], np.int64))], axis=1)
    assert naive_hot_steps(loadrun.load(small, algo="NAIVE")) == []  # 2688 elements: not hot


@pytest.mark.parametrize("name", [n for n, _ in zoo.list_models()])
def test_zoo_model_has_no_naive_hot_step(name):
    net = loadrun.load(zoo.build(name))
    assert naive_hot_steps(net) == []


@pytest.mark.parametrize("name", list(CASES))
def test_real_model_has_no_naive_hot_step(name):
    case = CASES[name]
    net = loadrun.load(load_or_skip(case.file), input_shapes=input_shapes(case))
    assert naive_hot_steps(net) == []
