"""The model zoo: every model is a valid, deterministic, torch-shaped ONNX
model whose outputs are finite and non-degenerate, and loadrun matches ONNX
Runtime on it (relative max error <= 1e-4, see onnx_ref)."""
import functools

import numpy as np
import onnx
import pytest
from onnx import numpy_helper

import loadrun
from loadrun import zoo
from loadrun.zoo._builder import count_params
from onnx_ref import check_model, ort_run

NAMES = [n for n, _ in zoo.list_models()]
CONV_MODELS = ["resnet18", "resnet50", "mobilenetv2"]


@functools.lru_cache(maxsize=None)
def built(name):
    return zoo.build(name)


def feeds_for(name):
    """A fixed random input; image models at batch 1 (one run of resnet50 only)."""
    rng = np.random.default_rng(1234)
    if name == "bert_tiny":
        ids = rng.integers(0, 30522, size=(2, 128), dtype=np.int64)
        lengths = np.array([[128], [41]])  # the second sequence is padded after 41 tokens
        mask = (np.arange(128)[None, :] < lengths).astype(np.int64)
        return {"input_ids": ids, "attention_mask": mask}
    if name == "mlp":
        return {"input": rng.standard_normal((3, 1024), dtype=np.float32)}
    return {"input": rng.standard_normal((1, 3, 224, 224), dtype=np.float32)}


def dims(vi):
    return [d.dim_param or d.dim_value for d in vi.type.tensor_type.shape.dim]


# -- the registry ------------------------------------------------------------------

def test_list_models():
    assert NAMES == ["resnet18", "resnet50", "mobilenetv2", "bert_tiny", "mlp"]
    for name, desc in zoo.list_models():
        assert "\n" not in desc
        assert "[batch," in desc and "M params" in desc, desc


def test_unknown_model():
    with pytest.raises(loadrun.InputError, match=r"unknown zoo model 'resnet19' \(known: resnet18, resnet50"):
        zoo.build("resnet19")
    with pytest.raises(loadrun.InputError):
        zoo.export("nope", "/nonexistent/x.onnx")


def test_export(tmp_path):
    path = zoo.export("mlp", tmp_path / "mlp.onnx")
    assert onnx.load(path).SerializeToString() == built("mlp").SerializeToString()


# -- every model ---------------------------------------------------------------------

@pytest.mark.parametrize("name", NAMES)
def test_valid_and_deterministic(name):
    m = built(name)
    onnx.checker.check_model(m, full_check=True)  # full_check also runs shape inference
    assert m.ir_version == 8
    assert [(o.domain, o.version) for o in m.opset_import] == [("", 17)]
    assert zoo.build(name).SerializeToString() == m.SerializeToString()
    # the parameter count stated in list_models() is the model's
    assert count_params(m) == zoo._MODELS[name].params
    assert [o.name for o in m.graph.output] == ["output"]
    assert dims(m.graph.output[0])[0] == "batch"
    for vi in m.graph.input:
        d = dims(vi)
        assert d[0] == "batch" and all(isinstance(x, int) for x in d[1:]), (vi.name, d)
    names = [n.name for n in m.graph.node]
    assert len(set(names)) == len(names)


@pytest.mark.parametrize("name", CONV_MODELS)
def test_torch_export_shape(name):
    """BN stays after each Conv, ReLU6 is Clip(x, 0, 6), the head is Flatten + Gemm."""
    m = built(name)
    g = m.graph
    producer = {o: n for n in g.node for o in n.output}
    ops = [n.op_type for n in g.node]
    assert ops.count("Conv") == ops.count("BatchNormalization")
    for n in g.node:
        if n.op_type == "BatchNormalization":
            assert producer[n.input[0]].op_type == "Conv"
    inits = {t.name: numpy_helper.to_array(t) for t in g.initializer}
    for t in g.initializer:
        if t.name.endswith("running_var"):
            assert inits[t.name].min() > 0
    clips = [n for n in g.node if n.op_type == "Clip"]
    assert (len(clips) > 0) == (name == "mobilenetv2")
    for n in clips:
        lo, hi = (numpy_helper.to_array(producer[i].attribute[0].t) for i in n.input[1:])
        assert (float(lo), float(hi)) == (0.0, 6.0)
    assert ops[-3:] == ["GlobalAveragePool", "Flatten", "Gemm"]
    gemm = g.node[-1]
    assert {a.name: a for a in gemm.attribute}["transB"].i == 1
    assert inits[gemm.input[1]].shape[0] == 1000
    assert [n.name for n in g.input] == ["input"]
    assert dims(g.input[0]) == ["batch", 3, 224, 224]


def test_bert_structure():
    m = built("bert_tiny")
    ops = {n.op_type for n in m.graph.node}
    assert {"Gather", "LayerNormalization", "MatMul", "Softmax", "Erf", "Shape", "Unsqueeze", "Concat",
            "Reshape", "Transpose", "Cast", "Sub"} <= ops
    assert [(i.name, i.type.tensor_type.elem_type, dims(i)) for i in m.graph.input] == [
        ("input_ids", onnx.TensorProto.INT64, ["batch", 128]),
        ("attention_mask", onnx.TensorProto.INT64, ["batch", 128])]
    assert dims(m.graph.output[0]) == ["batch", 128, 128]


@pytest.mark.parametrize("name", NAMES)
def test_ort_output_sane(name):
    """Seeded weights keep activations O(1): finite, not all-zero, not exploding."""
    out = ort_run(built(name), feeds_for(name))["output"]
    assert np.isfinite(out).all()
    assert 0.05 < float(out.std()) < 20, out.std()
    assert np.mean(out == 0) < 0.01
    if name != "bert_tiny":  # a class score per sample: the batch entries differ
        assert out.shape[0] == 1 or not np.allclose(out[0], out[1])


def test_bert_mask_matters():
    """Masked positions change nothing for the kept tokens, and the mask is used."""
    feeds = feeds_for("bert_tiny")
    out = ort_run(built("bert_tiny"), feeds)["output"]
    changed = dict(feeds, input_ids=feeds["input_ids"].copy())
    changed["input_ids"][1, 41:] = 0  # only masked-out tokens differ
    out2 = ort_run(built("bert_tiny"), changed)["output"]
    np.testing.assert_allclose(out2[1, :41], out[1, :41], rtol=1e-5, atol=1e-5)
    unmasked = dict(feeds, attention_mask=np.ones_like(feeds["attention_mask"]))
    assert not np.allclose(ort_run(built("bert_tiny"), unmasked)["output"][1, :41], out[1, :41])


@pytest.mark.parametrize("name", NAMES)
def test_loadrun_matches_ort(name):
    got = check_model(built(name), feeds_for(name), rtol=1e-4)
    assert np.isfinite(got["output"]).all()
