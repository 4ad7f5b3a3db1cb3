"""Random single-operator models through every algorithm of the operator,
each against NAIVE on the same inputs.

The operator is drawn from the registry's operators that have more than one
algorithm; shapes, attributes and values (with NaN, infinities, zeros and
huge values mixed in) are random. Every output must match NAIVE's: same
shape and dtype, integers exactly, floats per element with
|got - ref| <= ATOL + RTOL * |ref| (NaN where NAIVE has NaN, equal infinities).

Operators that accumulate (sums, products, interpolation, normalisation) get
no huge values (+-1e30 makes the result depend on the summation order by
cancellation), and there an infinity may stand for a NaN or the other way
round (inf - inf in one order, inf alone in another): both non-finite agree.
Winograd transforms mix a whole tile, so one non-finite input makes the
tile's outputs non-finite (by design): WINOGRAD_* are compared on finite
inputs only.
"""
import numpy as np
from onnx import TensorProto, helper

import loadrun
from onnx_ref import node_model

RTOL = 1e-4
ATOL = {"WINOGRAD_F63": 2e-3, "WINOGRAD_F43": 1e-3}  # else ATOL_DEFAULT
ATOL_DEFAULT = 1e-4

_ALGOS = None
ACCUMULATING = {"MatMul", "Gemm", "Conv", "ConvTranspose", "LayerNormalization", "BatchNormalization",
                "Softmax", "LogSoftmax", "AveragePool", "GlobalAveragePool", "Resize", "Sum", "Mean"}
_HUGE = [True]  # this case may use +-1e30


def algos():
    global _ALGOS
    if _ALGOS is None:
        table = {t: a for d, t, a in loadrun.supported_ops() if d == "" and len(a) > 1}
        # Operators this module has a case generator for; the others (the
        # compare/logic/Cast/copy ops that gained fast algorithms on another
        # branch) are tested against NAIVE in tests/test_kernels_copy.py, and
        # get a generator here next.
        probe = np.random.default_rng(0)
        _ALGOS = {}
        for t, a in table.items():
            try:
                gen(t, probe)
            except KeyError:
                continue
            except Exception:  # noqa: BLE001 - a generator that runs is enough here
                pass
            _ALGOS[t] = a
    return _ALGOS


def shape(rng, rank=None, lo=0, hi=9):
    rank = int(rng.integers(0, 5)) if rank is None else rank
    return [int(rng.integers(lo, hi)) for _ in range(rank)]


