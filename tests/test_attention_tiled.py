"""ATTENTION_TILED for the ONNX Attention op (ops/attention.cpp): against the
op's NAIVE algorithm (double accumulation) on awkward sizes — 3-D and 4-D
inputs, grouped query heads, broadcast float masks, is_causal, a query row
masked everywhere (zeros, as NAIVE), query blocks cut at odd places — at
1, 2 and 3 threads (bit-identical to each other). Tolerance: |fast - NAIVE|
<= 2e-5 * (|NAIVE|max + 1). What it does not take (softcap, a bool mask, a
past cache, the extra outputs) runs on NAIVE.
"""
import numpy as np
import pytest
from onnx import TensorProto, helper

import loadrun
from onnx_ref import make_model

rng = np.random.default_rng(5)


def r(*shape):
    return rng.standard_normal(shape).astype(np.float32)


def model(q, k, v, mask=None, n_out=1, **attrs):
    names = ["Q", "K", "V"] + (["attn_mask"] if mask is not None else [])
    outs = ["Y", "present_key", "present_value"][:n_out]
    node = helper.make_node("Attention", names, outs, **attrs)
    feeds = {"Q": q, "K": k, "V": v}
    if mask is not None:
        feeds["attn_mask"] = mask
    ins = [(n, a.dtype, list(a.shape)) for n, a in feeds.items()]
    return make_model([node], ins, [(o, np.float32, None) for o in outs], opset=23), feeds


def run(m, feeds, algo, threads=1):
    net = loadrun.load(m, algo=algo, threads=threads)
    out = net.run(feeds)
    return out, [s[1] for s in net.steps()]


def check(m, feeds, fast=True):
    ref, _ = run(m, feeds, "NAIVE")
    one, algos = run(m, feeds, "ATTENTION_TILED")
    assert algos == (["ATTENTION_TILED"] if fast else ["NAIVE"]), algos
    for k in ref:
        w, g = ref[k], one[k]
        assert np.isfinite(w).all() == np.isfinite(g).all(), k
        err = float(np.abs(g.astype(np.float64) - w).max()) if w.size else 0.0
        assert err <= 2e-5 * (float(np.abs(w).max(initial=0)) + 1), (k, err)
    for t in (2, 3):
        got, _ = run(m, feeds, "ATTENTION_TILED", threads=t)
        for k in one:
            np.testing.assert_array_equal(got[k], one[k], err_msg=f"{k} threads={t}")


@pytest.mark.parametrize("b,hq,hkv,sq,skv,d,dv", [
    (1, 1, 1, 1, 1, 1, 1),
    (2, 3, 3, 5, 7, 8, 8),
    (2, 6, 2, 5, 3, 4, 7),     # grouped query heads, dv != d
    (1, 4, 1, 130, 33, 16, 16),  # one KV head; 130 query rows: more than one block
    (1, 2, 2, 9, 600, 8, 5),   # a long key sequence: smaller blocks
])
def test_4d(b, hq, hkv, sq, skv, d, dv):
    check(*model(r(b, hq, sq, d), r(b, hkv, skv, d), r(b, hkv, skv, dv)))


def test_3d_grouped_heads_and_scale():
    check(*model(r(2, 11, 6 * 4), r(2, 5, 2 * 4), r(2, 5, 2 * 3), q_num_heads=6, kv_num_heads=2, scale=0.3))


@pytest.mark.parametrize("mask_shape", [(4, 6), (2, 1, 4, 6), (2, 3, 4, 6), (1, 3, 1, 6), (6,)])
def test_float_masks(mask_shape):
    check(*model(r(2, 3, 4, 8), r(2, 3, 6, 8), r(2, 3, 6, 8), mask=r(*mask_shape)))


def test_rows_masked_everywhere_are_zero():
    mask = r(2, 3, 4, 6)
    mask[0, 1, 2, :] = -np.inf
    mask[1, :, 0, :] = -np.inf
    m, f = model(r(2, 3, 4, 8), r(2, 3, 6, 8), r(2, 3, 6, 8), mask=mask)
    check(m, f)
    y = loadrun.load(m, algo="ATTENTION_TILED").run(f)["Y"]
    assert (y[0, 1, 2] == 0).all() and (y[1, :, 0] == 0).all()


@pytest.mark.parametrize("sq,skv", [(4, 6), (6, 4), (1, 5), (131, 131)])
def test_causal(sq, skv):
    check(*model(r(1, 2, sq, 4), r(1, 2, skv, 4), r(1, 2, skv, 4), is_causal=1))


def test_causal_3d():
    check(*model(r(2, 7, 12), r(2, 7, 12), r(2, 7, 6), is_causal=1, q_num_heads=3, kv_num_heads=3))


@pytest.mark.parametrize("case", ["softcap", "bool_mask", "causal_and_mask", "present"])
def test_what_it_does_not_take_runs_naive(case):
    q, k, v = r(1, 2, 3, 4), r(1, 2, 5, 4), r(1, 2, 5, 4)
    if case == "softcap":
        m = model(q, k, v, softcap=2.0)
    elif case == "bool_mask":
        m = model(q, k, v, mask=np.ones((3, 5), bool))
    elif case == "causal_and_mask":
        m = model(q, k, v, mask=r(3, 5), is_causal=1)
    else:
        m = model(q, k, v, n_out=3)
    check(*m, fast=False)


def test_default_choice_is_tiled():
    m, f = model(r(1, 4, 16, 8), r(1, 4, 16, 8), r(1, 4, 16, 8))
    assert [s[1] for s in loadrun.load(m).steps()] == ["ATTENTION_TILED"]
