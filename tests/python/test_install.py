# What scripts/setup.sh does for Python: `cmake --install BUILD --component
# python` (here into a DESTDIR) gives a package that Debian's python3 imports
# from the install folder alone, away from the source and build trees.
import os
import subprocess
import sys

import pytest


def test_installed_module_imports_and_runs(tmp_path):
    build_dir = os.environ.get("KILN_BUILD_DIR")
    if not build_dir:
        pytest.fail("KILN_BUILD_DIR is not set (ctest sets it; see tests/CMakeLists.txt)")
    env = dict(os.environ, DESTDIR=str(tmp_path / "root"))
    install = subprocess.run(["cmake", "--install", build_dir, "--component", "python"], env=env,
                             capture_output=True, text=True, timeout=120)
    assert install.returncode == 0, install.stdout + install.stderr
    packages = [os.path.join(dirpath, "kiln") for dirpath, dirnames, _ in os.walk(tmp_path / "root")
                if "kiln" in dirnames and dirpath.endswith("dist-packages")]
    assert len(packages) == 1, install.stdout
    files = sorted(os.listdir(packages[0]))
    assert "__init__.py" in files and "dask.py" in files and any(f.startswith("_kiln.") for f in files), files
    code = ("import kiln, kiln.dask, numpy as np\n"
            "from onnx import helper, TensorProto\n"
            "g = helper.make_graph([helper.make_node('Neg', ['x'], ['y'])], 'g',\n"
            "    [helper.make_tensor_value_info('x', TensorProto.FLOAT, [3])],\n"
            "    [helper.make_tensor_value_info('y', TensorProto.FLOAT, [3])])\n"
            "m = helper.make_model(g, opset_imports=[helper.make_opsetid('', 13)]); m.ir_version = 8\n"
            "y = kiln.InferenceSession(m.SerializeToString()).run(None, {'x': np.arange(1, 4, dtype=np.float32)})[0]\n"
            "print(kiln.__file__, y.tolist())\n")
    clean = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "KILN_PYTHON_DIR")}
    clean["PYTHONPATH"] = os.path.dirname(packages[0])
    run = subprocess.run([sys.executable, "-c", code], cwd="/", env=clean, capture_output=True, text=True,
                         timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.stdout.startswith(os.path.join(packages[0], "__init__.py")), run.stdout
    assert run.stdout.strip().endswith("[-1.0, -2.0, -3.0]"), run.stdout
