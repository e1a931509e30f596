#!/usr/bin/python3
"""Writes kiln's two style-transfer test models, with deterministic random weights.

    /usr/bin/python3 models/generate_style_models.py [--out-dir models]

Needs only numpy and onnx (Debian's python3-numpy and python3-onnx 1.12).
Writes, into the output directory:

  animegan_like.onnx      AnimeGANv2-shaped generator, exported the way a
                          TensorFlow-converted GAN comes: NHWC float input
                          [1,H,W,3] in [-1,1], Transpose to NCHW, layer norm
                          spelled as ReduceMean/Sub/Pow/Sqrt/Div, LeakyReLU(0.2),
                          bilinear Resize, tanh, Transpose back to NHWC.
  fast_neural_style.onnx  Johnson et al. fast-neural-style TransformerNet as
                          PyTorch exports it: NCHW [1,3,H,W] in 0..255,
                          reflect Pad + Conv, InstanceNormalization, ReLU,
                          nearest Resize x2, 0..255 out (not clamped).
  testdata/test_<name>/   ONNX backend-test layout for kiln_conformance --data:
                          model.onnx (a symlink to ../../<name>.onnx) and
                          test_data_set_0/{input_0.pb,output_0.pb}, computed by
                          the small float64 numpy evaluator in this file.

The weights are random (fixed seed), scaled He-style so activations stay in a
sane range; the script checks that the output on a random input is neither
constant nor saturated. Re-running produces byte-identical files.
"""

import argparse
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OPSET = 13
PROBE_HEIGHT, PROBE_WIDTH = 720, 1280  # the size the MAC counts are quoted at


# ---------------------------------------------------------------------------
# Graph building
# ---------------------------------------------------------------------------

class Activation:
    """A value in the graph, with its channel count and its spatial size at the probe size."""

    def __init__(self, name, channels, height, width):
        self.name = name
        self.channels = channels
        self.height = height
        self.width = width


