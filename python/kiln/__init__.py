"""kiln from Python: the onnxruntime API subset scripts use, over kiln's C++ session.

    import kiln as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 2
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    sess = ort.InferenceSession("det.onnx", opts, providers=["CPUExecutionProvider"])
    out = sess.run(None, {sess.get_inputs()[0].name: image})[0]

What differs from onnxruntime is listed in the README's "Python" section.
Errors are kiln.Error (a RuntimeError) with kiln's one-line message.
"""

import datetime as _datetime
import enum as _enum
import json as _json
import operator as _operator
import os as _os
import tempfile as _tempfile
import time as _time
import warnings as _warnings

from . import _kiln
from ._kiln import Error, UnsupportedError, describe_platform, read_image, write_image

__all__ = [
    "Error", "UnsupportedError", "InferenceSession", "SessionOptions", "RunOptions", "GraphOptimizationLevel",
    "ExecutionMode", "NodeArg", "ModelMetadata", "get_available_providers", "get_device", "optimize",
    "profile_table", "cpu_info", "describe_platform", "read_image", "write_image",
]

__version__ = "0.1.0"

_CPU = "CPUExecutionProvider"


class GraphOptimizationLevel(_enum.IntEnum):
    """onnxruntime's levels (same values); kiln runs them as kiln::OptLevel none/basic/extended/all."""
    ORT_DISABLE_ALL = 0
    ORT_ENABLE_BASIC = 1
    ORT_ENABLE_EXTENDED = 2
    ORT_ENABLE_ALL = 99


_KILN_LEVEL = {0: 0, 1: 1, 2: 2, 99: 3}


class ExecutionMode(_enum.IntEnum):
    """Accepted for compatibility; kiln runs nodes one after another (ORT_SEQUENTIAL)."""
    ORT_SEQUENTIAL = 0
    ORT_PARALLEL = 1


# Session config keys that onnxruntime scripts set for speed tuning and that
# have nothing to change in kiln; accepted without a warning.
_NO_OP_CONFIG_KEYS = {
    "session.intra_op.allow_spinning",
    "session.inter_op.allow_spinning",
    "session.set_denormal_as_zero",
}
# kiln's own keys: kiln.isa (sse2|sse41|avx2|avx512), kiln.max_memory_bytes.
_KILN_CONFIG_KEYS = {"kiln.isa", "kiln.max_memory_bytes"}


class SessionOptions:
    """onnxruntime.SessionOptions: the settings kiln has an equivalent for, and a few it accepts."""

    def __init__(self):
        self.intra_op_num_threads = 0  # 0: kiln's default, the number of physical cores
        self.inter_op_num_threads = 0  # accepted; kiln has no inter-op parallelism
        self.execution_mode = ExecutionMode.ORT_SEQUENTIAL
        self.graph_optimization_level = GraphOptimizationLevel.ORT_ENABLE_ALL
        self.optimized_model_filepath = ""
        self.enable_profiling = False
        self.profile_file_prefix = "onnxruntime_profile_"
        self.log_severity_level = 2
        self.log_verbosity_level = 0
        self.logid = ""
        self.enable_cpu_mem_arena = True
        self.enable_mem_pattern = True
        self.enable_mem_reuse = True
        self.use_deterministic_compute = False
        self._dims = {}
        self._config = {}

    def add_free_dimension_override_by_name(self, dim_name, dim_value):
        """Fixes symbolic dim `dim_name` to `dim_value` (kiln::SessionOptions::dim_values)."""
        try:
            value = _operator.index(dim_value)  # int, numpy integers; not floats or strings
        except TypeError:
            value = -1
        if value < 0:
            raise Error(f"free dimension '{dim_name}': {dim_value!r} is not a size (an int >= 0)")
        self._dims[str(dim_name)] = value

    def add_free_dimension_override_by_denotation(self, dim_denotation, dim_value):
        raise Error("add_free_dimension_override_by_denotation is not supported by kiln: "
                    "use add_free_dimension_override_by_name")

    def add_session_config_entry(self, key, value):
        key, value = str(key), str(value)
        if key not in _NO_OP_CONFIG_KEYS and key not in _KILN_CONFIG_KEYS:
            _warnings.warn(f"kiln ignores the session config entry '{key}' (it has no equivalent)", stacklevel=2)
        self._config[key] = value

    def get_session_config_entry(self, key):
        if key not in self._config:
            raise Error(f"no session config entry '{key}'")
        return self._config[key]

    def _kiln_options(self):
        o = _kiln._SessionOptions()
        threads = self.intra_op_num_threads
        if not isinstance(threads, int) or threads < 0:
            raise Error(f"intra_op_num_threads must be an int >= 0 (0: the default), not {threads!r}")
        o.threads = threads
        level = int(self.graph_optimization_level)
        if level not in _KILN_LEVEL:
            raise Error(f"graph_optimization_level {level} is not one of {[int(x) for x in GraphOptimizationLevel]}")
        o.opt_level = _KILN_LEVEL[level]
        o.dim_values = dict(self._dims)
        o.isa = self._config.get("kiln.isa", "")
        if "kiln.max_memory_bytes" in self._config:
            o.max_memory_bytes = int(self._config["kiln.max_memory_bytes"])
        o.profile = bool(self.enable_profiling)
        return o


