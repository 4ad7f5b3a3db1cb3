"""Transformer-family ops: Attention, RMSNormalization, RotaryEmbedding,
SwiGLU, Swish, Einsum (and the stateful ops added with them).

Each is compared with ONNX Runtime (tests/onnx_ref.py) where ORT 1.31 has a
kernel for the op at that opset. Where it has none (SwiGLU-28, Einsum-28,
ops new in opset 27), or where the ORT kernel departs from the ONNX
specification, the comparison is with onnx.reference.ReferenceEvaluator
instead; each such test says so.
"""
import warnings

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

import loadrun
from onnx_ref import assert_close, check_model, check_node, make_model

rng = np.random.default_rng(0)


def r(*shape, dtype=np.float32):
    return rng.standard_normal(shape).astype(dtype)


def one_node(op, inputs, outputs, opset, **attrs):
    """A one-node model. inputs: [(name, array or None)] (None: omitted
    optional input); outputs: [(name, np dtype) or None (omitted)]."""
    node = helper.make_node(op, [n if a is not None else "" for n, a in inputs],
                            [o[0] if o else "" for o in outputs], **attrs)
    ins = [(n, a.dtype, list(a.shape)) for n, a in inputs if a is not None]
    outs = [(o[0], o[1], None) for o in outputs if o]
    feeds = {n: a for n, a in inputs if a is not None}
    return make_model([node], ins, outs, opset=opset), feeds


def check_reference(model, feeds, rtol=1e-4):
    """Compare loadrun with onnx.reference.ReferenceEvaluator (no ORT kernel)."""
    from onnx.reference import ReferenceEvaluator

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = ReferenceEvaluator(model).run(None, feeds)
    names = [o.name for o in model.graph.output]
    got = loadrun.load(model).run(feeds)
    for n, want in zip(names, ref):
        assert_close(got[n], np.asarray(want), rtol, n)
    return got


# ------------------------------------------------------------------ Attention
F32 = np.float32


def attention(opset=23, q=None, k=None, v=None, mask=None, past_k=None, past_v=None, nonpad=None,
              n_out=1, **attrs):
    outs = [("Y", F32)]
    if n_out > 1:
        outs += [("present_key", F32), ("present_value", F32)] if past_k is not None else [None, None]
    if n_out > 3:
        outs += [("qk", F32)]
    inputs = [("Q", q), ("K", k), ("V", v), ("attn_mask", mask), ("past_key", past_k),
              ("past_value", past_v), ("nonpad_kv_seqlen", nonpad)]
    while inputs[-1][1] is None:
        inputs.pop()
    return one_node("Attention", inputs, outs, opset, **attrs)


@pytest.mark.parametrize("b,hq,hkv,sq,skv,d,dv", [
    (1, 1, 1, 1, 1, 1, 1),
    (2, 3, 3, 4, 6, 8, 8),
    (2, 6, 2, 5, 3, 4, 7),  # GQA, dv != d
    (1, 4, 1, 3, 7, 5, 5),  # MQA
])
def test_attention_4d(b, hq, hkv, sq, skv, d, dv):
    m, f = attention(q=r(b, hq, sq, d), k=r(b, hkv, skv, d), v=r(b, hkv, skv, dv))
    check_model(m, f)


def test_attention_3d_gqa_scale_softcap():
    m, f = attention(q=r(2, 4, 6 * 4), k=r(2, 5, 2 * 4), v=r(2, 5, 2 * 3), q_num_heads=6,
                     kv_num_heads=2, scale=0.3, softcap=1.5)
    check_model(m, f)


@pytest.mark.parametrize("mask_shape", [(4, 6), (2, 1, 4, 6), (2, 3, 4, 6), (1, 3, 4, 6)])
@pytest.mark.parametrize("kind", ["float", "bool"])
def test_attention_mask(mask_shape, kind):
    if kind == "bool":
        mask = rng.random(mask_shape) > 0.3
        mask[..., 0] = True  # keep every row attending something
    else:
        mask = r(*mask_shape)
    m, f = attention(q=r(2, 3, 4, 8), k=r(2, 3, 6, 8), v=r(2, 3, 6, 8), mask=mask)
    check_model(m, f)


