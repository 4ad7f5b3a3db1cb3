"""--input: every payload form, name rules, dtype conversion, and the errors."""
import json

import numpy as np
import pytest

import loadrun
from cli_models import relu_model, shape_model
from loadrun import InputError, TensorInfo
from loadrun.cli.main import main
from loadrun.inputs import default_feeds, parse_input_arg, pnm

F32 = [TensorInfo("data", (-1, 3), "float32")]
I32 = [TensorInfo("data", (-1,), "int32")]


def parse(text, inputs=F32):
    return parse_input_arg(text, inputs)


# -- literals ----------------------------------------------------------------
@pytest.mark.parametrize("text, shape", [
    ("[2,3,4]", (3,)),          # no extra leading 1 (reference quirk: {1,3})
    ("[[1,2],[3,4]]", (2, 2)),  # reference: {1,2,2}
    ("[1,2],[3,4]", (2, 2)),
    ("1,2,3", (3,)),
    ("[[1,2,3]]", (1, 3)),      # a leading 1 only when written
    ("7", (1,)),
    (" [ 1 , 2 ] ", (2,)),
])
def test_literal_shapes_int32(text, shape):
    arr = parse(f"data:{text}", I32)["data"]
    assert arr.shape == shape and arr.dtype == np.int32


def test_literal_values_and_float():
    arr = parse_input_arg("data:[1.5,2],[3,-4]", F32)["data"]
    assert arr.dtype == np.float32
    np.testing.assert_array_equal(arr, [[1.5, 2], [3, -4]])
    from loadrun.inputs import literal
    assert literal.parse("x", "1e3,2").dtype == np.float32
    assert literal.parse("x", "1,2").dtype == np.int32
    assert literal.parse("x", "1,3000000000").dtype == np.int64


def test_literal_int_into_float_model_converts():
    arr = parse("data:[1,2,3],[4,5,6]")["data"]
    assert arr.dtype == np.float32
    np.testing.assert_array_equal(arr, [[1, 2, 3], [4, 5, 6]])


def test_literal_float_into_int_model():
    assert parse("data:[2.0,3.0]", I32)["data"].dtype == np.int32  # lossless: fine
    with pytest.raises(InputError, match=r"input 'data': values of dtype float32 do not convert to int32"):
        parse("data:[1.5,2]", I32)


@pytest.mark.parametrize("text, what", [
    ("[1,2", "is not a list of numbers"),
    ("abc", "is not a list of numbers"),
    ("x.bin", "is not a list of numbers"),
    ("[1,true]", "not a number"),
    ('["a"]', "not a number"),
    ("[[1,2],[3]]", "rows of different lengths"),
])
def test_bad_literals(text, what):
    with pytest.raises(InputError, match="input 'data'") as e:
        parse(f"data:{text}")
    assert what in str(e.value)


# -- shapes ------------------------------------------------------------------
def test_shape_payload_fills_ones_of_model_dtype():
    arr = parse("data:{2,3}")["data"]
    assert arr.shape == (2, 3) and arr.dtype == np.float32
    np.testing.assert_array_equal(arr, 1.0)  # not 0x01 bytes (reference quirk)
    arr = parse("data:{4}", I32)["data"]
    assert arr.dtype == np.int32 and arr.tolist() == [1, 1, 1, 1]
    assert parse("data:{}", [TensorInfo("data", (), "float32")])["data"].shape == ()  # a scalar stays a scalar
    assert parse("data:{ 1 , 3 }")["data"].shape == (1, 3)


@pytest.mark.parametrize("text", ["{a,3}", "{1,-3}", "{1,3", "{1,,3}"])
def test_bad_shapes(text):
    with pytest.raises(InputError, match="input 'data': shape"):
        parse(f"data:{text}")


# -- names -------------------------------------------------------------------
TWO = [TensorInfo("a", (1, 2), "float32"), TensorInfo("b", (2,), "int32")]


def test_names():
    feeds = parse_input_arg("a:[[1,2]];b:[3,4]", TWO)
    assert feeds["a"].tolist() == [[1.0, 2.0]] and feeds["b"].tolist() == [3, 4]
    assert list(parse("[1,2,3]")) == ["data"]                          # no colon -> data
    only = [TensorInfo("x", (2,), "float32")]
    assert list(parse_input_arg("[1,2]", only)) == ["x"]              # the only input
    with_data = [TensorInfo("x", (2,), "float32"), TensorInfo("data", (2,), "float32")]
    assert list(parse_input_arg("[1,2]", with_data)) == ["data"]
    assert parse_input_arg(";;a:[[1,2]];", TWO)["a"].shape == (1, 2)  # empty items skipped
    assert parse_input_arg("", TWO) == {}


