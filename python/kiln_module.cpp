// kiln._kiln: the C++ half of the Python module (python/kiln/ is the other
// half: the onnxruntime-shaped classes are plain Python over this).
//
// Only the public API (include/kiln/) and, for machine facts such as the
// measured peak, platform/ and kernels/ -- the same rule as tools/
// (scripts/check_layers.sh).
//
// Memory: an input that is a C-contiguous numpy array of the model's dtype is
// handed to the session as a kiln::Tensor view of the array's own buffer (no
// copy; the view keeps a reference to the array). Outputs come back as numpy
// arrays over the kiln::Tensor's buffer when nothing else can see that buffer,
// else as copies (see outputs_to_numpy).
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <sys/syscall.h>
#include <unistd.h>

#include "kernels/describe_platform.h"
#include "kernels/f32_peak.h"
#include "kiln/error.h"
#include "kiln/image.h"
#include "kiln/model_info.h"
#include "kiln/optimize.h"
#include "kiln/optimize_model.h"
#include "kiln/session.h"
#include "kiln/tensor.h"
#include "platform/cpu_info.h"

namespace py = pybind11;

namespace {

// numpy dtype <-> kiln::DataType. kiln's float16 is IEEE half in uint16_t,
// the same bytes as numpy's float16; bool is one byte in both.
py::dtype numpy_dtype(kiln::DataType type) {
  switch (type) {
    case kiln::DataType::kFloat32: return py::dtype("float32");
    case kiln::DataType::kFloat64: return py::dtype("float64");
    case kiln::DataType::kFloat16: return py::dtype("float16");
    case kiln::DataType::kInt8: return py::dtype("int8");
    case kiln::DataType::kUInt8: return py::dtype("uint8");
    case kiln::DataType::kInt16: return py::dtype("int16");
    case kiln::DataType::kUInt16: return py::dtype("uint16");
    case kiln::DataType::kInt32: return py::dtype("int32");
    case kiln::DataType::kUInt32: return py::dtype("uint32");
    case kiln::DataType::kInt64: return py::dtype("int64");
    case kiln::DataType::kUInt64: return py::dtype("uint64");
    case kiln::DataType::kBool: return py::dtype("bool");
    default: break;
  }
  kiln::fail_unsupported("tensors of type ", kiln::dtype_name(type), " have no numpy dtype");
}

// onnxruntime's type strings ("tensor(float)").
std::string ort_type_string(kiln::DataType type) {
  switch (type) {
    case kiln::DataType::kFloat32: return "tensor(float)";
    case kiln::DataType::kFloat64: return "tensor(double)";
    case kiln::DataType::kFloat16: return "tensor(float16)";
    case kiln::DataType::kBFloat16: return "tensor(bfloat16)";
    case kiln::DataType::kInt8: return "tensor(int8)";
    case kiln::DataType::kUInt8: return "tensor(uint8)";
    case kiln::DataType::kInt16: return "tensor(int16)";
    case kiln::DataType::kUInt16: return "tensor(uint16)";
    case kiln::DataType::kInt32: return "tensor(int32)";
    case kiln::DataType::kUInt32: return "tensor(uint32)";
    case kiln::DataType::kInt64: return "tensor(int64)";
    case kiln::DataType::kUInt64: return "tensor(uint64)";
    case kiln::DataType::kBool: return "tensor(bool)";
    case kiln::DataType::kString: return "tensor(string)";
    default: return "tensor(undefined)";
  }
}

// (name, shape, type) as onnxruntime's NodeArg shows them: ints for fixed
// dims, the symbol for named dynamic ones, None for unnamed ones, [] when the
// rank is unknown.
py::tuple describe_value(const kiln::TensorInfo& info) {
  py::list shape;
  if (info.has_shape) {
    for (size_t i = 0; i < info.dims.size(); ++i) {
      if (info.dims[i] >= 0) shape.append(info.dims[i]);
      else if (i < info.dim_names.size() && !info.dim_names[i].empty()) shape.append(info.dim_names[i]);
      else shape.append(py::none());
    }
  }
  return py::make_tuple(info.name, shape, ort_type_string(info.dtype), kiln::dtype_name(info.dtype));
}

std::string shape_text(const py::array& a) {
  kiln::Shape shape(a.shape(), a.shape() + a.ndim());
  return kiln::shape_to_string(shape);
}

// A reference to a Python object that may be dropped by any thread, with or
// without the GIL (the session releases tensors inside run(), which runs
// without it).
std::shared_ptr<void> python_owner(py::object object) {
  PyObject* raw = object.release().ptr();
  return std::shared_ptr<void>(raw, [](void* p) {
    PyGILState_STATE state = PyGILState_Ensure();
    Py_DECREF(static_cast<PyObject*>(p));
    PyGILState_Release(state);
  });
}

// `value` as a kiln::Tensor for input `info`. No copy when it is a numpy array
// of the model's dtype, C-contiguous and aligned for its element type (kiln's
// kernels load caller inputs unaligned; only their own packed buffers need 64
// bytes: tests/unit/unaligned_inputs_test.cpp). A non-contiguous or
// misaligned array of the right dtype is copied, as onnxruntime does; another
// dtype is an error, as in onnxruntime.
kiln::Tensor input_tensor(const kiln::TensorInfo& info, const py::handle& value, bool* copied) {
  py::array array;
  if (py::isinstance<py::array>(value)) array = py::reinterpret_borrow<py::array>(value);
  else array = py::array::ensure(value);
  if (!array) kiln::fail("input '", info.name, "' is a ", std::string(py::str(value.get_type().attr("__name__"))),
                         ", not a numpy array");
  const py::dtype wanted = numpy_dtype(info.dtype);
  if (!array.dtype().is(wanted) && !array.dtype().equal(wanted))
    kiln::fail("input '", info.name, "' has type ", std::string(py::str(array.dtype())), " (shape ", shape_text(array),
               "), the model expects ", kiln::dtype_name(info.dtype), " (", info.shape_string(), ")");
  *copied = false;
  const bool aligned = (array.flags() & py::detail::npy_api::NPY_ARRAY_ALIGNED_) != 0;
  if (!(array.flags() & py::detail::npy_api::NPY_ARRAY_C_CONTIGUOUS_) || !aligned) {
    array = py::module_::import("numpy").attr("require")(array, py::none(), "CA");  // C order, aligned
    *copied = true;
  }
  kiln::Shape shape(array.shape(), array.shape() + array.ndim());
  void* data = const_cast<void*>(array.data());
  return kiln::Tensor::view(info.dtype, std::move(shape), python_owner(array), data);
}

// A kiln::Tensor as a numpy array over its buffer; the array keeps the
// tensor (and so its buffer) alive.
py::array tensor_view_array(kiln::Tensor tensor) {
  auto* kept = new kiln::Tensor(std::move(tensor));
  py::capsule owner(kept, [](void* p) { delete static_cast<kiln::Tensor*>(p); });
  std::vector<py::ssize_t> shape(kept->shape().begin(), kept->shape().end());
  return py::array(numpy_dtype(kept->dtype()), shape, kept->raw(), owner);
}

py::array tensor_copy_array(const kiln::Tensor& tensor) {
  std::vector<py::ssize_t> shape(tensor.shape().begin(), tensor.shape().end());
  py::array out(numpy_dtype(tensor.dtype()), shape);
  if (tensor.nbytes()) std::memcpy(out.mutable_data(), tensor.raw(), tensor.nbytes());
  return out;
}

double now_microseconds() {
  return std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// One timed node of one run, for onnxruntime's profile format.
struct NodeEvent {
  std::string name;
  std::string op_type;
  std::string kernel;
  double ts_us;   // start, microseconds of the steady clock
  double dur_us;
  long tid;
  std::vector<std::pair<std::string, kiln::Shape>> inputs;   // dtype name, shape
  std::vector<std::pair<std::string, kiln::Shape>> outputs;
};

struct Profile {
  std::mutex mutex;
  bool on = false;
  std::vector<NodeEvent> events;
};

struct PySessionOptions {
  int threads = 0;
  std::string isa;
  int opt_level = 3;  // kiln::OptLevel
  std::map<std::string, int64_t> dim_values;
  uint64_t max_memory_bytes = 0;
  bool profile = false;
};

kiln::OptLevel opt_level_from_int(int level) {
  switch (level) {
    case 0: return kiln::OptLevel::kNone;
    case 1: return kiln::OptLevel::kBasic;
    case 2: return kiln::OptLevel::kExtended;
    case 3: return kiln::OptLevel::kAll;
  }
  kiln::fail("optimization level ", level, " is not one of 0 (none), 1 (basic), 2 (extended), 3 (all)");
}

class PySession {
 public:
  PySession(const std::string& path, const py::object& bytes, const PySessionOptions& o) {
    profile_ = std::make_shared<Profile>();
    kiln::SessionOptions options;
    options.threads = o.threads;
    options.isa = o.isa;
    options.opt_level = opt_level_from_int(o.opt_level);
    options.dim_values = o.dim_values;
    options.max_memory_bytes = o.max_memory_bytes;
    if (o.profile) {
      profile_->on = true;
      std::weak_ptr<Profile> weak = profile_;
      options.node_observer = [weak](const kiln::NodeRunInfo& info) { record(weak, info); };
    }
    std::string model_bytes;
    if (!bytes.is_none()) model_bytes = std::string(py::bytes(bytes));
    py::gil_scoped_release release;
    const double start = now_microseconds();
    kiln::Model model = bytes.is_none() ? kiln::Model::open(path) : kiln::Model::from_bytes(model_bytes);
    kiln::DescribeOptions describe;
    describe.infer_shapes = false;
    description_ = model.describe(describe);
    const double loaded = now_microseconds();
    session_ = std::make_unique<kiln::Session>(kiln::Session::open(model, options));
    load_us_ = {start, loaded - start};
    init_us_ = {loaded, now_microseconds() - loaded};
  }

  py::list values(bool outputs) const {
    py::list out;
    for (const kiln::TensorInfo& info : outputs ? session_->outputs() : session_->inputs()) out.append(describe_value(info));
    return out;
  }

  // Runs with `feed` (name -> array); returns the outputs named in `names`
  // (all when None) in that order.
  py::list run(const py::object& names, const py::dict& feed) {
    kiln::NamedTensors inputs;
    const auto& declared = session_->inputs();
    for (const auto& [key, value] : feed) {
      const std::string name = py::str(key);
      const kiln::TensorInfo* info = nullptr;
      for (const kiln::TensorInfo& in : declared) info = in.name == name ? &in : info;
      if (!info) {
        std::string known;
        for (const kiln::TensorInfo& in : declared) known += (known.empty() ? "" : ", ") + in.name;
        kiln::fail("the model has no input named '", name, "' (inputs: ", known, ")");
      }
      bool copied = false;
      inputs[name] = input_tensor(*info, value, &copied);
      copies_ += copied;
    }
    std::vector<std::string> wanted;
    if (names.is_none()) {
      for (const kiln::TensorInfo& out : session_->outputs()) wanted.push_back(out.name);
    } else {
      for (const py::handle& n : names) wanted.push_back(py::str(n));
    }
    for (const std::string& n : wanted) {
      bool known = false;
      for (const kiln::TensorInfo& out : session_->outputs()) known = known || out.name == n;
      if (!known) {
        std::string list;
        for (const kiln::TensorInfo& out : session_->outputs()) list += (list.empty() ? "" : ", ") + out.name;
        kiln::fail("the model has no output named '", n, "' (outputs: ", list, ")");
      }
    }
    std::vector<kiln::Tensor> results;
    {
      py::gil_scoped_release release;
      kiln::NamedTensors outputs = session_->run(inputs);
      for (const std::string& n : wanted) results.push_back(outputs.at(n));
    }
    return outputs_to_numpy(results, inputs);
  }

  py::list profile_events() const {
    py::list out;
    std::lock_guard<std::mutex> lock(profile_->mutex);
    auto shapes = [](const std::vector<std::pair<std::string, kiln::Shape>>& values) {
      py::list list;
      for (const auto& [dtype, shape] : values) list.append(py::make_tuple(dtype, py::cast(shape)));
      return list;
    };
    for (const NodeEvent& e : profile_->events)
      out.append(py::make_tuple(e.name, e.op_type, e.kernel, e.ts_us, e.dur_us, e.tid, shapes(e.inputs), shapes(e.outputs)));
    return out;
  }
  void stop_profiling() {
    std::lock_guard<std::mutex> lock(profile_->mutex);
    profile_->on = false;
  }

  py::dict info() const {
    py::dict d;
    d["producer_name"] = description_.producer_name;
    d["producer_version"] = description_.producer_version;
    d["ir_version"] = description_.ir_version;
    py::dict opsets;
    for (const auto& [domain, version] : description_.opsets) opsets[py::str(domain)] = version;
    d["opsets"] = opsets;
    d["threads"] = session_->threads();
    d["optimization"] = session_->optimization_summary().to_string();
    const kiln::MemorySummary& memory = session_->memory_summary();
    d["arena_bytes"] = memory.arena_bytes;
    d["memory_warning"] = memory.warning;
    d["load_us"] = py::make_tuple(load_us_.first, load_us_.second);
    d["init_us"] = py::make_tuple(init_us_.first, init_us_.second);
    d["input_copies"] = copies_.load();
    return d;
  }

 private:
  static void record(const std::weak_ptr<Profile>& weak, const kiln::NodeRunInfo& info) {
    std::shared_ptr<Profile> profile = weak.lock();
    if (!profile) return;
    const double end = now_microseconds();
    NodeEvent e{info.node_name, info.op_type, info.kernel, end - info.seconds * 1e6, info.seconds * 1e6,
                static_cast<long>(syscall(SYS_gettid)), {}, {}};
    for (const kiln::Tensor* t : info.inputs)
      if (t) e.inputs.emplace_back(kiln::dtype_name(t->dtype()), t->shape());
    for (const kiln::Tensor& t : info.outputs)
      if (t.defined()) e.outputs.emplace_back(kiln::dtype_name(t.dtype()), t.shape());
    std::lock_guard<std::mutex> lock(profile->mutex);
    if (profile->on) profile->events.push_back(std::move(e));
  }

  // An output is returned without a copy only when its buffer is its own:
  // not an input's (a Reshape of an input is a view of the caller's array),
  // not another returned output's, and held by nobody but this call and the
  // session's copy of its last outputs (a constant output is shared with the
  // session's weights, which the caller must not be able to write over).
  // Outputs that alias an input are also kept (pinned_) until the next run
  // ends, so the session never sees them as free output buffers to write the
  // next run into while the caller may still be using the input array.
  py::list outputs_to_numpy(std::vector<kiln::Tensor>& results, const kiln::NamedTensors& inputs) {
    py::list out;
    std::vector<kiln::Tensor> aliases;
    for (size_t i = 0; i < results.size(); ++i) {
      kiln::Tensor& t = results[i];
      bool shared = false;
      for (const auto& [name, in] : inputs) {
        if (t.shares_storage_with(in)) {
          shared = true;
          aliases.push_back(t);
        }
      }
      for (size_t j = 0; j < results.size() && !shared; ++j) shared = j != i && t.shares_storage_with(results[j]);
      if (!shared && t.storage() && t.storage().use_count() <= 2) out.append(tensor_view_array(std::move(t)));
      else out.append(tensor_copy_array(t));
    }
    std::vector<kiln::Tensor> old;
    {
      std::lock_guard<std::mutex> lock(pinned_mutex_);
      old.swap(pinned_);
      pinned_ = std::move(aliases);
    }
    return out;
  }

  std::shared_ptr<Profile> profile_;
  std::unique_ptr<kiln::Session> session_;
  kiln::ModelDescription description_;
  std::pair<double, double> load_us_, init_us_;
  std::atomic<int64_t> copies_{0};
  std::mutex pinned_mutex_;
  std::vector<kiln::Tensor> pinned_;
};

py::dict cpu_info_dict() {
  const kiln::CpuInfo& cpu = kiln::cpu_info();
  py::dict d;
  d["vendor"] = cpu.vendor;
  d["brand"] = cpu.brand;
  py::list levels;
  for (kiln::Isa isa : {kiln::Isa::sse2, kiln::Isa::sse41, kiln::Isa::avx2, kiln::Isa::avx512})
    if (cpu.supports(isa)) levels.append(kiln::isa_name(isa));
  d["isa_levels"] = levels;
  d["best_isa"] = kiln::isa_name(cpu.best_isa());
  d["selected_isa"] = kiln::isa_name(kiln::selected_isa());
  d["l1d_bytes"] = cpu.caches.l1d_bytes;
  d["l2_bytes"] = cpu.caches.l2_bytes;
  d["l3_bytes"] = cpu.caches.l3_bytes;
  d["physical_cores"] = kiln::physical_core_count();
  return d;
}

double peak_gflops_per_core(const std::string& isa) {
  kiln::Isa level = isa.empty() ? kiln::selected_isa() : kiln::parse_isa_name(isa, "isa");
  py::gil_scoped_release release;
  return kiln::kernels::f32_peak_gflops_per_core(level);
}

py::dict optimize_model(const std::string& in_path, const std::string& out_path, int level, bool standard_only,
                        const std::map<std::string, kiln::Shape>& input_shapes,
                        const std::map<std::string, int64_t>& dim_values) {
  kiln::OptimizeModelOptions options;
  options.level = opt_level_from_int(level);
  options.standard_only = standard_only;
  options.input_shapes = input_shapes;
  options.dim_values = dim_values;
  kiln::OptimizeModelResult result;
  {
    py::gil_scoped_release release;
    result = kiln::optimize_model_file(in_path, out_path, options);
  }
  py::dict d;
  d["report"] = result.report.to_string();
  d["nodes_before"] = result.report.nodes_before;
  d["nodes_after"] = result.report.nodes_after;
  d["milliseconds"] = result.optimize_milliseconds;
  return d;
}

py::array read_image(const std::string& path) {
  kiln::RgbImage image;
  {
    py::gil_scoped_release release;
    image = kiln::read_image(path);
  }
  py::array_t<uint8_t> out({image.height, image.width, 3});
  std::memcpy(out.mutable_data(), image.pixels.data(), image.pixels.size());
  return out;
}

void write_image(const std::string& path, const py::array& array, int jpeg_quality) {
  py::array_t<uint8_t, py::array::c_style> pixels = py::array_t<uint8_t, py::array::c_style>::ensure(array);
  if (!pixels || array.dtype().kind() != 'u' || array.itemsize() != 1 || pixels.ndim() != 3 || pixels.shape(2) != 3)
    kiln::fail("write_image: '", path, "' needs a uint8 array of shape HxWx3, got ", std::string(py::str(array.dtype())),
               " ", shape_text(array));
  kiln::RgbImage image(static_cast<int>(pixels.shape(1)), static_cast<int>(pixels.shape(0)));
  std::memcpy(image.pixels.data(), pixels.data(), image.pixels.size());
  py::gil_scoped_release release;
  kiln::write_image(image, path, jpeg_quality);
}

}  // namespace

PYBIND11_MODULE(_kiln, m) {
  m.doc() = "kiln's C++ core; use the kiln package (python/kiln/__init__.py)";
  static py::exception<kiln::Error> error(m, "Error", PyExc_RuntimeError);
  static py::exception<kiln::UnsupportedError> unsupported(m, "UnsupportedError", error.ptr());
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const kiln::UnsupportedError& e) {
      unsupported(e.what());
    } catch (const kiln::Error& e) {
      error(e.what());
    } catch (const std::bad_alloc&) {
      error("out of memory");
    }
  });

  py::class_<PySessionOptions>(m, "_SessionOptions")
      .def(py::init<>())
      .def_readwrite("threads", &PySessionOptions::threads)
      .def_readwrite("isa", &PySessionOptions::isa)
      .def_readwrite("opt_level", &PySessionOptions::opt_level)
      .def_readwrite("dim_values", &PySessionOptions::dim_values)
      .def_readwrite("max_memory_bytes", &PySessionOptions::max_memory_bytes)
      .def_readwrite("profile", &PySessionOptions::profile);

  py::class_<PySession>(m, "_Session")
      .def(py::init<const std::string&, const py::object&, const PySessionOptions&>(), py::arg("path"),
           py::arg("model_bytes"), py::arg("options"))
      .def("inputs", [](const PySession& s) { return s.values(false); })
      .def("outputs", [](const PySession& s) { return s.values(true); })
      .def("run", &PySession::run, py::arg("output_names"), py::arg("input_feed"))
      .def("profile_events", &PySession::profile_events)
      .def("stop_profiling", &PySession::stop_profiling)
      .def("info", &PySession::info);

  m.def("cpu_info", &cpu_info_dict, "The CPU as kiln sees it: ISA levels, the level sessions run at, caches");
  m.def("describe_platform", &kiln::describe_platform, "The report `kiln info` prints");
  m.def("peak_gflops_per_core", &peak_gflops_per_core, py::arg("isa") = "",
        "Measured float32 multiply-add peak of one core at an ISA level (default: the selected one)");
  m.def("optimize_model", &optimize_model, py::arg("in_path"), py::arg("out_path"), py::arg("level"),
        py::arg("standard_only"), py::arg("input_shapes"), py::arg("dim_values"));
  m.def("read_image", &read_image, py::arg("path"), "PNG/JPEG/BMP -> uint8 array HxWx3 (RGB)");
  m.def("write_image", &write_image, py::arg("path"), py::arg("pixels"), py::arg("jpeg_quality") = 95,
        "uint8 array HxWx3 (RGB) -> PNG/JPEG/BMP by the path's extension");
  m.def("physical_core_count", &kiln::physical_core_count);
}