class GraphBuilder:
    """Collects nodes and initializers; counts parameters and MACs at the probe size."""

    def __init__(self, rng):
        self.rng = rng
        self.nodes = []
        self.initializers = []
        self.used_names = set()
        self.macs = 0
        self.shared_constants = {}

    def unique(self, name):
        candidate, suffix = name, 1
        while candidate in self.used_names:
            suffix += 1
            candidate = f"{name}_{suffix}"
        self.used_names.add(candidate)
        return candidate

    def initializer(self, name, array):
        name = self.unique(name)
        self.initializers.append(numpy_helper.from_array(np.ascontiguousarray(array), name))
        return name

    def shared_constant(self, name, array):
        """One initializer reused by every node that needs the same small constant."""
        if name not in self.shared_constants:
            self.shared_constants[name] = self.initializer(name, array)
        return self.shared_constants[name]

    def node(self, op_type, inputs, name, output=None, **attrs):
        """Adds a one-output node; its output is named after the node unless given."""
        name = self.unique(name)
        output = self.unique(output or f"{name}:0")
        self.nodes.append(helper.make_node(op_type, inputs, [output], name=name, **attrs))
        return output

    # --- weights ----------------------------------------------------------

    def he_weights(self, shape, gain):
        """Normal weights with std gain / sqrt(fan_in); fan_in = in_channels/group * kh * kw."""
        fan_in = int(np.prod(shape[1:]))
        return (self.rng.standard_normal(shape) * (gain / np.sqrt(fan_in))).astype(np.float32)

    def small_values(self, count, center, spread):
        return (center + spread * self.rng.standard_normal(count)).astype(np.float32)

    # --- layers -----------------------------------------------------------

    def reflect_pad(self, x, top, left, bottom, right, name):
        if top == left == bottom == right == 0:
            return x
        pads = self.initializer(f"{name}/pads", np.array([0, 0, top, left, 0, 0, bottom, right], np.int64))
        out = self.node("Pad", [x.name, pads], f"{name}/Pad", mode="reflect")
        return Activation(out, x.channels, x.height + top + bottom, x.width + left + right)

    def conv(self, x, out_channels, kernel, name, stride=1, group=1, bias=None, weight_gain=np.sqrt(2.0),
             zero_mean_filters=False, output=None):
        """Conv without padding (every pad in these models is an explicit reflect Pad).

        bias: None for no bias input, else (center, spread) of its random values.
        zero_mean_filters: each filter sums to zero, so a constant input gives just
        the bias (keeps an output layer centred on its bias)."""
        weight = self.he_weights((out_channels, x.channels // group, kernel, kernel), weight_gain)
        if zero_mean_filters:
            weight -= weight.mean(axis=(1, 2, 3), keepdims=True)
        inputs = [x.name, self.initializer(f"{name}/weights", weight)]
        if bias is not None:
            inputs.append(self.initializer(f"{name}/bias", self.small_values(out_channels, *bias)))
        attrs = dict(kernel_shape=[kernel, kernel], strides=[stride, stride])
        if group != 1:
            attrs["group"] = group
        out = self.node("Conv", inputs, f"{name}/Conv", output=output, **attrs)
        out_height = (x.height - kernel) // stride + 1
        out_width = (x.width - kernel) // stride + 1
        self.macs += out_channels * out_height * out_width * (x.channels // group) * kernel * kernel
        return Activation(out, out_channels, out_height, out_width)

    def layer_norm(self, x, name, epsilon):
        """Normalizes over C,H,W per image, then a per-channel scale and offset: the
        ReduceMean/Sub/Pow/ReduceMean/Add/Sqrt/Div/Mul/Add chain converters emit."""
        exponent = self.shared_constant("layer_norm/exponent", np.array(2.0, np.float32))
        eps = self.shared_constant("layer_norm/epsilon", np.array(epsilon, np.float32))
        gamma = self.initializer(f"{name}/gamma", self.small_values(x.channels, 1.0, 0.1).reshape(-1, 1, 1))
        beta = self.initializer(f"{name}/beta", self.small_values(x.channels, 0.0, 0.1).reshape(-1, 1, 1))
        axes = [1, 2, 3]
        mean = self.node("ReduceMean", [x.name], f"{name}/mean", axes=axes, keepdims=1)
        centered = self.node("Sub", [x.name, mean], f"{name}/centered")
        squared = self.node("Pow", [centered, exponent], f"{name}/squared")
        variance = self.node("ReduceMean", [squared], f"{name}/variance", axes=axes, keepdims=1)
        shifted = self.node("Add", [variance, eps], f"{name}/variance_eps")
        std = self.node("Sqrt", [shifted], f"{name}/std")
        normalized = self.node("Div", [centered, std], f"{name}/normalized")
        scaled = self.node("Mul", [normalized, gamma], f"{name}/scaled")
        out = self.node("Add", [scaled, beta], f"{name}/shifted")
        return Activation(out, x.channels, x.height, x.width)

    def instance_norm(self, x, name, epsilon=1e-5):
        scale = self.initializer(f"{name}/scale", self.small_values(x.channels, 1.0, 0.1))
        offset = self.initializer(f"{name}/B", self.small_values(x.channels, 0.0, 0.1))
        out = self.node("InstanceNormalization", [x.name, scale, offset], f"{name}/InstanceNormalization",
                        epsilon=epsilon)
        return Activation(out, x.channels, x.height, x.width)

    def unary(self, op_type, x, name, output=None, **attrs):
        out = self.node(op_type, [x.name], f"{name}/{op_type}", output=output, **attrs)
        return Activation(out, x.channels, x.height, x.width)

    def add(self, a, b, name):
        return Activation(self.node("Add", [a.name, b.name], f"{name}/Add"), a.channels, a.height, a.width)

    def resize_bilinear_like(self, x, size_source, name):
        """Bilinear Resize of x to the height and width of size_source, with sizes
        computed at run time: Shape -> Slice -> Concat, as converters emit it."""
        shape = self.node("Shape", [size_source.name], f"{name}/Shape")
        starts = self.initializer(f"{name}/hw_starts", np.array([2], np.int64))
        ends = self.initializer(f"{name}/hw_ends", np.array([4], np.int64))
        spatial = self.node("Slice", [shape, starts, ends], f"{name}/hw")
        batch_channels = self.initializer(f"{name}/nc", np.array([1, x.channels], np.int64))
        sizes = self.node("Concat", [batch_channels, spatial], f"{name}/sizes", axis=0)
        out = self.node("Resize", [x.name, "", "", sizes], f"{name}/Resize", mode="linear",
                        coordinate_transformation_mode="asymmetric")
        return Activation(out, x.channels, size_source.height, size_source.width)

    def resize_nearest_x2(self, x, name):
        """Nearest x2 Resize with constant scales and an empty roi, as torch.onnx emits it."""
        roi = self.shared_constant("resize/empty_roi", np.zeros([0], np.float32))
        scales = self.shared_constant("resize/scales_x2", np.array([1, 1, 2, 2], np.float32))
        out = self.node("Resize", [x.name, roi, scales], f"{name}/Resize", mode="nearest",
                        coordinate_transformation_mode="asymmetric", nearest_mode="floor")
        return Activation(out, x.channels, x.height * 2, x.width * 2)


def finish_model(builder, graph_name, inputs, outputs, doc):
    graph = helper.make_graph(builder.nodes, graph_name, inputs, outputs, builder.initializers)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)],
                              producer_name="kiln models/generate_style_models.py", producer_version="1")
    model.doc_string = doc
    onnx.checker.check_model(model, full_check=True)
    return model


