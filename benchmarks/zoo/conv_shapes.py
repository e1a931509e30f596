#!/usr/bin/python3
"""Where a model's time goes, by op type and by convolution shape, from a `kiln profile --json` trace.

    kiln profile MODEL.onnx --threads 2 --runs 4 --json trace.json
    /usr/bin/python3 benchmarks/zoo/conv_shapes.py MODEL.onnx trace.json [--top 10]

Prints the time per run of each op type, then the convolutions (Conv, FusedConv, ConvTranspose)
grouped by GEMM shape: M = output channels, N = output pixels, K = input channels per group x
kernel area, with kernel, stride, dilation and groups from the model's node attributes (matched
by node name), their count, time per run, share of the run and achieved GFLOP/s (2 x MACs / time).
"""

import argparse
import collections
import json
import sys

import onnx


def conv_attributes(model_path):
    """Node name -> (kernel, stride, dilation, group) for every Conv/ConvTranspose of the model."""
    model = onnx.load(model_path, load_external_data=False)
    result = {}
    for node in model.graph.node:
        if node.op_type not in ("Conv", "ConvTranspose"):
            continue
        attrs = {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}
        result[node.name] = (tuple(attrs.get("kernel_shape", ())), tuple(attrs.get("strides", (1, 1))),
                             tuple(attrs.get("dilations", (1, 1))), int(attrs.get("group", 1)))
    return result


def compact(values):
    return "x".join(str(v) for v in values) if len(set(values)) > 1 else str(values[0]) if values else "?"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("model")
    parser.add_argument("trace")
    parser.add_argument("--top", type=int, default=10, help="conv shapes to show (default 10)")
    args = parser.parse_args()

    with open(args.trace) as handle:
        events = json.load(handle)
    runs = {e["args"]["run"] for e in events if e.get("cat") == "Session"}
    if not runs:
        sys.exit(f"{args.trace}: no model_run events (not a kiln profile --json trace?)")
    run_ms = sum(e["dur"] for e in events if e.get("cat") == "Session") / 1e3 / len(runs)
    attributes = conv_attributes(args.model)

    by_op = collections.defaultdict(float)
    shapes = collections.defaultdict(lambda: [0, 0.0, 0])  # key -> [node count, ms, macs], per run
    for event in events:
        if event.get("cat") != "Node":
            continue
        info = event["args"]
        op = info.get("op_name", "?")
        ms = event["dur"] / 1e3 / len(runs)
        by_op[op] += ms
        if op not in ("Conv", "FusedConv", "ConvTranspose"):
            continue
        name = event["name"].removesuffix("_kernel_time")
        weight = info["input_type_shape"][1]["float"]
        out = info["output_type_shape"][0]["float"]
        kernel, stride, dilation, group = attributes.get(name, ((), ("?",), ("?",), 0))
        if op == "ConvTranspose":
            m, k_per_group = weight[1] * group, weight[0] // max(group, 1)
        else:
            m, k_per_group = weight[0], weight[1]
        key = (op, m, out[2] * out[3], k_per_group * weight[2] * weight[3], compact(list(kernel)),
               compact(list(stride)), compact(list(dilation)), group, f"{out[2]}x{out[3]}")
        entry = shapes[key]
        entry[0] += 1
        entry[1] += ms
        entry[2] += info.get("macs", 0)

    print(f"{args.model}: {run_ms:.1f} ms per run ({len(runs)} runs)")
    print("| op | ms per run | % |")
    print("| --- | --- | --- |")
    for op, ms in sorted(by_op.items(), key=lambda item: -item[1])[:8]:
        print(f"| {op} | {ms:.1f} | {100 * ms / run_ms:.1f} |")
    print()
    print("| op | M | N (out HxW) | K | kernel | stride | dilation | groups | nodes | ms per run | % | GFLOP/s |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for key, (count, ms, macs) in sorted(shapes.items(), key=lambda item: -item[1][1])[:args.top]:
        op, m, n, k, kernel, stride, dilation, group, hw = key
        per_node_macs = macs / len(runs)
        gflops = 2 * per_node_macs / (ms * 1e6) if ms > 0 else 0
        print(f"| {op} | {m} | {n} ({hw}) | {k} | {kernel} | {stride} | {dilation} | {group} | {count // len(runs)} | "
              f"{ms:.1f} | {100 * ms / run_ms:.1f} | {gflops:.0f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
