"""ONNX node conformance: every `node` test case of the installed onnx package,
run through loadrun.backend and compared as onnx's own runner does
(np.testing.assert_allclose with the case's rtol/atol, exact dtype and shape).

Every case that is not expected to pass is listed in
tests/onnx_conformance_expected_failures.txt (`test_name  # reason`). The suite
fails when a listed case passes ("now passes: remove it from the list") or an
unlisted case fails.

The cases run in a child process (this file with --worker) that streams one
JSON line per case, so a crash or hang in the core costs one case, not the
whole run: the parent records it as "crash" and starts a new child after it.

    PYTHONPATH=python python tests/test_onnx_conformance.py --write  # regenerate the list (review it!)
    python tests/test_onnx_conformance.py --worker  # JSON lines, one per case
"""
import json
import os
import re
import subprocess
import sys
import time
import warnings

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
EXPECTED_FILE = os.path.join(HERE, "onnx_conformance_expected_failures.txt")
CASE_TIMEOUT_S = 20  # no output from the worker for this long: the current case hangs

TRAINING_OPS = {"Adagrad", "Adam", "Momentum", "Gradient"}


# ---------------------------------------------------------------- worker side
def _load_cases():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import numpy as np

        with np.errstate(all="ignore"):
            from onnx.backend.test.loader import load_node_model_tests

            cases = load_node_model_tests()
    return sorted(cases, key=lambda c: c.name)


def _strip_node(msg):
    """The message without its leading node name ("Pad_0 (Pad): ", "Conv_9{Conv}: ")."""
    msg = re.sub(r"^(node '[^']*'|\w+) \(\w+\): |^\w+\{\w+\}: |^\w+ node '[^']*': ", "", msg)
    return re.sub(r"^(\w+): ", "", msg) if msg.split(":")[0].isidentifier() else msg


def _unsupported_reason(first):
    """A short reason for an UnsupportedError raised by an op (not by the importer's op check)."""
    m = re.match(r"^\w+ \((\w+)\): (.+?) \(input \d+\) must be known at compile time", first)
    if m:
        op, what = m.groups()
        what = what[len(op) + 1:] if what.startswith(op + " ") else what
        return f"dynamic shape (data-dependent): {op} {what} is a graph input"
    msg = _strip_node(first)
    op = re.match(r"^\w+ \((\w+)\)|^\w+\{(\w+)\}|^(\w+) node", first)
    op = next((g for g in op.groups() if g), "?") if op else "?"
    m = re.search(r"target type (\w+) \(\d+\) is not supported", msg)
    if m:
        return f"unsupported dtype {m.group(1).lower()} (Cast target)"
    m = (re.search(r"dtype (\w+) is not supported", msg) or re.search(r"^\w+ on (\w+): supported are", msg))
    if m:
        return f"{m.group(1)} not supported by {op}"
    if "training" in msg.lower():
        return f"training mode ({op})"
    m = re.match(r"model uses ai.onnx opset (\d+)", msg)
    if m:
        return f"opset {m.group(1)} (older than 7)"
    return "unsupported: " + (msg if op in msg else f"{op}: {msg}")


def _classify(case, exc):
    """A short reason for a failure, from the error and the model."""
    from loadrun.errors import ModelError, UnsupportedError

    ops = {n.op_type for n in case.model.graph.node}
    domains = {n.domain for n in case.model.graph.node}
    msg = str(exc).strip()
    first = msg.splitlines()[0] if msg else type(exc).__name__
    if ops & TRAINING_OPS or "ai.onnx.preview.training" in domains:
        return "training op"
    if isinstance(exc, UnsupportedError):
        m = re.match(r"unsupported operators: (.*)", first)
        if m:
            names = sorted({p.strip().split(" ")[0] for p in m.group(1).split(";")})
            return ("unsupported op " if len(names) == 1 else "unsupported ops ") + ", ".join(names)
        m = re.search(r"element type (\w+) is not supported", first)
        if m:
            return f"unsupported dtype {m.group(1)}"
        if "only tensor inputs" in first:
            return "non-tensor input (sequence/optional)"
        return _unsupported_reason(first)
    if isinstance(exc, ModelError):  # a case of the ONNX suite is a valid model: a bug in loadrun
        return "rejected as invalid (ModelError): " + _strip_node(first)
    if isinstance(exc, AssertionError):
        if "incorrect shape" in msg:
            return "wrong result: output shape " + " ".join(msg.split())[:120]
        if "Items are not equal" in msg:
            return "wrong result: output dtype " + " ".join(msg.split())[:120]
        m = re.search(r"Max absolute difference[^:]*: *([^\s]+)", msg)
        mm = re.search(r"Mismatched elements: *([^\n]+)", msg)
        return "wrong result: " + ", ".join(x for x in (
            f"mismatched {mm.group(1).strip()}" if mm else "",
            f"max abs diff {m.group(1)}" if m else "") if x) if (m or mm) else "wrong result: " + first[:120]
    return f"{type(exc).__name__}: {first[:160]}"