@pytest.mark.parametrize("sq,skv", [(4, 6), (6, 4), (1, 5), (3, 3)])
def test_attention_causal(sq, skv):
    m, f = attention(q=r(1, 2, sq, 4), k=r(1, 2, skv, 4), v=r(1, 2, skv, 4), is_causal=1)
    check_model(m, f)


def test_attention_causal_with_float_mask_3d_inputs():
    m, f = attention(q=r(2, 3, 12), k=r(2, 5, 12), v=r(2, 5, 6), mask=r(3, 5), is_causal=1,
                     q_num_heads=3, kv_num_heads=3)
    check_model(m, f)


@pytest.mark.parametrize("three_d", [False, True])
def test_attention_past_present(three_d):
    b, hq, hkv, sq, skv, p, d, dv = 2, 4, 2, 3, 2, 5, 4, 6
    if three_d:
        q, k, v = r(b, sq, hq * d), r(b, skv, hkv * d), r(b, skv, hkv * dv)
        attrs = dict(q_num_heads=hq, kv_num_heads=hkv)
    else:
        q, k, v = r(b, hq, sq, d), r(b, hkv, skv, d), r(b, hkv, skv, dv)
        attrs = {}
    m, f = attention(q=q, k=k, v=v, mask=r(sq, p + skv), past_k=r(b, hkv, p, d),
                     past_v=r(b, hkv, p, dv), n_out=3, **attrs)
    got = check_model(m, f)
    assert got["present_key"].shape == (b, hkv, p + skv, d)


@pytest.mark.parametrize("mode", [0, 1, 2, 3])
def test_attention_qk_matmul_output_modes(mode):
    # Mode 0 is the raw product even with a softcap (spec and ORT; the ONNX
    # reference implementation writes the softcapped one), mode 1 after softcap.
    softcap = 2.0
    m, f = attention(q=r(1, 2, 3, 4), k=r(1, 2, 5, 4), v=r(1, 2, 5, 4), mask=r(3, 5), n_out=4,
                     qk_matmul_output_mode=mode, softcap=softcap)
    check_model(m, f)


def test_attention_fully_masked_row_is_zero():
    # Row 1 of the bool mask attends nothing: Y's row and mode-3 probabilities are 0.
    mask = np.array([[True, False, True], [False, False, False]])
    m, f = attention(q=r(1, 1, 2, 4), k=r(1, 1, 3, 4), v=r(1, 1, 3, 4), mask=mask, n_out=4,
                     qk_matmul_output_mode=3)
    got = check_model(m, f)
    assert np.all(got["Y"][0, 0, 1] == 0) and np.all(got["qk"][0, 0, 1] == 0)
    assert not np.isnan(got["Y"]).any()


def test_attention_rank3_mask_is_heads_q_kv():
    # A rank-3 mask broadcasts right-aligned as (heads, q, kv) per the spec;
    # ORT 1.31 reads it otherwise and rejects this one: reference.
    m, f = attention(q=r(2, 3, 4, 8), k=r(2, 3, 6, 8), v=r(2, 3, 6, 8), mask=r(3, 4, 6))
    check_reference(m, f)
    # ... and a size-1 query dim broadcasts (ORT 1.31 requires it to be q).
    m, f = attention(q=r(2, 3, 4, 8), k=r(2, 3, 6, 8), v=r(2, 3, 6, 8), mask=r(1, 1, 1, 6))
    check_reference(m, f)


def test_attention_rank1_mask():
    # ORT 1.31 accepts only 2-D..4-D masks; the spec broadcasts any rank: reference.
    mask = np.array([True, False, True, True, False, True])
    m, f = attention(opset=25, q=r(2, 3, 4, 8), k=r(2, 3, 6, 8), v=r(2, 3, 6, 8), mask=mask)
    check_reference(m, f)


def test_attention_short_mask_is_padded():
    # A mask whose last dim is shorter than the total length pads with -inf.
    m, f = attention(opset=24, q=r(2, 3, 4, 8), k=r(2, 3, 6, 8), v=r(2, 3, 6, 8), mask=r(2, 3, 4, 4),
                     nonpad=np.array([4, 3], dtype=np.int64))
    check_reference(m, f)