# ---------------------------------------------------------------------------
# AnimeGANv2-shaped generator
# ---------------------------------------------------------------------------

LRELU_ALPHA = 0.2
LRELU_GAIN = float(np.sqrt(2.0 / (1.0 + LRELU_ALPHA ** 2)))
TF_LAYER_NORM_EPSILON = 1e-12  # tf.contrib.layers.layer_norm's variance epsilon


def animegan_conv(b, x, out_channels, name, kernel=3, stride=1):
    """TF AnimeGANv2's Conv2D: reflect pad 'same' for stride 1, bottom/right by one
    for stride 2, no padding for 1x1; no bias."""
    if stride == 2:
        x = b.reflect_pad(x, 0, 0, 1, 1, name)
    elif kernel > 1:
        half = kernel // 2
        x = b.reflect_pad(x, half, half, half, half, name)
    return b.conv(x, out_channels, kernel, name, stride=stride, weight_gain=LRELU_GAIN)


def animegan_conv_norm_lrelu(b, x, out_channels, name, kernel=3, stride=1):
    x = animegan_conv(b, x, out_channels, name, kernel, stride)
    x = b.layer_norm(x, f"{name}/LayerNorm", TF_LAYER_NORM_EPSILON)
    return b.unary("LeakyRelu", x, name, alpha=LRELU_ALPHA)


def animegan_inverted_residual(b, x, out_channels, name, expansion=2):
    """MobileNetV2-style block: 1x1 expand + norm + lrelu, 3x3 depthwise (with
    bias) + norm + lrelu, 1x1 project + norm (linear), residual when shapes match."""
    bottleneck = int(round(expansion * x.channels))
    y = animegan_conv_norm_lrelu(b, x, bottleneck, f"{name}/expand", kernel=1)
    y = b.reflect_pad(y, 1, 1, 1, 1, f"{name}/depthwise")
    y = b.conv(y, bottleneck, 3, f"{name}/depthwise", group=bottleneck, bias=(0.0, 0.1), weight_gain=LRELU_GAIN)
    y = b.layer_norm(y, f"{name}/depthwise/LayerNorm", TF_LAYER_NORM_EPSILON)
    y = b.unary("LeakyRelu", y, f"{name}/depthwise", alpha=LRELU_ALPHA)
    y = animegan_conv(b, y, out_channels, f"{name}/project", kernel=1)
    y = b.layer_norm(y, f"{name}/project/LayerNorm", TF_LAYER_NORM_EPSILON)
    if y.channels == x.channels:
        y = b.add(x, y, f"{name}/residual")
    return y


