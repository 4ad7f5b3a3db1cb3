"""RNN, GRU and LSTM against ONNX Runtime (rtol 1e-4 on float32): every
direction, both layouts, sequence lengths shorter than the sequence, initial
states, peepholes, clip, input_forget, linear_before_reset, activations with
alpha/beta, omitted optional inputs and outputs, and bad models."""
import numpy as np
import pytest
from onnx import TensorProto, helper

import loadrun
from onnx_ref import assert_close, make_model, ort_run

GATES = {"RNN": 1, "GRU": 3, "LSTM": 4}
STATE_OUTS = {"RNN": 1, "GRU": 1, "LSTM": 2}


def rnn_case(op, seq=5, batch=3, inp=4, hidden=6, direction="forward", layout=0, bias=True,
             lens=None, init=False, peep=False, n_outputs=None, dtype=np.float32, seed=0, **attrs):
    rng = np.random.default_rng(seed)
    d = 2 if direction == "bidirectional" else 1
    g = GATES[op]
    x_shape = (batch, seq, inp) if layout else (seq, batch, inp)
    feeds = {"X": rng.standard_normal(x_shape).astype(dtype)}
    inits = [("W", 0.5 * rng.standard_normal((d, g * hidden, inp))),
             ("R", 0.5 * rng.standard_normal((d, g * hidden, hidden)))]
    names = ["X", "W", "R"]
    if bias:
        inits.append(("B", 0.3 * rng.standard_normal((d, 2 * g * hidden))))
    names.append("B" if bias else "")
    if lens is not None:
        feeds["sequence_lens"] = np.array(lens, dtype=np.int32)
    names.append("sequence_lens" if lens is not None else "")
    state = (batch, d, hidden) if layout else (d, batch, hidden)
    if init:
        feeds["initial_h"] = rng.standard_normal(state).astype(dtype)
    names.append("initial_h" if init else "")
    if op == "LSTM":
        if init:
            feeds["initial_c"] = rng.standard_normal(state).astype(dtype)
        names.append("initial_c" if init else "")
        if peep:
            inits.append(("P", 0.5 * rng.standard_normal((d, 3 * hidden))))
        names.append("P" if peep else "")
    while names[-1] == "":
        names.pop()
    n_out = 1 + STATE_OUTS[op] if n_outputs is None else n_outputs
    outs = ["Y", "Y_h", "Y_c"][:n_out]
    if layout:
        attrs["layout"] = layout
    node = helper.make_node(op, names, outs, hidden_size=hidden, direction=direction, **attrs)
    et = helper.np_dtype_to_tensor_dtype(np.dtype(dtype))
    inputs = [(n, a.dtype, list(a.shape)) for n, a in feeds.items()]
    initializers = [(n, v.astype(dtype)) for n, v in inits]
    model = make_model([node], inputs, [(o, et, None) for o in outs], initializers, opset=14)
    return model, feeds


def check(model, feeds, rtol=1e-4):
    """loadrun vs ORT; layout 1 (which ORT refuses) against ORT on the same
    data in layout 0."""
    layout = next((a.i for a in model.graph.node[0].attribute if a.name == "layout"), 0)
    if layout:
        model0 = type(model)()
        model0.CopyFrom(model)
        node = model0.graph.node[0]
        node.attribute.remove(next(a for a in node.attribute if a.name == "layout"))
        to0 = {"X": (1, 0, 2), "initial_h": (1, 0, 2), "initial_c": (1, 0, 2)}
        feeds0 = {k: np.ascontiguousarray(v.transpose(to0[k])) if k in to0 else v for k, v in feeds.items()}
        for vi in model0.graph.input:
            if vi.name in to0:
                dims = vi.type.tensor_type.shape.dim
                a, b = dims[0].dim_value, dims[1].dim_value
                dims[0].dim_value, dims[1].dim_value = b, a
        ref = ort_run(model0, feeds0)
        back = {"Y": (2, 0, 1, 3), "Y_h": (1, 0, 2), "Y_c": (1, 0, 2)}
        ref = {k: v.transpose(back[k]) for k, v in ref.items()}
    else:
        ref = ort_run(model, feeds)
    got = loadrun.load(model).run(feeds)
    assert set(got) == set(ref)
    for k in ref:
        assert_close(got[k], ref[k], rtol, k)


