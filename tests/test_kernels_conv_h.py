"""IM2COL_GEMM on planes one element wide ([N, C, L, 1], as JAX exports
Conv1D: magika's 5x1 conv): the column builder's 1-D path along H against
NAIVE, with pads, strides, dilations, groups, and width taps that read only
padding. Tolerance as tests/test_kernels_conv.py (RTOL 1e-5, ATOL 1e-4)."""
import numpy as np
import pytest
from onnx import helper

import loadrun
from isa_levels import other_isa_levels_test
from onnx_ref import assert_close_elementwise, make_model

rng = np.random.default_rng(23)

# (x shape, w shape, Conv attributes)
CASES = [
    ((2, 16, 37, 1), (24, 16, 5, 1), {}),
    ((1, 6, 40, 1), (5, 6, 3, 1), dict(pads=[2, 0, 1, 0], strides=[2, 1])),
    ((1, 8, 29, 1), (8, 4, 3, 1), dict(pads=[3, 0, 3, 0], dilations=[3, 1], group=2)),
    ((1, 5, 11, 1), (7, 5, 3, 3), dict(pads=[1, 1, 1, 1])),  # width taps 0 and 2 read padding only
    ((2, 3, 300, 1), (4, 3, 7, 1), dict(strides=[3, 1], pads=[0, 0, 5, 0])),  # several column blocks
]


@pytest.mark.parametrize("x_shape,w_shape,attrs", CASES)
def test_im2col_one_wide_planes_match_naive(x_shape, w_shape, attrs):
    w = rng.standard_normal(w_shape).astype(np.float32)
    model = make_model([helper.make_node("Conv", ["x", "w"], ["y"], name="conv", **attrs)],
                       [("x", np.float32, list(x_shape))], [("y", np.float32, None)], [("w", w)])
    x = rng.standard_normal(x_shape).astype(np.float32)
    fast = loadrun.load(model, algo="IM2COL_GEMM", optimize=False)
    assert fast.steps()[0][1] == "IM2COL_GEMM"
    naive = loadrun.load(model, algo="NAIVE", optimize=False).run({"x": x})["y"]
    assert_close_elementwise(fast.run({"x": x})["y"], naive, 1e-5, 1e-4, "IM2COL_GEMM")


test_other_isa_levels = other_isa_levels_test(__file__)