class RunOptions:
    """Accepted by run(); kiln reads none of its fields."""

    def __init__(self):
        self.log_severity_level = 2
        self.log_verbosity_level = 0
        self.logid = ""
        self.terminate = False
        self.only_execute_path_to_fetches = False

    def add_run_config_entry(self, key, value):
        pass


class NodeArg:
    """An input or output as onnxruntime describes it: name, shape (ints, symbols, None), type."""

    def __init__(self, name, shape, type_, dtype):
        self.name = name
        self.shape = shape
        self.type = type_
        self._dtype = dtype

    def __repr__(self):
        return f"NodeArg(name='{self.name}', type='{self.type}', shape={self.shape})"


class ModelMetadata:
    """What kiln reads of the model's metadata (graph name, description and custom metadata are not kept)."""

    def __init__(self, info):
        self.producer_name = info["producer_name"]
        self.graph_name = ""
        self.domain = ""
        self.description = ""
        self.graph_description = ""
        self.version = 0
        self.custom_metadata_map = {}


def get_available_providers():
    return [_CPU]


def get_all_providers():
    return [_CPU]


def get_device():
    return "CPU"


def _check_providers(providers):
    if providers is None:
        return
    if isinstance(providers, str) or not hasattr(providers, "__iter__"):
        raise TypeError(f"providers must be a list of provider names, not {type(providers).__name__}")
    names = []
    for p in providers:
        name = p[0] if isinstance(p, (tuple, list)) and len(p) == 2 and isinstance(p[1], dict) else p
        if not isinstance(name, str):
            raise TypeError(f"a provider is a name or a (name, options dict) pair, not {p!r}")
        names.append(name)
    # As onnxruntime: a provider this build lacks is a warning, and the CPU one runs.
    for name in names:
        if name != _CPU:
            _warnings.warn(f"Specified provider '{name}' is not in available provider names. "
                           f"Available providers: '{_CPU}'", stacklevel=3)