def build_animegan_like(rng):
    b = GraphBuilder(rng)
    nhwc = Activation("generator_input:0", 3, PROBE_HEIGHT, PROBE_WIDTH)
    image = b.unary("Transpose", nhwc, "G_MODEL/to_nchw", perm=[0, 3, 1, 2])

    x = animegan_conv_norm_lrelu(b, image, 32, "G_MODEL/A/0", kernel=7)
    x = animegan_conv_norm_lrelu(b, x, 64, "G_MODEL/A/1", stride=2)
    block_a = animegan_conv_norm_lrelu(b, x, 64, "G_MODEL/A/2")

    x = animegan_conv_norm_lrelu(b, block_a, 128, "G_MODEL/B/0", stride=2)
    x = animegan_conv_norm_lrelu(b, x, 128, "G_MODEL/B/1")

    x = animegan_conv_norm_lrelu(b, x, 128, "G_MODEL/C/0")
    for i in range(1, 5):
        x = animegan_inverted_residual(b, x, 256, f"G_MODEL/C/r{i}")
    x = animegan_conv_norm_lrelu(b, x, 128, "G_MODEL/C/1")

    x = b.resize_bilinear_like(x, block_a, "G_MODEL/D/upsample")
    x = animegan_conv_norm_lrelu(b, x, 128, "G_MODEL/D/0")
    x = animegan_conv_norm_lrelu(b, x, 128, "G_MODEL/D/1")

    x = b.resize_bilinear_like(x, image, "G_MODEL/E/upsample")
    x = animegan_conv_norm_lrelu(b, x, 64, "G_MODEL/E/0")
    x = animegan_conv_norm_lrelu(b, x, 64, "G_MODEL/E/1")
    x = animegan_conv_norm_lrelu(b, x, 32, "G_MODEL/E/2", kernel=7)

    # The output conv sees ~unit-variance LeakyReLU outputs (mean square ~0.52); a
    # gain of 0.8 puts the pre-tanh values at a std of ~0.6, well inside tanh.
    x = b.conv(x, 3, 1, "G_MODEL/out_layer", weight_gain=0.8)
    x = b.unary("Tanh", x, "G_MODEL/out_layer")
    b.unary("Transpose", x, "G_MODEL/to_nhwc", output="generator_output:0", perm=[0, 2, 3, 1])

    image_type = helper.make_tensor_value_info
    model = finish_model(
        b, "animegan_like",
        [image_type("generator_input:0", TensorProto.FLOAT, [1, "height", "width", 3])],
        [image_type("generator_output:0", TensorProto.FLOAT, [1, "height", "width", 3])],
        "AnimeGANv2-shaped generator with deterministic random weights (kiln test model). "
        "Input NHWC float32 RGB in [-1,1]; output NHWC float32 RGB in [-1,1].")
    return model, b.macs


# ---------------------------------------------------------------------------
# Johnson et al. fast-neural-style TransformerNet
# ---------------------------------------------------------------------------

def fns_conv(b, x, out_channels, kernel, name, stride=1, **conv_options):
    """PyTorch example's ConvLayer: ReflectionPad2d(kernel // 2) then Conv2d with bias."""
    half = kernel // 2
    x = b.reflect_pad(x, half, half, half, half, name)
    conv_options.setdefault("bias", (0.0, 0.1))
    return b.conv(x, out_channels, kernel, name, stride=stride, **conv_options)


def fns_conv_norm_relu(b, x, out_channels, kernel, name, stride=1):
    x = fns_conv(b, x, out_channels, kernel, name, stride)
    x = b.instance_norm(x, f"{name}/in")
    return b.unary("Relu", x, name)