def values(rng, shp, dtype=np.float32, scale=None, specials=True):
    dt = np.dtype(dtype)
    if dt.kind == "f":
        s = scale if scale is not None else float(rng.choice([1.0, 0.1, 10.0, 100.0]))
        a = (rng.standard_normal(shp) * s).astype(dt)
        if specials and a.size and rng.random() < 0.3:
            flat = a.reshape(-1)
            idx = rng.integers(0, flat.size, max(1, flat.size // 8))
            sp = [np.nan, np.inf, -np.inf, 0.0, -0.0, 1e-40] + ([1e30, -1e30] if _HUGE[0] else [])
            flat[idx] = rng.choice(np.array(sp, dtype=dt), idx.size)
        return a
    if dt.kind == "b":
        return rng.integers(0, 2, shp).astype(bool)
    info = np.iinfo(dt)
    lo, hi = (max(info.min, -100), min(info.max, 100)) if rng.random() < 0.8 else (info.min, info.max)
    return rng.integers(lo, hi, shp, dtype=dt, endpoint=True)


def bcast_pair(rng):
    """Two shapes that broadcast together."""
    out = shape(rng, int(rng.integers(0, 5)), 1, 7)
    a, b = list(out), list(out)
    for s in (a, b):
        for i in range(len(s)):
            if rng.random() < 0.3:
                s[i] = 1
    ka, kb = int(rng.integers(0, len(a) + 1)), int(rng.integers(0, len(b) + 1))
    return a[ka:] if rng.random() < 0.3 else a, b[kb:] if rng.random() < 0.3 else b


UNARY = {
    "Relu": {}, "Sigmoid": {}, "HardSwish": {}, "Softsign": {}, "Softplus": {}, "Tanh": {}, "Erf": {},
    "Exp": {}, "Log": {}, "Sqrt": {}, "Neg": {}, "Abs": {}, "Reciprocal": {}, "Ceil": {}, "Floor": {},
    "Round": {}, "Sign": {}, "Sin": {}, "Cos": {}, "Tan": {}, "Asin": {}, "Acos": {}, "Atan": {},
    "Sinh": {}, "Cosh": {}, "Asinh": {}, "Acosh": {}, "Atanh": {}, "IsNaN": {}, "IsInf": {},
    "LeakyRelu": {"alpha": "f"}, "HardSigmoid": {"alpha": "f", "beta": "f"}, "Elu": {"alpha": "f"},
    "Selu": {"alpha": "f", "gamma": "f"}, "Celu": {"alpha": "f"}, "ThresholdedRelu": {"alpha": "f"},
    "Shrink": {"bias": "f", "lambd": "f"}, "Gelu": {"approximate": ("none", "tanh")}, "Mish": {},
    "Swish": {"alpha": "f"},
}
OPSET = {"Gelu": 20, "Mish": 22, "Swish": 24, "Resize": 19}
INT_OK = {"Abs", "Neg", "Sign", "Relu", "Add", "Sub", "Mul", "Div", "Mod", "Max", "Min", "Sum", "Mean",
          "Where", "Clip", "Transpose", "ReduceSum", "ReduceMax", "ReduceMin", "ReduceProd"}


def rand_attrs(rng, spec):
    out = {}
    for k, v in spec.items():
        if rng.random() < 0.3:
            continue
        out[k] = float(rng.choice([0.0, 0.5, 1.0, -1.0, 2.5, 0.01])) if v == "f" else str(rng.choice(v))
    return out


def float_or_int(rng, op):
    if op in INT_OK and rng.random() < 0.25:
        return np.dtype(rng.choice([np.int32, np.int64, np.int8, np.uint8]))
    return np.dtype(np.float32)


def gen(op, rng):
    """(model, feeds) of one random `op` node."""
    opset = OPSET.get(op, 21)
    if op in UNARY:
        dt = float_or_int(rng, op)
        x = values(rng, shape(rng), dt)
        return node_model(op, {"x": x}, opset=opset, **rand_attrs(rng, UNARY[op])), {"x": x}
    if op in ("Add", "Sub", "Mul", "Div", "Pow", "Mod", "PRelu", "BitShift"):
        dt = np.dtype(np.uint32) if op == "BitShift" else float_or_int(rng, op)
        sa, sb = bcast_pair(rng)
        if op == "PRelu" and rng.random() < 0.5:
            sb = sb[-1:] if sb else []
        a, b = values(rng, sa, dt), values(rng, sb, dt)
        attrs = {}
        if op == "BitShift":
            b = (b % 40).astype(dt)
            attrs["direction"] = str(rng.choice(["LEFT", "RIGHT"]))
        if op == "Mod":
            attrs["fmod"] = int(dt.kind == "f" or rng.random() < 0.5)
        if op in ("Div", "Mod") and dt.kind in "iu":
            b = np.where(b == 0, 1, b).astype(dt)  # integer division by zero is undefined
        return node_model(op, {"a": a, "b": b}, opset=opset, **attrs), {"a": a, "b": b}
    if op in ("Max", "Min", "Sum", "Mean"):
        dt = float_or_int(rng, op)
        feeds = {}
        sa, sb = bcast_pair(rng)
        for i in range(int(rng.integers(1, 4))):
            feeds[f"x{i}"] = values(rng, sa if i % 2 == 0 else sb, dt)
        return node_model(op, feeds, opset=opset), feeds
    if op == "Where":
        dt = float_or_int(rng, op)
        sa, sb = bcast_pair(rng)
        feeds = {"c": values(rng, sa, bool), "a": values(rng, sb, dt), "b": values(rng, sa, dt)}
        return node_model(op, feeds, opset=opset), feeds
    if op == "Clip":
        dt = float_or_int(rng, op)
        x = values(rng, shape(rng), dt)
        feeds = {"x": x}
        inits = []
        for n in ("lo", "hi")[: int(rng.integers(0, 3))]:
            inits.append((n, values(rng, [], dt, specials=False)))
        return node_model(op, feeds, initializers=inits, opset=opset), feeds
    if op == "Transpose":
        x = values(rng, shape(rng, int(rng.integers(1, 6)), 1, 7), float_or_int(rng, op))
        attrs = {"perm": [int(p) for p in rng.permutation(x.ndim)]} if rng.random() < 0.8 else {}
        return node_model(op, {"x": x}, opset=opset, **attrs), {"x": x}
    if op in ("Softmax", "LogSoftmax", "Hardmax"):
        x = values(rng, shape(rng, int(rng.integers(1, 5)), 1, 9))
        o = int(rng.choice([11, 13, 21]))
        return node_model(op, {"x": x}, opset=o, axis=int(rng.integers(-x.ndim, x.ndim))), {"x": x}
    if op.startswith("Reduce"):
        dt = float_or_int(rng, op)
        x = values(rng, shape(rng, int(rng.integers(1, 5)), 0 if rng.random() < 0.1 else 1, 8), dt)
        inits = []
        if rng.random() < 0.8:
            k = int(rng.integers(0, x.ndim + 1))
            axes = rng.choice(np.arange(-x.ndim, x.ndim), k, replace=False) if k else []
            axes = [a for i, a in enumerate(axes) if (a % x.ndim) not in [b % x.ndim for b in axes[:i]]]
            inits.append(("axes", np.array(axes, np.int64)))
        attrs = {"keepdims": int(rng.integers(0, 2))}
        if rng.random() < 0.2:
            attrs["noop_with_empty_axes"] = 1
        return node_model(op, {"x": x}, initializers=inits, opset=opset, **attrs), {"x": x}
    if op == "LayerNormalization":
        x = values(rng, shape(rng, int(rng.integers(1, 5)), 1, 9))
        axis = int(rng.integers(-x.ndim, x.ndim))
        ns = list(x.shape[axis:])
        inits = [("g", values(rng, ns, specials=False))]
        if rng.random() < 0.5:
            inits.append(("b", values(rng, ns, specials=False)))
        return node_model(op, {"x": x}, initializers=inits, opset=17, axis=axis,
                          epsilon=float(rng.choice([1e-5, 1e-3]))), {"x": x}
    if op == "BatchNormalization":
        x = values(rng, shape(rng, int(rng.integers(2, 5)), 1, 7))
        c = x.shape[1]
        inits = [(n, values(rng, [c], specials=False) if n != "v" else np.abs(values(rng, [c], specials=False)))
                 for n in ("s", "b", "m", "v")]
        return node_model(op, {"x": x}, initializers=inits, opset=15), {"x": x}
    if op in ("MaxPool", "AveragePool", "GlobalMaxPool", "GlobalAveragePool"):
        nd = int(rng.integers(1, 4))
        x = values(rng, [int(rng.integers(1, 3)), int(rng.integers(1, 9))] + shape(rng, nd, 1, 12))
        if op.startswith("Global"):
            return node_model(op, {"x": x}, opset=opset), {"x": x}
        k = [int(rng.integers(1, min(5, d + 1) + 1)) for d in x.shape[2:]]
        k = [min(kk, d) for kk, d in zip(k, x.shape[2:])]
        attrs = {"kernel_shape": k, "strides": [int(rng.integers(1, 4)) for _ in k]}
        if rng.random() < 0.5:
            attrs["pads"] = [int(rng.integers(0, kk)) for kk in k] * 2
        if rng.random() < 0.3:
            attrs["ceil_mode"] = 1
        if op == "MaxPool" and rng.random() < 0.3:
            attrs["dilations"] = [int(rng.integers(1, 3)) for _ in k]
            attrs.pop("pads", None)
            attrs["kernel_shape"] = [min(kk, (d + dd - 1) // dd) for kk, d, dd in
                                     zip(k, x.shape[2:], attrs["dilations"])]
        if op == "AveragePool":
            attrs["count_include_pad"] = int(rng.integers(0, 2))
        return node_model(op, {"x": x}, opset=opset, **attrs), {"x": x}
    if op in ("Conv", "ConvTranspose"):
        nd = 2 if rng.random() < 0.8 else int(rng.choice([1, 3]))
        g = int(rng.choice([1, 1, 2, 3])) if rng.random() < 0.7 else 0
        cin_g, cout_g = int(rng.integers(1, 9)), int(rng.integers(1, 9))
        if g == 0:  # depthwise
            g, cin_g, cout_g = int(rng.integers(1, 17)), 1, int(rng.choice([1, 1, 2]))
        k = [int(rng.choice([1, 1, 3, 3, 5, 2, 7])) for _ in range(nd)]
        # Half the Conv cases take the shape of one fast algorithm's domain
        # (they are narrow: 2-D, 3x3 stride 1 for Winograd, ...).
        preset = str(rng.choice(["winograd", "depthwise", "small_ic", "1x1"])) \
            if op == "Conv" and rng.random() < 0.5 else ""
        if preset:
            nd, k = 2, [3, 3]
        if preset == "winograd":
            g, cin_g, cout_g = 1, int(rng.integers(1, 20)), int(rng.integers(1, 20))
        elif preset == "depthwise":
            g, cin_g, cout_g = int(rng.integers(1, 20)), 1, 1
            k = [int(rng.choice([3, 5]))] * 2
        elif preset == "small_ic":
            g, cin_g, cout_g = 1, int(rng.integers(1, 5)), int(rng.integers(1, 33))
        elif preset == "1x1":
            k = [1, 1]
            cin_g, cout_g = int(rng.integers(1, 40)), int(rng.integers(1, 40))
        spatial = [int(rng.integers(max(1, kk - 1), 24 if preset else 20)) for kk in k]
        x = values(rng, [int(rng.integers(1, 3)), g * cin_g] + spatial, scale=1.0, specials=rng.random() < 0.2)
        if op == "Conv":
            w = values(rng, [g * cout_g, cin_g] + k, scale=0.5, specials=False)
        else:
            w = values(rng, [g * cin_g, cout_g] + k, scale=0.5, specials=False)
        attrs = {"group": g} if g > 1 or rng.random() < 0.5 else {}
        s = [int(rng.choice([1, 1, 2, 3])) for _ in k]
        if preset == "winograd":
            s = [1, 1]
        elif preset in ("depthwise", "small_ic"):
            s = [int(rng.choice([1, 2]))] * 2
        if rng.random() < 0.7 or preset:
            attrs["strides"] = s
        if rng.random() < 0.6:
            attrs["pads"] = [int(rng.integers(0, kk)) for kk in k] * 2
        if rng.random() < 0.2 and not preset:
            attrs["dilations"] = [int(rng.integers(1, 3)) for _ in k]
        if op == "ConvTranspose" and rng.random() < 0.3:
            attrs["output_padding"] = [int(rng.integers(0, min(ss, dd))) if min(ss, dd) > 0 else 0
                                       for ss, dd in zip(attrs.get("strides", [1] * nd),
                                                         attrs.get("dilations", [1] * nd))]
        cout = w.shape[0] if op == "Conv" else w.shape[1] * g
        feeds = {"x": x}
        const = rng.random() < 0.7
        inits = [("w", w)] if const else []
        if not const:
            feeds["w"] = w
        if rng.random() < 0.6:
            inits.append(("b", values(rng, [cout], specials=False)))
            if not const:  # inputs before initializers in node_model: keep the order x, w, b
                feeds["b"] = inits.pop()[1]
        return node_model(op, feeds, initializers=inits, opset=opset, **attrs), feeds
    if op in ("MatMul", "Gemm"):
        m, n, kk = (int(rng.integers(0 if rng.random() < 0.05 else 1, 40)) for _ in range(3))
        if op == "MatMul":
            batch = shape(rng, int(rng.integers(0, 3)), 1, 4)
            a = values(rng, batch + [m, kk], scale=1.0)
            b = values(rng, ([] if rng.random() < 0.5 else batch) + [kk, n], scale=1.0)
            if rng.random() < 0.1:
                a = a[(0,) * (a.ndim - 1)]
            feeds, inits = {"a": a}, []
            if rng.random() < 0.5:
                inits.append(("b", b))
            else:
                feeds["b"] = b
            return node_model(op, feeds, initializers=inits, opset=opset), feeds
        ta, tb = int(rng.integers(0, 2)), int(rng.integers(0, 2))
        a = values(rng, [kk, m] if ta else [m, kk], scale=1.0)
        b = values(rng, [n, kk] if tb else [kk, n], scale=1.0)
        attrs = {"transA": ta, "transB": tb, "alpha": float(rng.choice([1.0, 0.5, -2.0])),
                 "beta": float(rng.choice([1.0, 0.0, 0.25]))}
        feeds, inits = {"a": a}, [("b", b)]
        if rng.random() < 0.6:
            inits.append(("c", values(rng, [[m, n], [n], [1], [m, 1], []][int(rng.integers(5))])))
        return node_model(op, feeds, initializers=inits, opset=opset, **attrs), feeds
    if op == "Resize":
        nd = int(rng.choice([1, 2, 2, 3]))
        x = values(rng, [int(rng.integers(1, 3)), int(rng.integers(1, 4))] + shape(rng, nd, 1, 9))
        mode = str(rng.choice(["nearest", "linear"]))
        attrs = {"mode": mode, "coordinate_transformation_mode": str(rng.choice(
            ["half_pixel", "asymmetric", "align_corners", "pytorch_half_pixel", "tf_crop_and_resize"
             if False else "half_pixel_symmetric"]))}
        if mode == "nearest":
            attrs["nearest_mode"] = str(rng.choice(["round_prefer_floor", "round_prefer_ceil", "floor", "ceil"]))
        if rng.random() < 0.5:
            sc = np.array([1, 1] + [float(rng.choice([0.5, 1.0, 1.5, 2.0, 3.0, 0.75])) for _ in range(nd)],
                          np.float32)
            inits = [("roi", np.array([], np.float32)), ("scales", sc)]
        else:
            sz = np.array(list(x.shape[:2]) + [int(rng.integers(1, 20)) for _ in range(nd)], np.int64)
            inits = [("roi", np.array([], np.float32)), ("scales", np.array([], np.float32)), ("sizes", sz)]
        return node_model(op, {"x": x}, initializers=inits, opset=opset, **attrs), {"x": x}
    raise KeyError(op)


def family(op):
    if op in UNARY:
        return "unary"
    if op in ("Add", "Sub", "Mul", "Div", "Pow", "Mod", "PRelu", "BitShift"):
        return "binary"
    if op in ("Max", "Min", "Sum", "Mean", "Where", "Clip"):
        return "variadic"
    if op.startswith("Reduce"):
        return "reduce"
    if op in ("Softmax", "LogSoftmax", "Hardmax"):
        return "softmax"
    if op.endswith("Pool"):
        return "pool"
    return op


def compare(got, ref, algo, name, accumulating=False):
    assert got.shape == ref.shape and got.dtype == ref.dtype, \
        f"{algo} {name}: {got.dtype}{got.shape} != NAIVE's {ref.dtype}{ref.shape}"
    if ref.dtype.kind != "f":
        bad = np.flatnonzero(got.reshape(-1) != ref.reshape(-1))
        assert bad.size == 0, f"{algo} {name}: {bad.size} elements differ, first at {bad[0]}: " \
            f"{got.reshape(-1)[bad[0]]} != {ref.reshape(-1)[bad[0]]}"
        return
    g, r = got.astype(np.float64).reshape(-1), ref.astype(np.float64).reshape(-1)
    atol = ATOL.get(algo.split()[0], ATOL_DEFAULT)  # "WINOGRAD_F63 preprocessed" too
    with np.errstate(invalid="ignore", over="ignore"):
        ok = (np.isnan(r) & np.isnan(g)) | (g == r) | (np.abs(g - r) <= atol + RTOL * np.abs(r))
        if accumulating:
            ok |= ~np.isfinite(r) & ~np.isfinite(g)
    bad = np.flatnonzero(~ok)
    assert bad.size == 0, (f"{algo} {name}: {bad.size}/{r.size} elements off by more than "
                           f"{atol} + {RTOL}|ref|, first at {bad[0]}: {g[bad[0]]!r} vs NAIVE {r[bad[0]]!r}")


def prepare(workdir):
    algos()
    import onnx_ref  # noqa: F401


def run_case(rng, workdir):
    table = algos()
    # A family first, then an operator of it: the 40 unary operators would
    # otherwise crowd out Conv, MatMul and the rest.
    fams = {}
    for op in sorted(table):
        fams.setdefault(family(op), []).append(op)
    fam = sorted(fams)[int(rng.integers(len(fams)))]
    op = fams[fam][int(rng.integers(len(fams[fam])))]
    acc = op in ACCUMULATING or op.startswith("Reduce")
    _HUGE[0] = not acc
    model, feeds = gen(op, rng)
    # NAIVE may refuse the case (a shape the op does not allow): a clean refusal.
    ref = loadrun.load(model, algo="NAIVE", progress=False).run(feeds)
    ran = []
    finite = all(np.all(np.isfinite(v)) for v in feeds.values() if v.dtype.kind == "f")
    for algo in table[op][1:]:
        if algo.startswith("WINOGRAD") and not finite:
            continue
        for pre in (False, True):
            net = loadrun.load(model, algo=algo, weight_preprocess=pre, progress=False)
            got = net.run(feeds)
            assert set(got) == set(ref)
            for k in ref:
                compare(got[k], ref[k], algo + (" preprocessed" if pre else ""), f"{op} {k}", acc)
            ran += [s[1] for s in net.steps()]
    return f"{op}: {sorted(set(ran))}"