class InferenceSession:
    """onnxruntime.InferenceSession over a kiln::Session (loaded and optimized once, run many times)."""

    def __init__(self, path_or_bytes, sess_options=None, providers=None, provider_options=None, **kwargs):
        _check_providers(providers)
        self._options = sess_options if sess_options is not None else SessionOptions()
        options = self._options._kiln_options()
        if isinstance(path_or_bytes, (bytes, bytearray, memoryview)):
            self._model_path, self._model_bytes = "", bytes(path_or_bytes)
        elif isinstance(path_or_bytes, (str, _os.PathLike)):
            self._model_path, self._model_bytes = _os.fspath(path_or_bytes), None
        else:
            raise TypeError(f"Unable to load from type '{type(path_or_bytes)}'")
        self._profile_start_us = _time.monotonic_ns() / 1000.0
        self._profile_wall = _datetime.datetime.now()
        self._run_events = []
        self._profiling = bool(self._options.enable_profiling)
        self._session = _kiln._Session(self._model_path, self._model_bytes, options)
        self._info = self._session.info()
        self._inputs = [NodeArg(*v) for v in self._session.inputs()]
        self._outputs = [NodeArg(*v) for v in self._session.outputs()]
        if self._info["memory_warning"] and self._options.log_severity_level <= 2:
            _warnings.warn(self._info["memory_warning"], stacklevel=2)
        if self._options.optimized_model_filepath:
            self._write_optimized_model(self._options.optimized_model_filepath)

    def _write_optimized_model(self, out_path):
        level = _KILN_LEVEL[int(self._options.graph_optimization_level)]
        if self._model_bytes is None:
            _kiln.optimize_model(self._model_path, out_path, level, False, {}, dict(self._options._dims))
            return
        with _tempfile.TemporaryDirectory() as tmp:
            src = _os.path.join(tmp, "model.onnx")
            with open(src, "wb") as f:
                f.write(self._model_bytes)
            _kiln.optimize_model(src, out_path, level, False, {}, dict(self._options._dims))

    def get_inputs(self):
        return list(self._inputs)

    def get_outputs(self):
        return list(self._outputs)

    def get_overridable_initializers(self):
        return []

    def get_modelmeta(self):
        return ModelMetadata(self._info)

    def get_providers(self):
        return [_CPU]

    def get_provider_options(self):
        return {_CPU: {}}

    def get_session_options(self):
        return self._options

    def set_providers(self, providers=None, provider_options=None):
        _check_providers(providers)

    def run(self, output_names, input_feed, run_options=None):
        """Returns the outputs named in output_names (all when None or empty) as numpy arrays.

        Inputs that are C-contiguous numpy arrays of the model's dtype are used in place (no
        copy); the GIL is released while the model runs, so threads may share a session.
        """
        if not isinstance(input_feed, dict):
            raise TypeError(f"input_feed must be a dict of input name -> array, not {type(input_feed).__name__}")
        if isinstance(output_names, str):
            raise TypeError("output_names must be a list of names (or None), not a str")
        if output_names is not None and len(output_names) == 0:
            output_names = None
        start = _time.monotonic_ns() / 1000.0 if self._profiling else 0.0
        result = self._session.run(output_names, input_feed)
        if self._profiling:
            self._run_events.append((start, _time.monotonic_ns() / 1000.0 - start))
        return result

    def run_with_ort_values(self, *args, **kwargs):
        raise Error("run_with_ort_values is not supported by kiln: use run() with numpy arrays")

    def io_binding(self):
        raise Error("io_binding is not supported by kiln: use run() (it takes numpy inputs without copying)")

    def end_profiling(self):
        """Writes the profile in onnxruntime's JSON format and returns its path ('' when profiling is off)."""
        if not self._profiling:
            return ""
        self._profiling = False
        self._session.stop_profiling()
        # onnxruntime's name: PREFIX_YYYY-MM-DD_HH-MM-SS_mmm.json (the default prefix already ends in "_").
        wall = self._profile_wall
        stamp = f"{wall.strftime('%Y-%m-%d_%H-%M-%S')}_{wall.microsecond // 1000:03d}"
        path = f"{self._options.profile_file_prefix}_{stamp}.json"
        with open(path, "w") as f:
            _json.dump(self._profile_json(), f, indent=0)
        return path

    def get_profiling_start_time_ns(self):
        return int(self._profile_wall.timestamp() * 1e9)

    # onnxruntime's trace: a list of complete events ("ph": "X"), times in
    # microseconds since profiling began; Session events for loading,
    # initialization and each run, and one Node event per node and run named
    # NODE_kernel_time with its op type, as onnxruntime writes for its CPU provider.
    def _profile_json(self):
        t0 = self._profile_start_us
        pid = _os.getpid()
        events = []

        def session_event(name, start, dur):
            events.append({"cat": "Session", "pid": pid, "tid": pid, "dur": int(round(dur)),
                           "ts": int(round(max(0.0, start - t0))), "ph": "X", "name": name, "args": {}})

        def type_shapes(values):
            return [{_ORT_TYPE_NAME.get(dtype, dtype): list(shape)} for dtype, shape in values]

        session_event("model_loading_uri" if self._model_bytes is None else "model_loading_array",
                      *self._info["load_us"])
        session_event("session_initialization", *self._info["init_us"])
        for name, op, kernel, ts, dur, tid, ins, outs in self._session.profile_events():
            args = {"op_name": op, "provider": _CPU, "output_size": str(sum(_nbytes(d, s) for d, s in outs)),
                    "input_type_shape": type_shapes(ins), "output_type_shape": type_shapes(outs)}
            if kernel:
                args["kiln_kernel"] = kernel
            events.append({"cat": "Node", "pid": pid, "tid": tid, "dur": int(round(dur)),
                           "ts": int(round(max(0.0, ts - t0))), "ph": "X", "name": name + "_kernel_time",
                           "args": args})
        for start, dur in self._run_events:
            session_event("model_run", start, dur)
        events.sort(key=lambda e: e["ts"])
        return events


