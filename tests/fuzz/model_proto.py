"""Proto-level mutations of the seed models: random attribute values and
types, input shapes and dtypes, initializer dims / types / data, dropped and
extra node inputs, deleted, duplicated and retyped nodes, outputs that name
nothing, other opsets. The mutated model is loaded and run on random feeds."""
import copy

import numpy as np
from onnx import AttributeProto, TensorProto, helper

import loadrun
from fuzz import corpus

_SEEDS = None
OPS = ["Conv", "Relu", "MatMul", "Add", "Gemm", "Reshape", "Transpose", "Concat", "Slice", "Gather",
       "Softmax", "MaxPool", "Resize", "Cast", "Where", "Expand", "Split", "Squeeze", "Pad", "TopK",
       "If", "Loop", "ReduceSum", "Einsum", "NonZero", "Range", "Tile", "DepthToSpace", "Identity"]
ATTR_NAMES = ["axis", "axes", "perm", "kernel_shape", "pads", "strides", "dilations", "group", "mode",
              "keepdims", "to", "alpha", "beta", "transA", "transB", "epsilon", "value", "split",
              "blocksize", "auto_pad", "ceil_mode", "count_include_pad", "coordinate_transformation_mode"]
DTYPES = [t for t in TensorProto.DataType.values()] + [99, -1]


def seeds():
    global _SEEDS
    if _SEEDS is None:
        _SEEDS = corpus.seeds()
    return _SEEDS


def rand_int(rng):
    return int(rng.choice([0, 1, -1, 2, 3, -2, 7, 64, 2**31 - 1, -2**31, 2**40, -2**62, 2**63 - 1,
                           int(rng.integers(-10, 10))]))


def rand_attr(rng, name):
    k = int(rng.integers(0, 7))
    if k == 0:
        return helper.make_attribute(name, rand_int(rng))
    if k == 1:
        return helper.make_attribute(name, float(rng.choice([0.0, -1.0, 1e30, np.nan, np.inf, 0.5])))
    if k == 2:
        return helper.make_attribute(name, [rand_int(rng) for _ in range(int(rng.integers(0, 9)))],
                                     attr_type=AttributeProto.INTS)
    if k == 3:
        return helper.make_attribute(name, str(rng.choice(["", "linear", "nearest", "SAME_UPPER", "x" * 300,
                                                          "half_pixel", "DCR", "cubic"])))
    if k == 4:
        return helper.make_attribute(name, [float(x) for x in rng.standard_normal(int(rng.integers(0, 5)))],
                                     attr_type=AttributeProto.FLOATS)
    if k == 5:
        a = AttributeProto()
        a.name = name
        a.type = int(rng.choice([AttributeProto.TENSOR, AttributeProto.GRAPH, AttributeProto.STRINGS,
                                 AttributeProto.UNDEFINED]))
        return a
    return helper.make_attribute(name, helper.make_tensor(
        "t", int(rng.choice([TensorProto.FLOAT, TensorProto.INT64, TensorProto.STRING])), [0], []))