@pytest.mark.parametrize("causal", [0, 1])
def test_attention_nonpad_kv_seqlen(causal):
    m, f = attention(opset=24, q=r(3, 2, 2, 8), k=r(3, 2, 6, 8), v=r(3, 2, 6, 8),
                     nonpad=np.array([6, 3, 2], dtype=np.int64), is_causal=causal)
    check_model(m, f)


@pytest.mark.parametrize("left,right,causal", [(2, -1, 1), (1, 2, 0), (0, 0, 0), (-1, 1, 0)])
def test_attention_sliding_window(left, right, causal):
    # Opset 25 windows: compared with the ONNX reference (the spec's semantics).
    m, f = attention(opset=25, q=r(2, 2, 4, 4), k=r(2, 2, 6, 4), v=r(2, 2, 6, 4),
                     left_window_size=left, right_window_size=right, is_causal=causal)
    check_reference(m, f)


def test_attention_window_with_past():
    m, f = attention(opset=25, q=r(1, 2, 3, 4), k=r(1, 2, 3, 4), v=r(1, 2, 3, 4),
                     past_k=r(1, 2, 4, 4), past_v=r(1, 2, 4, 4), n_out=3, is_causal=1,
                     left_window_size=2)
    check_reference(m, f)


def test_attention_float16():
    q, k, v = r(1, 2, 3, 8, dtype=np.float16), r(1, 2, 5, 8, dtype=np.float16), r(1, 2, 5, 8, dtype=np.float16)
    node = helper.make_node("Attention", ["Q", "K", "V"], ["Y"], is_causal=1)
    m = make_model([node], [("Q", np.float16, q.shape), ("K", np.float16, k.shape), ("V", np.float16, v.shape)],
                   [("Y", np.float16, None)], opset=23)
    check_model(m, {"Q": q, "K": k, "V": v}, rtol=2e-3)


def test_attention_float64_reference():
    # ORT has no float64 Attention kernel: reference.
    m, f = one_node("Attention", [("Q", r(1, 2, 3, 4, dtype=np.float64)), ("K", r(1, 2, 5, 4, dtype=np.float64)),
                                  ("V", r(1, 2, 5, 4, dtype=np.float64))], [("Y", np.float64)], 23, softcap=3.0)
    check_reference(m, f, rtol=1e-9)


@pytest.mark.parametrize("bad", [
    dict(q=(1, 3, 2, 4), k=(1, 2, 2, 4), v=(1, 2, 2, 4)),  # 3 heads over 2 kv heads
    dict(q=(1, 2, 2, 4), k=(1, 2, 2, 5), v=(1, 2, 2, 4)),  # head sizes differ
    dict(q=(1, 2, 8), k=(1, 2, 8), v=(1, 2, 8)),  # 3-D without head counts
    dict(q=(1, 2, 2, 4), k=(1, 2, 3, 4), v=(1, 2, 2, 4)),  # K and V lengths differ
])
def test_attention_bad_shapes(bad):
    m, f = attention(q=r(*bad["q"]), k=r(*bad["k"]), v=r(*bad["v"]))
    with pytest.raises(loadrun.ModelError):
        loadrun.load(m)


def test_attention_bad_attributes():
    for attrs in (dict(qk_matmul_output_mode=4), dict(left_window_size=-2), dict(is_causal=2)):
        m, f = attention(q=r(1, 1, 2, 4), k=r(1, 1, 2, 4), v=r(1, 1, 2, 4), **attrs)
        with pytest.raises(loadrun.ModelError):
            loadrun.load(m)


def test_attention_bad_mask_shape():
    m, f = attention(q=r(1, 2, 3, 4), k=r(1, 2, 5, 4), v=r(1, 2, 5, 4), mask=r(3, 6))
    with pytest.raises(loadrun.ModelError):
        loadrun.load(m)


