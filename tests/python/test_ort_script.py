# The typical onnxruntime script (ort_style_script.py: only its import line
# differs from the onnxruntime original) runs on kiln and gives `kiln run`'s
# outputs for the same model, input, threads and optimization level; its
# profile is onnxruntime's JSON format.
import json
import os
import subprocess
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))


def test_script_runs_unchanged_and_matches_kiln_run(tmp_path, kiln_binary, style_model):
    rng = np.random.default_rng(7)
    image = rng.uniform(0, 255, size=(1, 3, 64, 96)).astype(np.float32)
    input_path = tmp_path / "input.npy"
    np.save(input_path, image)
    out_path = tmp_path / "script_output.npy"

    env = dict(os.environ)
    env["PYTHONPATH"] = os.environ.get("KILN_PYTHON_DIR", "") + os.pathsep + env.get("PYTHONPATH", "")
    script = subprocess.run([sys.executable, os.path.join(HERE, "ort_style_script.py"), style_model,
                             str(input_path), str(out_path)], env=env, capture_output=True, text=True,
                            timeout=120)
    assert script.returncode == 0, script.stdout + script.stderr
    assert "input: input [1, 3, 64, 96] tensor(float)" in script.stdout  # the overrides fixed height and width
    assert "providers: ['CPUExecutionProvider']" in script.stdout

    kiln_dir = tmp_path / "kiln_run"
    run = subprocess.run([kiln_binary, "run", style_model, "--input", f"input={input_path}", "--threads", "2",
                          "--opt-level", "none", "--no-tune", "--output-dir", str(kiln_dir)],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr
    expected = np.load(kiln_dir / "output.npy")
    got = np.load(out_path)
    assert got.shape == expected.shape == (1, 3, 64, 96)
    assert got.dtype == np.float32
    assert np.array_equal(got, expected), f"max abs diff {np.abs(got - expected).max()}"

    # The profile: onnxruntime's event list, one Node event per node of the
    # one run (level none: the model's 64 nodes), inside the model_run event.
    profiles = [p for p in os.listdir(tmp_path) if p.startswith("script_output.npy.profile") and p.endswith(".json")]
    assert len(profiles) == 1, os.listdir(tmp_path)
    with open(tmp_path / profiles[0]) as f:
        events = json.load(f)
    assert isinstance(events, list)
    for e in events:
        assert set(e) >= {"cat", "pid", "tid", "dur", "ts", "ph", "name", "args"}, e
        assert e["ph"] == "X" and isinstance(e["dur"], int) and isinstance(e["ts"], int)
    nodes = [e for e in events if e["cat"] == "Node"]
    runs = [e for e in events if e["cat"] == "Session" and e["name"] == "model_run"]
    assert len(runs) == 1
    assert len(nodes) == 64
    ops = {e["args"]["op_name"] for e in nodes}
    assert ops == {"Conv", "Pad", "InstanceNormalization", "Relu", "Add", "Resize"}
    assert all(e["name"].endswith("_kernel_time") for e in nodes)
    # As onnxruntime-node 1.30 writes them (checked by hand against its profile of this model).
    assert all(set(e["args"]) >= {"op_name", "provider", "output_size", "input_type_shape", "output_type_shape"}
               for e in nodes)
    first = min(nodes, key=lambda e: e["ts"])
    assert first["args"]["input_type_shape"] == [{"float": [1, 3, 64, 96]}, {"int64": [8]}], first
    assert first["args"]["output_size"] == str(1 * 3 * 72 * 104 * 4), first
    run_start, run_end = runs[0]["ts"], runs[0]["ts"] + runs[0]["dur"]
    assert all(run_start - 1 <= e["ts"] and e["ts"] + e["dur"] <= run_end + 1 for e in nodes)
    assert sum(e["dur"] for e in nodes) <= runs[0]["dur"] + len(nodes)
    assert "Conv" in script.stdout.split("node events")[1]  # the sorted table was printed
