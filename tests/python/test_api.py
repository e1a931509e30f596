# The onnxruntime API subset (names, shapes, types, options, providers,
# profiling, optimized model file) and kiln's extras.
import json
import os
import warnings

import numpy as np
import pytest
from onnx import TensorProto, helper

import kiln
from conftest import make_model


def relu_model(dims=(1, 3, 4, 5)):
    return make_model([helper.make_node("Relu", ["x"], ["y"])],
                      [helper.make_tensor_value_info("x", TensorProto.FLOAT, list(dims))],
                      [helper.make_tensor_value_info("y", TensorProto.FLOAT, list(dims))])


def test_inputs_outputs_and_metadata(style_model):
    sess = kiln.InferenceSession(style_model, providers=["CPUExecutionProvider"])
    (i,), (o,) = sess.get_inputs(), sess.get_outputs()
    assert (i.name, i.shape, i.type) == ("input", [1, 3, "height", "width"], "tensor(float)")
    assert (o.name, o.shape, o.type) == ("output", [1, 3, "out_height", "out_width"], "tensor(float)")
    assert sess.get_providers() == ["CPUExecutionProvider"]
    assert kiln.get_available_providers() == ["CPUExecutionProvider"]
    assert sess.get_modelmeta().producer_name.startswith("kiln models/generate_style_models.py")


def test_unnamed_dynamic_dim_is_none_and_types():
    x = helper.make_tensor_value_info("ids", TensorProto.INT64, [None, 4])
    x.type.tensor_type.shape.dim[0].Clear()
    model = make_model([helper.make_node("Cast", ["ids"], ["f"], to=TensorProto.FLOAT)], [x],
                       [helper.make_tensor_value_info("f", TensorProto.FLOAT, None)])
    sess = kiln.InferenceSession(model)
    assert sess.get_inputs()[0].shape == [None, 4]
    assert sess.get_inputs()[0].type == "tensor(int64)"
    out = sess.run(None, {"ids": np.arange(8, dtype=np.int64).reshape(2, 4)})[0]
    assert out.dtype == np.float32 and np.array_equal(out, np.arange(8, dtype=np.float32).reshape(2, 4))


def test_bytes_model_and_output_selection():
    model = make_model([helper.make_node("Relu", ["x"], ["r"]), helper.make_node("Neg", ["x"], ["n"])],
                       [helper.make_tensor_value_info("x", TensorProto.FLOAT, [4])],
                       [helper.make_tensor_value_info("r", TensorProto.FLOAT, [4]),
                        helper.make_tensor_value_info("n", TensorProto.FLOAT, [4])])
    sess = kiln.InferenceSession(model)
    x = np.array([-1, 2, -3, 4], np.float32)
    r, n = sess.run(None, {"x": x})
    assert np.array_equal(r, [0, 2, 0, 4]) and np.array_equal(n, -x)
    (n_only,) = sess.run(["n"], {"x": x})
    assert np.array_equal(n_only, -x)
    n2, r2 = sess.run(["n", "r"], {"x": x})
    assert np.array_equal(n2, -x) and np.array_equal(r2, r)


def test_outputs_never_expose_the_session_or_the_input():
    # y is a Reshape of the input (a view inside kiln), c a constant (the
    # session's own bytes): both come back as copies the caller may write.
    shape = helper.make_tensor("shape", TensorProto.INT64, [1], [-1])
    const = helper.make_tensor("c_value", TensorProto.FLOAT, [2], [1.5, 2.5])
    model = make_model([helper.make_node("Reshape", ["x", "shape"], ["y"]),
                        helper.make_node("Identity", ["c_value"], ["c"])],
                       [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 2])],
                       [helper.make_tensor_value_info("y", TensorProto.FLOAT, [4]),
                        helper.make_tensor_value_info("c", TensorProto.FLOAT, [2])], [shape, const])
    for level in (kiln.GraphOptimizationLevel.ORT_DISABLE_ALL, kiln.GraphOptimizationLevel.ORT_ENABLE_ALL):
        opts = kiln.SessionOptions()
        opts.graph_optimization_level = level
        sess = kiln.InferenceSession(model, opts)
        x = np.array([[1, 2], [3, 4]], np.float32)
        y, c = sess.run(None, {"x": x})
        assert not np.shares_memory(y, x)
        y[:] = 0
        c[:] = 0
        assert np.array_equal(x, [[1, 2], [3, 4]])
        y, c = sess.run(None, {"x": x})
        assert np.array_equal(y, [1, 2, 3, 4]) and np.array_equal(c, [1.5, 2.5])


def test_outputs_stay_valid_across_runs():
    sess = kiln.InferenceSession(relu_model((8,)))
    first = sess.run(None, {"x": np.arange(8, dtype=np.float32)})[0]
    second = sess.run(None, {"x": -np.arange(8, dtype=np.float32)})[0]
    assert np.array_equal(first, np.arange(8)) and np.array_equal(second, np.zeros(8))
    del first, second
    third = sess.run(None, {"x": np.full(8, 5, np.float32)})[0]
    assert np.array_equal(third, np.full(8, 5))


def test_providers_are_validated_like_onnxruntime():
    model = relu_model()
    with pytest.warns(UserWarning, match="CUDAExecutionProvider"):
        sess = kiln.InferenceSession(model, providers=["CUDAExecutionProvider", "CPUExecutionProvider"])
    assert sess.get_providers() == ["CPUExecutionProvider"]
    kiln.InferenceSession(model, providers=[("CPUExecutionProvider", {})])
    with pytest.raises(TypeError):
        kiln.InferenceSession(model, providers=[3])