def build_fast_neural_style(rng):
    b = GraphBuilder(rng)
    x = Activation("input", 3, PROBE_HEIGHT, PROBE_WIDTH)
    x = fns_conv_norm_relu(b, x, 32, 9, "conv1")
    x = fns_conv_norm_relu(b, x, 64, 3, "conv2", stride=2)
    x = fns_conv_norm_relu(b, x, 128, 3, "conv3", stride=2)
    for i in range(1, 6):
        residual = x
        y = fns_conv_norm_relu(b, x, 128, 3, f"res{i}/conv1")
        y = fns_conv(b, y, 128, 3, f"res{i}/conv2")
        y = b.instance_norm(y, f"res{i}/conv2/in")
        x = b.add(residual, y, f"res{i}")
    x = b.resize_nearest_x2(x, "deconv1/upsample")
    x = fns_conv_norm_relu(b, x, 64, 3, "deconv1")
    x = b.resize_nearest_x2(x, "deconv2/upsample")
    x = fns_conv_norm_relu(b, x, 32, 3, "deconv2")
    # Zero-mean filters over ReLU outputs (variance ~0.35 around their mean): a gain
    # of 70 gives a std of ~40 around a bias of ~128, so nearly all pixels land in
    # 0..255 as a trained net's do.
    fns_conv(b, x, 3, 9, "deconv3", weight_gain=70.0, bias=(128.0, 8.0), zero_mean_filters=True,
             output="output")

    value_info = helper.make_tensor_value_info
    model = finish_model(
        b, "fast_neural_style",
        [value_info("input", TensorProto.FLOAT, [1, 3, "height", "width"])],
        [value_info("output", TensorProto.FLOAT, [1, 3, "out_height", "out_width"])],
        "Johnson et al. fast-neural-style TransformerNet with deterministic random weights (kiln test model). "
        "Input NCHW float32 RGB in 0..255; output NCHW float32 RGB, nominally 0..255 (clamp before saving). "
        "out_height = 4 * ceil(ceil(height / 2) / 2), likewise out_width.")
    return model, b.macs


# ---------------------------------------------------------------------------
# A small float64 numpy evaluator for exactly the ops above (the reference the
# test data comes from; independent of kiln's kernels).
# ---------------------------------------------------------------------------

def eval_conv(x, w, bias, attrs):
    strides = attrs.get("strides", [1, 1])
    group = attrs.get("group", 1)
    assert attrs.get("pads", [0, 0, 0, 0]) == [0, 0, 0, 0] and attrs.get("dilations", [1, 1]) == [1, 1]
    n, c, h, wd = x.shape
    m, cg, kh, kw = w.shape
    sh, sw = strides
    oh, ow = (h - kh) // sh + 1, (wd - kw) // sw + 1
    out = np.zeros((n, m, oh, ow))
    mg = m // group
    depthwise = group == c == m
    for ky in range(kh):
        for kx in range(kw):
            window = x[:, :, ky:ky + sh * (oh - 1) + 1:sh, kx:kx + sw * (ow - 1) + 1:sw]
            if depthwise:  # one filter per channel
                out += window * w[:, 0, ky, kx].reshape(1, -1, 1, 1)
                continue
            for g in range(group):
                part = window[:, g * cg:(g + 1) * cg]
                out[:, g * mg:(g + 1) * mg] += np.einsum("oc,nchw->nohw", w[g * mg:(g + 1) * mg, :, ky, kx], part)
    if bias is not None:
        out += bias.reshape(1, -1, 1, 1)
    return out


def eval_pad(x, pads, mode):
    rank = x.ndim
    widths = [(int(pads[i]), int(pads[i + rank])) for i in range(rank)]
    assert mode == "reflect"
    return np.pad(x, widths, mode="reflect")  # numpy's 'reflect' excludes the edge, like ONNX's


def source_coords_asymmetric(out_size, scale):
    """ONNX Resize 'asymmetric': output index i samples input coordinate i / scale."""
    return np.arange(out_size) / scale


