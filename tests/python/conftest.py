# Shared set-up of the Python tests (ctest runs each file as python.<name>,
# tests/CMakeLists.txt): the built module comes first on sys.path
# (KILN_PYTHON_DIR, build/release/python), the kiln binary and the generated
# style models come from the environment ctest sets.
import os
import sys

import pytest

_python_dir = os.environ.get("KILN_PYTHON_DIR")
if _python_dir:
    sys.path.insert(0, _python_dir)


def _required_env(name):
    value = os.environ.get(name)
    if not value:
        pytest.fail(f"{name} is not set (ctest sets it; see tests/CMakeLists.txt)")
    return value


@pytest.fixture(scope="session")
def kiln_binary():
    return _required_env("KILN_BINARY")


@pytest.fixture(scope="session")
def style_model():
    path = os.path.join(_required_env("KILN_STYLE_MODEL_DIR"), "fast_neural_style.onnx")
    if not os.path.exists(path):
        pytest.fail(f"{path} is missing (the build writes it: target kiln_style_models)")
    return path


def make_model(nodes, inputs, outputs, initializers=(), opset=13):
    """A small ONNX model as bytes (Debian's python3-onnx)."""
    import onnx
    from onnx import helper
    graph = helper.make_graph(nodes, "test", inputs, outputs, list(initializers))
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    model.ir_version = 8
    return model.SerializeToString()


# A run where every test skipped is reported to ctest as a skip (exit 77, the
# SKIP_RETURN_CODE of these tests), never as a pass.
def pytest_sessionfinish(session, exitstatus):
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is None or exitstatus != 0:
        return
    passed = len(reporter.stats.get("passed", []))
    skipped = len(reporter.stats.get("skipped", []))
    if passed == 0 and skipped > 0:
        session.exitstatus = 77
