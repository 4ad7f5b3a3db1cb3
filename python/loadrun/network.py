"""The Python face of a compiled model: loadrun.load() -> Network.

A Network knows its inputs and outputs, runs on a dict of NumPy arrays and
benchmarks with the timing loop in C++. Input shapes decide the compiled
plan: symbolic dims take the shape the caller gives, else 1 for a leading
batch dim; a run with new shapes compiles (once) for them. So do the values
of small integer inputs that decide shapes (axes, pads, a target shape). Where
shapes depend on tensor contents (NonZero, Unique, ...) the nodes concerned
are inferred at every run: `outputs` then gives the shapes of the last run
(-1 before the first).

Sequence and optional inputs and outputs (ONNX seq(...) / optional(...)) are
Python lists of arrays and, for an empty optional, None; an optional tensor
that holds a value is an array.
"""
import contextlib
import dataclasses
from typing import NamedTuple

import warnings

import numpy as np

from loadrun import _core
from loadrun.errors import InputError, ResourceError
from loadrun.onnx.dtypes import numpy_dtype
from loadrun.onnx.importer import import_model


# Plans (one per distinct input shape, each with its own activation arena)
# kept by default; the least recently used goes first. load(max_plans=N).
DEFAULT_MAX_PLANS = 8


class TensorInfo(NamedTuple):
    name: str
    shape: tuple  # -1 marks a dim not known yet
    dtype: str


class Timings(list):
    """Per-iteration times in milliseconds; `.warmup` holds the warm-up runs'."""

    def __init__(self, iters, warmup):
        super().__init__(iters)
        self.warmup = list(warmup)


def convert_feed(name, value, dtype):
    """`value` as a C-contiguous array of `dtype`, if that loses nothing."""
    arr = np.asarray(value)
    target = numpy_dtype(dtype)
    if arr.dtype == target:
        return np.asarray(arr, order="C")
    if arr.dtype.kind in "OSUV":
        raise InputError(f"input '{name}': expected {dtype}, got {arr.dtype}")
    if np.can_cast(arr.dtype, target, casting="safe"):
        return np.asarray(arr.astype(target), order="C")
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ComplexWarning: the round trip below decides
        converted = arr.astype(target)
        back = converted.astype(arr.dtype)
    same = np.array_equal(back, arr, equal_nan=arr.dtype.kind == "f")
    if not same:
        raise InputError(f"input '{name}': values of dtype {arr.dtype} do not convert to {dtype} without loss")
    return np.asarray(converted, order="C")


def convert_value(spec, value):
    """A feed for input `spec` of any kind: an array for a tensor (or an
    optional tensor that holds one), a list of arrays for a sequence (or an
    optional sequence), None for an empty optional."""
    if spec.kind == "tensor":
        return convert_feed(spec.name, value, spec.dtype)
    if value is None:
        if not spec.kind.startswith("optional"):
            raise InputError(f"input '{spec.name}' is a {spec.kind}: None is only given for an empty optional")
        return None
    if spec.kind in ("sequence", "optional(sequence)"):
        if isinstance(value, np.ndarray) or not isinstance(value, (list, tuple)):
            raise InputError(f"input '{spec.name}' is a {spec.kind}: give a list of arrays")
        return [convert_feed(f"{spec.name}[{i}]", v, spec.dtype) for i, v in enumerate(value)]
    return convert_feed(spec.name, value, spec.dtype)  # optional(tensor) holding a value


def _shape_hint(spec):
    from loadrun.inputs.shape import shape_hint  # loadrun.inputs imports this module

    return shape_hint(spec)


@contextlib.contextmanager
def _memory(what):
    """An allocation the core could not make (its ResourceError, std::bad_alloc:
    a MemoryError) is a loadrun ResourceError."""
    try:
        yield
    except ResourceError:
        raise
    except MemoryError as e:
        detail = str(e) if str(e) and str(e) != "std::bad_alloc" else "out of memory"
        raise ResourceError(f"{what}: {detail}") from None


def algorithm_names():
    """Every algorithm name the core registry knows (for `algo=`)."""
    return sorted({a for _d, _t, algos in _core.list_ops() for a in algos})


def check_algo(algo):
    if algo and algo not in algorithm_names():
        raise InputError(f"algo='{algo}' is not an algorithm of loadrun (algorithms: {', '.join(algorithm_names())})")


def _check_threads(threads, core_ids):
    if isinstance(threads, bool) or not isinstance(threads, int) or threads < 1:
        raise InputError(f"threads must be a whole number >= 1, got {threads!r}")
    ids = list(core_ids) if core_ids is not None else []
    if any(isinstance(c, bool) or not isinstance(c, int) or c < 0 for c in ids):
        raise InputError(f"core_ids must be core numbers >= 0, got {core_ids!r}")
    if ids and len(ids) != threads:
        raise InputError(f"core_ids: {len(ids)} given for {threads} threads (one per thread)")
    return threads, ids