def test_name_errors():
    with pytest.raises(InputError, match=r"names no input .* \(inputs: a, b\)"):
        parse_input_arg("[1,2]", TWO)
    with pytest.raises(InputError, match=r"'c' is not an input of the model \(inputs: a, b\)"):
        parse_input_arg("c:[1,2]", TWO)
    with pytest.raises(InputError, match="input 'a' is given twice"):
        parse_input_arg("a:[[1,2]];a:{1,2}", TWO)
    with pytest.raises(InputError, match="input 'a': no value given"):
        parse_input_arg("a:", TWO)


def test_payload_split_at_first_colon_and_windows_like_path(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    np.save(tmp_path / "x.npy", np.arange(3, dtype=np.float32))
    # name at the first colon; the rest (with its colons) is the payload
    (tmp_path / "d:x.npy").write_bytes((tmp_path / "x.npy").read_bytes())
    only = [TensorInfo("x", (3,), "float32")]
    assert parse_input_arg("x:d:x.npy", only)["x"].tolist() == [0, 1, 2]
    # an existing file whose prefix is no input name is an unnamed payload
    assert parse_input_arg("d:x.npy", only)["x"].tolist() == [0, 1, 2]


# -- .json -------------------------------------------------------------------
def write_json(tmp_path, obj, name="in.json"):
    p = tmp_path / name
    p.write_text(obj if isinstance(obj, str) else json.dumps(obj))
    return str(p)


def test_json_file(tmp_path):
    p = write_json(tmp_path, {"a": {"shape": [1, 2], "type": "float", "raw": [0.5, 2]},
                              "b": {"shape": [2], "type": "int", "raw": [7, -1]}})
    feeds = parse_input_arg(p, TWO)  # names from the keys
    assert feeds["a"].dtype == np.float32 and feeds["a"].tolist() == [[0.5, 2.0]]
    assert feeds["b"].dtype == np.int32 and feeds["b"].tolist() == [7, -1]
    assert set(parse_input_arg(f"ignored:{p}", TWO)) == {"a", "b"}  # the item name is ignored


@pytest.mark.parametrize("tname, np_type", [("float32", np.float32), ("int32", np.int32), ("int8", np.int8),
                                            ("uint8", np.uint8), ("int64", np.int64)])
def test_json_types(tmp_path, tname, np_type):
    p = write_json(tmp_path, {"x": {"shape": [2, 1], "type": tname, "raw": [1, 2]}})
    target = [TensorInfo("x", (2, 1), np.dtype(np_type).name)]
    arr = parse_input_arg(p, target)["x"]
    assert arr.dtype == np_type and arr.tolist() == [[1], [2]]


def test_json_defaults(tmp_path):
    p = write_json(tmp_path, {"data": {"raw": [[1, 2, 3]]}})  # type float32, shape from nesting
    arr = parse(p)["data"]
    assert arr.dtype == np.float32 and arr.shape == (1, 3)


@pytest.mark.parametrize("content, what", [
    ("{not json", "bad JSON"),
    ("[1, 2]", "expected an object"),
    ({"nope": {"shape": [1], "raw": [1]}}, "'nope' is not an input of the model"),
    ({"data": {"shape": [2, 2], "raw": [1, 2, 3]}}, "holds 4 values, raw has 3"),
    ({"data": {"shape": [1], "type": "float16", "raw": [1]}}, "type 'float16' is not one of"),
    ({"data": {"shape": [1], "type": "int32", "raw": [1.5]}}, "not an integer"),
    ({"data": {"shape": [1], "type": "uint8", "raw": [300]}}, "out of range for uint8"),
    ({"data": {"shape": [1], "raw": ["x"]}}, "not a number"),
    ({"data": {"shape": [1]}}, "no 'raw' values"),
    ({"data": {"shape": [-1], "raw": [1]}}, "non-negative integers"),
    ({"data": {"shape": [1], "raw": [1], "dtype": "int32"}}, "unknown field"),
])
def test_json_errors(tmp_path, content, what):
    p = write_json(tmp_path, content)
    with pytest.raises(InputError) as e:
        parse(p)
    assert what in str(e.value) and p in str(e.value)


def test_json_int_into_float_and_refused(tmp_path):
    p = write_json(tmp_path, {"data": {"shape": [2], "type": "int32", "raw": [1, 2]}})
    assert parse(p)["data"].dtype == np.float32
    p = write_json(tmp_path, {"data": {"shape": [1], "type": "int32", "raw": [16777217]}})
    with pytest.raises(InputError, match="do not convert to float32 without loss"):
        parse(p)


# -- .npy --------------------------------------------------------------------
def test_npy(tmp_path):
    a = np.arange(6, dtype=np.float32).reshape(2, 3)
    np.save(tmp_path / "a.npy", a)
    np.testing.assert_array_equal(parse(f"data:{tmp_path / 'a.npy'}")["data"], a)
    np.save(tmp_path / "f.npy", np.asfortranarray(a))
    got = parse(f"data:{tmp_path / 'f.npy'}")["data"]
    np.testing.assert_array_equal(got, a)
    assert got.flags.c_contiguous
    np.save(tmp_path / "i.npy", np.array([[1, 2, 3]], dtype=np.int16))  # lossless: converted
    assert parse(f"data:{tmp_path / 'i.npy'}")["data"].dtype == np.float32
    np.save(tmp_path / "d.npy", np.array([[0.1, 0.2, 0.3]]))  # float64 not exact in float32: refused
    with pytest.raises(InputError, match="input 'data': values of dtype float64 do not convert to float32"):
        parse(f"data:{tmp_path / 'd.npy'}")
    np.save(tmp_path / "h.npy", np.array([0.5, 1.5]))
    with pytest.raises(InputError, match="do not convert to int32"):
        parse(f"data:{tmp_path / 'h.npy'}", I32)


def test_npy_errors(tmp_path):
    with pytest.raises(InputError, match="input 'data': file not found: .*missing.npy"):
        parse(f"data:{tmp_path / 'missing.npy'}")
    (tmp_path / "bad.npy").write_bytes(b"not an npy file at all")
    with pytest.raises(InputError, match="bad.npy is not a valid .npy file"):
        parse(f"data:{tmp_path / 'bad.npy'}")
    np.save(tmp_path / "obj.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(InputError, match="obj.npy is not a valid .npy file"):
        parse(f"data:{tmp_path / 'obj.npy'}")
    np.savez(tmp_path / "z.npz", a=np.zeros(3))
    (tmp_path / "z.npz").rename(tmp_path / "z.npy")
    with pytest.raises(InputError, match="npz archive"):
        parse(f"data:{tmp_path / 'z.npy'}")


# -- .ppm / .pgm -----------------------------------------------------------
U8 = [TensorInfo("img", (1, -1, -1, -1), "uint8")]


def test_ppm_maxval_consumed(tmp_path):
    pixels = bytes(range(10, 10 + 2 * 3 * 3))  # 2 rows, 3 cols, RGB
    (tmp_path / "a.ppm").write_bytes(b"P6\n# a comment\n3 2\n# another\n255\n" + pixels)
    arr = parse_input_arg(f"img:{tmp_path / 'a.ppm'}", U8)["img"]
    assert arr.dtype == np.uint8 and arr.shape == (1, 2, 3, 3)
    # the first pixel is 10, not the '2' of "255\n" (reference quirk)
    np.testing.assert_array_equal(arr.ravel(), np.frombuffer(pixels, np.uint8))
    assert arr[0, 1, 2].tolist() == [25, 26, 27]


def test_pgm_and_odd_headers(tmp_path):
    (tmp_path / "g.PGM").write_bytes(b"P5 2#c\n 2 15\n" + bytes([0, 5, 10, 15]))
    arr = parse_input_arg(f"img:{tmp_path / 'g.PGM'}", U8)["img"]
    assert arr.shape == (1, 2, 2, 1) and arr.ravel().tolist() == [0, 5, 10, 15]
    # a pixel byte that looks like whitespace right after maxval's single separator
    arr = pnm.decode(b"P5\n1 1\n255\n\n")
    assert arr.ravel().tolist() == [10]


@pytest.mark.parametrize("data, what", [
    (b"P3\n1 1\n255\n0 0 0", "expected magic P5 or P6"),
    (b"GIF89a", "expected magic P5 or P6"),
    (b"P6\n1 1\n65535\n" + bytes(6), "maxval 65535 is not supported"),
    (b"P6\n2 2\n255\n" + bytes(5), "truncated: 2x2x3 needs 12 pixel bytes, found 5"),
    (b"P6\n2 x\n255\n", "expected the height"),
    (b"P6\n2 2", "header ends before the maxval"),
    (b"P6\n0 2\n255\n", "bad size 0x2"),
    (b"P6\n2 2\n255", "header ends right after the maxval"),
    (b"P6\n2 2\n255x", "maxval '255' is not followed by whitespace"),
    (b"P6\n2", "header ends before the height"),
    (b"P62 2 255\n", "no whitespace after the magic"),
])
def test_bad_ppm(tmp_path, data, what):
    (tmp_path / "bad.ppm").write_bytes(data)
    with pytest.raises(InputError, match="input 'img'") as e:
        parse_input_arg(f"img:{tmp_path / 'bad.ppm'}", U8)
    assert what in str(e.value)


def test_ppm_missing_and_into_float_model(tmp_path):
    with pytest.raises(InputError, match="input 'img': file not found"):
        parse_input_arg(f"img:{tmp_path / 'no.ppm'}", U8)
    (tmp_path / "a.ppm").write_bytes(b"P6 1 1 255\n" + bytes([1, 2, 3]))
    arr = parse_input_arg(f"img:{tmp_path / 'a.ppm'}", [TensorInfo("img", (1, 1, 1, 3), "float32")])["img"]
    assert arr.dtype == np.float32 and arr.ravel().tolist() == [1, 2, 3]  # uint8 -> float32 is exact


# -- inputs not given --------------------------------------------------------
def test_default_feeds():
    from loadrun.onnx.importer import InputSpec

    specs = [InputSpec("a", "float32", [-1, 3], ["N", ""]), InputSpec("b", "int64", [2], [""])]
    feeds = default_feeds(specs, {"b": np.array([5, 6])})
    assert feeds["a"].shape == (1, 3) and feeds["a"].dtype == np.float32 and not feeds["a"].any()
    assert feeds["b"].tolist() == [5, 6]
    with pytest.raises(InputError, match=r"input 'x' dim 1 \('T'\) is symbolic"):
        default_feeds([InputSpec("x", "float32", [1, -1], ["", "T"])])


# -- through the command line and the core ------------------------------------
def run_cli(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_input_shape_errors(capsys, tmp_path):
    model = relu_model(tmp_path / "m.onnx", shape=(1, 3, 4, 4))
    code, _, err = run_cli(capsys, model, "--input", "data:{1,3,4}")
    assert code == 1
    assert err == "load_and_run: error: input 'data': model expects 4 dims {1,3,4,4}, got 3 dims {1,3,4}\n"
    code, _, err = run_cli(capsys, model, "--input", "data:{1,2,4,4}")
    assert code == 1 and err.startswith("load_and_run: error: input 'data': dim 1 must be 3, got 2")
    code, _, err = run_cli(capsys, model, "--input", "nope:{1}")
    assert code == 1 and "'nope' is not an input of the model (inputs: data)" in err
    code, _, err = run_cli(capsys, model, "--input", "data:[1,2")
    assert code == 1 and err.startswith("load_and_run: error: input 'data': '[1,2' is not a list of numbers")
    assert err.count("\n") == 1


def test_cli_inputs_run(capsys, tmp_path):
    model = relu_model(tmp_path / "m.onnx", shape=("N", 2))
    code, out, err = run_cli(capsys, model, "--input", "data:[1,2],[3,4],[5,6]", "--iter", "1", "--model-info")
    assert code == 0, err
    assert "| INPUT  | data | {3,2} | float32 |" in out.splitlines()
    code, _, err = run_cli(capsys, model, "--input", "data:[1.5,2]", "--iter", "1")
    assert code == 1 and "input 'data': model expects 2 dims {-1,2}, got 1 dims {2}" in err
    img = tmp_path / "a.ppm"
    img.write_bytes(b"P6\n2 1\n255\n" + bytes(range(6)))
    u8 = shape_model(tmp_path / "u8.onnx", [("img", np.uint8, [1, "H", "W", 3])])
    code, out, err = run_cli(capsys, u8, "--input", f"img:{img}", "--iter", "1", "--model-info")
    assert code == 0, err
    assert any(line.split("|")[3].strip() == "{1,1,2,3}" for line in out.splitlines() if "INPUT" in line)
    code, _, err = run_cli(capsys, u8, "--input", "img:[[[[1.5,2,3]]]]", "--iter", "1")
    assert code == 1 and "do not convert to uint8" in err


def test_given_values_reach_the_network(tmp_path):
    """The arrays --input builds are what the network runs on."""
    net = loadrun.load(relu_model(tmp_path / "m.onnx", shape=(2, 2)))
    feeds = parse_input_arg("data:[-1,2],[3,-4]", net.inputs)
    out = net.run(feeds)["out"]
    np.testing.assert_array_equal(out, [[0, 2], [3, 0]])


def test_scalar_npy_stays_scalar(tmp_path):
    np.save(tmp_path / "s.npy", np.float32(2.5))
    arr = parse_input_arg(f"x:{tmp_path / 's.npy'}", [TensorInfo("x", (), "float32")])["x"]
    assert arr.shape == () and float(arr) == 2.5


def test_json_missing_file(tmp_path, capsys):
    with pytest.raises(InputError, match="input file not found: .*gone.json"):
        parse(f"data:{tmp_path / 'gone.json'}")
    model = relu_model(tmp_path / "m.onnx")
    assert main([model, "--input", str(tmp_path / "gone.json")]) == 1
    assert capsys.readouterr().err == f"load_and_run: error: input file not found: {tmp_path / 'gone.json'}\n"