def mutate(model, rng):
    g = model.graph
    k = int(rng.integers(0, 14))
    nodes = g.node
    if k == 0 and nodes:  # an existing attribute gets a random value / type
        n = nodes[int(rng.integers(len(nodes)))]
        if n.attribute:
            i = int(rng.integers(len(n.attribute)))
            new = rand_attr(rng, n.attribute[i].name)
            n.attribute[i].CopyFrom(new)
    elif k == 1 and nodes:  # a new attribute
        n = nodes[int(rng.integers(len(nodes)))]
        n.attribute.append(rand_attr(rng, str(rng.choice(ATTR_NAMES))))
    elif k == 2 and g.input:  # an input's shape
        t = g.input[int(rng.integers(len(g.input)))].type.tensor_type
        dims = t.shape.dim
        if rng.random() < 0.3 and dims:
            del dims[int(rng.integers(len(dims)))]
        elif rng.random() < 0.2:
            t.ClearField("shape")
        else:
            d = dims.add() if not dims or rng.random() < 0.3 else dims[int(rng.integers(len(dims)))]
            if rng.random() < 0.2:
                d.dim_param = "s"
            else:
                d.dim_value = int(rng.choice([0, 1, 2, 5, 17, -1, -7, 2**31, 2**62]))
    elif k == 3 and g.input:  # an input's dtype
        g.input[int(rng.integers(len(g.input)))].type.tensor_type.elem_type = int(rng.choice(DTYPES))
    elif k == 4 and g.initializer:  # an initializer's dims
        t = g.initializer[int(rng.integers(len(g.initializer)))]
        if t.dims and rng.random() < 0.5:
            t.dims[int(rng.integers(len(t.dims)))] = int(rng.choice([0, 1, 3, -1, 2**40]))
        else:
            t.dims.append(int(rng.integers(0, 4)))
    elif k == 5 and g.initializer:  # an initializer's dtype
        g.initializer[int(rng.integers(len(g.initializer)))].data_type = int(rng.choice(DTYPES))
    elif k == 6 and g.initializer:  # an initializer's data
        t = g.initializer[int(rng.integers(len(g.initializer)))]
        if t.raw_data:
            t.raw_data = t.raw_data[: int(rng.integers(0, len(t.raw_data) + 1))] + (b"\x01" * int(rng.integers(0, 3)))
        else:
            t.float_data.append(1.0)
            t.int64_data.append(5)
    elif k == 7 and nodes:  # a node input dropped, emptied or added
        n = nodes[int(rng.integers(len(nodes)))]
        r = rng.random()
        if n.input and r < 0.4:
            del n.input[int(rng.integers(len(n.input)))]
        elif n.input and r < 0.7:
            n.input[int(rng.integers(len(n.input)))] = str(rng.choice(["", "nope", n.output[0] if n.output else "y"]))
        else:
            names = [i.name for i in g.input] + [t.name for t in g.initializer] + [""]
            n.input.append(str(rng.choice(names)))
    elif k == 8 and nodes:  # a node deleted
        del nodes[int(rng.integers(len(nodes)))]
    elif k == 9 and nodes:  # a node duplicated (same outputs twice), maybe out of order
        n = copy.deepcopy(nodes[int(rng.integers(len(nodes)))])
        nodes.insert(int(rng.integers(len(nodes) + 1)), n)
    elif k == 10 and nodes:  # a node's op_type
        nodes[int(rng.integers(len(nodes)))].op_type = str(rng.choice(OPS))
    elif k == 11 and nodes:  # an output / node output renamed or dropped
        if rng.random() < 0.5 and g.output:
            g.output[int(rng.integers(len(g.output)))].name = str(rng.choice(["", "x", "zz"]))
        else:
            n = nodes[int(rng.integers(len(nodes)))]
            if n.output:
                if rng.random() < 0.5:
                    del n.output[0]
                else:
                    n.output.append(f"extra{int(rng.integers(3))}")
    elif k == 12:  # the opset
        model.opset_import[0].version = int(rng.choice([1, 6, 7, 9, 11, 13, 18, 21, 23, 24, 99, 0]))
    elif k == 13 and nodes:  # nodes reordered
        order = list(rng.permutation(len(nodes)))
        ns = [copy.deepcopy(nodes[i]) for i in order]
        del nodes[:]
        nodes.extend(ns)


def prepare(workdir):
    seeds()


def run_case(rng, workdir):
    model = copy.deepcopy(seeds()[int(rng.integers(len(seeds())))])
    for _ in range(int(rng.integers(1, 4))):
        mutate(model, rng)
    net = loadrun.load(model, progress=False)
    out = net.run(corpus.feeds_for(net, rng))
    assert isinstance(out, dict)
    return f"{len(out)} outputs"