# ----------------------------------------------------------- RMSNormalization
@pytest.mark.parametrize("shape,axis,scale_shape", [
    ((3, 4), -1, (4,)),
    ((3, 4), 0, (3, 4)),
    ((2, 3, 5), 1, (3, 5)),
    ((2, 3, 5), -2, (1, 5)),  # scale broadcasts inside the normalised dims
    ((2, 3, 4, 5), 2, (4, 5)),
    ((1, 1, 7), -1, (7,)),
    ((2, 3, 5), 1, (2, 3, 5)),  # unidirectional broadcast to all of X
])
def test_rms_normalization(shape, axis, scale_shape):
    check_node("RMSNormalization", {"x": r(*shape), "s": r(*scale_shape)}, opset=23, axis=axis,
               epsilon=0.1 if len(shape) == 3 else 1e-5)


def test_rms_normalization_float16_and_default_axis():
    x, s = r(4, 6, dtype=np.float16), r(6, dtype=np.float16)
    check_node("RMSNormalization", {"x": x, "s": s}, opset=23, rtol=2e-3)


def test_rms_normalization_float64_reference():
    # ORT 1.31 has no float64 RMSNormalization kernel: reference.
    m, f = one_node("RMSNormalization", [("x", r(3, 5, dtype=np.float64)), ("s", r(5, dtype=np.float64))],
                    [("y", np.float64)], 23)
    check_reference(m, f, rtol=1e-9)


def test_rms_normalization_errors():
    m, f = one_node("RMSNormalization", [("x", r(3, 4)), ("s", r(3))], [("y", F32)], 23)
    with pytest.raises(loadrun.ModelError):
        loadrun.load(m)
    m, f = one_node("RMSNormalization", [("x", r(3, 4)), ("s", r(4))], [("y", F32)], 23, axis=2)
    with pytest.raises(loadrun.ModelError):
        loadrun.load(m)
    m, f = one_node("RMSNormalization", [("x", r(3, 4)), ("s", r(4))], [("y", F32)], 23, stash_type=0)
    with pytest.raises(loadrun.UnsupportedError):
        loadrun.load(m)


# ------------------------------------------------------------ RotaryEmbedding
def rope_caches(rows, half, dtype=np.float32):
    ang = rng.random((rows, half)) * 6
    return np.cos(ang).astype(dtype), np.sin(ang).astype(dtype)


@pytest.mark.parametrize("interleaved", [0, 1])
@pytest.mark.parametrize("rotary_dim", [0, 4])
@pytest.mark.parametrize("three_d", [False, True])
def test_rotary_embedding_position_ids(interleaved, rotary_dim, three_d):
    b, h, s, d = 2, 3, 5, 8
    half = (rotary_dim or d) // 2
    cos, sin = rope_caches(20, half)
    pos = rng.integers(0, 20, (b, s)).astype(np.int64)
    x = r(b, s, h * d) if three_d else r(b, h, s, d)
    attrs = dict(interleaved=interleaved, rotary_embedding_dim=rotary_dim)
    if three_d:
        attrs["num_heads"] = h
    check_node("RotaryEmbedding", {"x": x, "cos": cos, "sin": sin, "pos": pos}, opset=23, **attrs)


