"""Byte-level mutations of serialized seed models: bit flips, byte
overwrites, truncation, inserted and deleted runs, and splices of two
models. The bytes are written to a file and loaded by path, then run; one
case in ten runs the `load_and_run` CLI on the file instead."""
import os

import numpy as np

import loadrun
from fuzz import corpus

_BLOBS = None


def blobs():
    global _BLOBS
    if _BLOBS is None:
        _BLOBS = [m.SerializeToString() for m in corpus.seeds()]
    return _BLOBS


def mutate_bytes(data, rng, others=()):
    b = bytearray(data)
    k = int(rng.integers(0, 6))
    n = len(b)
    if n == 0:
        return bytes(rng.integers(0, 256, int(rng.integers(1, 8)), dtype=np.uint8))
    if k == 0:  # bit flips
        for _ in range(int(rng.integers(1, 9))):
            i = int(rng.integers(n))
            b[i] ^= 1 << int(rng.integers(8))
    elif k == 1:  # random bytes overwritten, often with varint-heavy values
        for _ in range(int(rng.integers(1, 5))):
            i = int(rng.integers(n))
            b[i] = int(rng.choice([0, 0xFF, 0x7F, 0x80, int(rng.integers(256))]))
    elif k == 2:  # truncation
        del b[int(rng.integers(n)):]
    elif k == 3:  # a run inserted
        i = int(rng.integers(n + 1))
        b[i:i] = rng.integers(0, 256, int(rng.integers(1, 16)), dtype=np.uint8).tobytes()
    elif k == 4:  # a run deleted
        i = int(rng.integers(n))
        del b[i:i + int(rng.integers(1, 16))]
    elif others:  # splice: a head of this model and a tail of another
        o = others[int(rng.integers(len(others)))]
        b = b[: int(rng.integers(n + 1))] + o[int(rng.integers(len(o) + 1)):]
    return bytes(b)


def prepare(workdir):
    blobs()


def run_case(rng, workdir):
    bl = blobs()
    data = bl[int(rng.integers(len(bl)))]
    for _ in range(int(rng.integers(1, 3))):
        data = mutate_bytes(data, rng, bl)
    path = os.path.join(workdir, "m.onnx")
    with open(path, "wb") as f:
        f.write(data)
    if rng.random() < 0.1:
        return corpus.run_cli([path, "--iter", "1", "--warmup-iter", "0"])
    net = loadrun.load(path, progress=False)
    out = net.run(corpus.feeds_for(net, rng))
    assert isinstance(out, dict)
    return f"{len(out)} outputs"