def _run_case(case):
    import numpy as np
    from onnx.backend.test.runner import Runner, _normalize_tensor

    import loadrun.backend as backend

    try:
        rep = backend.prepare(case.model, "CPU")
        for inputs, ref_outputs in case.data_sets:
            inputs_ = [_normalize_tensor(x) for x in inputs]
            refs = [_normalize_tensor(x) for x in ref_outputs]
            with np.errstate(all="ignore"):
                outs = rep.run(inputs_)
            Runner.assert_similar_outputs(refs, outs, rtol=case.rtol, atol=case.atol)
    except Exception as e:  # every kind of failure is a result here
        return {"name": case.name, "ok": False, "reason": _classify(case, e)}
    return {"name": case.name, "ok": True}


def worker(start):
    cases = _load_cases()
    out = sys.stdout
    print(json.dumps({"total": len(cases), "names": [c.name for c in cases]}), file=out, flush=True)
    for i, case in enumerate(cases):
        if i < start:
            continue
        print(json.dumps({"start": i}), file=out, flush=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            r = _run_case(case)
        print(json.dumps(r), file=out, flush=True)


# ---------------------------------------------------------------- parent side
def run_all():
    """{case name: None (pass) or reason}, crashes and hangs included."""
    import select

    results, names, start = {}, None, 0
    env = dict(os.environ)
    import loadrun  # the worker imports loadrun from where this process did

    where = os.path.dirname(os.path.dirname(os.path.abspath(loadrun.__file__)))
    env["PYTHONPATH"] = os.pathsep.join([where] + [p for p in sys.path if p])
    while names is None or start < len(names):
        proc = subprocess.Popen([sys.executable, os.path.abspath(__file__), "--worker", str(start)],
                                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env, text=True)
        current, buf, last = None, "", time.monotonic()
        try:
            while True:
                ready, _, _ = select.select([proc.stdout], [], [], 1.0)
                if ready:
                    line = proc.stdout.readline()
                    if not line:
                        break
                    last = time.monotonic()
                    msg = json.loads(line)
                    if "total" in msg:
                        names = msg["names"]
                    elif "start" in msg:
                        current = msg["start"]
                    else:
                        results[msg["name"]] = None if msg["ok"] else msg["reason"]
                        current = None
                        start = names.index(msg["name"]) + 1
                elif current is not None and time.monotonic() - last > CASE_TIMEOUT_S:
                    proc.kill()
                    results[names[current]] = f"hang: no result within {CASE_TIMEOUT_S} s"
                    start = current + 1
                    break
                elif names is None and time.monotonic() - last > 300:
                    proc.kill()
                    raise RuntimeError("the conformance worker did not start")
        finally:
            rc = proc.wait()
        if current is not None and names[current] not in results:
            results[names[current]] = f"crash: the process died (exit code {rc})"
            start = current + 1
        elif names is None:
            raise RuntimeError(f"the conformance worker failed (exit code {rc})")
        elif current is None and start < len(names) and rc != 0:
            raise RuntimeError(f"the conformance worker died between cases (exit code {rc})")
    return results


def read_expected(path=EXPECTED_FILE):
    expected = {}
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            name, _, reason = line.partition("#")
            expected[name.strip()] = reason.strip()
    return expected


def write_expected(results, path=EXPECTED_FILE):
    failing = sorted((n, r) for n, r in results.items() if r is not None)
    width = max(len(n) for n, _ in failing) + 2
    with open(path, "w") as f:
        f.write("# ONNX node conformance cases that loadrun does not pass (tests/test_onnx_conformance.py).\n"
                "# One line per case: test_name  # reason. Remove a line when its case passes.\n")
        for n, r in failing:
            f.write(f"{n.ljust(width)}# {r}\n")


# ---------------------------------------------------------------- loadrun.backend itself
def test_backend_devices():
    import loadrun.backend as backend

    assert backend.supports_device("CPU")
    assert not backend.supports_device("CUDA")
    assert not backend.supports_device("TPU")


def test_backend_run_node():
    import numpy as np
    from onnx import helper

    import loadrun.backend as backend

    rng = np.random.default_rng(0)
    a = rng.standard_normal((2, 3)).astype(np.float32)
    b = rng.standard_normal((3,)).astype(np.float32)
    (y,) = backend.run_node(helper.make_node("Add", ["a", "b"], ["y"]), [a, b])
    np.testing.assert_allclose(y, a + b, rtol=1e-6)
    (y,) = backend.run_node(helper.make_node("Sub", ["a", "b"], ["y"]), {"a": a, "b": b}, opset_version=13)
    np.testing.assert_allclose(y, a - b, rtol=1e-6)
    # an optional input left out by an empty name: the list holds the given ones only
    mx = np.array(0.5, dtype=np.float32)
    (y,) = backend.run_node(helper.make_node("Clip", ["x", "", "max"], ["y"]), [a, mx])
    np.testing.assert_allclose(y, np.minimum(a, 0.5), rtol=1e-6)
    ix = np.array([[1, 2], [3, 4]], dtype=np.int64)
    (y,) = backend.run_node(helper.make_node("Transpose", ["x"], ["y"], perm=[1, 0]), [ix])
    assert y.dtype == np.int64 and y.tolist() == [[1, 3], [2, 4]]
    with pytest.raises(ValueError):
        backend.run_node(helper.make_node("Add", ["a", "b"], ["y"]), [a])


def _symbolic_model():
    from onnx import TensorProto, helper, numpy_helper
    import numpy as np

    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", "c"])
    w = helper.make_tensor_value_info("w", TensorProto.FLOAT, [1])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, None)
    z = helper.make_tensor_value_info("z", TensorProto.FLOAT, None)
    init = numpy_helper.from_array(np.array([2.0], dtype=np.float32), "w")
    g = helper.make_graph([helper.make_node("Mul", ["x", "w"], ["y"]), helper.make_node("Relu", ["y"], ["z"])],
                          "g", [x, w], [z, y], [init])
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])


