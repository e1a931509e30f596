#!/usr/bin/env bash
# Writes the seed corpora of the fuzz targets from Debian's ONNX conformance
# data (libonnx-testdata), so no corpus is committed:
#   OUT/model/      every node test's model.onnx (up to 64 KiB)
#   OUT/tensor_pb/  their input_*.pb / output_*.pb files (up to 16 KiB)
#   OUT/npy/        small .npy files of every dtype kiln reads, versions 1.0 to 3.0
#                   (written with Debian's python3-numpy)
#
#   scripts/fuzz_corpus.sh OUT
set -euo pipefail

out=${1:?usage: fuzz_corpus.sh OUT_DIR}
data=${KILN_ONNX_TEST_DATA:-/usr/share/libonnx-testdata/data/node}
[[ -d "$data" ]] || { echo "fuzz_corpus: no conformance data in $data (apt-get install libonnx-testdata)" >&2; exit 1; }

mkdir -p "$out/model" "$out/tensor_pb" "$out/npy"
models=0 tensors=0
for test_dir in "$data"/test_*/; do
  test=$(basename "$test_dir")
  model="$test_dir/model.onnx"
  if [[ -f "$model" && $(stat -c %s "$model") -le 65536 ]]; then
    cp "$model" "$out/model/$test.onnx"
    models=$((models + 1))
  fi
  for pb in "$test_dir"/test_data_set_0/*.pb; do
    [[ -f "$pb" && $(stat -c %s "$pb") -le 16384 ]] || continue
    cp "$pb" "$out/tensor_pb/${test}_$(basename "$pb")"
    tensors=$((tensors + 1))
  done
done
/usr/bin/python3 - "$out/npy" <<'PY'
import sys
import numpy as np
out = sys.argv[1]
shapes = [(), (0,), (3,), (2, 3), (1, 2, 2, 2)]
n = 0
for dtype in ["f2", "f4", "f8", "i1", "i2", "i4", "i8", "u1", "u2", "u4", "u8", "b1"]:
    for shape in shapes:
        for version in [(1, 0), (2, 0), (3, 0)]:
            a = (np.arange(int(np.prod(shape))) % 7).astype(dtype).reshape(shape)
            with open(f"{out}/{dtype}_{'x'.join(map(str, shape)) or 'scalar'}_v{version[0]}.npy", "wb") as f:
                np.lib.format.write_array(f, a, version=version)
            n += 1
print(f"fuzz_corpus: {n} npy files", file=sys.stderr)
PY
echo "fuzz_corpus: $models models, $tensors tensors in $out"
