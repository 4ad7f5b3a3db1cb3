"""TfIdfVectorizer against ONNX Runtime: every mode with and without
weights, skips, gram-length ranges, 1-D and 2-D int32/int64 input, and bad
attributes."""
import numpy as np
import pytest
from onnx import TensorProto, helper

import loadrun
from onnx_ref import assert_close, make_model, ort_run

POOL = dict(ngram_counts=[0, 4], ngram_indexes=[0, 1, 2, 3, 4, 5, 6],
            pool_int64s=[2, 3, 5, 4, 5, 6, 7, 8, 6, 7])  # unigrams 2 3 5 4; bigrams 56 78 67


def model(x, **attrs):
    node = helper.make_node("TfIdfVectorizer", ["x"], ["y"], **{**POOL, **attrs})
    return make_model([node], [("x", x.dtype, list(x.shape))], [("y", TensorProto.FLOAT, None)], opset=9)


def check(x, **attrs):
    m = model(x, **attrs)
    got = loadrun.load(m).run({"x": x})["y"]
    assert_close(got, ort_run(m, {"x": x})["y"], 1e-6)


X2 = np.array([[1, 1, 3, 3, 3, 7], [8, 6, 7, 5, 6, 8], [5, 6, 7, 8, 6, 7]], np.int32)


@pytest.mark.parametrize("mode", ["TF", "IDF", "TFIDF"])
@pytest.mark.parametrize("weights", [None, [0.5, 1.0, 2.0, 3.0, 0.25, 4.0, 1.5]])
@pytest.mark.parametrize("grams", [(1, 1), (1, 2), (2, 2)])
@pytest.mark.parametrize("skip", [0, 1, 5])
def test_modes(mode, weights, grams, skip):
    attrs = dict(mode=mode, min_gram_length=grams[0], max_gram_length=grams[1], max_skip_count=skip)
    if weights:
        attrs["weights"] = weights
    check(X2, **attrs)
    check(X2[2].astype(np.int64), **attrs)


def test_columns_shared_and_out_of_order():
    check(X2, mode="TF", min_gram_length=1, max_gram_length=2, max_skip_count=2,
          ngram_indexes=[6, 0, 3, 3, 1, 5, 2])


def test_bad_attributes():
    x = X2
    with pytest.raises(loadrun.ModelError, match="mode"):
        loadrun.load(model(x, mode="BM25", min_gram_length=1, max_gram_length=1, max_skip_count=0))
    with pytest.raises(loadrun.ModelError, match="min_gram_length"):
        loadrun.load(model(x, mode="TF", min_gram_length=2, max_gram_length=1, max_skip_count=0))
    with pytest.raises(loadrun.ModelError, match="split the pool"):
        loadrun.load(model(x, mode="TF", min_gram_length=1, max_gram_length=2, max_skip_count=0,
                           ngram_counts=[0, 5]))
    with pytest.raises(loadrun.UnsupportedError, match="strings"):
        loadrun.load(model(x, mode="TF", min_gram_length=1, max_gram_length=1, max_skip_count=0,
                           pool_int64s=[7], pool_strings=["a", "b"], ngram_counts=[0], ngram_indexes=[0, 1]))
