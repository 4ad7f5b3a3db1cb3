"""The ai.onnx.ml ops Binarizer, ArrayFeatureExtractor and TreeEnsemble
against ONNX Runtime (helpers shared with test_ops_rest.py)."""
import numpy as np
import pytest
from onnx import TensorProto, helper

import loadrun
from onnx_ref import assert_close, ort_run
from test_ops_rest import check, node_model, r, ref_run, run

rng = np.random.default_rng(7)


# ---------------------------------------------------------- ai.onnx.ml ops

def ml_model(op, feeds, out_types, inits=(), **attrs):
    return node_model(op, feeds, out_types, inits=inits, opset=21, ml=5, domain="ai.onnx.ml", **attrs)


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64, np.int32])
@pytest.mark.parametrize("threshold", [None, 0.5, -1.25])
def test_binarizer(dtype, threshold):
    x = (r(3, 5) * 3).astype(dtype)
    x.flat[1] = 0.5 if dtype in (np.float32, np.float64) else 0  # == threshold / default
    attrs = {} if threshold is None else {"threshold": threshold}
    m = ml_model("Binarizer", {"x": x}, [dtype], **attrs)
    if dtype == np.float32:
        check(m, {"x": x})
    else:  # ORT has Binarizer for float32 only: onnx.reference
        got, ref = run(m, {"x": x})["y0"], ref_run(m, {"x": x})["y0"]
        assert got.dtype == ref.dtype and (got == ref).all()
        assert 0 < got.sum() < got.size


def test_binarizer_nan():
    # ORT rejects NaN input; ONNX's reference (NaN > t is false) gives 0, and so does loadrun.
    x = np.array([np.nan, 1.0, -np.inf, np.inf], np.float32)
    got = run(ml_model("Binarizer", {"x": x}, [np.float32]), {"x": x})["y0"]
    assert got.tolist() == [0.0, 1.0, 0.0, 1.0]


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64, np.int32])
@pytest.mark.parametrize("xs,idx", [((3, 5), [4, 0, 0, 2]), ((6,), [1, 5]), ((2, 3, 4), [[3, 1]]),
                                    ((2, 4), [[1], [2], [3]]), ((3, 1), [0])])
def test_array_feature_extractor(dtype, xs, idx):
    x = (r(*xs) * 10).astype(dtype)
    i = np.array(idx, np.int64)
    check(ml_model("ArrayFeatureExtractor", {"x": x, "i": i}, [dtype]), {"x": x, "i": i})


def test_array_feature_extractor_bad_index():
    x, i = r(2, 3), np.array([3], np.int64)
    with pytest.raises(loadrun.LoadrunError, match="out of range"):
        run(ml_model("ArrayFeatureExtractor", {"x": x, "i": i}, [np.float32]), {"x": x, "i": i})


def random_forest(n_trees, n_features, n_targets, depth, modes=(0, 1, 2, 3, 4, 5), member=False, dtype=np.float32):
    """nodes_* / leaf_* attributes of random trees (some single-leaf trees too)."""
    A = dict(nodes_featureids=[], nodes_splits=[], nodes_modes=[], nodes_truenodeids=[], nodes_falsenodeids=[],
             nodes_trueleafs=[], nodes_falseleafs=[], nodes_missing_value_tracks_true=[],
             leaf_targetids=[], leaf_weights=[], tree_roots=[])
    members = []

    def leaf():
        A["leaf_targetids"].append(int(rng.integers(n_targets)))
        A["leaf_weights"].append(float(np.round(rng.standard_normal(), 3)))
        return len(A["leaf_weights"]) - 1

    def node(d):
        i = len(A["nodes_featureids"])
        for k in ("nodes_featureids", "nodes_splits", "nodes_modes", "nodes_truenodeids", "nodes_falsenodeids",
                  "nodes_trueleafs", "nodes_falseleafs", "nodes_missing_value_tracks_true"):
            A[k].append(0)
        mode = int(rng.choice(list(modes) + ([6] if member else [])))
        A["nodes_featureids"][i] = int(rng.integers(n_features))
        A["nodes_splits"][i] = float(np.round(rng.standard_normal(), 1))
        A["nodes_modes"][i] = mode
        A["nodes_missing_value_tracks_true"][i] = int(rng.integers(2))
        if mode == 6:
            # (ONNX Runtime takes integer members only)
            members.extend([float(v) for v in rng.choice([-2.0, -1.0, 0.0, 1.0, 3.0], 2, replace=False)] + [np.nan])
        for side in ("true", "false"):
            if d == 0 or rng.random() < 0.25:
                A[f"nodes_{side}leafs"][i], A[f"nodes_{side}nodeids"][i] = 1, leaf()
            else:
                A[f"nodes_{side}leafs"][i], A[f"nodes_{side}nodeids"][i] = 0, node(d - 1)
        return i

    for t in range(n_trees):
        if t == 1:  # a tree that is a single leaf
            i = node(0)
            A["nodes_truenodeids"][i] = A["nodes_falsenodeids"][i]
            A["tree_roots"].append(i)
        else:
            A["tree_roots"].append(node(depth))
    code = helper.np_dtype_to_tensor_dtype(np.dtype(dtype))
    attrs = {k: v for k, v in A.items() if k not in ("nodes_splits", "nodes_modes", "leaf_weights")}
    attrs["nodes_splits"] = helper.make_tensor("s", code, [len(A["nodes_splits"])], A["nodes_splits"])
    attrs["nodes_modes"] = helper.make_tensor("m", TensorProto.UINT8, [len(A["nodes_modes"])], A["nodes_modes"])
    attrs["leaf_weights"] = helper.make_tensor("w", code, [len(A["leaf_weights"])], A["leaf_weights"])
    attrs["n_targets"] = n_targets
    if member:
        attrs["membership_values"] = helper.make_tensor("mv", code, [len(members)], members)
    return attrs


