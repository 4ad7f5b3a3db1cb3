"""Mutated fast-run cache files (format: csrc/fastrun/algo_cache.cpp).

A real cache is made once per worker by fast-run on the seed models. Each
case mutates it one of three ways: raw bytes (bit flips, truncation, junk:
the header and checksum catch most of it), payload bytes with the length and
checksum recomputed (so the entry parser sees them), or a decoded entry
edited (algorithm name, attributes, time, workspace, layouts, params,
weight_preprocess, candidates dropped or duplicated) and re-encoded. The
model then runs with the cache, read-only (fast_run_algo_policy alone) or
with profiling resuming from it, and its outputs must equal NAIVE's.
"""
import os
import shutil
import struct

import numpy as np

import loadrun
from fuzz import corpus
from fuzz.algos import compare
from fuzz.model_bytes import mutate_bytes

MAGIC = b"LRFASTRN"
_BASE = {}


def fnv1a(data):
    h = 1469598103934665603
    for c in data:
        h = ((h ^ c) * 1099511628211) & 0xFFFFFFFFFFFFFFFF
    return h


def frame(payload, version):
    return MAGIC + struct.pack("<IQ", version, len(payload)) + payload + struct.pack("<Q", fnv1a(payload))


class R:
    def __init__(self, b):
        self.b, self.p = b, 0

    def take(self, fmt):
        v = struct.unpack_from(fmt, self.b, self.p)
        self.p += struct.calcsize(fmt)
        return v[0]

    def s(self):
        n = self.take("<I")
        v = self.b[self.p:self.p + n]
        self.p += n
        return v


def decode(payload):
    r = R(payload)
    cats = []
    for _ in range(r.take("<I")):
        cat, entries = r.s(), []
        for _ in range(r.take("<I")):
            e = {"op": r.s(), "params": r.s()}
            e["in"] = [r.s() for _ in range(r.take("<I"))]
            e["out"] = [r.s() for _ in range(r.take("<I"))]
            e["wp"] = r.take("<B")
            e["cands"] = [[r.s(), r.take("<I"), r.take("<d"), r.take("<Q")] for _ in range(r.take("<I"))]
            entries.append(e)
        cats.append([cat, entries])
    return cats


def encode(cats):
    def s(b):
        return struct.pack("<I", len(b)) + b

    out = struct.pack("<I", len(cats))
    for cat, entries in cats:
        out += s(cat) + struct.pack("<I", len(entries))
        for e in entries:
            out += s(e["op"]) + s(e["params"]) + struct.pack("<I", len(e["in"])) + b"".join(map(s, e["in"]))
            out += struct.pack("<I", len(e["out"])) + b"".join(map(s, e["out"])) + struct.pack("<B", e["wp"])
            out += struct.pack("<I", len(e["cands"]))
            for name, attrs, t, ws in e["cands"]:
                out += s(name) + struct.pack("<IdQ", attrs, t, ws)
    return out


def base(workdir):
    """(cache bytes, [(model, feeds, NAIVE outputs)]) made once per worker."""
    if not _BASE:
        path = os.path.join(workdir, "base.cache")
        rng = np.random.default_rng(0)
        cases = []
        for m in corpus.seeds()[:3] + corpus.seeds()[5:6] + corpus.seeds()[7:8]:
            net = loadrun.load(m, progress=False)
            feeds = corpus.feeds_for(net, rng)
            ref = loadrun.load(m, algo="NAIVE", progress=False).run(feeds)
            for pre in (False, True):
                loadrun.load(m, fast_run=True, fast_run_algo_policy=path, weight_preprocess=pre,
                             progress=False).run(feeds)
            cases.append((m, feeds, ref))
        with open(path, "rb") as f:
            _BASE["bytes"] = f.read()
        _BASE["cases"] = cases
    return _BASE["bytes"], _BASE["cases"]


ALGO_NAMES = ["NAIVE", "SGEMM", "WINOGRAD_F63", "WINOGRAD_F43", "IM2COL_GEMM", "CONV1x1_GEMM", "DEPTHWISE_DIRECT",
              "DIRECT_SMALL_IC", "ELEMWISE_AVX2", "POOL_AVX2", "", "NOPE", "x" * 1000]


def edit(cats, rng):
    cat, entries = cats[int(rng.integers(len(cats)))]
    if not entries:
        return
    e = entries[int(rng.integers(len(entries)))]
    k = int(rng.integers(0, 9))
    if k == 0 and e["cands"]:
        e["cands"][int(rng.integers(len(e["cands"])))][0] = str(rng.choice(ALGO_NAMES)).encode()
    elif k == 1 and e["cands"]:
        e["cands"][int(rng.integers(len(e["cands"])))][1] = int(rng.integers(0, 2**32))
    elif k == 2 and e["cands"]:
        e["cands"][int(rng.integers(len(e["cands"])))][2] = float(rng.choice([0.0, -1.0, np.nan, np.inf, 1e-9]))
    elif k == 3 and e["cands"]:
        e["cands"][int(rng.integers(len(e["cands"])))][3] = [0, 2**63, 2**64 - 1, 1 << 40, 64][int(rng.integers(5))]
    elif k == 4:
        lst = e["in"] if rng.random() < 0.5 else e["out"]
        if lst and rng.random() < 0.5:
            del lst[int(rng.integers(len(lst)))]
        elif lst:
            lst[int(rng.integers(len(lst)))] = bytes(rng.integers(0, 256, int(rng.integers(0, 40)), dtype=np.uint8))
    elif k == 5:
        p = bytearray(e["params"])
        if p:
            p[int(rng.integers(len(p)))] ^= 1 << int(rng.integers(8))
        e["params"] = bytes(p)
    elif k == 6:
        e["wp"] = int(rng.integers(0, 256))
    elif k == 7 and e["cands"]:
        if rng.random() < 0.5:
            del e["cands"][int(rng.integers(len(e["cands"])))]
        else:
            e["cands"].append(list(e["cands"][int(rng.integers(len(e["cands"])))]))
    else:
        e["op"] = str(rng.choice(["Conv", "MatMul", "Gemm", "Relu", ""])).encode()


def prepare(workdir):
    base(workdir)


def run_case(rng, workdir):
    data, cases = base(workdir)
    version = struct.unpack_from("<I", data, 8)[0]
    payload = data[20:-8]
    k = int(rng.integers(0, 3))
    if k == 0:
        data = mutate_bytes(data, rng)
    elif k == 1:
        data = frame(mutate_bytes(payload, rng), version)
    else:
        cats = decode(payload)
        for _ in range(int(rng.integers(1, 4))):
            edit(cats, rng)
        data = frame(encode(cats), version)
    path = os.path.join(workdir, "case.cache")
    for p in os.listdir(workdir):
        if p.startswith("case.cache"):
            os.unlink(os.path.join(workdir, p))
    with open(path, "wb") as f:
        f.write(data)
    model, feeds, ref = cases[int(rng.integers(len(cases)))]
    profile = rng.random() < 0.3
    pre = bool(rng.random() < 0.5)
    net = loadrun.load(model, fast_run=profile, fast_run_algo_policy=path, weight_preprocess=pre, progress=False)
    got = net.run(feeds)
    for name in ref:
        compare(got[name], ref[name], "cache", name, accumulating=True)
    return "ok"
