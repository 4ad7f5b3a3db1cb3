"""The channel-blocked layouts against plain NCHW and ONNX Runtime, one thread.

For every model, in this process and on the same input: loadrun with its
default algorithms in NCHW, in NCHW44 (--enable-nchw44) and in NCHW88
(--enable-nchw88), and ONNX Runtime (intra_op_num_threads=1,
ORT_ENABLE_ALL, which itself runs convs in NCHWc). Interleaved round by
round; the table gives median latencies and each layout's ratio to ORT
(below 1.0: loadrun is faster), plus how many relayout steps each plan has.

    python bench/layouts.py [--rounds 7] [--iters 3] [models...]   (default: resnet18 resnet50 mobilenetv2)
"""
import argparse
import os
import statistics
import sys
import time

import loadrun
from loadrun import zoo

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from compare import ort_session  # noqa: E402
from zoo_latency import feeds_for  # noqa: E402

LAYOUTS = [None, "nchw44", "nchw88"]


def relayouts(net):
    return sum(1 for s in net.steps() if "{ToNCHWc}" in s[0] or "{FromNCHWc}" in s[0])


def bench(name, rounds, iters):
    model = zoo.build(name)
    nets = {lay: loadrun.load(model, layout=lay) for lay in LAYOUTS}
    feeds = feeds_for(nets[None], None)
    for n in nets.values():
        n.set_inputs(feeds)
        n.benchmark(iters=0, warmup=2)
    sess = ort_session(model.SerializeToString())
    for _ in range(2):
        sess.run(None, feeds)
    times = {k: [] for k in LAYOUTS + ["ort"]}
    for _ in range(rounds):
        for lay, n in nets.items():
            times[lay].extend(n.benchmark(iters=iters, warmup=0))
        for _ in range(iters):
            t = time.perf_counter()
            sess.run(None, feeds)
            times["ort"].append((time.perf_counter() - t) * 1e3)
    med = {k: statistics.median(v) for k, v in times.items()}
    return med, {lay: relayouts(n) for lay, n in nets.items()}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("models", nargs="*", default=["resnet18", "resnet50", "mobilenetv2"])
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--iters", type=int, default=3)
    a = ap.parse_args()
    print(f"isa {loadrun.isa_level()}; median ms over {a.rounds}x{a.iters} runs; ratio = loadrun / ORT")
    print("| model | NCHW | NCHW44 | NCHW88 | ORT | NCHW/ORT | NCHW44/ORT | NCHW88/ORT | relayouts 44 / 88 |")
    print("|---|---|---|---|---|---|---|---|---|")
    for name in a.models:
        med, rel = bench(name, a.rounds, a.iters)
        o = med["ort"]
        print(f"| {name} | {med[None]:.2f} | {med['nchw44']:.2f} | {med['nchw88']:.2f} | {o:.2f} | "
              f"{med[None] / o:.2f} | {med['nchw44'] / o:.2f} | {med['nchw88'] / o:.2f} | "
              f"{rel['nchw44']} / {rel['nchw88']} |", flush=True)


if __name__ == "__main__":
    main()
