"""The executor's switches (spec section 9), each with a test that shows its
effect, and the seam for operators registered at run time.

The models use the test-only operators of domain test.runtime
(csrc/runtime/test_ops.h), registered at run time from outside ops.inc, as
an operator library will be: Scale2 (y = 2x) and Overrun (y = x, then one
float written past y's end).
"""
import numpy as np
import pytest
from onnx import TensorProto, helper, save

import loadrun
from loadrun import _core
from loadrun.cli.main import main
from loadrun.errors import InputError, InternalError, UnsupportedError

_core._register_runtime_test_ops()


def model(ops=("Scale2", "Relu", "Scale2"), shape=(2, 8)):
    nodes, prev = [], "x"
    for i, op in enumerate(ops):
        out = "y" if i == len(ops) - 1 else f"t{i}"
        domain = "test.runtime" if op in ("Scale2", "Overrun") else ""
        nodes.append(helper.make_node(op, [prev], [out], name=f"{op.lower()}{i}", domain=domain))
        prev = out
    g = helper.make_graph(nodes, "executor", [helper.make_tensor_value_info("x", TensorProto.FLOAT, list(shape))],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)])
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("test.runtime", 1)],
                             ir_version=8)


def ref(x, ops=("Scale2", "Relu", "Scale2")):
    for op in ops:
        x = 2 * x if op == "Scale2" else np.maximum(x, 0) if op == "Relu" else x
    return x


def feed(seed, shape=(2, 8)):
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


def test_runtime_registered_op_is_planned_and_runs():
    net = loadrun.load(model())
    x = feed(0)
    assert net.run({"x": x})["y"].tolist() == ref(x).tolist()
    names = {t[0] for t in net.memory_info()["tensors"]}
    assert {"x", "t0", "t1", "y"} <= names  # in the arena, planned like any op


def test_sanity_check_names_the_operator_that_wrote_out_of_bounds():
    net = loadrun.load(model(("Scale2", "Overrun", "Relu")), sanity_check=True)
    with pytest.raises(InternalError, match=r"overrun1.*Overrun.*wrote past the end of tensor 't1'"):
        net.run({"x": feed(1)})
    # well-behaved kernels pass it, and only the first run of a plan pays for it
    good = loadrun.load(model(), sanity_check=True)
    for s in range(3):
        x = feed(s)
        assert good.run({"x": x})["y"].tolist() == ref(x).tolist()


def test_sanity_check_on_zoo_models():
    from loadrun import zoo

    for name in ("mlp", "mobilenetv2"):
        m = zoo.build(name)
        x = np.random.default_rng(3).standard_normal((1, 1024) if name == "mlp" else (1, 3, 224, 224))
        want = loadrun.load(m).run({"input": x.astype(np.float32)})
        got = loadrun.load(m, sanity_check=True).run({"input": x.astype(np.float32)})
        for k in want:
            assert np.array_equal(got[k], want[k])


def test_record_comp_seq_replays_with_new_input_values():
    net = loadrun.load(model(), record_comp_seq=1)
    seen = []
    net.add_step_callback(lambda *a: seen.append(a[0]))
    for s in range(4):
        x = feed(s)
        assert net.run({"x": x})["y"].tolist() == ref(x).tolist()
        assert net.replaying  # recorded by the first run
    assert seen == [0, 1, 2]  # observers saw the recording run; replays call the kernels alone
    t = net.benchmark(iters=3, warmup=0)
    assert len(t) == 3


def test_record_comp_seq2_frees_metadata():
    net = loadrun.load(model(), record_comp_seq=2)
    x = feed(5)
    assert net.run({"x": x})["y"].tolist() == ref(x).tolist()
    assert net.freed_bytes > 0
    x = feed(6)
    assert net.run({"x": x})["y"].tolist() == ref(x).tolist()
    assert net.outputs[0].shape == (2, 8)


def test_record_comp_seq_needs_static_shapes():
    with pytest.raises(UnsupportedError, match="needs static shapes.*--const-shape"):
        loadrun.load(model(shape=("N", 8)), record_comp_seq=1)
    net = loadrun.load(model(shape=("N", 8)), {"x": [2, 8]}, record_comp_seq=1, const_shape=True)
    x = feed(7)
    assert net.run({"x": x})["y"].tolist() == ref(x).tolist()
    with pytest.raises(InputError, match="fixed"):
        net.run({"x": feed(8, (3, 8))})


def test_const_shape_fixes_the_first_shapes():
    net = loadrun.load(model(shape=("N", 8)), {"x": [4, 8]}, const_shape=True)  # fixed at load
    net.run({"x": feed(0, (4, 8))})
    with pytest.raises(InputError, match=r"input shapes are fixed \(--const-shape\)"):
        net.run({"x": feed(0, (2, 8))})
    free = loadrun.load(model(shape=("N", 8)))
    free.run({"x": feed(0, (4, 8))})
    free.run({"x": feed(0, (2, 8))})


def test_fake_first_runs_no_kernel_the_first_time():
    net = loadrun.load(model(), fake_first=True)
    seen = []
    net.add_step_callback(lambda *a: seen.append(a[0]))
    net.run({"x": feed(0)})
    assert seen == []  # allocated and prepared, no kernel ran
    x = feed(1)
    assert net.run({"x": x})["y"].tolist() == ref(x).tolist()
    assert seen == [0, 1, 2]


def write(tmp_path, m, name="m.onnx"):
    path = tmp_path / name
    save(m, str(path))
    return str(path)


def cli(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_switches(capsys, tmp_path):
    path = write(tmp_path, model())
    for flags in (["--record-comp-seq"], ["--record-comp-seq2", "--no-sanity-check"], ["--fake-first"],
                  ["--const-shape"], ["--no-sanity-check"], ["--record_comp_seq", "--const_shape"]):
        code, out, err = cli(capsys, path, "--iter", "2", *flags)
        assert code == 0, (flags, err)
    code, _, err = cli(capsys, path, "--record-comp-seq2")
    assert code == 2 and "--record-comp-seq2 needs --no-sanity-check" in err
    code, _, err = cli(capsys, path, "--record-comp-seq2", "--no-sanity-check", "--fake-first")
    assert code == 2 and "--fake-first" in err
    dyn = write(tmp_path, model(shape=("N", 8)), "dyn.onnx")
    code, _, err = cli(capsys, dyn, "--record-comp-seq")
    assert code == 1 and "--const-shape" in err and len(err.splitlines()) == 1


def test_cli_sanity_check_is_on_by_default(capsys, tmp_path):
    path = write(tmp_path, model(("Scale2", "Overrun", "Relu")))
    code, _, err = cli(capsys, path, "--iter", "1")
    assert code == 1 and "wrote past the end of tensor" in err and len(err.splitlines()) == 1
