# Bad inputs raise kiln.Error (a RuntimeError) with kiln's one-line message
# naming the input and the shapes; nothing crashes the interpreter.
import numpy as np
import pytest
from onnx import TensorProto, helper

import kiln
from conftest import make_model


@pytest.fixture(scope="module")
def sess():
    model = make_model([helper.make_node("Relu", ["x"], ["y"])],
                       [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 4, 5])],
                       [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 3, 4, 5])])
    return kiln.InferenceSession(model)


def test_error_is_a_runtime_error():
    assert issubclass(kiln.Error, RuntimeError)
    assert issubclass(kiln.UnsupportedError, kiln.Error)


def test_wrong_shape_names_both_shapes(sess):
    with pytest.raises(kiln.Error) as e:
        sess.run(None, {"x": np.zeros((1, 3, 4, 6), np.float32)})
    message = str(e.value)
    assert "'x'" in message and "1x3x4x6" in message and "1x3x4x5" in message, message
    assert "\n" not in message


def test_wrong_dtype_names_types_and_shape(sess):
    with pytest.raises(kiln.Error) as e:
        sess.run(None, {"x": np.zeros((1, 3, 4, 5), np.float64)})
    message = str(e.value)
    assert "float64" in message and "float32" in message and "1x3x4x5" in message, message


def test_wrong_rank(sess):
    with pytest.raises(kiln.Error, match="1x3x20"):
        sess.run(None, {"x": np.zeros((1, 3, 20), np.float32)})


def test_missing_and_unknown_inputs(sess):
    with pytest.raises(kiln.Error, match="input 'x' was not given"):
        sess.run(None, {})
    with pytest.raises(kiln.Error, match="no input named 'z'.*inputs: x"):
        sess.run(None, {"z": np.zeros((1, 3, 4, 5), np.float32)})


def test_unknown_output_name(sess):
    with pytest.raises(kiln.Error, match="no output named 'nope'.*outputs: y"):
        sess.run(["nope"], {"x": np.zeros((1, 3, 4, 5), np.float32)})


def test_output_names_must_be_a_list(sess):
    with pytest.raises(TypeError):
        sess.run("y", {"x": np.zeros((1, 3, 4, 5), np.float32)})


def test_not_an_array(sess):
    with pytest.raises(kiln.Error, match="'x'"):
        sess.run(None, {"x": "a string"})
    with pytest.raises(TypeError):
        sess.run(None, [np.zeros((1, 3, 4, 5), np.float32)])


def test_non_contiguous_and_lists_are_copied_like_onnxruntime(sess):
    base = np.arange(1 * 3 * 4 * 10, dtype=np.float32).reshape(1, 3, 4, 10) - 50
    strided = base[:, :, :, ::2]
    assert not strided.flags.c_contiguous
    assert np.array_equal(sess.run(None, {"x": strided})[0], np.maximum(strided, 0))
    fortran = np.asfortranarray(base[:, :, :, :5])
    assert np.array_equal(sess.run(None, {"x": fortran})[0], np.maximum(fortran, 0))
    nested = (np.ones((1, 3, 4, 5), np.float32) * -2).tolist()  # float64 once numpy reads it: a dtype error
    with pytest.raises(kiln.Error, match="float64"):
        sess.run(None, {"x": nested})


def test_byte_misaligned_array_is_copied(sess):
    raw = bytearray(1 * 3 * 4 * 5 * 4 + 1)
    x = np.frombuffer(raw, dtype=np.float32, offset=1, count=60).reshape(1, 3, 4, 5)
    assert not x.flags.aligned
    copies = sess._session.info()["input_copies"]
    assert np.array_equal(sess.run(None, {"x": x})[0], np.zeros((1, 3, 4, 5), np.float32))
    assert sess._session.info()["input_copies"] == copies + 1


def test_bad_model_files(tmp_path):
    with pytest.raises(kiln.Error, match="nope.onnx"):
        kiln.InferenceSession(str(tmp_path / "nope.onnx"))
    with pytest.raises(kiln.Error):
        kiln.InferenceSession(b"this is not a model")
    with pytest.raises(TypeError):
        kiln.InferenceSession(42)


def test_bad_options():
    model = make_model([helper.make_node("Relu", ["x"], ["y"])],
                       [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2])],
                       [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2])])
    opts = kiln.SessionOptions()
    opts.intra_op_num_threads = -1
    with pytest.raises(kiln.Error, match="intra_op_num_threads"):
        kiln.InferenceSession(model, opts)
    opts = kiln.SessionOptions()
    opts.graph_optimization_level = 5
    with pytest.raises(kiln.Error, match="graph_optimization_level"):
        kiln.InferenceSession(model, opts)
    opts = kiln.SessionOptions()
    opts.add_session_config_entry("kiln.isa", "avx9000")
    with pytest.raises(kiln.Error, match="avx9000"):
        kiln.InferenceSession(model, opts)
    with pytest.raises(kiln.Error):
        kiln.SessionOptions().add_free_dimension_override_by_name("batch", -3)
    with pytest.raises(kiln.Error):
        kiln.SessionOptions().add_free_dimension_override_by_name("batch", 1.5)
    kiln.SessionOptions().add_free_dimension_override_by_name("batch", np.int64(2))  # numpy ints are sizes
    with pytest.raises(TypeError):
        kiln.InferenceSession(model, providers="CPUExecutionProvider")