@pytest.mark.parametrize("op", ["RNN", "GRU", "LSTM"])
@pytest.mark.parametrize("direction", ["forward", "reverse", "bidirectional"])
@pytest.mark.parametrize("layout", [0, 1])
def test_directions_layouts(op, direction, layout):
    check(*rnn_case(op, direction=direction, layout=layout, init=True))


@pytest.mark.parametrize("op", ["RNN", "GRU", "LSTM"])
@pytest.mark.parametrize("direction", ["forward", "reverse", "bidirectional"])
def test_sequence_lengths(op, direction):
    # shorter sequences: Y is 0 past each length, Y_h is the state at the length
    check(*rnn_case(op, seq=6, batch=4, direction=direction, lens=[6, 1, 3, 5], init=True))


@pytest.mark.parametrize("op", ["RNN", "GRU", "LSTM"])
def test_sizes_of_one_and_no_bias(op):
    check(*rnn_case(op, seq=1, batch=1, inp=1, hidden=1, bias=False))
    check(*rnn_case(op, seq=7, batch=2, inp=9, hidden=5, bias=False, init=True))


def test_lstm_peepholes_clip_input_forget():
    check(*rnn_case("LSTM", peep=True, init=True))
    check(*rnn_case("LSTM", peep=True, clip=0.7, direction="bidirectional"))
    check(*rnn_case("LSTM", input_forget=1, init=True))


def test_gru_linear_before_reset():
    check(*rnn_case("GRU", linear_before_reset=1, init=True))
    check(*rnn_case("GRU", linear_before_reset=1, direction="bidirectional", lens=[5, 2, 4]))


@pytest.mark.parametrize("op,acts,alpha,beta", [
    ("RNN", ["Relu"], [], []),
    ("RNN", ["LeakyRelu", "HardSigmoid"], [0.1, 0.3], [0.4]),
    ("GRU", ["HardSigmoid", "Softsign"], [0.25], [0.45]),
    ("LSTM", ["Sigmoid", "Tanh", "Softsign"], [], []),
    ("LSTM", ["HardSigmoid", "Elu", "Tanh", "Sigmoid", "Softsign", "Tanh"], [0.3, 0.8], [0.4]),
])
def test_activations(op, acts, alpha, beta):
    direction = "bidirectional" if len(acts) == 2 * {"RNN": 1, "GRU": 2, "LSTM": 3}[op] else "forward"
    attrs = {"activations": acts}
    if alpha:
        attrs["activation_alpha"] = alpha
    if beta:
        attrs["activation_beta"] = beta
    check(*rnn_case(op, direction=direction, **attrs))


@pytest.mark.parametrize("op", ["GRU", "LSTM"])
def test_only_first_output_and_float64(op):
    check(*rnn_case(op, n_outputs=1))
    # ORT has no float64 GRU/LSTM: the float64 result against ORT in float32
    model, feeds = rnn_case(op, dtype=np.float64, init=True)
    got = loadrun.load(model).run(feeds)
    model32, feeds32 = rnn_case(op, dtype=np.float32, init=True)
    ref32 = ort_run(model32, feeds32)
    for k in ref32:
        assert got[k].dtype == np.float64
        assert_close(got[k].astype(np.float32), ref32[k], 1e-4, k)


def test_older_opset_without_layout():
    model, feeds = rnn_case("LSTM", direction="bidirectional", init=True)
    model.opset_import[0].version = 7
    check(model, feeds)


def test_bad_models():
    model, feeds = rnn_case("GRU")
    bad = helper.make_attribute("direction", "sideways")
    model.graph.node[0].attribute.remove([a for a in model.graph.node[0].attribute if a.name == "direction"][0])
    model.graph.node[0].attribute.append(bad)
    with pytest.raises(loadrun.ModelError, match="direction"):
        loadrun.load(model)
    model, feeds = rnn_case("RNN", activations=["NoSuchFn"])
    with pytest.raises(loadrun.ModelError, match="NoSuchFn"):
        loadrun.load(model)
    model, feeds = rnn_case("LSTM", lens=[5, 9, 1])
    with pytest.raises(loadrun.InputError, match="sequence_lens"):
        loadrun.load(model).run(feeds)
    model, feeds = rnn_case("RNN")
    model.graph.node[0].attribute.append(helper.make_attribute("hidden_size", 5))
    del model.graph.node[0].attribute[0]  # the first hidden_size (6) goes: 5 mismatches W
    with pytest.raises(loadrun.ModelError, match="W has shape"):
        loadrun.load(model)
