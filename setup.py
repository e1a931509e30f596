# Builds kiln._kiln for `pip install .` by running the project's own CMake
# build (the kiln_python target only) for the interpreter pip runs; the
# pure-Python part comes from python/kiln (pyproject.toml).
import os
import shutil
import subprocess
import sys

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

ROOT = os.path.dirname(os.path.abspath(__file__))


class CMakeBuild(build_ext):
    def build_extension(self, ext):
        build_dir = os.path.join(os.path.abspath(self.build_temp), "cmake")
        configure = ["cmake", "-S", ROOT, "-B", build_dir, "-DCMAKE_BUILD_TYPE=Release",
                     f"-DPython3_EXECUTABLE={sys.executable}", "-DKILN_BUILD_PYTHON=ON",
                     "-DKILN_BUILD_TESTS=OFF", "-DKILN_BUILD_BENCHMARKS=OFF"]
        if shutil.which("ninja"):
            configure += ["-G", "Ninja"]
        subprocess.run(configure, check=True)
        jobs = os.environ.get("KILN_BUILD_JOBS", str(os.cpu_count() or 1))
        subprocess.run(["cmake", "--build", build_dir, "--target", "kiln_python", "-j", jobs], check=True)
        built_dir = os.path.join(build_dir, "python", "kiln")
        built = [f for f in os.listdir(built_dir) if f.startswith("_kiln") and f.endswith(".so")]
        if len(built) != 1:
            raise RuntimeError(f"the CMake build left {built} in {built_dir}, not one _kiln module")
        target = self.get_ext_fullpath(ext.name)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        shutil.copyfile(os.path.join(built_dir, built[0]), target)


setup(ext_modules=[Extension("kiln._kiln", sources=[])], cmdclass={"build_ext": CMakeBuild})
