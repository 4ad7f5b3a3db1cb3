"""ONNX models with subgraphs (If, Loop, Scan, with outer-scope captures),
built once for the tests that need them: test_control_flow.py runs them
against ONNX Runtime, test_lrm.py round-trips them through .lrm."""
import numpy as np
import onnx
from onnx import TensorProto as TP
from onnx import helper

from onnx_ref import make_model

F = TP.FLOAT
I64 = TP.INT64
B = TP.BOOL


def vi(name, t, shape=None):
    return helper.make_tensor_value_info(name, t, shape)


def graph(nodes, name, inputs, outputs, inits=()):
    return helper.make_graph(nodes, name, inputs, outputs, list(inits))


def const(name, arr):
    return helper.make_node("Constant", [], [name], value=onnx.numpy_helper.from_array(np.asarray(arr), name))


def if_model(then_shape=(3,), else_shape=(3,)):
    """y = If(cond): then x*2 reshaped, else x-1 (x captured from the main graph)."""
    then_g = graph([helper.make_node("Add", ["x", "x"], ["t0"]),
                    const("ts", np.array(then_shape, np.int64)),
                    helper.make_node("Reshape", ["t0", "ts"], ["t"])],
                   "then", [], [vi("t", F, None)])
    else_g = graph([const("one", np.float32(1)), helper.make_node("Sub", ["x", "one"], ["e0"]),
                    const("es", np.array(else_shape, np.int64)),
                    helper.make_node("Reshape", ["e0", "es"], ["e"])],
                   "else", [], [vi("e", F, None)])
    node = helper.make_node("If", ["cond"], ["y"], then_branch=then_g, else_branch=else_g)
    return make_model([node], [("cond", np.bool_, []), ("x", np.float32, [3])], [("y", np.float32, None)])


def nested_if_model():
    """y = If(c1): then -(If(c2): x*w else x-w), else w. The inner branches
    read x and w from the main graph, two levels up."""
    inner_then = graph([helper.make_node("Mul", ["x", "w"], ["it"])], "it", [], [vi("it", F, [3])])
    inner_else = graph([helper.make_node("Sub", ["x", "w"], ["ie"])], "ie", [], [vi("ie", F, [3])])
    outer_then = graph([helper.make_node("If", ["c2"], ["ot0"], then_branch=inner_then, else_branch=inner_else),
                        helper.make_node("Neg", ["ot0"], ["ot"])], "ot", [], [vi("ot", F, [3])])
    outer_else = graph([helper.make_node("Identity", ["w"], ["oe"])], "oe", [], [vi("oe", F, [3])])
    node = helper.make_node("If", ["c1"], ["y"], then_branch=outer_then, else_branch=outer_else)
    return make_model([node], [("c1", np.bool_, []), ("c2", np.bool_, []), ("x", np.float32, [3]),
                               ("w", np.float32, [3])], [("y", np.float32, [3])])


def loop_body(cond_expr="pass", scan=True, extra_nodes=(), carried_ops=("Add",)):
    """(i, cond_in, acc) -> (cond_out, acc + x*i, [acc+x*i]); x captured from the main graph.

    cond_expr: "pass" (cond_out = cond_in) or "lt" (cond_out = sum(acc) < limit, limit captured).
    """
    nodes = [helper.make_node("Cast", ["i"], ["fi"], to=F),
             helper.make_node("Mul", ["x", "fi"], ["xi"]),
             helper.make_node(carried_ops[0], ["acc", "xi"], ["acc_out"])]
    if cond_expr == "pass":
        nodes.append(helper.make_node("Identity", ["cond_in"], ["cond_out"]))
    else:
        nodes += [helper.make_node("ReduceSum", ["acc_out"], ["s"], keepdims=0),
                  helper.make_node("Less", ["s", "limit"], ["cond_out"])]
    nodes += list(extra_nodes)
    outs = [vi("cond_out", B, []), vi("acc_out", F, [3])]
    if scan:
        nodes.append(helper.make_node("Identity", ["acc_out"], ["scan_out"]))
        outs.append(vi("scan_out", F, [3]))
    return graph(nodes, "body", [vi("i", I64, []), vi("cond_in", B, []), vi("acc", F, [3])], outs)