def test_session_config_entries():
    opts = kiln.SessionOptions()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
        opts.add_session_config_entry("kiln.isa", "sse2")
    with pytest.warns(UserWarning, match="session.some_unknown_key"):
        opts.add_session_config_entry("session.some_unknown_key", "1")
    assert opts.get_session_config_entry("kiln.isa") == "sse2"
    sess = kiln.InferenceSession(relu_model(), opts)
    x = np.linspace(-1, 1, 60, dtype=np.float32).reshape(1, 3, 4, 5)
    assert np.array_equal(sess.run(None, {"x": x})[0], np.maximum(x, 0))


def test_free_dimension_override_fixes_the_shape(style_model):
    opts = kiln.SessionOptions()
    opts.add_free_dimension_override_by_name("height", 16)
    opts.add_free_dimension_override_by_name("width", 24)
    sess = kiln.InferenceSession(style_model, opts)
    out = sess.run(None, {"input": np.zeros((1, 3, 16, 24), np.float32)})[0]
    assert out.shape == (1, 3, 16, 24)
    with pytest.raises(kiln.Error, match="1x3x16x20"):
        sess.run(None, {"input": np.zeros((1, 3, 16, 20), np.float32)})


def test_optimized_model_filepath_and_optimize(tmp_path, style_model):
    opts = kiln.SessionOptions()
    opts.graph_optimization_level = kiln.GraphOptimizationLevel.ORT_ENABLE_BASIC
    opts.optimized_model_filepath = str(tmp_path / "basic.onnx")
    opts.add_free_dimension_override_by_name("height", 16)
    opts.add_free_dimension_override_by_name("width", 24)
    sess = kiln.InferenceSession(style_model, opts)
    assert os.path.getsize(tmp_path / "basic.onnx") > 1000
    x = np.random.default_rng(5).uniform(0, 255, (1, 3, 16, 24)).astype(np.float32)
    want = sess.run(None, {"input": x})[0]
    again = kiln.InferenceSession(str(tmp_path / "basic.onnx"))
    assert again.get_inputs()[0].shape == [1, 3, 16, 24]
    np.testing.assert_allclose(again.run(None, {"input": x})[0], want, rtol=1e-5, atol=1e-3)

    report = kiln.optimize(style_model, tmp_path / "std.onnx", standard_only=True,
                           input_shapes={"input": [1, 3, 16, 24]})
    assert report["report"].startswith("graph optimizer (level all): 64 -> ")
    assert report["nodes_after"] <= report["nodes_before"]
    std = kiln.InferenceSession(str(tmp_path / "std.onnx"))
    np.testing.assert_allclose(std.run(None, {"input": x})[0], want, rtol=1e-5, atol=1e-3)


def test_profiling_and_profile_table(tmp_path, style_model):
    opts = kiln.SessionOptions()
    opts.enable_profiling = True
    opts.profile_file_prefix = str(tmp_path / "prof_")
    opts.add_free_dimension_override_by_name("height", 16)
    opts.add_free_dimension_override_by_name("width", 24)
    sess = kiln.InferenceSession(style_model, opts)
    x = np.zeros((1, 3, 16, 24), np.float32)
    for _ in range(3):
        sess.run(None, {"input": x})
    table = kiln.profile_table(sess)
    assert table.splitlines()[0].split()[:2] == ["op", "type"]
    assert "Conv" in table and "(3 profiled run(s)" in table
    path = sess.end_profiling()
    assert path.startswith(str(tmp_path / "prof_")) and path.endswith(".json")
    with open(path) as f:
        events = json.load(f)
    assert sum(e["name"] == "model_run" for e in events) == 3
    names = {e["name"] for e in events if e["cat"] == "Session"}
    assert {"model_loading_uri", "session_initialization", "model_run"} <= names
    nodes_per_run = sum(e["cat"] == "Node" for e in events) // 3
    assert nodes_per_run > 10
    sess.run(None, {"input": x})  # after end_profiling nothing more is recorded
    assert sess.end_profiling() == ""
    with pytest.raises(kiln.Error, match="enable_profiling"):
        kiln.profile_table(kiln.InferenceSession(relu_model()))


def test_cpu_info():
    info = kiln.cpu_info()
    assert "sse2" in info["isa_levels"]
    assert info["selected_isa"] in info["isa_levels"]
    assert info["best_isa"] == info["isa_levels"][-1]
    assert info["peak_gflops_per_core"] > 0.5
    assert info["physical_cores"] >= 1
    assert info["brand"] in kiln.describe_platform() and "f32 GEMM" in kiln.describe_platform()


def test_images_round_trip(tmp_path):
    pixels = np.random.default_rng(6).integers(0, 256, (7, 11, 3), dtype=np.uint8)
    kiln.write_image(str(tmp_path / "a.png"), pixels)
    assert np.array_equal(kiln.read_image(str(tmp_path / "a.png")), pixels)
    with pytest.raises(kiln.Error, match="HxWx3"):
        kiln.write_image(str(tmp_path / "b.png"), np.zeros((4, 4), np.uint8))
    with pytest.raises(kiln.Error, match="missing.png"):
        kiln.read_image(str(tmp_path / "missing.png"))
