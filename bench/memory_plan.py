"""Static memory plan and peak RSS per model: loadrun against ONNX Runtime.

Per zoo model and public real model (the test cache, as bench/compare.py):
- from `net.memory_info()`: planned activation arena, the lower bound (the
  largest sum of live tensor bytes over any step), the no-reuse total, the
  workspace and the weights (as loaded / kept after preprocessing: originals
  freed, prepared forms added); ratios planned/lower-bound and planned/no-reuse.
  These are byte counts: they do not depend on machine load.
- a correctness check: outputs with the planner on and with
  disable_mem_opt=True must be identical (max abs difference printed).
- peak RSS: each engine in its own fresh child process that imports numpy,
  reads ru_maxrss ("base"), imports the library ("import"), loads the model
  from a file, runs it N times on the same input and reads ru_maxrss again
  ("peak"). ru_maxrss is a high-water mark, so "peak" includes the import.

    python bench/memory_plan.py [--runs 5] [--no-real] [models...]
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
MiB = 1024 * 1024


def child(engine, path, feeds_path, shapes, runs):
    import resource

    import numpy as np

    def rss():
        # VmHWM, the peak RSS of this address space. ru_maxrss (RUSAGE_SELF) is
        # the same high-water mark but Linux carries the parent's over
        # fork+exec, so a child of a big parent would report the parent's peak.
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux

    feeds = dict(np.load(feeds_path))
    base = rss()
    if engine == "loadrun":
        import loadrun

        imp = rss()
        net = loadrun.load(path, input_shapes=shapes or None)
        for _ in range(runs):
            net.run(feeds)
    else:
        import onnxruntime as ort

        imp = rss()
        so = ort.SessionOptions()
        so.intra_op_num_threads = 1
        so.inter_op_num_threads = 1
        sess = ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])
        for _ in range(runs):
            sess.run(None, feeds)
    print(json.dumps({"base": base, "import": imp, "peak": rss()}))


def measure_rss(engine, path, feeds_path, shapes, runs):
    cmd = [sys.executable, __file__, "--child", engine, path, feeds_path, json.dumps(shapes), str(runs)]
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode:
        err = (p.stderr.strip().splitlines() or ["?"])[-1]
        print(f"({engine} child for {path} failed, exit {p.returncode}: {err[:200]})", flush=True)
        return {"base": 0, "import": 0, "peak": float("nan")}
    return json.loads(p.stdout.strip().splitlines()[-1])


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("models", nargs="*", help="zoo models (default: all)")
    ap.add_argument("--runs", type=int, default=5, help="runs per child process")
    ap.add_argument("--no-real", action="store_true", help="zoo models only")
    ap.add_argument("--child", nargs=5, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        engine, path, feeds_path, shapes, runs = args.child
        return child(engine, path, feeds_path, json.loads(shapes), int(runs))

    import numpy as np
    import onnxruntime as ort

    import loadrun
    from loadrun import zoo

    sys.path.insert(0, HERE)
    from compare import models
    from zoo_latency import cpu_model, feeds_for

    zoo_names = [n for n, _ in zoo.list_models()]
    names = args.models or zoo_names  # zoo and real model names (test_real_models.CASES) mix
    real_only = [n for n in args.models if n not in zoo_names]
    tmp = tempfile.mkdtemp(prefix="loadrun-memplan-")
    print(f"machine: {cpu_model()}, {os.cpu_count()} logical cores; loadrun {loadrun.__version__}, "
          f"onnxruntime {ort.__version__}; {args.runs} runs per child process")
    print("MiB = 2^20 bytes. plan/lb = arena / lower bound; plan/nr = arena / no-reuse total; "
          "RSS: base -> after import -> peak")
    rows = []
    for name, model, shapes, given in models(names, not args.no_real, zoo_names, real_only):
        path = os.path.join(tmp, name + ".onnx")
        with open(path, "wb") as f:
            f.write(model.SerializeToString())
        net = loadrun.load(path, input_shapes=shapes)
        feeds = feeds_for(net, given)
        feeds_path = os.path.join(tmp, name + ".npz")
        np.savez(feeds_path, **feeds)
        m = net.memory_info()
        out_on = net.run(feeds)
        off = loadrun.load(path, input_shapes=shapes, disable_mem_opt=True)
        out_off = off.run(feeds)
        diff = max(float(np.max(np.abs(np.asarray(out_on[k], np.float64) - np.asarray(out_off[k], np.float64))))
                   if np.asarray(out_on[k]).size else 0.0 for k in out_on)
        del net, off
        shp = {k: list(v.shape) for k, v in feeds.items()}
        lr = measure_rss("loadrun", path, feeds_path, shp, args.runs)
        ox = measure_rss("ort", path, feeds_path, shp, args.runs)
        row = dict(model=name, arena=m["arena_bytes"], lb=m["lower_bound_bytes"], nr=m["no_reuse_bytes"],
                   ws=m["workspace_bytes"], w=m["weight_bytes"],
                   w_after=m["weight_bytes"] - m["freed_weight_bytes"] + m["prepared_weight_bytes"],
                   tensors=len(m["tensors"]), diff=diff,
                   lr=lr, ort=ox)
        rows.append(row)
        print(json.dumps(row), flush=True)

    print()
    print("| model | arena MiB | lower bound MiB | no-reuse MiB | plan/lb | plan/nr | workspace MiB | "
          "weights MiB loaded/kept | on-off max diff | loadrun RSS MiB base/import/peak | ORT RSS MiB base/import/peak | "
          "peak loadrun/ORT |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        lb = r["lb"] or 1
        nr = r["nr"] or 1
        fm = lambda d: "/".join(f"{d[k] / MiB:.0f}" for k in ("base", "import", "peak"))  # noqa: E731
        print(f"| {r['model']} | {r['arena'] / MiB:.2f} | {r['lb'] / MiB:.2f} | {r['nr'] / MiB:.2f} | "
              f"{r['arena'] / lb:.3f} | {r['arena'] / nr:.3f} | {r['ws'] / MiB:.2f} | "
              f"{r['w'] / MiB:.1f}/{r['w_after'] / MiB:.1f} | "
              f"{r['diff']:.1e} | {fm(r['lr'])} | {fm(r['ort'])} | {r['lr']['peak'] / r['ort']['peak']:.2f} |")


if __name__ == "__main__":
    main()
