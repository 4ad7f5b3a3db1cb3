// pybind11 module loadrun._core. Thin on purpose: conversions between NumPy
// and core tensors, and one-line forwards. Logic lives in the core or in
// python/loadrun.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cstring>

#include "core/errors.h"
#include "fastrun/algo_cache.h"
#include "fastrun/test_op.h"
#include "graph/graph.h"
#include "graph/lrm.h"
#include "kernels/fma_peak.h"
#include "kernels/isa.h"
#include "kernels/sgemm.h"
#include "kernels/sgemm_bench.h"
#include "runtime/dispatch_observer.h"
#include "runtime/step_timer.h"
#include "runtime/network.h"
#include "runtime/test_compile_pass.h"
#include "runtime/test_ops.h"

namespace py = pybind11;
using namespace loadrun;

namespace {

DType dtype_of(const py::dtype& dt) {
  // bfloat16, float8, int4 ... arrive as ml_dtypes' NumPy types, known by name
  DType named;
  if (dtype_from_name(py::str(dt.attr("name")), &named) && dtype_is_storage_only(named)) return named;
  char k = dt.kind();
  size_t sz = dt.itemsize();
  if (k == 'f' && sz == 4) return DType::Float32;
  if (k == 'f' && sz == 2) return DType::Float16;
  if (k == 'f' && sz == 8) return DType::Float64;
  if (k == 'b') return DType::Bool;
  if (k == 'i' && sz == 1) return DType::Int8;
  if (k == 'i' && sz == 2) return DType::Int16;
  if (k == 'i' && sz == 4) return DType::Int32;
  if (k == 'i' && sz == 8) return DType::Int64;
  if (k == 'u' && sz == 1) return DType::Uint8;
  if (k == 'u' && sz == 2) return DType::Uint16;
  if (k == 'u' && sz == 4) return DType::Uint32;
  if (k == 'u' && sz == 8) return DType::Uint64;
  throw InputError(str_cat("NumPy dtype ", std::string(py::str(dt)), " is not supported"));
}

DType dtype_named(const std::string& name) {
  DType dt;
  LR_CHECK(dtype_from_name(name, &dt), UnsupportedError, "dtype '", name, "' is not supported");
  return dt;
}

// Borrows the array's memory; the caller keeps `arr` alive while it is used.
Tensor borrow_array(const py::array& arr) {
  LR_CHECK(arr.flags() & py::array::c_style, InternalError, "array must be C-contiguous");
  Shape s(arr.shape(), arr.shape() + arr.ndim());
  return Tensor::borrow(Layout(s, dtype_of(arr.dtype())), const_cast<void*>(arr.data()));
}

py::dtype numpy_dtype_of(const Tensor& t) {
  return py::dtype(dtype_name(t.dtype()) == std::string("bool") ? "bool" : dtype_name(t.dtype()));
}

py::array to_array(const Tensor& t) {
  py::dtype dt = numpy_dtype_of(t);
  std::vector<py::ssize_t> shape(t.shape().begin(), t.shape().end());
  py::array arr(dt, shape);
  if (t.nbytes()) std::memcpy(arr.mutable_data(), t.raw(), t.nbytes());
  return arr;
}

// An array over `t`'s own bytes (t is the caller's copy, nobody else's): the
// array keeps it alive, no second copy. Where NumPy's itemsize differs from
// the core's (packed sub-byte types), a copy as to_array makes.
py::array to_array_owning(Tensor t) {
  py::dtype dt = numpy_dtype_of(t);
  if (static_cast<size_t>(dt.itemsize()) * static_cast<size_t>(t.numel()) != t.nbytes() || !t.nbytes())
    return to_array(t);
  std::vector<py::ssize_t> shape(t.shape().begin(), t.shape().end());
  auto* keep = new Tensor(std::move(t));
  py::capsule owner(keep, [](void* p) { delete static_cast<Tensor*>(p); });
  return py::array(dt, shape, keep->raw(), owner);
}

AttrValue attr_of(const py::handle& v) {
  AttrValue a;
  if (py::isinstance<py::bool_>(v) || py::isinstance<py::int_>(v)) {
    a.kind = AttrValue::kInt;
    a.i = v.cast<int64_t>();
  } else if (py::isinstance<py::float_>(v)) {
    a.kind = AttrValue::kFloat;
    a.f = v.cast<double>();
  } else if (py::isinstance<py::str>(v) || py::isinstance<py::bytes>(v)) {
    a.kind = AttrValue::kString;
    a.s = v.cast<std::string>();
  } else if (py::isinstance<Graph>(v)) {
    a.kind = AttrValue::kGraph;
    a.g = v.cast<std::shared_ptr<Graph>>();
  } else if (py::isinstance<py::array>(v)) {
    a.kind = AttrValue::kTensor;
    py::array arr = py::array::ensure(v, py::array::c_style);
    a.t = borrow_array(arr).clone();
  } else if (py::isinstance<py::list>(v) || py::isinstance<py::tuple>(v)) {
    py::sequence seq = v.cast<py::sequence>();
    a.kind = AttrValue::kInts;
    for (auto item : seq) {
      if (py::isinstance<py::float_>(item)) a.kind = AttrValue::kFloats;
      if (py::isinstance<py::str>(item) || py::isinstance<py::bytes>(item))
        a.kind = AttrValue::kStrings;
    }
    for (auto item : seq) {
      if (a.kind == AttrValue::kInts) a.ints.push_back(item.cast<int64_t>());
      if (a.kind == AttrValue::kFloats) a.floats.push_back(item.cast<double>());
      if (a.kind == AttrValue::kStrings) a.strings.push_back(item.cast<std::string>());
    }
  } else {
    throw ModelError(str_cat("attribute value of type ",
                             std::string(py::str(py::type::handle_of(v))), " is not supported"));
  }
  return a;
}

py::list io_list(const std::vector<IOInfo>& infos) {
  py::list r;
  for (const auto& i : infos) r.append(py::make_tuple(i.name, i.shape, dtype_name(i.dtype)));
  return r;
}

ValueKind kind_named(const std::string& name) {
  for (ValueKind k : {ValueKind::kTensor, ValueKind::kSequence, ValueKind::kOptionalTensor,
                      ValueKind::kOptionalSequence})
    if (name == value_kind_name(k)) return k;
  throw UnsupportedError(str_cat("value kind '", name, "' is not supported"));
}

// A graph input of any kind from Python: an array (a tensor, or a present
// optional tensor), a list of arrays (a sequence), None (an empty optional).
// Arrays are borrowed: the caller keeps `keep` alive while the Value is used.
Value value_of(const py::handle& obj, const Var& v, std::vector<py::array>& keep) {
  auto arr = [&](const py::handle& h) {
    keep.push_back(py::array::ensure(h, py::array::c_style));
    LR_CHECK(keep.back(), InputError, "input '", v.name, "': expected an array");
    return borrow_array(keep.back());
  };
  if (obj.is_none()) {
    LR_CHECK(is_optional(v.kind), InputError, "input '", v.name, "': None given for a ",
             value_kind_name(v.kind));
    return Value::none(v.kind, v.dtype);
  }
  if (py::isinstance<py::list>(obj) || py::isinstance<py::tuple>(obj)) {
    std::vector<Tensor> items;
    for (auto item : obj) items.push_back(arr(item));
    return Value::sequence(v.dtype, std::move(items));
  }
  return Value::of_tensor(arr(obj));
}

py::object value_to_py(const Value& v) {
  if (is_optional(v.kind) && !v.present) return py::none();
  if (content_kind(v.kind) == ValueKind::kTensor) return to_array(v.tensor);
  py::list r;
  for (const Tensor& t : v.items) r.append(to_array(t));
  return r;
}

std::vector<Value> values_of(const Network& n, const py::list& feeds, std::vector<py::array>& keep) {
  const Graph& g = n.graph();
  LR_CHECK(feeds.size() == g.inputs().size(), InputError, "the model has ", g.inputs().size(),
           " inputs, ", feeds.size(), " given");
  std::vector<Value> r;
  for (size_t i = 0; i < feeds.size(); ++i) r.push_back(value_of(feeds[i], g.vars()[g.inputs()[i]], keep));
  return r;
}

// A string from a file as Python text: bytes that are not UTF-8 are kept as
// surrogates (surrogateescape), never a UnicodeDecodeError.
py::str file_text(const std::string& s) {
  PyObject* o = PyUnicode_DecodeUTF8(s.data(), static_cast<Py_ssize_t>(s.size()), "surrogateescape");
  if (!o) throw py::error_already_set();
  return py::reinterpret_steal<py::str>(o);
}

py::list file_texts(const std::vector<std::string>& v) {
  py::list r;
  for (const auto& s : v) r.append(file_text(s));
  return r;
}

}  // namespace

