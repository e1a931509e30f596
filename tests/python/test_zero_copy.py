# run() uses a C-contiguous numpy array of the model's dtype in place: no copy
# of a 1x3x720x1280 input (11 MB), measured with tracemalloc (numpy reports
# its buffers to it) and kiln's own count of copied inputs. The same
# measurement does see the copy a non-contiguous array needs, so it can fail.
import tracemalloc

import numpy as np
import pytest
from onnx import TensorProto, helper

import kiln
from conftest import make_model

SHAPE = (1, 3, 720, 1280)
INPUT_BYTES = 1 * 3 * 720 * 1280 * 4


@pytest.fixture(scope="module")
def sess():
    # ReduceMax over everything but the channels: reads every input element,
    # writes 12 bytes.
    node = helper.make_node("ReduceMax", ["x"], ["y"], axes=[0, 2, 3], keepdims=0)
    model = make_model([node], [helper.make_tensor_value_info("x", TensorProto.FLOAT, list(SHAPE))],
                       [helper.make_tensor_value_info("y", TensorProto.FLOAT, [3])])
    return kiln.InferenceSession(model)


def run_traced(sess, x):
    copies_before = sess._session.info()["input_copies"]
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        base, _ = tracemalloc.get_traced_memory()
        y = sess.run(None, {"x": x})[0]
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return y, peak - base, sess._session.info()["input_copies"] - copies_before


def expected(x):
    return np.asarray(x).max(axis=(0, 2, 3))


def test_contiguous_input_is_not_copied(sess):
    x = np.random.default_rng(1).standard_normal(SHAPE, dtype=np.float32)
    y, allocated, copies = run_traced(sess, x)
    assert np.array_equal(y, expected(x))
    assert copies == 0
    assert allocated < INPUT_BYTES // 10, f"{allocated} bytes allocated while running"


def test_input_off_64_byte_alignment_is_not_copied(sess):
    # A float32 array 4 bytes past a 64-byte boundary: kiln's kernels take it
    # as it is (tests/unit/unaligned_inputs_test.cpp runs them at every ISA).
    raw = np.zeros(INPUT_BYTES // 4 + 32, np.float32)
    start = next(i for i in range(32) if (raw[i:].ctypes.data % 64) == 4)
    x = raw[start:start + INPUT_BYTES // 4].reshape(SHAPE)
    x[...] = np.random.default_rng(2).standard_normal(SHAPE, dtype=np.float32)
    assert x.ctypes.data % 64 == 4 and x.flags.c_contiguous
    y, allocated, copies = run_traced(sess, x)
    assert np.array_equal(y, expected(x))
    assert copies == 0
    assert allocated < INPUT_BYTES // 10, f"{allocated} bytes allocated while running"


def test_the_measurement_sees_a_copy(sess):
    big = np.random.default_rng(3).standard_normal((1, 3, 720, 2560), dtype=np.float32)
    x = big[:, :, :, ::2]
    assert not x.flags.c_contiguous
    y, allocated, copies = run_traced(sess, x)
    assert np.array_equal(y, expected(x))
    assert copies == 1
    assert allocated >= INPUT_BYTES, f"only {allocated} bytes allocated for a copied 11 MB input"


def test_input_array_is_not_written(sess):
    x = np.random.default_rng(4).standard_normal(SHAPE, dtype=np.float32)
    kept = x.copy()
    sess.run(None, {"x": x})
    assert np.array_equal(x, kept)
