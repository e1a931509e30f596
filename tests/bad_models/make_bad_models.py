#!/usr/bin/python3
"""Writes the malformed and hostile ONNX models of tests/bad_models/.

Each model breaks one rule; tests/bad_models/expected_errors.txt lists, per
file, the kiln::Error text it must produce, or for a hostile but valid model
the output shapes it must give (tests/unit/bad_models_test.cpp).

    make_bad_models.py OUT_DIR

Needs Debian's python3-onnx (run with /usr/bin/python3).
"""
import os
import random
import struct
import sys

from onnx import TensorProto, helper

OPSET = 17
F = TensorProto.FLOAT
I64 = TensorProto.INT64


def model(nodes, inputs, outputs, initializers=(), opset=OPSET):
    graph = helper.make_graph(list(nodes), "bad", list(inputs), list(outputs), list(initializers))
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    m.ir_version = 8
    return m


def vi(name, dims, elem=F):
    return helper.make_tensor_value_info(name, elem, dims)


def floats(name, dims, values=None):
    count = 1
    for d in dims:
        count *= d
    return helper.make_tensor(name, F, dims, values if values is not None else [0.5] * count)


def bare_tensor(name, elem, dims):
    """A TensorProto with no checks (helper.make_tensor refuses broken ones)."""
    t = TensorProto()
    t.name, t.data_type = name, elem
    t.dims.extend(dims)
    return t


def int64s(name, values, dims=None):
    return helper.make_tensor(name, I64, [len(values)] if dims is None else dims, values)


def relu_model():
    return model([helper.make_node("Relu", ["x"], ["y"], name="relu")], [vi("x", [2])], [vi("y", [2])])


def conv_model(w_dims=(1, 1, 3, 3), x_dims=(1, 1, 5, 5), **attrs):
    w = floats("w", list(w_dims))
    return model([helper.make_node("Conv", ["x", "w"], ["y"], name="conv", **attrs)],
                 [vi("x", list(x_dims))], [vi("y", None)], [w])


def external_model(location, offset=None, length=None, dims=(4,)):
    t = bare_tensor("w", F, list(dims))
    t.data_location = TensorProto.EXTERNAL
    for key, value in (("location", location), ("offset", offset), ("length", length)):
        if value is not None:
            entry = t.external_data.add()
            entry.key, entry.value = key, str(value)
    return model([helper.make_node("Add", ["x", "w"], ["y"], name="add")], [vi("x", list(dims))],
                 [vi("y", list(dims))], [t])