PYBIND11_MODULE(_core, m) {
  m.doc() = "loadrun core (C++)";
  static py::exception<Error> base(m, "LoadrunError");
  static py::exception<ModelError> model_err(m, "ModelError", base.ptr());
  static py::exception<InputError> input_err(m, "InputError", base.ptr());
  static py::exception<UnsupportedError> unsup_err(m, "UnsupportedError", base.ptr());
  static py::exception<InternalError> internal_err(m, "InternalError", base.ptr());
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const ModelError& e) {
      py::set_error(model_err, e.what());
    } catch (const InputError& e) {
      py::set_error(input_err, e.what());
    } catch (const UnsupportedError& e) {
      py::set_error(unsup_err, e.what());
    } catch (const InternalError& e) {
      py::set_error(internal_err, e.what());
    } catch (const ResourceError& e) {  // loadrun.ResourceError in the Python layer
      PyErr_SetString(PyExc_MemoryError, e.what());
    } catch (const Error& e) {
      py::set_error(base, e.what());
    }
  });

  m.def("list_ops", [] {
    py::list r;
    for (const OpDef* d : OpRegistry::get().all()) {
      std::vector<std::string> algos;
      for (const Algo* a : d->algos) algos.push_back(a->name());
      r.append(py::make_tuple(d->domain, d->type, algos));
    }
    return r;
  });

  // [(domain, op type, {algo name: attribute bits})]
  m.def("algo_attributes", [] {
    py::list r;
    for (const OpDef* d : OpRegistry::get().all()) {
      py::dict a;
      for (const Algo* algo : d->algos) a[py::str(algo->name())] = algo->attributes();
      r.append(py::make_tuple(d->domain, d->type, a));
    }
    return r;
  });

  // The fast-run cache file, for `loadrun cache`.
  m.def("fastrun_category", &AlgoCache::this_category, py::arg("threads") = 1);
  m.def("fastrun_cache_read", [](const std::string& path) {
    AlgoCache c;
    std::string why;
    auto st = c.read_file(path, &why);
    const char* status = st == AlgoCache::ReadStatus::kOk ? "ok"
                         : st == AlgoCache::ReadStatus::kMissing ? "missing" : "invalid";
    py::list entries;
    for (const auto& cat : c.categories()) {
      for (const auto& kv : cat.second) {
        const CacheEntry& e = kv.second;
        py::list cands;
        for (const auto& cd : e.candidates)
          cands.append(py::make_tuple(file_text(cd.algo), cd.attributes, cd.time_s, cd.workspace));
        entries.append(py::make_tuple(file_text(cat.first), file_text(e.key.op_type),
                                      py::bytes(e.key.params), file_texts(e.key.in_layouts),
                                      file_texts(e.key.out_layouts), e.key.weight_preprocess, cands));
      }
    }
    return py::make_tuple(status, file_text(why), entries);
  });
  // Tests only: the FrCopy operator of domain test.fastrun (fastrun/test_op.h).
  m.def("_register_fastrun_test_op", &register_fastrun_test_op);
  // Tests only: Scale2, Overrun, NonDet, ParScale2 of domain test.runtime (runtime/test_ops.h).
  m.def("_register_runtime_test_ops", &register_runtime_test_ops);
  m.def("_register_test_compile_pass", &register_test_compile_pass);
  m.def("_take_test_compile_pass_log", &take_test_compile_pass_log);
  m.def("fastrun_cache_merge", [](const std::vector<std::string>& inputs, const std::string& out) {
    return merge_cache_files(inputs, out).size();
  });
  // The ISA level of the kernels (kernels/isa.h): in use, and all this CPU runs.
  m.def("isa_level", [] { return std::string(isa_level_name()); });
  m.def("isa_levels", [] {
    std::vector<std::string> v;
    for (IsaLevel l : isa_levels_supported()) v.push_back(isa_level_name(l));
    return v;
  });
  // Kernel benchmarks (bench/gemm.py).
  m.def("sgemm_impl_name", [] { return std::string(kernels::sgemm_impl_name()); });
  m.def(
      "sgemm_bench",
      [](int64_t mm, int64_t n, int64_t k, bool trans_b, bool packed_b, int rounds) {
        kernels::SgemmBench r;
        {
          py::gil_scoped_release release;
          r = kernels::sgemm_bench(mm, n, k, trans_b, packed_b, rounds);
        }
        return py::make_tuple(r.seconds, r.gflops, r.cpu_seconds, r.cpu_gflops);
      },
      py::arg("m"), py::arg("n"), py::arg("k"), py::arg("trans_b") = false,
      py::arg("packed_b") = false, py::arg("rounds") = 5);
  m.def(
      "fma_peak",
      [](int repeats) {
        py::gil_scoped_release release;
        kernels::FmaPeak r = kernels::fma_peak(repeats);
        return std::make_pair(r.gflops, std::string(r.isa));
      },
      py::arg("repeats") = 20);

  py::class_<Graph, std::shared_ptr<Graph>>(m, "Graph")
      .def(py::init<>())
      .def(
          "add_input",
          [](Graph& g, const std::string& name, const std::string& dtype, const Shape& shape,
             const std::string& kind) {
            return g.add_input(name, dtype_named(dtype), shape, kind_named(kind));
          },
          py::arg("name"), py::arg("dtype"), py::arg("shape"), py::arg("kind") = "tensor")
      .def("var_kind",
           [](const Graph& g, const std::string& n) {
             int id = g.find_var(n);
             LR_CHECK(id >= 0, ModelError, "no tensor named '", n, "'");
             return std::string(value_kind_name(g.vars()[id].kind));
           })
      .def("var_dtype",
           [](const Graph& g, const std::string& n) {
             int id = g.find_var(n);
             LR_CHECK(id >= 0, ModelError, "no tensor named '", n, "'");
             return std::string(dtype_name(g.vars()[id].dtype));
           })
      .def("add_const",
           [](Graph& g, const std::string& name, const py::array& value) {
             py::array arr = py::array::ensure(value, py::array::c_style);
             return g.add_const(name, borrow_array(arr).clone());
           })
      .def("add_op",
           [](Graph& g, const std::string& type, const std::string& domain, const std::string& name,
              const py::dict& attrs, const std::vector<std::string>& inputs,
              const std::vector<std::string>& outputs) {
             Attrs a;
             for (auto kv : attrs) a.set(kv.first.cast<std::string>(), attr_of(kv.second));
             return g.add_opr(type, domain, name, a, inputs, outputs);
           })
      .def("add_output", &Graph::add_output)
      .def("has_var", [](const Graph& g, const std::string& n) { return g.find_var(n) >= 0; })
      // ([(name, shape, dtype)] of the inputs, the same of the outputs): an .lrm file's IO.
      .def("io",
           [](const Graph& g) {
             auto list = [&](const std::vector<int>& ids) {
               py::list r;
               for (int id : ids) {
                 const Var& v = g.vars()[id];
                 r.append(py::make_tuple(v.name, v.shape, dtype_name(v.dtype)));
               }
               return r;
             };
             return py::make_tuple(list(g.inputs()), list(g.outputs()));
           })
      .def_property_readonly("num_oprs", [](const Graph& g) { return g.oprs().size(); });

  // The native .lrm format (graph/lrm.h): (Graph, [(key, value)]) of a file;
  // a graph and its metadata written to a file.
  m.def("read_lrm", [](const std::string& path) {
    LrmModel lm;
    {
      py::gil_scoped_release release;
      lm = read_lrm_file(path);
    }
    py::list meta;  // bytes: the file's, not necessarily UTF-8
    for (const auto& kv : lm.meta) meta.append(py::make_tuple(py::bytes(kv.first), py::bytes(kv.second)));
    return py::make_tuple(lm.graph, meta);
  });
  m.def("write_lrm", [](const std::shared_ptr<Graph>& g, const std::string& path, const LrmMeta& meta) {
    py::gil_scoped_release release;
    write_lrm_file(path, *g, meta);
  });

  py::class_<Network>(m, "Network")
      .def(py::init([](std::shared_ptr<Graph> g, const std::string& prefer_algo,
                       bool weight_preprocess, uint32_t strategy, py::object workspace_limit,
                       bool binary_equal_between_batch, int shared_batch_size,
                       const std::string& algo_policy, bool progress, bool optimize,
                       size_t max_plans, bool mem_reuse, bool debug_fill_nan, bool sanity_check,
                       bool const_shape, bool fake_first, int record_level, int threads,
                       const std::vector<int>& core_ids, bool free_weights,
                       const std::string& layout) {
             NetworkOptions opt;
             opt.comp_node = std::make_shared<CpuCompNode>(threads, core_ids);
             opt.chooser.prefer_algo = prefer_algo;
             opt.weight_preprocess = weight_preprocess;
             opt.free_weights = free_weights;
             opt.layout = layout;
             opt.chooser.strategy = strategy;
             if (!workspace_limit.is_none())
               opt.chooser.workspace_limit = workspace_limit.cast<size_t>();
             opt.chooser.binary_equal_between_batch = binary_equal_between_batch;
             opt.chooser.shared_batch_size = shared_batch_size;
             opt.chooser.algo_policy = algo_policy;
             opt.chooser.progress = progress;
             opt.optimize = optimize;
             opt.max_plans = max_plans;
             opt.mem_reuse = mem_reuse;
             opt.debug_fill_nan = debug_fill_nan;
             opt.sanity_check = sanity_check;
             opt.const_shape = const_shape;
             opt.fake_first = fake_first;
             opt.record_level = record_level;
             return std::make_unique<Network>(g, opt);
           }),
           py::arg("graph"), py::arg("prefer_algo") = "", py::arg("weight_preprocess") = true,
           py::arg("strategy") = static_cast<uint32_t>(kHeuristic),
           py::arg("workspace_limit") = py::none(), py::arg("binary_equal_between_batch") = false,
           py::arg("shared_batch_size") = 0, py::arg("algo_policy") = "",
           py::arg("progress") = true, py::arg("optimize") = true,
           py::arg("max_plans") = NetworkOptions::kDefaultMaxPlans, py::arg("mem_reuse") = true,
           py::arg("debug_fill_nan") = false, py::arg("sanity_check") = false,
           py::arg("const_shape") = false, py::arg("fake_first") = false, py::arg("record_level") = 0,
           py::arg("threads") = 1, py::arg("core_ids") = std::vector<int>{},
           py::arg("free_weights") = true, py::arg("layout") = "")
      .def_property_readonly("num_threads", [](const Network& n) { return n.comp_node().num_threads(); })
      .def_property_readonly("dispatches", [](const Network& n) { return n.comp_node().dispatches(); })
      .def("thread_affinity", [](const Network& n) { return n.comp_node().affinity(); })
      .def_property_readonly("replaying", &Network::replaying)
      .def_property_readonly("freed_bytes", &Network::freed_bytes)
      .def_property_readonly("num_plans", &Network::num_plans)
      .def_property_readonly("num_prepared", &Network::num_prepared)
      .def("benchmark_feeds",
           [](Network& n, const py::list& feeds, int iters, int warmup) {
             std::vector<py::array> keep;
             std::vector<Value> vs = values_of(n, feeds, keep);
             BenchResult b;
             {
               py::gil_scoped_release release;
               b = n.benchmark_values(vs, iters, warmup);
             }
             return py::make_tuple(b.warmup_ms, b.iter_ms);
           })
      .def("fastrun_log", [](Network& n) { return n.chooser().take_log(); })
      .def("fastrun_stats",
           [](Network& n) {
             const ChooserStats& s = n.chooser().stats();
             py::dict d;
             d["cache_hits"] = s.cache_hits;
             d["cache_misses"] = s.cache_misses;
             d["profiled"] = s.profiled;
             d["timed_runs"] = s.timed_runs;
             return d;
           })
      .def("compile", &Network::compile, py::call_guard<py::gil_scoped_release>())
      .def("inputs", [](const Network& n) { return io_list(n.inputs()); })
      .def("outputs", [](const Network& n) { return io_list(n.outputs()); })
      .def("run",
           [](Network& n, const std::vector<py::array>& feeds) {
             std::vector<Tensor> ts;
             for (const auto& f : feeds) ts.push_back(borrow_array(f));
             std::vector<Tensor> outs;
             {
               py::gil_scoped_release release;
               outs = n.run(ts);
             }
             py::list r;
             for (auto& t : outs) r.append(to_array_owning(std::move(t)));
             return r;
           })
      // Inputs and outputs of any kind (value_of / value_to_py).
      .def("run_values",
           [](Network& n, const py::list& feeds) {
             std::vector<py::array> keep;
             std::vector<Value> vs = values_of(n, feeds, keep);
             std::vector<Value> outs;
             {
               py::gil_scoped_release release;
               outs = n.run_values(vs);
             }
             py::list r;
             for (const auto& v : outs) r.append(value_to_py(v));
             return r;
           })
      .def("bind_values",
           [](Network& n, const py::list& feeds) {
             std::vector<py::array> keep;
             std::vector<Value> vs = values_of(n, feeds, keep);
             py::gil_scoped_release release;
             n.bind_values(vs);
           })
      .def("input_kinds",
           [](const Network& n) {
             std::vector<std::string> r;
             for (const IOInfo& i : n.inputs()) r.push_back(value_kind_name(i.kind));
             return r;
           })
      .def("output_kinds",
           [](const Network& n) {
             std::vector<std::string> r;
             for (const IOInfo& i : n.outputs()) r.push_back(value_kind_name(i.kind));
             return r;
           })
      .def("bind_inputs",
           [](Network& n, const std::vector<py::array>& feeds) {
             std::vector<Tensor> ts;
             for (const auto& f : feeds) ts.push_back(borrow_array(f));
             py::gil_scoped_release release;
             n.bind_inputs(ts);
           })
      .def("benchmark",
           [](Network& n, int iters, int warmup) {
             BenchResult b;
             {
               py::gil_scoped_release release;
               b = n.benchmark(iters, warmup);
             }
             return py::make_tuple(b.warmup_ms, b.iter_ms);
           })
      .def("steps",
           [](const Network& n) {
             py::list r;
             for (const auto& s : n.steps())
               r.append(py::make_tuple(s.opr, s.algo, s.in_layouts, s.out_layouts, s.workspace,
                                       s.preprocessed));
             return r;
           })
      .def_property_readonly("arena_bytes", &Network::arena_bytes)
      .def("memory_info",
           [](const Network& n) {
             MemoryInfo m = n.memory_info();
             py::dict d;
             d["arena_bytes"] = m.arena_bytes;
             d["lower_bound_bytes"] = m.lower_bound_bytes;
             d["no_reuse_bytes"] = m.no_reuse_bytes;
             d["workspace_bytes"] = m.workspace_bytes;
             d["weight_bytes"] = m.weight_bytes;
             d["freed_weight_bytes"] = m.freed_weight_bytes;
             d["prepared_weight_bytes"] = m.prepared_weight_bytes;
             py::list ts;
             for (const auto& t : m.tensors)
               ts.append(py::make_tuple(t.name, t.bytes, t.first_use, t.last_use, t.offset, t.buffer));
             d["tensors"] = ts;
             d["steps"] = m.steps;
             return d;
           })
      // Observers (runtime/observer.h) from Python, for tests and tools: fn(index,
      // node label, algo, inputs, outputs, ms) after every step; arrays are copies.
      .def("add_step_callback",
           [](Network& n, py::function fn) {
             struct PyObserver final : StepObserver {
               py::function fn;
               void after_step(const StepEvent& e) override {
                 py::gil_scoped_acquire gil;
                 py::list ins, outs;
                 for (const Tensor* t : e.ctx->in) {
                   if (t && !t->empty()) ins.append(to_array(*t));
                   else ins.append(py::none());
                 }
                 for (const Tensor* t : e.ctx->out) {
                   if (t && !t->empty()) outs.append(to_array(*t));
                   else outs.append(py::none());
                 }
                 fn(e.index, e.node->label(), std::string(e.algo), ins, outs, e.ms);
               }
             };
             auto o = std::make_shared<PyObserver>();
             o->fn = std::move(fn);
             n.add_observer(o);
             return reinterpret_cast<uintptr_t>(o.get());
           })
      .def("remove_step_callback", [](Network& n, uintptr_t id) {
        n.remove_observer(reinterpret_cast<const StepObserver*>(id));
      })
      // --check-dispatch (runtime/dispatch_observer.h).
      .def("add_dispatch_check",
           [](Network& n) {
             auto o = std::make_shared<DispatchObserver>(n.comp_node());
             n.add_observer(o);
             return o;
           })
      .def("remove_dispatch_check",
           [](Network& n, const std::shared_ptr<DispatchObserver>& o) { n.remove_observer(o.get()); })
      // Per-step kernel times, no copies (runtime/step_timer.h).
      .def("add_step_timer",
           [](Network& n) {
             auto o = std::make_shared<StepTimer>();
             n.add_observer(o);
             return o;
           })
      .def("remove_step_timer",
           [](Network& n, const std::shared_ptr<StepTimer>& o) { n.remove_observer(o.get()); });

  py::class_<StepTimer, std::shared_ptr<StepTimer>>(m, "StepTimer")
      .def("steps",
           [](const StepTimer& t) {
             py::list r;
             for (const auto& s : t.steps()) r.append(py::make_tuple(s.label, s.algo, s.total_ms, s.runs));
             return r;
           })
      .def("clear", &StepTimer::clear);

  py::class_<DispatchObserver, std::shared_ptr<DispatchObserver>>(m, "DispatchObserver")
      .def_property_readonly("steps_seen", &DispatchObserver::steps_seen)
      .def("single_thread_steps", &DispatchObserver::single_thread_steps);
}
