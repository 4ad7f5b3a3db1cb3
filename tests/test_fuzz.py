"""The fuzzers of tests/fuzz, bounded, in the test suite; and regression
tests for what they found.

Each target runs in a worker child process, each case under a timeout
(tests/fuzz/harness.py); a crash (signal), a hang, a Python traceback, an
InternalError or a result that differs from NAIVE fails the test with the
case's seed and the command that reproduces it. Known-open findings
(tests/fuzz/known.py) are listed but do not fail.

Environment:
  LOADRUN_FUZZ_SECONDS  time budget for all targets together
                        (default 120 when CI is set, else 30)
  LOADRUN_FUZZ_SEED     base seed (default: a fixed one, so the suite is
                        deterministic; "random" draws one, printed)
  LOADRUN_FUZZ_CASES    at most this many cases per target (default 2000: each
                        target ends well inside its time budget, so the same
                        cases run on every machine; raise it to explore)
  LOADRUN_FUZZ_TIMEOUT  seconds per case before it counts as a hang (default 30)
"""
import os
import random
import warnings

import numpy as np
import pytest
from onnx import TensorProto, helper

import loadrun
from fuzz import TARGETS, harness
from onnx_ref import make_model

SECONDS = float(os.environ.get("LOADRUN_FUZZ_SECONDS", "120" if os.environ.get("CI") else "30"))
_seed = os.environ.get("LOADRUN_FUZZ_SEED", "765958696")
SEED = random.SystemRandom().randrange(2**32) if _seed == "random" else int(_seed)
CASES = int(os.environ.get("LOADRUN_FUZZ_CASES", "2000"))
TIMEOUT = float(os.environ.get("LOADRUN_FUZZ_TIMEOUT", "30"))


@pytest.mark.parametrize("target", TARGETS)
def test_fuzz(target, tmp_path, capsys):
    stats, findings = harness.fuzz(target, SEED, CASES, SECONDS / len(TARGETS), TIMEOUT, str(tmp_path))
    new = [f for f in findings if not f.known]
    known = sorted({f.known for f in findings if f.known})
    with capsys.disabled():
        print(f"\nfuzz {target}: seed {SEED} (LOADRUN_FUZZ_SEED): {stats}"
              + (f"; known-open: {known}" if known else ""))
    assert stats["cases"] > 0, f"{target}: no case ran"
    assert stats["ok"] > 0, f"{target}: no case gave a result: {stats} (the fuzzer lost its way)"
    assert not new, f"{len(new)} finding(s), seed {SEED}:\n" + "\n".join(str(f) for f in new[:10])


# -- regression tests for fuzz findings ------------------------------------

def test_legacy_reduce_axes_attribute_of_strings_is_a_model_error():
    """opset_compat.attr_to_input: a non-integer 'axes' attribute (opset 11)."""
    node = helper.make_node("ReduceSum", ["x"], ["y"], axes=["half_pixel"])
    m = make_model([node], [("x", np.float32, [2, 3])], [("y", np.float32, None)], opset=11)
    with pytest.raises(loadrun.ModelError, match="axes"):
        loadrun.load(m)


def test_output_too_large_for_memory_is_a_resource_error():
    """alloc_aligned: running out of memory is a ResourceError, not an InternalError."""
    node = helper.make_node("Expand", ["x", "s"], ["y"])
    m = make_model([node], [("x", np.float32, [1])], [("y", np.float32, None)],
                   [("s", np.array([1 << 44], np.int64))])  # 64 TiB, under the 2^48 plausibility cap
    with pytest.raises((loadrun.ResourceError, loadrun.InputError), match="memory|allocate"):
        loadrun.load(m).run({"x": np.ones(1, np.float32)})


def test_complex_feed_converts_without_a_warning_or_is_refused():
    """convert_feed: a complex array (a .npy input) into a float input."""
    node = helper.make_node("Identity", ["x"], ["y"])
    net = loadrun.load(make_model([node], [("x", np.float32, [2])], [("y", np.float32, None)]))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        y = net.run({"x": np.array([1 + 0j, 2 + 0j], np.complex64)})["y"]
        np.testing.assert_array_equal(y, [1, 2])
        with pytest.raises(loadrun.InputError, match="without loss"):
            net.run({"x": np.array([1 + 1j, 2], np.complex64)})


@pytest.mark.parametrize("op,w_shape", [("Conv", [4, 2, 3, 3]), ("ConvTranspose", [2, 3, 3, 3])])
def test_conv_weight_of_another_dtype_is_a_model_error(op, w_shape):
    """ASan found NAIVE reading an int4 weight as float32, out of bounds."""
    w = helper.make_tensor("w", TensorProto.INT4, w_shape, [1] * int(np.prod(w_shape)))
    node = helper.make_node(op, ["x", "w"], ["y"])
    m = make_model([node], [("x", np.float32, [1, 2, 5, 5])], [("y", np.float32, None)])
    m.graph.initializer.append(w)
    with pytest.raises(loadrun.ModelError, match="dtype"):
        loadrun.load(m).run({"x": np.ones((1, 2, 5, 5), np.float32)})


def test_input_shape_beyond_int64_is_refused():
    """UBSan found contiguous_strides overflowing int64 on a huge input shape."""
    node = helper.make_node("Relu", ["x"], ["y"])
    m = make_model([node], [("x", np.float32, [2**62, 192])], [("y", np.float32, None)])
    with pytest.raises(loadrun.LoadrunError):
        loadrun.load(m)


def test_fuzz_harness_reports_a_crash_with_its_seed(tmp_path):
    """The harness itself: a case that kills its worker is a finding."""
    stats, findings = harness.fuzz("selftest_crash", 1, 2, 60, 30, str(tmp_path))
    assert stats["cases"] == 2 and len(findings) == 2
    # A plain build dies by SIGSEGV; under AddressSanitizer, ASan reports the SEGV and exits.
    assert all(f.kind == "crash" and ("SIGSEGV" in f.detail or "SEGV" in f.detail) for f in findings), \
        [str(f) for f in findings]


def test_fuzz_harness_reports_a_hang_with_its_stack(tmp_path):
    stats, findings = harness.fuzz("selftest_hang", 1, 1, 60, 5, str(tmp_path))
    assert stats["cases"] == 1 and len(findings) == 1
    assert findings[0].kind == "hang" and "selftest_hang.py" in findings[0].detail, str(findings[0])