_ORT_TYPE_NAME = {"float32": "float", "float64": "double", "float16": "float16", "int8": "int8", "uint8": "uint8",
                  "int16": "int16", "uint16": "uint16", "int32": "int32", "uint32": "uint32", "int64": "int64",
                  "uint64": "uint64", "bool": "bool"}


def _nbytes(dtype, shape):
    count = 1
    for d in shape:
        count *= d
    return count * _np_itemsize(dtype)


def _np_itemsize(dtype):
    import numpy
    return numpy.dtype(dtype).itemsize


def profile_table(session):
    """A text table of time per op type over the runs profiled so far (needs enable_profiling)."""
    if not isinstance(session, InferenceSession):
        raise TypeError("profile_table takes a kiln.InferenceSession")
    if not session._options.enable_profiling:
        raise Error("profile_table needs a session created with SessionOptions.enable_profiling = True")
    totals = {}
    for _name, op, _kernel, _ts, dur, _tid, _ins, _outs in session._session.profile_events():
        count, total = totals.get(op, (0, 0.0))
        totals[op] = (count + 1, total + dur)
    runs = max(1, len(session._run_events))
    grand = sum(t for _c, t in totals.values()) or 1.0
    lines = [f"{'op type':<24} {'nodes run':>9} {'total ms':>10} {'ms/run':>9} {'share':>7}"]
    for op, (count, total) in sorted(totals.items(), key=lambda kv: -kv[1][1]):
        lines.append(f"{op:<24} {count:>9} {total / 1000:>10.3f} {total / 1000 / runs:>9.3f} "
                     f"{100 * total / grand:>6.1f}%")
    lines.append(f"{'total':<24} {sum(c for c, _t in totals.values()):>9} {grand / 1000:>10.3f} "
                 f"{grand / 1000 / runs:>9.3f} {'100.0%' if totals else '-':>7}")
    lines.append(f"({len(session._run_events)} profiled run(s); times are the nodes' kernels)")
    return "\n".join(lines)


def optimize(input_path, output_path, level=GraphOptimizationLevel.ORT_ENABLE_ALL, standard_only=False,
             input_shapes=None, dim_values=None):
    """`kiln optimize`: writes the graph a session would run (input shapes fixed first) as an ONNX model.

    standard_only=True writes kiln's fusions back as standard ops, so any runtime loads the result.
    Returns a dict with the optimizer's report.
    """
    level = int(level)
    if level not in _KILN_LEVEL:
        raise Error(f"optimization level {level} is not one of {[int(x) for x in GraphOptimizationLevel]}")
    shapes = {k: [int(d) for d in v] for k, v in (input_shapes or {}).items()}
    return _kiln.optimize_model(_os.fspath(input_path), _os.fspath(output_path), _KILN_LEVEL[level],
                                bool(standard_only), shapes, dict(dim_values or {}))


def cpu_info(measure_peak=True):
    """The CPU as kiln sees it: ISA levels, the level sessions run at, caches, cores, and (measure_peak)
    the measured float32 peak GFLOP/s of one core at the selected level (about 30 ms the first time)."""
    info = dict(_kiln.cpu_info())
    if measure_peak:
        info["peak_gflops_per_core"] = _kiln.peak_gflops_per_core(info["selected_isa"])
    return info