def tree_input(n, f, dtype=np.float32):
    x = np.round(r(n, f), 1).astype(dtype)  # values hit the splits exactly sometimes
    x[rng.random(x.shape) < 0.1] = np.nan
    return x


def post_transform(v, post):
    """The spec's post_transform on the rows of v (float64)."""
    v = v.astype(np.float64)
    if post in (1, 3):
        e = np.exp(v - np.max(np.where(v != 0, v, -np.inf) if post == 3 else v, axis=1, keepdims=True))
        if post == 3:
            e = np.where(v != 0, e, 0)
        return e / e.sum(axis=1, keepdims=True)
    if post == 2:
        return 1 / (1 + np.exp(-v))
    return v


@pytest.mark.parametrize("aggregate", [0, 1, 2, 3])
@pytest.mark.parametrize("post", [0, 1, 2, 3])
@pytest.mark.parametrize("n_targets", [1, 3])
def test_tree_ensemble(aggregate, post, n_targets):
    attrs = random_forest(5, 4, n_targets, 4)
    x = tree_input(40, 4)
    m = ml_model("TreeEnsemble", {"x": x}, [np.float32], aggregate_function=aggregate, **attrs)
    raw = check(m, {"x": x})["y0"]  # post_transform NONE: ORT is the oracle
    if post:
        # ONNX Runtime numbers post_transform as its older tree ops do (1
        # LOGISTIC, 2 SOFTMAX: swapped against TreeEnsemble's spec) and skips
        # it for a single target: the spec's formulas on ORT's raw scores are
        # the oracle.
        ref = post_transform(ort_run(m, {"x": x})["y0"], post).astype(np.float32)
        m = ml_model("TreeEnsemble", {"x": x}, [np.float32], aggregate_function=aggregate,
                     post_transform=post, **attrs)
        got = run(m, {"x": x})["y0"]
        assert_close(got, ref, 1e-5)
        assert not np.allclose(got, raw)


def test_tree_ensemble_probit():
    attrs = random_forest(4, 3, 1, 3)
    attrs["leaf_weights"] = helper.make_tensor("w", TensorProto.FLOAT, [len(attrs["leaf_weights"].float_data)],
                                               rng.random(len(attrs["leaf_weights"].float_data)) * 0.2)
    x = tree_input(30, 3)
    # ORT's probit uses an approximate erfinv: a looser tolerance
    check(ml_model("TreeEnsemble", {"x": x}, [np.float32], post_transform=4, aggregate_function=0, **attrs),
          {"x": x}, rtol=1e-3)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_tree_ensemble_set_membership_and_float64(dtype):
    attrs = random_forest(4, 3, 2, 4, member=True, dtype=dtype)
    # integer features: ONNX Runtime truncates a feature to an integer before
    # the membership test (-0.6 is then a member of {0}); the spec does not
    x = rng.integers(-3, 4, (60, 3)).astype(dtype)
    x[rng.random(x.shape) < 0.1] = np.nan
    check(ml_model("TreeEnsemble", {"x": x}, [dtype], **attrs), {"x": x})


def test_tree_ensemble_errors():
    good = random_forest(2, 3, 1, 2)
    x = tree_input(4, 3)
    bad = dict(good, nodes_truenodeids=good["nodes_truenodeids"][:-1])
    with pytest.raises(loadrun.ModelError, match="entries"):
        loadrun.load(ml_model("TreeEnsemble", {"x": x}, [np.float32], **bad))
    bad = dict(good, leaf_targetids=[5] * len(good["leaf_targetids"]))
    with pytest.raises(loadrun.ModelError, match="target id"):
        loadrun.load(ml_model("TreeEnsemble", {"x": x}, [np.float32], **bad))
    with pytest.raises(loadrun.ModelError, match="feature id"):
        loadrun.load(ml_model("TreeEnsemble", {"x": x[:, :1]}, [np.float32], **good))
    with pytest.raises(loadrun.ModelError, match="post_transform"):
        loadrun.load(ml_model("TreeEnsemble", {"x": x}, [np.float32], post_transform=7, **good))
    # a cycle: node 0's false branch back to itself
    cyc = dict(n_targets=1, nodes_featureids=[0], nodes_truenodeids=[0], nodes_falsenodeids=[0],
               nodes_trueleafs=[1], nodes_falseleafs=[0], leaf_targetids=[0], tree_roots=[0],
               nodes_splits=helper.make_tensor("s", TensorProto.FLOAT, [1], [0.0]),
               nodes_modes=helper.make_tensor("m", TensorProto.UINT8, [1], [0]),
               leaf_weights=helper.make_tensor("w", TensorProto.FLOAT, [1], [1.0]))
    xc = np.array([[1.0]], np.float32)
    with pytest.raises(loadrun.ModelError, match="cycle"):
        run(ml_model("TreeEnsemble", {"x": xc}, [np.float32], **cyc), {"x": xc})