def eval_resize(x, scales, sizes, attrs):
    assert attrs["coordinate_transformation_mode"] == "asymmetric"
    if sizes is not None and sizes.size:
        sizes = sizes.astype(np.int64)
        scales = sizes / np.array(x.shape, np.float64)
    else:
        sizes = np.floor(np.array(x.shape) * scales).astype(np.int64)
    assert scales[0] == 1 and scales[1] == 1
    out = x
    for axis in (2, 3):
        coords = source_coords_asymmetric(sizes[axis], scales[axis])
        if attrs["mode"] == "nearest":
            assert attrs.get("nearest_mode", "round_prefer_floor") == "floor"
            index = np.minimum(np.floor(coords).astype(np.int64), x.shape[axis] - 1)
            out = np.take(out, index, axis=axis)
        else:
            assert attrs["mode"] == "linear"
            coords = np.clip(coords, 0, x.shape[axis] - 1)
            low = np.floor(coords).astype(np.int64)
            high = np.minimum(low + 1, x.shape[axis] - 1)
            frac = coords - low
            shape = [1, 1, 1, 1]
            shape[axis] = -1
            frac = frac.reshape(shape)
            out = np.take(out, low, axis=axis) * (1 - frac) + np.take(out, high, axis=axis) * frac
    return out


def evaluate(model, feeds):
    values = {name: np.asarray(v) for name, v in feeds.items()}
    for t in model.graph.initializer:
        array = numpy_helper.to_array(t)
        values[t.name] = array.astype(np.float64) if array.dtype == np.float32 else array
    for node in model.graph.node:
        attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
        attrs = {k: (v.decode() if isinstance(v, bytes) else v) for k, v in attrs.items()}
        ins = [values[name] if name else None for name in node.input]
        op = node.op_type
        if op == "Transpose":
            out = np.transpose(ins[0], attrs["perm"])
        elif op == "Pad":
            out = eval_pad(ins[0], ins[1], attrs.get("mode", "constant"))
        elif op == "Conv":
            out = eval_conv(ins[0], ins[1], ins[2] if len(ins) > 2 else None, attrs)
        elif op == "ReduceMean":
            out = np.mean(ins[0], axis=tuple(attrs["axes"]), keepdims=bool(attrs.get("keepdims", 1)))
        elif op in ("Add", "Sub", "Mul", "Div", "Pow"):
            fn = dict(Add=np.add, Sub=np.subtract, Mul=np.multiply, Div=np.divide, Pow=np.power)[op]
            out = fn(ins[0], ins[1])
        elif op == "Sqrt":
            out = np.sqrt(ins[0])
        elif op == "LeakyRelu":
            out = np.where(ins[0] >= 0, ins[0], ins[0] * attrs["alpha"])
        elif op == "Relu":
            out = np.maximum(ins[0], 0)
        elif op == "Tanh":
            out = np.tanh(ins[0])
        elif op == "InstanceNormalization":
            x = ins[0]
            mean = x.mean(axis=(2, 3), keepdims=True)
            var = ((x - mean) ** 2).mean(axis=(2, 3), keepdims=True)
            out = (x - mean) / np.sqrt(var + attrs.get("epsilon", 1e-5))
            out = out * ins[1].reshape(1, -1, 1, 1) + ins[2].reshape(1, -1, 1, 1)
        elif op == "Shape":
            out = np.array(ins[0].shape, np.int64)
        elif op == "Slice":
            assert len(ins) == 3
            out = ins[0][int(ins[1][0]):int(ins[2][0])]
        elif op == "Concat":
            out = np.concatenate(ins, axis=attrs["axis"])
        elif op == "Resize":
            out = eval_resize(ins[0], ins[2] if len(ins) > 2 else None, ins[3] if len(ins) > 3 else None, attrs)
        else:
            raise NotImplementedError(op)
        values[node.output[0]] = out
    return [values[o.name] for o in model.graph.output]


# ---------------------------------------------------------------------------
# Checks, statistics, output
# ---------------------------------------------------------------------------