def test_backend_prepare_and_run():
    import numpy as np

    import loadrun.backend as backend

    rep = backend.prepare(_symbolic_model(), "CPU")
    for shape in [(2, 3), (5, 1)]:
        x = np.linspace(-1, 1, int(np.prod(shape)), dtype=np.float32).reshape(shape)
        z, y = rep.run([x])  # the initializer w is not an input to give
        np.testing.assert_allclose(y, 2 * x, rtol=1e-6)
        np.testing.assert_allclose(z, np.maximum(2 * x, 0), rtol=1e-6)
        z2, _ = rep.run({"x": x})
        np.testing.assert_array_equal(z2, z)
    (z, y) = backend.run_model(_symbolic_model(), [np.ones((1, 4), np.float32)])
    assert z.shape == (1, 4) and y.tolist() == [[2.0] * 4]
    with pytest.raises(ValueError):
        rep.run([x, x])
    with pytest.raises(RuntimeError):
        backend.prepare(_symbolic_model(), "CUDA")


def test_backend_errors_propagate():
    import numpy as np
    from onnx import helper

    import loadrun
    import loadrun.backend as backend

    with pytest.raises(loadrun.UnsupportedError, match="NoSuchOp"):
        backend.run_node(helper.make_node("NoSuchOp", ["x"], ["y"], domain="com.example"), [np.ones(2, np.float32)])
    with pytest.raises(loadrun.LoadrunError):
        # shapes that do not broadcast
        backend.run_node(helper.make_node("Add", ["a", "b"], ["y"]),
                         [np.ones((2, 3), np.float32), np.ones((4,), np.float32)])


# ---------------------------------------------------------------- the test
def test_onnx_node_conformance(request):
    results = run_all()
    expected = read_expected()
    passed = [n for n, r in results.items() if r is None]
    line = f"ONNX node conformance: passed {len(passed)} / run {len(results)} / listed {len(expected)}"
    request.config.onnx_conformance_summary = line  # printed by conftest's terminal summary hook
    print(line)
    now_pass = sorted(n for n in passed if n in expected)
    new_fail = sorted((n, r) for n, r in results.items() if r is not None and n not in expected)
    unknown = sorted(n for n in expected if n not in results)
    problems = [f"{n}: now passes: remove it from the list" for n in now_pass]
    problems += [f"{n}: fails but is not listed ({r})" for n, r in new_fail]
    problems += [f"{n}: listed but there is no such case in this onnx version" for n in unknown]
    assert not problems, f"{len(problems)} conformance mismatches:\n" + "\n".join(problems)


if __name__ == "__main__":
    if len(sys.argv) >= 2 and sys.argv[1] == "--worker":
        worker(int(sys.argv[2]) if len(sys.argv) > 2 else 0)
    elif len(sys.argv) >= 2 and sys.argv[1] == "--write":
        t = time.time()
        res = run_all()
        write_expected(res)
        print(f"passed {sum(r is None for r in res.values())} / run {len(res)} in {time.time() - t:.1f} s")
    else:
        print(__doc__)