def cases(out):
    """Yields (file name, model or bytes)."""
    # ---- not a model at all
    yield "empty.onnx", b""
    rng = random.Random(1234)
    yield "garbage.onnx", bytes(rng.randrange(256) for _ in range(4096))
    valid = relu_model().SerializeToString()
    yield "truncated.onnx", valid[: len(valid) // 2]
    m = helper.make_model(helper.make_graph([], "g", [], []))
    m.ClearField("graph")
    yield "no_graph.onnx", m

    # ---- initializers whose bytes do not match their type and dims
    t = floats("w", [2, 2])
    t.ClearField("float_data")
    t.raw_data = b"\0" * 12
    yield "init_raw_size.onnx", model([helper.make_node("Add", ["x", "w"], ["y"], name="add")],
                                      [vi("x", [2, 2])], [vi("y", [2, 2])], [t])
    t = bare_tensor("w", F, [2, 2])
    t.float_data.extend([1.0, 2.0, 3.0])
    yield "init_value_count.onnx", model([helper.make_node("Add", ["x", "w"], ["y"], name="add")],
                                         [vi("x", [2, 2])], [vi("y", [2, 2])], [t])
    t = floats("w", [4])
    t.data_type = I64  # int64 declared, float_data given
    yield "init_type_mismatch.onnx", model([helper.make_node("Add", ["x", "w"], ["y"], name="add")],
                                           [vi("x", [4])], [vi("y", [4])], [t])
    t = floats("w", [4])
    t.data_type = 0
    yield "init_undefined_type.onnx", model([helper.make_node("Add", ["x", "w"], ["y"], name="add")],
                                            [vi("x", [4])], [vi("y", [4])], [t])
    t = floats("w", [1])
    del t.dims[:]
    t.dims.extend([2, -3])
    yield "init_negative_dim.onnx", model([helper.make_node("Identity", ["w"], ["y"], name="id")], [],
                                          [vi("y", None)], [t])
    t = floats("w", [1])
    del t.dims[:]
    t.dims.extend([1 << 50])
    yield "init_absurd_dim.onnx", model([helper.make_node("Identity", ["w"], ["y"], name="id")], [],
                                        [vi("y", None)], [t])
    t = floats("w", [1])
    del t.dims[:]
    t.dims.extend([1 << 31, 1 << 31, 1 << 31])
    yield "init_count_overflow.onnx", model([helper.make_node("Identity", ["w"], ["y"], name="id")], [],
                                            [vi("y", None)], [t])
    t = floats("w", [1])
    del t.dims[:]
    t.dims.extend([1 << 18, 1 << 18])  # 256 GiB claimed, no data given
    yield "init_huge_no_data.onnx", model([helper.make_node("Identity", ["w"], ["y"], name="id")], [],
                                          [vi("y", None)], [t])

    # ---- declared shapes
    yield "input_negative_dim.onnx", model([helper.make_node("Relu", ["x"], ["y"], name="relu")],
                                           [vi("x", [1, -2])], [vi("y", None)])
    yield "input_count_overflow.onnx", model([helper.make_node("Relu", ["x"], ["y"], name="relu")],
                                             [vi("x", [1 << 31, 1 << 31, 1 << 31])], [vi("y", None)])
    yield "input_no_type.onnx", model([helper.make_node("Relu", ["x"], ["y"], name="relu")],
                                      [helper.make_empty_tensor_value_info("x")], [vi("y", None)])

    # ---- graph structure
    yield "cycle.onnx", model([helper.make_node("Relu", ["b"], ["a"], name="first"),
                               helper.make_node("Relu", ["a"], ["b"], name="second")],
                              [vi("x", [2])], [vi("a", [2])])
    yield "self_loop.onnx", model([helper.make_node("Add", ["x", "y"], ["y"], name="loop")],
                                  [vi("x", [2])], [vi("y", [2])])
    yield "dangling_input.onnx", model([helper.make_node("Add", ["x", "nowhere"], ["y"], name="add")],
                                       [vi("x", [2])], [vi("y", [2])])
    yield "produced_twice.onnx", model([helper.make_node("Relu", ["x"], ["y"], name="relu"),
                                        helper.make_node("Neg", ["x"], ["y"], name="neg")],
                                       [vi("x", [2])], [vi("y", [2])])
    yield "writes_input.onnx", model([helper.make_node("Relu", ["x"], ["x"], name="relu")],
                                     [vi("x", [2])], [vi("x", [2])])
    yield "initializer_twice.onnx", model([helper.make_node("Add", ["x", "w"], ["y"], name="add")],
                                          [vi("x", [2])], [vi("y", [2])], [floats("w", [2]), floats("w", [2])])
    yield "input_twice.onnx", model([helper.make_node("Relu", ["x"], ["y"], name="relu")],
                                    [vi("x", [2]), vi("x", [2])], [vi("y", [2])])
    yield "output_not_produced.onnx", model([helper.make_node("Relu", ["x"], ["y"], name="relu")],
                                            [vi("x", [2])], [vi("z", [2])])
    yield "no_op_type.onnx", model([helper.make_node("", ["x"], ["y"], name="nameless")],
                                   [vi("x", [2])], [vi("y", [2])])

    # ---- node arity (ONNX's schemas)
    yield "arity_too_few_inputs.onnx", model([helper.make_node("Add", ["x"], ["y"], name="add")],
                                             [vi("x", [2])], [vi("y", [2])])
    yield "arity_too_many_inputs.onnx", model([helper.make_node("Relu", ["x", "x"], ["y"], name="relu")],
                                              [vi("x", [2])], [vi("y", [2])])
    yield "arity_too_many_outputs.onnx", model([helper.make_node("Relu", ["x"], ["y", "z"], name="relu")],
                                               [vi("x", [2])], [vi("y", [2])])
    yield "arity_omitted_required.onnx", model([helper.make_node("Conv", ["", "w"], ["y"], name="conv")],
                                               [vi("x", [1, 1, 3, 3])], [vi("y", None)], [floats("w", [1, 1, 1, 1])])

    # ---- attributes
    yield "conv_kernel_shape_mismatch.onnx", conv_model(kernel_shape=[2, 2])
    yield "conv_stride_zero.onnx", conv_model(strides=[0, 1])
    yield "conv_pads_length.onnx", conv_model(pads=[1, 1, 1])
    yield "conv_dilation_huge.onnx", conv_model(dilations=[1 << 40, 1])
    yield "conv_group_channels.onnx", conv_model(w_dims=(4, 1, 3, 3), x_dims=(1, 4, 5, 5), group=3)
    yield "conv_weight_rank.onnx", conv_model(w_dims=(9,))
    yield "conv_attr_wrong_type.onnx", conv_model(strides=[1.0, 1.0])
    # pads as wide as the kernel: windows of padding only, and with 2^30 a
    # billion-row output (82 s and 12.6 GB before the check)
    yield "averagepool_pads_huge.onnx", model(
        [helper.make_node("AveragePool", ["x"], ["y"], name="pool", kernel_shape=[3, 3], pads=[1 << 30, 0, 0, 0])],
        [vi("x", [1, 1, 5, 5])], [vi("y", None)])
    yield "maxpool_pads_kernel.onnx", model(
        [helper.make_node("MaxPool", ["x"], ["y"], name="pool", kernel_shape=[2, 2], pads=[0, 0, 0, 2])],
        [vi("x", [1, 1, 5, 5])], [vi("y", None)])
    yield "convtranspose_output_padding.onnx", model(
        [helper.make_node("ConvTranspose", ["x", "w"], ["y"], name="deconv", strides=[2, 2], output_padding=[2, 0])],
        [vi("x", [1, 1, 5, 5])], [vi("y", None)], [floats("w", [1, 1, 3, 3])])
    yield "maxpool_no_kernel_shape.onnx", model([helper.make_node("MaxPool", ["x"], ["y"], name="pool")],
                                                [vi("x", [1, 1, 4, 4])], [vi("y", None)])
    yield "transpose_bad_perm.onnx", model([helper.make_node("Transpose", ["x"], ["y"], name="transpose", perm=[0, 0])],
                                           [vi("x", [2, 2])], [vi("y", None)])

    # ---- shapes computed from data: overflow or absurd size
    def shape_op(op, data_inputs, x_dims=(2,), extra_inputs=(), **attrs):
        return model([helper.make_node(op, ["x"] + list(extra_inputs), ["y"], name=op.lower(), **attrs)],
                     [vi("x", list(x_dims))], [vi("y", None)], data_inputs)

    yield "reshape_overflow.onnx", shape_op("Reshape", [int64s("shape", [1 << 40, 1 << 40, -1])],
                                            extra_inputs=["shape"])
    yield "expand_huge.onnx", shape_op("Expand", [int64s("shape", [1 << 20, 1 << 20])], x_dims=(1,),
                                       extra_inputs=["shape"])
    yield "tile_overflow.onnx", shape_op("Tile", [int64s("repeats", [1 << 62])], extra_inputs=["repeats"])
    yield "tile_huge.onnx", shape_op("Tile", [int64s("repeats", [1 << 38])], extra_inputs=["repeats"])
    yield "constant_of_shape_huge.onnx", model(
        [helper.make_node("ConstantOfShape", ["shape"], ["y"], name="fill")], [], [vi("y", None)],
        [int64s("shape", [1 << 20, 1 << 20, 4])])
    yield "constant_of_shape_absurd.onnx", model(
        [helper.make_node("ConstantOfShape", ["shape"], ["y"], name="fill")], [], [vi("y", None)],
        [int64s("shape", [1 << 62])])
    yield "range_huge.onnx", model(
        [helper.make_node("Range", ["start", "limit", "delta"], ["y"], name="range")], [], [vi("y", None)],
        [int64s("start", [0], []), int64s("limit", [1 << 62], []), int64s("delta", [1], [])])
    yield "range_wrapping.onnx", model(
        [helper.make_node("Range", ["start", "limit", "delta"], ["y"], name="range")], [], [vi("y", None)],
        [int64s("start", [-(1 << 63)], []), int64s("limit", [(1 << 63) - 1], []), int64s("delta", [1], [])])
    yield "resize_huge.onnx", model(
        [helper.make_node("Resize", ["x", "", "scales"], ["y"], name="resize")], [vi("x", [1, 1, 2, 2])],
        [vi("y", None)], [helper.make_tensor("scales", F, [4], [1, 1, 1e6, 1e6])])
    yield "resize_absurd.onnx", model(
        [helper.make_node("Resize", ["x", "", "scales"], ["y"], name="resize")], [vi("x", [1, 1, 2, 2])],
        [vi("y", None)], [helper.make_tensor("scales", F, [4], [1, 1, 1e30, 1])])

    # ---- extreme Slice/Split values and empty tensors with huge dims: exact
    # results or clean errors, no signed overflow (platform/checked_math.h)
    int64_max, int64_min, huge = (1 << 63) - 1, -(1 << 63), 1 << 40

    def slice_model(start, end, axis, step):
        return model([helper.make_node("Slice", ["x", "starts", "ends", "axes", "steps"], ["y"], name="slice")],
                     [vi("x", [1, 5])], [vi("y", None)],
                     [int64s("starts", [start]), int64s("ends", [end]), int64s("axes", [axis]),
                      int64s("steps", [step])])

    yield "slice_int64_max_step.onnx", slice_model(0, int64_max, 0, int64_max)
    yield "slice_int64_min_step.onnx", slice_model(int64_max, int64_min, 1, int64_min)
    yield "slice_reversed_to_int64_min.onnx", slice_model(int64_max, int64_min, 1, -1)
    yield "split_sizes_overflow.onnx", model(
        [helper.make_node("Split", ["x", "split"], ["a", "b"], name="split", axis=1)], [vi("x", [1, 5])],
        [vi("a", None), vi("b", None)], [int64s("split", [int64_max, 2])])

    def empty_huge(op, x_dims, initializers=(), extra_inputs=(), **attrs):
        return model([helper.make_node(op, ["x"] + list(extra_inputs), ["y"], name=op.lower(), **attrs)],
                     [vi("x", list(x_dims))], [vi("y", None)], list(initializers))

    yield "concat_empty_huge_dims.onnx", model(
        [helper.make_node("Concat", ["x", "x"], ["y"], name="concat", axis=0)], [vi("x", [0, huge, huge])],
        [vi("y", None)])
    yield "concat_dim_over_limit.onnx", model(
        [helper.make_node("Concat", ["x", "x"], ["y"], name="concat", axis=1)], [vi("x", [0, huge, huge])],
        [vi("y", None)])
    yield "split_empty_huge_dims.onnx", model(
        [helper.make_node("Split", ["x"], ["a", "b"], name="split", axis=0)], [vi("x", [0, huge, huge])],
        [vi("a", None), vi("b", None)])
    yield "transpose_empty_huge_dims.onnx", empty_huge("Transpose", [0, huge, huge], perm=[2, 1, 0])
    yield "reduce_sum_empty_huge_dims.onnx", empty_huge("ReduceSum", [0, huge, huge], [int64s("axes", [1])],
                                                        ["axes"])
    yield "pad_empty_huge_dims.onnx", empty_huge("Pad", [huge, huge, 0], [int64s("pads", [0, 0, 0, 0, 0, 0])],
                                                 ["pads"])
    yield "layer_norm_empty_huge_dims.onnx", empty_huge("LayerNormalization", [huge, huge, 0], [floats("scale", [0])],
                                                        ["scale"])
    yield "flatten_empty_wraps.onnx", empty_huge("Flatten", [1 << 32, 1 << 32, 0], axis=2)
    yield "conv_transpose_output_overflow.onnx", empty_huge("ConvTranspose", [0, 1, huge], [floats("w", [1, 1, 1])],
                                                            ["w"], strides=[(1 << 31) - 1])

    # ---- subgraph ops and unknown ops
    body = helper.make_graph([helper.make_node("Identity", ["x"], ["z"])], "body", [], [vi("z", [2])])
    yield "if_subgraph.onnx", model(
        [helper.make_node("If", ["cond"], ["y"], name="branch", then_branch=body, else_branch=body)],
        [vi("cond", [], TensorProto.BOOL), vi("x", [2])], [vi("y", [2])])
    yield "loop_subgraph.onnx", model(
        [helper.make_node("Loop", ["", "cond"], ["y"], name="loop", body=body)],
        [vi("cond", [], TensorProto.BOOL), vi("x", [2])], [vi("y", None)])
    yield "scan_subgraph.onnx", model(
        [helper.make_node("Scan", ["x"], ["y"], name="scan", body=body, num_scan_inputs=1)],
        [vi("x", [2])], [vi("y", None)])
    yield "unknown_op.onnx", model([helper.make_node("FrobnicateTensor", ["x"], ["y"], name="frob")],
                                   [vi("x", [2])], [vi("y", [2])])

    # ---- external data that escapes the model's folder or runs past the end of its file
    with open(os.path.join(out, "weights.bin"), "wb") as f:
        f.write(struct.pack("<4f", 1, 2, 3, 4))
    outside = os.path.join(os.path.dirname(os.path.abspath(out)), "bad_models_outside.bin")
    with open(outside, "wb") as f:
        f.write(struct.pack("<4f", 1, 2, 3, 4))
    link = os.path.join(out, "escape_link.bin")
    if os.path.lexists(link):
        os.remove(link)
    os.symlink(outside, link)
    yield "external_absolute.onnx", external_model(outside)
    yield "external_dotdot.onnx", external_model("../bad_models_outside.bin")
    yield "external_symlink.onnx", external_model("escape_link.bin")
    yield "external_past_end.onnx", external_model("weights.bin", offset=8, length=16)
    yield "external_length_mismatch.onnx", external_model("weights.bin", length=12)
    yield "external_missing.onnx", external_model("no_such_file.bin")
    yield "external_folder.onnx", external_model(".")
    yield "external_bad_offset.onnx", external_model("weights.bin", offset="-8")


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    written = {}
    for name, m in cases(out):
        data = m if isinstance(m, bytes) else m.SerializeToString()
        written[name] = data
    for name, data in written.items():
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)
    print(f"make_bad_models: {len(written)} models in {out}")


if __name__ == "__main__":
    main()