def parameter_count(model):
    return sum(int(np.prod(t.dims)) for t in model.graph.initializer if t.data_type == TensorProto.FLOAT)


def check_output_is_lively(name, output, spatial_axes, low, high):
    """Fails unless the output varies across pixels and mostly stays off its limits."""
    std = float(output.std())
    span = high - low
    near_limits = float(np.mean((output < low + 0.01 * span) | (output > high - 0.01 * span)))
    spatial_std = float(output.std(axis=spatial_axes).mean())
    print(f"  reference output: min {output.min():.4g} max {output.max():.4g} mean {output.mean():.4g} "
          f"std {std:.4g}; {100 * near_limits:.2f}% within 1% of the [{low}, {high}] limits")
    if std < 0.05 * span or spatial_std < 0.02 * span:
        sys.exit(f"{name}: output is (nearly) constant on a random input; fix the weight scaling")
    if near_limits > 0.05:
        sys.exit(f"{name}: output is saturated on a random input; fix the weight scaling")


def write_test_data(out_dir, name, inputs, outputs):
    test_dir = os.path.join(out_dir, "testdata", f"test_{name}")
    data_dir = os.path.join(test_dir, "test_data_set_0")
    os.makedirs(data_dir, exist_ok=True)
    link = os.path.join(test_dir, "model.onnx")
    target = os.path.join("..", "..", f"{name}.onnx")
    if os.path.islink(link) or os.path.exists(link):
        if os.path.islink(link) and os.readlink(link) == target:
            target = None
        else:
            os.remove(link)
    if target:
        os.symlink(target, link)
    for kind, tensors in (("input", inputs), ("output", outputs)):
        for i, (tensor_name, array) in enumerate(tensors):
            proto = numpy_helper.from_array(np.ascontiguousarray(array.astype(np.float32)), tensor_name)
            with open(os.path.join(data_dir, f"{kind}_{i}.pb"), "wb") as f:
                f.write(proto.SerializeToString())


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out-dir", default=os.path.dirname(os.path.abspath(__file__)))
    args = parser.parse_args()

    # Reference inputs: odd spatial sizes inside the net (52 -> 26 -> 13) so the
    # stride-2 padding and the resize-back-to-size paths are exercised.
    ref_height, ref_width = 52, 76
    specs = [
        ("animegan_like", build_animegan_like, 20240601,
         lambda rng: rng.uniform(-1, 1, (1, ref_height, ref_width, 3)), (1, 2), (-1.0, 1.0)),
        ("fast_neural_style", build_fast_neural_style, 20240602,
         lambda rng: rng.uniform(0, 255, (1, 3, ref_height, ref_width)), (2, 3), (0.0, 255.0)),
    ]
    for name, build, seed, make_input, spatial_axes, limits in specs:
        rng = np.random.default_rng(seed)
        model, macs = build(rng)
        path = os.path.join(args.out_dir, f"{name}.onnx")
        data = model.SerializeToString()
        with open(path, "wb") as f:
            f.write(data)
        op_counts = {}
        for node in model.graph.node:
            op_counts[node.op_type] = op_counts.get(node.op_type, 0) + 1
        print(f"{name}.onnx: {len(data) / 1e6:.2f} MB, {len(model.graph.node)} nodes, "
              f"{parameter_count(model):,} parameters, {macs / 1e9:.2f} GMACs at {PROBE_HEIGHT}x{PROBE_WIDTH}")
        print("  ops: " + ", ".join(f"{op} {count}" for op, count in sorted(op_counts.items())))

        # float32 first: the reference must see exactly the input that is stored.
        input_array = make_input(np.random.default_rng(seed + 1000)).astype(np.float32)
        (output,) = evaluate(model, {model.graph.input[0].name: input_array.astype(np.float64)})
        check_output_is_lively(name, output, spatial_axes, *limits)
        write_test_data(args.out_dir, name, [(model.graph.input[0].name, input_array)],
                        [(model.graph.output[0].name, output)])


if __name__ == "__main__":
    main()