@pytest.mark.parametrize("interleaved", [0, 1])
def test_rotary_embedding_no_position_ids(interleaved):
    b, h, s, d = 2, 1, 3, 6
    ang = rng.random((b, s, d // 2)) * 6
    cos, sin = np.cos(ang).astype(F32), np.sin(ang).astype(F32)
    check_node("RotaryEmbedding", {"x": r(b, h, s, d), "cos": cos, "sin": sin}, opset=23,
               interleaved=interleaved)


def test_rotary_embedding_float16():
    cos, sin = rope_caches(8, 2, np.float16)
    pos = np.array([[0, 7, 3]], dtype=np.int64)
    check_node("RotaryEmbedding", {"x": r(1, 2, 3, 4, dtype=np.float16), "cos": cos, "sin": sin, "pos": pos},
               opset=23, rtol=2e-3)


def test_rotary_embedding_errors():
    cos, sin = rope_caches(4, 4)
    pos = np.zeros((1, 2), dtype=np.int64)
    # 3-D input without num_heads
    m, f = one_node("RotaryEmbedding", [("x", r(1, 2, 8)), ("c", cos), ("s", sin), ("p", pos)], [("y", F32)], 23)
    with pytest.raises(loadrun.ModelError):
        loadrun.load(m)
    # odd rotary dim
    m, f = one_node("RotaryEmbedding", [("x", r(1, 1, 2, 8)), ("c", cos), ("s", sin), ("p", pos)], [("y", F32)],
                    23, rotary_embedding_dim=3)
    with pytest.raises(loadrun.ModelError):
        loadrun.load(m)
    # position id past the cache: a run-time error
    m, f = one_node("RotaryEmbedding", [("x", r(1, 1, 2, 8)), ("c", cos), ("s", sin), ("p", pos)], [("y", F32)], 23)
    f["p"] = np.array([[0, 4]], dtype=np.int64)
    with pytest.raises(loadrun.ModelError):
        loadrun.load(m).run(f)


# -------------------------------------------------------------- Swish, SwiGLU
@pytest.mark.parametrize("alpha", [1.0, 0.5, -2.0])
@pytest.mark.parametrize("dtype", [np.float32, np.float16])
def test_swish(alpha, dtype):
    x = (r(3, 7) * 4).astype(dtype)
    check_node("Swish", {"x": x}, opset=24, alpha=alpha, rtol=1e-4 if dtype == np.float32 else 2e-3)


@pytest.mark.parametrize("alpha", [1.0, 0.5])
@pytest.mark.parametrize("dtype", [np.float32, np.float16, np.float64])
def test_swiglu(alpha, dtype):
    # ORT 1.31 supports ai.onnx up to opset 26; SwiGLU is opset 28: reference.
    a, b = (r(2, 3, 5) * 3).astype(dtype), r(2, 3, 5).astype(dtype)
    m, f = one_node("SwiGLU", [("a", a), ("b", b)], [("y", dtype)], 28, alpha=alpha)
    check_reference(m, f, rtol=1e-4 if dtype != np.float16 else 2e-3)


def test_swiglu_shape_mismatch():
    m, f = one_node("SwiGLU", [("a", r(2, 4)), ("b", r(1, 4))], [("y", F32)], 28)
    with pytest.raises(loadrun.ModelError):
        loadrun.load(m)


# --------------------------------------------------------------------- Einsum
def einsum_model(eq, arrays, opset=12):
    return one_node("Einsum", [(f"x{i}", a) for i, a in enumerate(arrays)], [("y", arrays[0].dtype)], opset,
                    equation=eq)


@pytest.mark.parametrize("eq,shapes", [
    ("ij,jk->ik", [(3, 4), (4, 5)]),
    ("bij,bjk->bik", [(2, 3, 4), (2, 4, 1)]),
    ("ij->ji", [(3, 5)]),
    ("ij->i", [(3, 4)]),
    ("i,i", [(5,)] * 2),
    ("ii->i", [(4, 4)]),
    ("ii", [(4, 4)]),  # implicit: trace
    ("...ii->...i", [(2, 3, 3)]),
    ("...ij,...jk->...ik", [(2, 1, 3, 4), (1, 5, 4, 2)]),  # ellipsis broadcasting
    ("ba,ca", [(2, 3), (4, 3)]),  # implicit output "bc"
    ("Ab,bA->", [(2, 3), (3, 2)]),
    ("i,j,k->ijk", [(2,), (3,), (1,)]),
    ("bhqd,bhkd->bhqk", [(1, 2, 3, 4), (1, 2, 5, 4)]),
    ("...", [(2, 3)]),
    ("ij, jk -> ik", [(1, 1), (1, 1)]),
    ("iij->j", [(3, 3, 2)]),
])
def test_einsum(eq, shapes):
    arrays = [r(*s) for s in shapes]
    m, f = einsum_model(eq, arrays)
    check_model(m, f)


@pytest.mark.parametrize("dtype", [np.int64, np.int32, np.float64])
def test_einsum_dtypes(dtype):
    arrays = [(r(3, 4) * 5).astype(dtype), (r(4, 2) * 5).astype(dtype)]
    m, f = einsum_model("ij,jk->ik", arrays)
    check_model(m, f, rtol=1e-9)


def test_einsum_opset28_float16_reference():
    # ORT 1.31 has no opset-28 Einsum: reference.
    arrays = [r(2, 3, dtype=np.float16), r(3, 4, dtype=np.float16)]
    m, f = einsum_model("ij,jk", arrays, opset=28)
    check_reference(m, f, rtol=2e-3)


def test_einsum_scalar():
    m, f = einsum_model("->", [np.array(2.5, dtype=np.float32)])
    check_model(m, f)


@pytest.mark.parametrize("eq,shapes", [
    ("ij,jk->ik", [(3, 4), (5, 6)]),  # size mismatch
    ("ij->ik", [(3, 4)]),  # output label not in inputs
    ("ij->ii", [(3, 3)]),  # repeated output label
    ("ij,jk->ik", [(3, 4)]),  # term count != input count
    ("ijk->i", [(3, 4)]),  # rank mismatch
    ("i.j->i", [(3, 4)]),  # bad character
    ("...i...->i", [(3, 4)]),  # two ellipses
])
def test_einsum_errors(eq, shapes):
    m, f = einsum_model(eq, [r(*s) for s in shapes])
    with pytest.raises(loadrun.ModelError):
        loadrun.load(m)


# ------------------------------------------------------- CausalConvWithState
# Opset 27: ORT 1.31 does not load it (ai.onnx up to 26), so: reference.
@pytest.mark.parametrize("b,c,length,k", [(2, 4, 8, 4), (1, 1, 1, 1), (2, 3, 2, 5), (1, 2, 6, 1)])
@pytest.mark.parametrize("with_bias,with_past", [(False, False), (True, True), (False, True)])
@pytest.mark.parametrize("activation", ["none", "silu"])
def test_causal_conv_with_state(b, c, length, k, with_bias, with_past, activation):
    m, f = one_node("CausalConvWithState",
                    [("x", r(b, c, length)), ("w", r(c, 1, k)), ("bias", r(c) if with_bias else None),
                     ("past", r(b, c, k - 1) if with_past else None)],
                    [("y", F32), ("state", F32)], 27, activation=activation)
    got = check_reference(m, f)
    assert got["state"].shape == (b, c, k - 1)


def test_causal_conv_with_state_float16_swish_alias():
    m, f = one_node("CausalConvWithState", [("x", r(2, 3, 5, dtype=np.float16)), ("w", r(3, 1, 3, dtype=np.float16))],
                    [("y", np.float16), ("state", np.float16)], 27, activation="swish")
    check_reference(m, f, rtol=2e-3)


def test_causal_conv_with_state_errors():
    for w_shape, attrs in (((3, 2, 3), {}), ((2, 1, 3), {}), ((3, 1, 3), {"activation": "relu"})):
        m, f = one_node("CausalConvWithState", [("x", r(1, 3, 5)), ("w", r(*w_shape))], [("y", F32)], 27, **attrs)
        with pytest.raises(loadrun.ModelError):
            loadrun.load(m)
    m, f = one_node("CausalConvWithState", [("x", r(1, 3, 5)), ("w", r(3, 1, 3)), ("bias", None),
                                            ("past", r(1, 3, 3))], [("y", F32)], 27)
    with pytest.raises(loadrun.ModelError):
        loadrun.load(m)


# ------------------------------------------------------------ LinearAttention
# Opset 27: ORT 1.31 does not load it, so: reference.
def linear_attention(b=2, t=4, hq=4, hkv=2, dk=3, dv=5, rule="gated_delta", past=True,
                     decay_per_dim=False, beta_shared=False, dtype=np.float32, **attrs):
    gating, delta = rule in ("gated", "gated_delta"), rule in ("delta", "gated_delta")
    key = r(b, t, hkv * dk, dtype=np.float64)
    key /= np.linalg.norm(key.reshape(b, t, hkv, dk), axis=-1).repeat(dk, axis=-1)  # L2-normalised
    decay = -rng.random((b, t, hkv * dk if decay_per_dim else hkv)) if gating else None
    beta = rng.random((b, t, 1 if beta_shared else hkv)) if delta else None
    cast = lambda a: None if a is None else a.astype(dtype)  # noqa: E731
    inputs = [("query", r(b, t, hq * dk, dtype=dtype)), ("key", cast(key)), ("value", r(b, t, hkv * dv, dtype=dtype)),
              ("past_state", r(b, hkv, dk, dv, dtype=dtype) if past else None), ("decay", cast(decay)),
              ("beta", cast(beta))]
    while inputs[-1][1] is None:
        inputs.pop()
    return one_node("LinearAttention", inputs, [("y", dtype), ("state", dtype)], 27, q_num_heads=hq,
                    kv_num_heads=hkv, update_rule=rule, **attrs)


@pytest.mark.parametrize("rule", ["linear", "gated", "delta", "gated_delta"])
@pytest.mark.parametrize("past", [False, True])
def test_linear_attention_rules(rule, past):
    m, f = linear_attention(rule=rule, past=past)
    check_reference(m, f)


@pytest.mark.parametrize("hq,hkv,t", [(3, 3, 1), (6, 2, 5), (4, 1, 3)])
def test_linear_attention_heads(hq, hkv, t):
    m, f = linear_attention(hq=hq, hkv=hkv, t=t, decay_per_dim=True, beta_shared=True, scale=0.7)
    check_reference(m, f)


def test_linear_attention_float16():
    m, f = linear_attention(dtype=np.float16)
    check_reference(m, f, rtol=3e-3)


def test_linear_attention_errors():
    m, f = linear_attention(rule="gated", past=False)
    m.graph.node[0].input[4] = ""  # drop decay: "gated" requires it
    with pytest.raises(loadrun.ModelError):
        loadrun.load(m)
    m, f = linear_attention(rule="gated")
    next(a for a in m.graph.node[0].attribute if a.name == "update_rule").s = b"linear"  # forbids decay
    with pytest.raises(loadrun.ModelError):
        loadrun.load(m)
    m, f = linear_attention(rule="linear")
    next(a for a in m.graph.node[0].attribute if a.name == "kv_num_heads").i = 3  # 3 does not divide 4
    with pytest.raises(loadrun.ModelError):
        loadrun.load(m)


# -------------------------------------------------------------- FlexAttention
def flex_model(q, k, v, **attrs):
    node = helper.make_node("FlexAttention", ["Q", "K", "V"], ["Y"], domain="ai.onnx.preview", **attrs)
    et = helper.np_dtype_to_tensor_dtype(q.dtype)
    g = helper.make_graph([node], "flex", [helper.make_tensor_value_info(n, et, a.shape)
                                           for n, a in (("Q", q), ("K", k), ("V", v))],
                          [helper.make_tensor_value_info("Y", et, None)])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 26), helper.make_opsetid("ai.onnx.preview", 1)],
                          ir_version=8)
    return m, {"Q": q, "K": k, "V": v}


