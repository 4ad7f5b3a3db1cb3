import numpy as np
import pytest

from onnx_ref import check_node

rng = np.random.default_rng(0)


def r(*shape):
    return rng.standard_normal(shape).astype(np.float32)


@pytest.mark.parametrize("n,c,h,w,oc,k,stride,pad,dil,group", [
    (1, 1, 1, 1, 1, 1, 1, 0, 1, 1),
    (2, 3, 7, 9, 5, 3, 1, 1, 1, 1),
    (1, 4, 8, 8, 6, 3, 2, 1, 1, 2),
    (1, 6, 9, 5, 6, 3, 1, 2, 2, 6),
    (1, 3, 11, 13, 4, 5, 3, 2, 1, 1),
    (1, 8, 5, 5, 4, 1, 1, 0, 1, 1),
    (1, 2, 6, 6, 2, 7, 1, 3, 1, 1),
])
def test_conv2d(n, c, h, w, oc, k, stride, pad, dil, group):
    wt = r(oc, c // group, k, k)
    b = r(oc)
    check_node("Conv", {"x": r(n, c, h, w)}, initializers=[("w", wt), ("b", b)],
               strides=[stride, stride], pads=[pad] * 4, dilations=[dil, dil], group=group)


@pytest.mark.parametrize("auto_pad", ["SAME_UPPER", "SAME_LOWER", "VALID"])
def test_conv_auto_pad(auto_pad):
    check_node("Conv", {"x": r(1, 3, 8, 7)}, initializers=[("w", r(2, 3, 4, 3))],
               strides=[2, 2], auto_pad=auto_pad)


def test_conv_asymmetric_pads_no_bias():
    check_node("Conv", {"x": r(1, 2, 6, 7)}, initializers=[("w", r(3, 2, 3, 2))],
               pads=[0, 1, 2, 0], strides=[1, 2])


def test_conv1d():
    check_node("Conv", {"x": r(2, 3, 10)}, initializers=[("w", r(4, 3, 3)), ("b", r(4))],
               pads=[1, 2], strides=[2], dilations=[1])