LAYOUTS = ("nchw44", "nchw88")


def check_layout(layout):
    """The core's name for a layout option ("" for none); InputError otherwise."""
    if layout is None or layout == "" or layout == "nchw":
        return ""
    if layout not in LAYOUTS:
        raise InputError(f"layout must be one of {', '.join(LAYOUTS)} (or None), got {layout!r}")
    return layout


class Network:
    def __init__(self, imported, input_shapes=None, *, algo=None, weight_preprocess=True, free_weights=True,
                 progress=True,
                 optimize=True, max_plans=None, disable_mem_opt=False, debug_fill_nan=False, sanity_check=False,
                 const_shape=False, fake_first=False, record_comp_seq=0, threads=1, core_ids=None, layout=None,
                 **fast_run):
        from loadrun.fastrun import chooser_options

        check_algo(algo)
        layout = check_layout(layout)
        threads, core_ids = _check_threads(threads, core_ids)
        # The core keeps the graph it optimised; holding the imported one here
        # too would keep the weights that fusions replaced alive.
        self._model = dataclasses.replace(imported, graph=None)
        if max_plans is None:
            max_plans = DEFAULT_MAX_PLANS
        if isinstance(max_plans, bool) or not isinstance(max_plans, int) or max_plans < 1:
            raise InputError(f"max_plans must be a whole number >= 1, got {max_plans!r}")
        self._core = _core.Network(imported.graph, prefer_algo=algo or "",
                                   weight_preprocess=weight_preprocess, free_weights=free_weights,
                                   progress=progress, optimize=optimize,
                                   max_plans=max_plans, mem_reuse=not disable_mem_opt,
                                   debug_fill_nan=debug_fill_nan, sanity_check=sanity_check,
                                   const_shape=const_shape, fake_first=fake_first,
                                   record_level=int(record_comp_seq), threads=threads, core_ids=core_ids,
                                   layout=layout, **chooser_options(**fast_run))
        self._specs = {s.name: s for s in imported.inputs}
        # Some input or output is a sequence or an optional: run through run_values.
        self._values = (any(s.kind != "tensor" for s in imported.inputs)
                        or any(k != "tensor" for k in self._core.output_kinds()))
        self._shapes = self._default_shapes(input_shapes or {})
        self._feeds = None
        if self._shapes is not None:
            with _memory("compile"):
                self._core.compile([self._shapes[s.name] for s in imported.inputs])

    # -- shapes ------------------------------------------------------------
    def _default_shapes(self, given):
        for name in given:
            if name not in self._specs:
                raise InputError(f"'{name}' is not an input of the model (inputs: {', '.join(self._specs) or 'none'})")
        shapes = {}
        for spec in self._model.inputs:
            if spec.name in given:
                shapes[spec.name] = [int(d) for d in given[spec.name]]
                continue
            shape = list(spec.shape)
            for d, v in enumerate(shape):
                if v < 0:
                    if d == 0:
                        shape[0] = 1
                    else:
                        return None  # wait for a shape from the caller
            shapes[spec.name] = shape
        return shapes

    def _unknown_dim_error(self):
        for spec in self._model.inputs:
            for d, v in enumerate(spec.shape):
                if v < 0 and d > 0:
                    return InputError(
                        f"input '{spec.name}' dim {d} ('{spec.dim_names[d]}') is symbolic: "
                        f"give its shape ({_shape_hint(spec)} with numbers for the names, or feed an array)")
        return InputError("the input shapes are not known")

    def compile(self, input_shapes):
        """Compile for {name: shape} (missing inputs keep their current shape)."""
        shapes = self._default_shapes(input_shapes)
        if shapes is None:
            merged = dict(self._shapes or {})
            merged.update({k: list(v) for k, v in input_shapes.items()})
            if any(s.name not in merged for s in self._model.inputs):
                raise self._unknown_dim_error()
            shapes = merged
        with _memory("compile"):
            self._core.compile([shapes[s.name] for s in self._model.inputs])
        self._shapes = shapes

    # -- introspection -----------------------------------------------------
    @property
    def inputs(self):
        return [TensorInfo(n, tuple(s), d) for n, s, d in self._core.inputs()]

    @property
    def outputs(self):
        return [TensorInfo(n, tuple(s), d) for n, s, d in self._core.outputs()]

    @property
    def opset(self):
        return self._model.opset

    def fastrun_log(self):
        """The fast-run lines (strategy, skipped and profiled candidates, cache
        misses) logged by the compiles since the last call."""
        return list(self._core.fastrun_log())

    def fastrun_stats(self):
        """{cache_hits, cache_misses, profiled, timed_runs} over every compile so far."""
        return dict(self._core.fastrun_stats())

    def steps(self):
        """[(opr, algo, in_layouts, out_layouts, workspace, preprocessed)] of the current plan."""
        return [tuple(s) for s in self._core.steps()]

    # -- running -----------------------------------------------------------
    def _arrays(self, feeds):
        feeds = dict(feeds)
        for name in feeds:
            if name not in self._specs:
                raise InputError(f"'{name}' is not an input of the model (inputs: {', '.join(self._specs)})")
        arrays = []
        for spec in self._model.inputs:
            if spec.name not in feeds:
                raise InputError(f"input '{spec.name}' was not given")
            arrays.append(convert_value(spec, feeds[spec.name]))
        return arrays

    def _shapes_of(self, arrays):
        return {s.name: list(np.shape(a)) if s.kind == "tensor" else []
                for s, a in zip(self._model.inputs, arrays)}

    def run(self, feeds):
        """Run on {input name: array (a list of arrays for a sequence, None for
        an empty optional)}; returns {output name: array (list, None)}."""
        arrays = self._arrays(feeds)
        with _memory("run"):
            outs = self._core.run_values(arrays) if self._values else self._core.run(arrays)
        self._shapes = self._shapes_of(arrays)
        self._feeds = arrays
        return dict(zip(self._model.outputs, outs))

    def _bind(self, arrays):
        with _memory("binding the inputs"):
            if self._values:
                self._core.bind_values(arrays)
            else:
                self._core.bind_inputs(arrays)  # inputs whose values decide shapes pick their plan

    def set_inputs(self, feeds):
        """Give the inputs later benchmark() runs use (compiles for their shapes)."""
        arrays = self._arrays(feeds)
        self.compile(self._shapes_of(arrays))
        self._bind(arrays)
        self._feeds = arrays

    def _feeds_for_benchmark(self):
        if self._shapes is None:
            raise self._unknown_dim_error()
        if self._feeds is None:  # zeros; an empty sequence; an empty optional
            from loadrun.inputs.shape import filled

            self._feeds = [filled(s.name, self._shapes[s.name], numpy_dtype(s.dtype), 0) if s.kind == "tensor"
                           else [] if s.kind == "sequence" else None for s in self._model.inputs]
        return self._feeds

    def benchmark(self, iters=10, warmup=1):
        """Time `warmup` then `iters` runs in C++; returns Timings (ms per iteration)."""
        feeds = self._feeds_for_benchmark()
        # binds (compiling if needed) and times under one lock: a run from
        # another thread cannot change the inputs in between
        with _memory("run"):
            w, it = self._core.benchmark_feeds(feeds, int(iters), int(warmup))
        return Timings(it, w)

    def iterate(self, iters=10, warmup=1):
        """benchmark() one run at a time: yields ("warmup", i, ms) then ("iter",
        i, ms) as each run ends (each timed in C++), so that a caller can show
        them as they come and Ctrl-C stops between two runs."""
        feeds = self._feeds_for_benchmark()
        for kind, n in (("warmup", int(warmup)), ("iter", int(iters))):
            for i in range(n):
                with _memory("run"):
                    w, it = self._core.benchmark_feeds(feeds, *((0, 1) if kind == "warmup" else (1, 0)))
                yield kind, i, (w or it)[0]

    def memory_info(self):
        """The current plan's memory: arena, lower bound, no-reuse total,
        workspace and weight bytes, and per arena tensor (name, bytes, first
        step, last step, offset, buffer)."""
        return dict(self._core.memory_info())

    def add_step_callback(self, fn):
        """Call fn(index, node, algo, inputs, outputs, ms) after every step of
        every run (arrays are copies); returns a handle for remove_step_callback."""
        return self._core.add_step_callback(fn)

    def remove_step_callback(self, handle):
        self._core.remove_step_callback(handle)

    @property
    def replaying(self):
        """True once a recorded plan replays its kernels (record_comp_seq)."""
        return self._core.replaying

    @property
    def freed_bytes(self):
        """Bytes of plan metadata freed by record_comp_seq=2."""
        return self._core.freed_bytes

    @property
    def num_plans(self):
        """Plans kept now (at most max_plans shape plans, each with at most
        max_plans value-keyed plans)."""
        return self._core.num_plans

    @property
    def num_prepared(self):
        """Preprocessed weight blocks alive, each shared by every plan using it."""
        return self._core.num_prepared