@pytest.mark.parametrize("b,hq,hkv,sq,skv,d,dv,scale", [
    (2, 4, 4, 5, 6, 8, 8, None),
    (1, 6, 2, 3, 4, 4, 7, 0.2),  # GQA, dv != d
    (1, 1, 1, 1, 1, 1, 1, None),
])
def test_flex_attention(b, hq, hkv, sq, skv, d, dv, scale):
    # ai.onnx.preview: ORT 1.31 has no kernel for it: reference.
    attrs = {} if scale is None else {"scale": scale}
    m, f = flex_model(r(b, hq, sq, d), r(b, hkv, skv, d), r(b, hkv, skv, dv), **attrs)
    check_reference(m, f)


def test_flex_attention_float16_and_errors():
    m, f = flex_model(r(1, 2, 3, 4, dtype=np.float16), r(1, 2, 5, 4, dtype=np.float16), r(1, 2, 5, 4, dtype=np.float16))
    check_reference(m, f, rtol=2e-3)
    m, f = flex_model(r(1, 3, 4), r(1, 3, 4), r(1, 3, 4))  # 3-D
    with pytest.raises(loadrun.ModelError):
        loadrun.load(m)
    sub = helper.make_graph([helper.make_node("Identity", ["s"], ["t"])], "score_mod",
                            [helper.make_tensor_value_info("s", TensorProto.FLOAT, None)],
                            [helper.make_tensor_value_info("t", TensorProto.FLOAT, None)])
    m, f = flex_model(r(1, 1, 2, 4), r(1, 1, 2, 4), r(1, 1, 2, 4), score_mod=sub)
    with pytest.raises(loadrun.UnsupportedError):
        loadrun.load(m)
