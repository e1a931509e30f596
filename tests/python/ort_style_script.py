# The onnxruntime script kiln's users run, as they write it, with only the
# import line changed (`import onnxruntime as ort` -> `import kiln as ort`):
# threads, optimizations off, profiling on, a fixed input size through the
# free-dimension overrides, run, end_profiling, and the profile's nodes sorted
# by duration. test_ort_script.py runs it and compares its output with
# `kiln run`'s.
#
#   python3 ort_style_script.py MODEL INPUT.npy OUTPUT.npy
import json
import sys

import numpy as np
import kiln as ort

model_path, input_path, output_path = sys.argv[1:4]

opts = ort.SessionOptions()
opts.intra_op_num_threads = 2
opts.inter_op_num_threads = 1
opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
opts.enable_profiling = True
opts.profile_file_prefix = output_path + ".profile"
img = np.load(input_path)
opts.add_free_dimension_override_by_name("height", img.shape[2])
opts.add_free_dimension_override_by_name("width", img.shape[3])

sess = ort.InferenceSession(model_path, sess_options=opts, providers=["CPUExecutionProvider"])
print("providers:", sess.get_providers())
for i in sess.get_inputs():
    print("input:", i.name, i.shape, i.type)
for o in sess.get_outputs():
    print("output:", o.name, o.shape, o.type)

input_name = sess.get_inputs()[0].name
out = sess.run(None, {input_name: img})[0]
print("output shape:", out.shape, out.dtype)
np.save(output_path, out)

prof_file = sess.end_profiling()
with open(prof_file) as f:
    events = json.load(f)
nodes = [e for e in events if e.get("cat") == "Node"]
nodes.sort(key=lambda e: e["dur"], reverse=True)
print("profile:", prof_file, len(nodes), "node events")
for e in nodes[:10]:
    print(f"{e['dur']:>8} us  {e['args']['op_name']:<24} {e['name']}")