def load(model, input_shapes=None, *, algo=None, weight_preprocess=True, free_weights=True, fast_run=False,
         full_run=False,
         reproducible=False, binary_equal_between_batch=False, fast_run_shared_batch_size=0,
         fast_run_algo_policy=None, workspace_limit=None, progress=True, optimize=True, max_plans=None,
         disable_mem_opt=False, debug_fill_nan=False, sanity_check=False, const_shape=False, fake_first=False,
         record_comp_seq=0, threads=1, core_ids=None, layout=None):
    """Load an ONNX model (path, `zoo:NAME` or ModelProto) or an .lrm file
    (`loadrun convert`; read by the core, no ONNX import) and compile it.

    input_shapes: {input name: shape} for symbolic dims (else a leading batch
    dim becomes 1; other symbolic dims wait for the first run's arrays).
    algo: run the algorithm of this name wherever it is usable (e.g. "NAIVE");
    an unknown name is an InputError listing the known ones.
    weight_preprocess: algorithms transform constant weights once at compile
    (GEMM operands packed, Winograd filters transformed), as ONNX Runtime
    prepacks; on by default. free_weights: then free each original that only
    preprocessed steps read (--model-info shows the bytes before and after);
    those steps keep their algorithm for later input shapes, and shapes that
    would need the original (another packing) are an InputError. Turn either
    off to run arbitrary shapes from one Network with the originals kept.

    Fast-run (as load_and_run's flags of the same names; see loadrun.fastrun):
    fast_run / full_run profile the candidates of every opr on its real shapes
    and keep the fastest (full_run times NAIVE too); reproducible and
    binary_equal_between_batch restrict the candidates; fast_run_algo_policy
    is the cache file (read, completed and written back when profiling; used
    read-only otherwise); fast_run_shared_batch_size profiles at that batch for
    every batch; workspace_limit caps an algorithm's scratch bytes. progress:
    draw a progress bar on stderr while profiling (only when it is a terminal).
    Conflicting options raise loadrun.fastrun.FastRunOptionError (a ValueError).
    optimize: run the graph passes (Conv+BatchNormalization+activation fusion).
    max_plans: compiled plans kept for distinct input shapes (default
    DEFAULT_MAX_PLANS = 8); the least recently used is dropped, with its
    activation arena. Weights and their preprocessed forms are shared by all.
    disable_mem_opt: every tensor gets its own arena bytes (no reuse, no views,
    no in-place writes; load_and_run's --disable-mem-opt).
    debug_fill_nan: fill the arena with NaN bytes before every run (also
    LOADRUN_DEBUG_FILL_NAN=1), so a kernel reading memory nothing wrote shows.
    Executor switches (load_and_run's spec section 9): sanity_check (guard
    bytes after every tensor, checked after each kernel of a plan's first run:
    an overrun is an InternalError naming the operator), const_shape (input
    shapes fixed by the first compile), fake_first (a plan's first execution
    runs no kernel), record_comp_seq (1: the first run records the bound
    kernels and later runs replay them; 2: also frees plan metadata; both need
    static shapes).

    threads: kernels split their work over this many threads (a pool of
    threads-1 workers plus the calling thread, owned by the Network);
    core_ids: one core per thread to pin them to (worker i to core_ids[i],
    the calling thread to the last).

    layout: run the conv trunk in a channel-blocked layout (load_and_run's
    --enable-nchw44 / --enable-nchw88): "nchw44" (blocks of 4 channels, the
    ARM NEON layout) or "nchw88" (blocks of 8, AVX); None: plain NCHW. Inputs
    and outputs stay NCHW: the network relayouts at the trunk's borders.

    A Network may be run from several threads at once: runs of one Network
    take turns (one lock per Network), so every caller gets the results of its
    own inputs; distinct Networks run in parallel (run() releases the GIL).
    """
    check_algo(algo)
    from loadrun import lrm

    imported = lrm.read(model)[0] if lrm.is_lrm(model) else import_model(model)
    return Network(imported, input_shapes, algo=algo, weight_preprocess=weight_preprocess,
                   free_weights=free_weights,
                   progress=progress, fast_run=fast_run, full_run=full_run, reproducible=reproducible,
                   binary_equal_between_batch=binary_equal_between_batch,
                   fast_run_shared_batch_size=fast_run_shared_batch_size,
                   fast_run_algo_policy=fast_run_algo_policy, workspace_limit=workspace_limit,
                   optimize=optimize, max_plans=max_plans, disable_mem_opt=disable_mem_opt, layout=layout,
                   debug_fill_nan=debug_fill_nan, sanity_check=sanity_check, const_shape=const_shape,
                   fake_first=fake_first, record_comp_seq=record_comp_seq, threads=threads, core_ids=core_ids)
