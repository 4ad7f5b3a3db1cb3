"""DFT, STFT, the windows and MelWeightMatrix against ONNX Runtime (float32,
rtol 1e-4 relative to the output's largest magnitude), or NumPy's FFT where
ORT lacks the form (float64 DFT, irfft with padding)."""
import numpy as np
import pytest
from onnx import TensorProto, helper

import loadrun
from onnx_ref import assert_close, make_model, ort_run


def const_inputs(node_inputs, consts):
    """Initializers for the named scalar/size inputs."""
    return [(n, np.asarray(v)) for n, v in consts.items() if n in node_inputs]


def dft_model(x, opset=20, dft_length=None, axis=None, **attrs):
    names = ["x", "n" if dft_length is not None else "", "axis" if axis is not None else ""]
    while names[-1] == "":
        names.pop()
    inits = []
    if dft_length is not None:
        inits.append(("n", np.array(dft_length, np.int64)))
    if axis is not None and opset >= 20:
        inits.append(("axis", np.array(axis, np.int64)))
    elif axis is not None:
        names = names[:2] if len(names) > 2 else names
        attrs["axis"] = axis
    node = helper.make_node("DFT", names, ["y"], **attrs)
    et = helper.np_dtype_to_tensor_dtype(x.dtype)
    return make_model([node], [("x", x.dtype, list(x.shape))], [("y", et, None)], inits, opset)


def check(model, feeds, rtol=1e-4):
    ref = ort_run(model, feeds)
    got = loadrun.load(model).run(feeds)
    for k in ref:
        assert_close(got[k], ref[k], rtol, k)


rng = np.random.default_rng(0)


@pytest.mark.parametrize("shape,axis", [((2, 8, 1), 1), ((3, 7, 2), 1), ((5, 4, 3, 2), -2),
                                        ((4, 6, 5, 1), 1), ((1, 1, 2), 1), ((2, 9, 3, 2), 0)])
@pytest.mark.parametrize("inverse", [0, 1])
def test_dft_full(shape, axis, inverse):
    x = rng.standard_normal(shape).astype(np.float32)
    check(dft_model(x, axis=axis, inverse=inverse), {"x": x})


@pytest.mark.parametrize("n", [5, 8, 13])
def test_dft_length_pads_and_truncates(n):
    x = rng.standard_normal((2, 8, 2)).astype(np.float32)
    check(dft_model(x, dft_length=n, axis=1), {"x": x})
    check(dft_model(x, dft_length=n, axis=1, inverse=1), {"x": x})


@pytest.mark.parametrize("length", [6, 7])
def test_rfft_onesided(length):
    x = rng.standard_normal((3, length, 1)).astype(np.float32)
    check(dft_model(x, axis=1, onesided=1), {"x": x})


@pytest.mark.parametrize("n", [None, 7, 10, 12])
def test_irfft_against_numpy(n):
    spec = rng.standard_normal((2, 5, 3, 2))
    x = spec.astype(np.float64)
    y = loadrun.load(dft_model(x, dft_length=n, axis=1, inverse=1, onesided=1)).run({"x": x})["y"]
    ref = np.fft.irfft(x[..., 0] + 1j * x[..., 1], n=n, axis=1)[..., None]
    assert y.dtype == np.float64
    assert_close(y, ref, 1e-10)


def test_dft_float64_against_numpy():
    x = rng.standard_normal((3, 11, 2))
    y = loadrun.load(dft_model(x, axis=1)).run({"x": x})["y"]
    ref = np.fft.fft(x[..., 0] + 1j * x[..., 1], axis=1)
    assert_close(y, np.stack([ref.real, ref.imag], -1), 1e-12)


def test_dft_opset17_axis_attribute():
    x = rng.standard_normal((2, 6, 2)).astype(np.float32)
    check(dft_model(x, opset=17, axis=1), {"x": x})
    # opset 17's default axis is 1, opset 20's is -2
    model = dft_model(rng.standard_normal((2, 6, 4, 2)).astype(np.float32), opset=17)
    x4 = rng.standard_normal((2, 6, 4, 2)).astype(np.float32)
    got = loadrun.load(model).run({"x": x4})["y"]
    ref = np.fft.fft(x4[..., 0] + 1j * x4[..., 1], axis=1)
    assert_close(got, np.stack([ref.real, ref.imag], -1), 1e-4)