def loop_model(inputs, body, scan=True, m_name="M", cond_name="cond"):
    outs = ["acc_final"] + (["scans"] if scan else [])
    node = helper.make_node("Loop", [m_name, cond_name, "acc0"], outs, body=body)
    ins = [("acc0", np.float32, [3]), ("x", np.float32, [3])] + inputs
    return make_model([node], ins, [("acc_final", np.float32, None)] + ([("scans", np.float32, None)] if scan else []))


def loop_nested_if_model():
    """A Loop of M = 5 (an initializer) whose body's If picks acc*w or acc-w by
    the iteration's parity (w, a main-graph input, read two levels down); the
    scan output is sum(acc) per iteration, shape (5, 1)."""
    then_g = graph([helper.make_node("Mul", ["acc", "w"], ["t"])], "then", [], [vi("t", F, [3])])
    else_g = graph([helper.make_node("Sub", ["acc", "w"], ["e"])], "else", [], [vi("e", F, [3])])
    body = graph([
        const("two", np.int64(2)), const("zero", np.int64(0)),
        helper.make_node("Mod", ["i", "two"], ["r"]),
        helper.make_node("Equal", ["r", "zero"], ["even"]),
        helper.make_node("If", ["even"], ["acc_out"], then_branch=then_g, else_branch=else_g),
        helper.make_node("Identity", ["cond_in"], ["cond_out"]),
        helper.make_node("ReduceSum", ["acc_out"], ["scan_out"], keepdims=1),
    ], "body", [vi("i", I64, []), vi("cond_in", B, []), vi("acc", F, [3])],
        [vi("cond_out", B, []), vi("acc_out", F, [3]), vi("scan_out", F, [1])])
    node = helper.make_node("Loop", ["M", "", "acc0"], ["acc_final", "scans"], body=body)
    return make_model([node], [("acc0", np.float32, [3]), ("w", np.float32, [3])],
                      [("acc_final", np.float32, None), ("scans", np.float32, None)],
                      initializers=[("M", np.array(5, np.int64))])


def scan_model(x_shape, in_axes=None, in_dirs=None, out_axes=None, out_dirs=None, opset=17):
    """State s (shape x slice) accumulates s + x_t * w (w captured); scan outputs s and s*2."""
    slice_shape = list(x_shape)
    axis = (in_axes or [0])[0] % len(x_shape)
    del slice_shape[axis]
    body = graph([helper.make_node("Mul", ["xt", "w"], ["xw"]),
                  helper.make_node("Add", ["s", "xw"], ["s_out"]),
                  helper.make_node("Identity", ["s_out"], ["y1"]),
                  helper.make_node("Add", ["s_out", "s_out"], ["y2"])],
                 "body", [vi("s", F, slice_shape), vi("xt", F, slice_shape)],
                 [vi("s_out", F, slice_shape), vi("y1", F, slice_shape), vi("y2", F, slice_shape)])
    attrs = {"num_scan_inputs": 1}
    for k, v in (("scan_input_axes", in_axes), ("scan_input_directions", in_dirs),
                 ("scan_output_axes", out_axes), ("scan_output_directions", out_dirs)):
        if v is not None:
            attrs[k] = v
    node = helper.make_node("Scan", ["s0", "x"], ["s_final", "ys1", "ys2"], body=body, **attrs)
    return make_model([node], [("s0", np.float32, slice_shape), ("x", np.float32, list(x_shape)),
                               ("w", np.float32, slice_shape)],
                      [("s_final", np.float32, None), ("ys1", np.float32, None), ("ys2", np.float32, None)], opset=opset), slice_shape
