#!/usr/bin/env bash
# Installs the Debian 12 packages kiln needs to build, test and benchmark.
#
# Idempotent: packages already installed are left alone, and when nothing is
# missing the script does not touch the network at all (no apt-get update).
# Quiet: apt's progress is hidden; its errors are shown.
#
#   scripts/install_deps.sh           install what is missing
#   scripts/install_deps.sh --check   only list what is missing (exit 1 if any)
set -euo pipefail

# What each package is for:
#   g++ cmake ninja-build pkg-config      compiler and build
#   libprotobuf-dev protobuf-compiler     protobuf, which the ONNX model format uses
#   libonnx-dev                           onnx.proto messages (onnx_proto CMake target)
#   libonnx-testdata                      ONNX's per-operator conformance models and data
#   libopenblas-dev                       BLAS baseline for GEMM benchmarks
#   libgtest-dev libgmock-dev             unit tests
#   libbenchmark-dev                      Google Benchmark microbenchmarks
#   libcli11-dev nlohmann-json3-dev       the kiln command line tool and its JSON output
#   libstb-dev                            image loading for model inputs
#   clang-14 libclang-rt-14-dev libomp-14-dev   libFuzzer targets (scripts/fuzz.sh, scripts/test_fuzz.sh):
#                                         the compiler, its sanitizer and libFuzzer runtimes
#                                         (libclang_rt.fuzzer-x86_64.a), clang's OpenMP
#   llvm-14                               llvm-symbolizer, for readable stack traces in fuzz reports
#   (g++'s ASan/UBSan runtimes for the asan preset, libasan8 and libubsan1, come with g++)
#   qemu-user                             runs the test binaries on emulated older CPUs (ISA dispatch)
#   python3 python3-onnx python3-numpy    model inspection and test-data generation helpers
#   python3-pil                           Pillow: the image tests' independent PNG/BMP/JPEG writer and decoder,
#                                         and the text page setup.sh renders for the detector
#   fonts-dejavu-core                     the font of that page (scripts/render_text_page.py)
#   libexif-dev                           the EXIF orientation of JPEG photos (runtime/image_exif.cpp)
#   python3-dev pybind11-dev              the Python module `kiln` (python/): Python's headers, pybind11
#   python3-pytest python3-dask python3-distributed   its tests (pytest) and kiln.dask (dask, dask.distributed)
#   python3-setuptools                    `pip install .` from the checkout (setup.py drives CMake)
#   libcairo2-dev libfontconfig-dev       cairo, which draws `kiln sweep --plot` as PNG or SVG (the tool only),
#                                         and fontconfig, whose caches the tool releases after drawing
#   python3-torch python3-torchvision     the model zoo's torchvision models (benchmarks/zoo/make_zoo.py)
#   ca-certificates                       npm's HTTPS downloads (scripts/fetch_models.sh)
#   nodejs npm                            onnxruntime-node reference runs (only when node/npm are absent)
packages=(
  g++ cmake ninja-build pkg-config
  libprotobuf-dev protobuf-compiler libonnx-dev libonnx-testdata
  libopenblas-dev libgtest-dev libgmock-dev libbenchmark-dev
  libcli11-dev nlohmann-json3-dev libstb-dev
  clang-14 libclang-rt-14-dev libomp-14-dev llvm-14
  qemu-user
  python3 python3-onnx python3-numpy python3-pil python3-torch python3-torchvision fonts-dejavu-core
  python3-dev pybind11-dev python3-pytest python3-dask python3-distributed python3-setuptools
  libcairo2-dev libfontconfig-dev libexif-dev
  ca-certificates
)

# Node.js may come from another source than Debian (a "nodesource" nodejs
# package bundles npm and conflicts with Debian's npm package), so node and npm
# are judged by the commands, not by package names.
command -v node >/dev/null 2>&1 || packages+=(nodejs)
command -v npm >/dev/null 2>&1 || packages+=(npm)

is_installed() {
  [[ "$(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null)" == installed ]]
}

missing=()
for package in "${packages[@]}"; do
  is_installed "$package" || missing+=("$package")
done

if [[ "${1:-}" == --check ]]; then
  if ((${#missing[@]})); then
    echo "install_deps: missing: ${missing[*]}"
    exit 1
  fi
  echo "install_deps: all ${#packages[@]} packages present"
  exit 0
fi

if ((${#missing[@]} == 0)); then
  echo "install_deps: all ${#packages[@]} packages present"
  exit 0
fi

sudo=()
if ((EUID != 0)); then
  if command -v sudo >/dev/null 2>&1; then
    sudo=(sudo)
  else
    echo "install_deps: need root (or sudo) to install: ${missing[*]}" >&2
    exit 1
  fi
fi

echo "install_deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
log=$(mktemp)
trap 'rm -f "$log"' EXIT
if ! "${sudo[@]}" apt-get update -qq >"$log" 2>&1; then
  cat "$log" >&2
  echo "install_deps: apt-get update failed" >&2
  exit 1
fi
if ! "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >"$log" 2>&1; then
  cat "$log" >&2
  echo "install_deps: apt-get install failed" >&2
  exit 1
fi
grep -E '^(W|E):' "$log" >&2 || true
echo "install_deps: done"
