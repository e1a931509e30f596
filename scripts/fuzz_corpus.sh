#!/usr/bin/env bash
# Writes the seed corpora of the fuzz targets from Debian's ONNX conformance
# data (libonnx-testdata), so no corpus is committed:
#   OUT/model/      every node test's model.onnx (up to 64 KiB)
#   OUT/tensor_pb/  their input_*.pb / output_*.pb files (up to 16 KiB)
#
#   scripts/fuzz_corpus.sh OUT
set -euo pipefail

out=${1:?usage: fuzz_corpus.sh OUT_DIR}
data=${KILN_ONNX_TEST_DATA:-/usr/share/libonnx-testdata/data/node}
[[ -d "$data" ]] || { echo "fuzz_corpus: no conformance data in $data (apt-get install libonnx-testdata)" >&2; exit 1; }

mkdir -p "$out/model" "$out/tensor_pb"
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
echo "fuzz_corpus: $models models, $tensors tensors in $out"