def test_dft_bad_models():
    x = np.zeros((2, 6, 3), np.float32)
    with pytest.raises(loadrun.ModelError, match="1 \\(real\\) or 2"):
        loadrun.load(dft_model(x, axis=1))
    with pytest.raises(loadrun.ModelError, match="axis"):
        loadrun.load(dft_model(np.zeros((2, 6, 2), np.float32), axis=2))
    with pytest.raises(loadrun.ModelError, match="positive"):
        loadrun.load(dft_model(np.zeros((2, 6, 2), np.float32), axis=1, dft_length=0))


def stft_model(sig, step, window=None, frame_length=None, **attrs):
    names = ["signal", "step", "window" if window is not None else "",
             "frame_length" if frame_length is not None else ""]
    while names[-1] == "":
        names.pop()
    inits = [("step", np.array(step, np.int64))]
    if window is not None:
        inits.append(("window", window))
    if frame_length is not None:
        inits.append(("frame_length", np.array(frame_length, np.int64)))
    node = helper.make_node("STFT", names, ["y"], **attrs)
    return make_model([node], [("signal", sig.dtype, list(sig.shape))], [("y", TensorProto.FLOAT, None)],
                      inits, 17)


@pytest.mark.parametrize("length,step,frame", [(32, 8, 16), (33, 5, 9), (16, 16, 16), (10, 3, 1)])
def test_stft(length, step, frame):
    sig = rng.standard_normal((2, length, 1)).astype(np.float32)
    window = np.hanning(frame).astype(np.float32)
    check(stft_model(sig, step, window=window), {"signal": sig})
    check(stft_model(sig, step, frame_length=frame), {"signal": sig})
    check(stft_model(sig, step, window=window, frame_length=frame), {"signal": sig})


def test_stft_complex_two_sided():
    sig = rng.standard_normal((1, 20, 2)).astype(np.float32)
    check(stft_model(sig, 4, frame_length=8, onesided=0), {"signal": sig})


def test_stft_bad_models():
    sig = np.zeros((1, 20, 1), np.float32)
    with pytest.raises(loadrun.ModelError, match="frame_length"):
        loadrun.load(stft_model(sig, 4, window=np.ones(8, np.float32), frame_length=6))
    with pytest.raises(loadrun.ModelError, match="frame_step"):
        loadrun.load(stft_model(sig, 0, frame_length=6))


@pytest.mark.parametrize("op", ["HannWindow", "HammingWindow", "BlackmanWindow"])
@pytest.mark.parametrize("size", [1, 2, 10, 17])
@pytest.mark.parametrize("periodic", [0, 1])
def test_windows(op, size, periodic):
    node = helper.make_node(op, ["size"], ["y"], periodic=periodic)
    model = make_model([node], [], [("y", TensorProto.FLOAT, None)], [("size", np.array(size, np.int64))], 17)
    got = loadrun.load(model).run({})["y"]
    ref = ort_run(model, {})["y"]
    assert got.dtype == np.float32 and got.shape == (size,)
    # Blackman's end points are 0.42 - 0.5 + 0.08: rounding noise around 0
    np.testing.assert_allclose(got, ref, rtol=1e-5, atol=1e-6)


def test_window_double_output():
    node = helper.make_node("HannWindow", ["size"], ["y"], output_datatype=TensorProto.DOUBLE)
    model = make_model([node], [], [("y", TensorProto.DOUBLE, None)], [("size", np.array(9, np.int32))], 17)
    got = loadrun.load(model).run({})["y"]
    assert got.dtype == np.float64
    assert_close(got, np.sin(np.pi * np.arange(9) / 9) ** 2, 1e-12)


@pytest.mark.parametrize("mels,dft,rate,lo,hi", [(8, 16, 8192, 0.0, 4096.0), (10, 64, 16000, 20.0, 7600.0),
                                                 (3, 9, 100, 5.0, 45.0)])
def test_mel_weight_matrix(mels, dft, rate, lo, hi):
    node = helper.make_node("MelWeightMatrix", ["m", "d", "r", "lo", "hi"], ["y"])
    inits = [("m", np.array(mels, np.int64)), ("d", np.array(dft, np.int64)), ("r", np.array(rate, np.int64)),
             ("lo", np.array(lo, np.float32)), ("hi", np.array(hi, np.float32))]
    model = make_model([node], [], [("y", TensorProto.FLOAT, None)], inits, 17)
    from onnx.reference import ReferenceEvaluator  # ORT's bin edges differ from ONNX's own definition

    ref = ReferenceEvaluator(model).run(None, {})[0]
    got = loadrun.load(model).run({})["y"]
    assert got.shape == (dft // 2 + 1, mels)
    assert_close(got, ref, 1e-6)
