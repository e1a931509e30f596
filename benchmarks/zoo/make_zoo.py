#!/usr/bin/python3
"""Writes the model zoo kiln is measured on (issue 17): ONNX models with seeded random weights.

    /usr/bin/python3 benchmarks/zoo/make_zoo.py [OUT_DIR] [--small] [--only NAME,NAME] [--list]

OUT_DIR defaults to build/zoo (inside the repository; never committed). Needs Debian's
python3-torch (1.13), python3-torchvision (0.14), python3-onnx and python3-numpy.

Writes OUT_DIR/NAME.onnx for every model below and OUT_DIR/zoo.txt, one line per model in the
format of benchmarks/ort/compare.js --list: `NAME.onnx INPUT=DIMS`.

torchvision models (NCHW float input `input`, uniform in [-1, 1) is what the statistics were
estimated on): random weights from torch's initializers with a fixed seed per model, BatchNorm
scale and shift drawn at random (so folding BN into the conv is not a multiplication by one),
then the BN running statistics re-estimated on a few random batches (train-mode forward passes
with momentum None, i.e. a plain average) so activations stay in range, then eval mode.
Exported at opset 13 with BatchNormalization kept as a node: torch 1.13 folds BN into the
conv whenever it exports in TrainingMode.EVAL (its eval peephole pass), whatever
do_constant_folding says, so the export uses TrainingMode.PRESERVE on a model in eval mode,
which writes inference-mode BatchNormalization nodes; the script checks that every model whose
torch module has BatchNorm2d has BatchNormalization nodes. Segmentation models export only
their 'out' output. googlenet and inception_v3 are built without auxiliary heads.
ConvNeXt's layer scale (1e-6 at initialization, which would make its blocks invisible in an
output comparison) is drawn in [0.1, 0.3).

Two style-transfer generators are written directly as ONNX graphs in the spelling of
TensorFlow's exporter (tf2onnx), NHWC float input `input:0` in [-1, 1]:
  style_fast    fast-neural-style sized (Johnson et al.: 9x9 stem, two stride-2 downsamplers,
                five residual blocks, two ConvTranspose upsamplers, 9x9 out), kept NHWC with a
                Transpose pair around every Conv/ConvTranspose (tf2onnx without its
                transpose optimizer), instance norm over H,W.
  style_anime   AnimeGANv2 sized: one Transpose to NCHW after the input, layer norm over
                C,H,W, LeakyRelu(0.2), eight inverted residual blocks (1x1 expand, depthwise
                3x3, 1x1 project), bilinear Resize x2 upsampling, tanh, Transpose back to NHWC.
Both pad with reflect Pad nodes before VALID convs (stride-2: 0 before, 1 after) and write the
normalization as tf.nn.moments + tf.nn.batch_normalization arithmetic:
  mean = ReduceMean(x); d = x - mean; var = ReduceMean(d * d);
  inv = Reciprocal(Sqrt(var + eps)) * gamma; y = x * inv + (beta - mean * inv).

Sizes: classifiers 224x224 (inception_v3 299x299), segmentation 520x520, generators 720x1280
(H x W). --small writes CI sizes: 64x64 classifiers (inception_v3 75x75, its minimum; vgg16_bn
224x224, the only size its 7x7 adaptive pool exports at), 96x96 segmentation, 64x128 generators.
Batch 1 everywhere, all shapes fixed. Prints each model written with its time and the total.
"""

import argparse
import io
import os
import sys
import time
import zlib

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OPSET = 13
REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# name -> (kind, full size, small size); size is (H, W).
MODELS = {
    "resnet18": ("classifier", (224, 224), (64, 64)),
    "resnext50_32x4d": ("classifier", (224, 224), (64, 64)),
    "wide_resnet50_2": ("classifier", (224, 224), (64, 64)),
    "mobilenet_v3_large": ("classifier", (224, 224), (64, 64)),
    "mobilenet_v3_small": ("classifier", (224, 224), (64, 64)),
    "mnasnet1_0": ("classifier", (224, 224), (64, 64)),
    "regnet_y_800mf": ("classifier", (224, 224), (64, 64)),
    "googlenet": ("classifier", (224, 224), (64, 64)),
    "inception_v3": ("classifier", (299, 299), (75, 75)),
    "vgg16_bn": ("classifier", (224, 224), (224, 224)),
    "convnext_tiny": ("classifier", (224, 224), (64, 64)),
    "fcn_resnet50": ("segmentation", (520, 520), (96, 96)),
    "deeplabv3_mobilenet_v3_large": ("segmentation", (520, 520), (96, 96)),
    "style_fast": ("generator", (720, 1280), (64, 128)),
    "style_anime": ("generator", (720, 1280), (64, 128)),
}

CALIBRATION_BATCHES = 3
CALIBRATION_BATCH_SIZE = 4
CALIBRATION_MAX_SIDE = 224  # BN statistics of random data hardly depend on the spatial size


def model_seed(name):
    return zlib.crc32(name.encode()) & 0x7FFFFFFF


# ---------------------------------------------------------------------------
# torchvision models
# ---------------------------------------------------------------------------

def build_torch_model(name):
    import torchvision.models as tvm
    import torchvision.models.segmentation as seg

    if name in ("googlenet", "inception_v3"):
        return getattr(tvm, name)(weights=None, aux_logits=False, init_weights=False)
    if name in ("fcn_resnet50", "deeplabv3_mobilenet_v3_large"):
        return getattr(seg, name)(weights=None, weights_backbone=None, aux_loss=False)
    return getattr(tvm, name)(weights=None)


class OutOnly:
    """Wraps a segmentation model so the export has the 'out' output only."""

    @staticmethod
    def wrap(model):
        import torch

        class Wrapper(torch.nn.Module):
            def __init__(self, inner):
                super().__init__()
                self.inner = inner

            def forward(self, x):
                return self.inner(x)["out"]

        return Wrapper(model)


def randomize_and_calibrate(model, size, generator):
    """BN scale/shift and ConvNeXt layer scale at random, then BN statistics from random batches."""
    import torch

    batch_norms = [m for m in model.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]
    with torch.no_grad():
        for bn in batch_norms:
            bn.weight.copy_(torch.rand(bn.weight.shape, generator=generator) + 0.5)
            bn.bias.copy_((torch.rand(bn.bias.shape, generator=generator) - 0.5) * 0.4)
            bn.reset_running_stats()
            bn.momentum = None  # cumulative average over the calibration batches
        for module in model.modules():
            scale = getattr(module, "layer_scale", None)
            if isinstance(scale, torch.nn.Parameter):
                scale.copy_(torch.rand(scale.shape, generator=generator) * 0.2 + 0.1)
    if batch_norms:
        height = min(size[0], CALIBRATION_MAX_SIDE)
        width = min(size[1], CALIBRATION_MAX_SIDE)
        model.train()
        with torch.no_grad():
            for _ in range(CALIBRATION_BATCHES):
                batch = torch.rand((CALIBRATION_BATCH_SIZE, 3, height, width), generator=generator) * 2 - 1
                model(batch)
    model.eval()
    return len(batch_norms)


def export_torch_model(name, kind, size, path):
    import torch
    from torch.onnx import TrainingMode

    seed = model_seed(name)
    torch.manual_seed(seed)
    model = build_torch_model(name)
    generator = torch.Generator().manual_seed(seed)
    batch_norm_count = randomize_and_calibrate(model, size, generator)
    if kind == "segmentation":
        model = OutOnly.wrap(model).eval()
    example = torch.rand((1, 3) + tuple(size), generator=generator) * 2 - 1
    with torch.no_grad():
        output = model(example)
    if not torch.isfinite(output).all() or float(output.std()) == 0.0:
        raise RuntimeError(f"{name}: the random model's output is not finite or constant")
    buffer = io.BytesIO()
    # PRESERVE on an eval-mode model: BatchNormalization stays a node (see the header).
    torch.onnx.export(model, example, buffer, opset_version=OPSET, training=TrainingMode.PRESERVE,
                      do_constant_folding=False, input_names=["input"], output_names=["output"])
    proto = onnx.load_from_string(buffer.getvalue())
    bn_nodes = sum(node.op_type == "BatchNormalization" for node in proto.graph.node)
    if batch_norm_count and bn_nodes == 0:
        raise RuntimeError(f"{name}: the export has no BatchNormalization node ({batch_norm_count} in torch)")
    onnx.checker.check_model(proto)
    onnx.save(proto, path)
    return f"input=1x3x{size[0]}x{size[1]}", f"{bn_nodes} BatchNormalization"


# ---------------------------------------------------------------------------
# TF-spelled generators, built with onnx.helper
# ---------------------------------------------------------------------------

class TfGraph:
    """Nodes and initializers of a generator; names in tf2onnx's style (scope/op:0)."""

    def __init__(self, rng):
        self.rng = rng
        self.nodes = []
        self.initializers = []
        self.names = set()
        self.constants = {}

    def unique(self, name):
        candidate, index = name, 1
        while candidate in self.names:
            index += 1
            candidate = f"{name}_{index}"
        self.names.add(candidate)
        return candidate

    def tensor(self, name, array):
        name = self.unique(name)
        self.initializers.append(numpy_helper.from_array(np.ascontiguousarray(array), name))
        return name

    def constant(self, key, array):
        """One initializer per distinct value (tf2onnx shares its constants the same way)."""
        if key not in self.constants:
            self.constants[key] = self.tensor(key, array)
        return self.constants[key]

    def op(self, op_type, inputs, name, **attrs):
        node_name = self.unique(name)
        output = f"{node_name}:0"
        self.nodes.append(helper.make_node(op_type, inputs, [output], name=node_name, **attrs))
        return output

    def conv_weights(self, out_channels, in_per_group, kernel, gain):
        fan_in = in_per_group * kernel * kernel
        std = gain / np.sqrt(fan_in)
        return (self.rng.standard_normal((out_channels, in_per_group, kernel, kernel)) * std).astype(np.float32)

    def small(self, count, center, spread):
        return (center + (self.rng.random(count) - 0.5) * 2 * spread).astype(np.float32)


class Value:
    """A tensor of the graph with its channel count and layout (NHWC or NCHW)."""

    def __init__(self, name, channels, layout):
        self.name = name
        self.channels = channels
        self.layout = layout


def spatial_axes(layout):
    return (1, 2) if layout == "NHWC" else (2, 3)


def reflect_pad(g, x, before, after, name):
    if before == 0 and after == 0:
        return x
    rank_pads = [0] * 8
    h, w = spatial_axes(x.layout)
    rank_pads[h], rank_pads[w] = before, before
    rank_pads[4 + h], rank_pads[4 + w] = after, after
    pads = g.constant(f"const_pads_{before}_{after}_{x.layout}", np.array(rank_pads, np.int64))
    return Value(g.op("Pad", [x.name, pads], f"{name}/MirrorPad", mode="reflect"), x.channels, x.layout)


def conv(g, x, out_channels, kernel, name, stride=1, group=1, gain=np.sqrt(2.0), bias=True, transpose=False):
    """A VALID (or ConvTranspose SAME x2) conv; NHWC values get a Transpose pair around it."""
    if transpose:
        weight = g.conv_weights(x.channels, out_channels, kernel, gain)  # ConvTranspose: [C_in, C_out, k, k]
    else:
        weight = g.conv_weights(out_channels, x.channels // group, kernel, gain)
    inputs = [None, g.tensor(f"{name}/kernel", weight)]
    if bias:
        inputs.append(g.tensor(f"{name}/bias", g.small(out_channels, 0.0, 0.1)))
    source = x.name
    if x.layout == "NHWC":
        source = g.op("Transpose", [source], f"{name}/Conv2D__in", perm=[0, 3, 1, 2])
    inputs[0] = source
    attrs = dict(kernel_shape=[kernel, kernel], strides=[stride, stride])
    if transpose:
        # TF's SAME conv2d_transpose at stride 2 doubles the size: crop 0 before, 1 after.
        out = g.op("ConvTranspose", inputs, f"{name}/conv2d_transpose", pads=[0, 0, 1, 1], **attrs)
    else:
        out = g.op("Conv", inputs, f"{name}/Conv2D", group=group, dilations=[1, 1], **attrs)
    if x.layout == "NHWC":
        out = g.op("Transpose", [out], f"{name}/Conv2D__out", perm=[0, 2, 3, 1])
    return Value(out, out_channels, x.layout)


def padded_conv(g, x, out_channels, kernel, name, stride=1, group=1, gain=np.sqrt(2.0), bias=True):
    """Reflect pad as AnimeGAN and fast-neural-style write it, then a VALID conv."""
    if stride == 1:
        before = after = (kernel - 1) // 2
    else:
        total = kernel - stride
        before, after = total // 2, total - total // 2
    return conv(g, reflect_pad(g, x, before, after, name), out_channels, kernel, name, stride, group, gain, bias)


def moments_norm(g, x, name, axes, epsilon=1e-5):
    """tf.nn.moments + tf.nn.batch_normalization, as tf2onnx writes them."""
    shape = [1] * 4
    shape[3 if x.layout == "NHWC" else 1] = x.channels
    gamma = g.tensor(f"{name}/gamma", g.small(x.channels, 1.0, 0.2).reshape(shape))
    beta = g.tensor(f"{name}/beta", g.small(x.channels, 0.0, 0.2).reshape(shape))
    eps = g.constant(f"const_eps_{epsilon:g}", np.array(epsilon, np.float32))
    mean = g.op("ReduceMean", [x.name], f"{name}/moments/mean", axes=list(axes), keepdims=1)
    diff = g.op("Sub", [x.name, mean], f"{name}/moments/SquaredDifference")
    square = g.op("Mul", [diff, diff], f"{name}/moments/SquaredDifference__sq")
    variance = g.op("ReduceMean", [square], f"{name}/moments/variance", axes=list(axes), keepdims=1)
    shifted = g.op("Add", [variance, eps], f"{name}/batchnorm/add")
    root = g.op("Sqrt", [shifted], f"{name}/batchnorm/Rsqrt__sqrt")
    rsqrt = g.op("Reciprocal", [root], f"{name}/batchnorm/Rsqrt")
    inv = g.op("Mul", [rsqrt, gamma], f"{name}/batchnorm/mul")
    scaled = g.op("Mul", [x.name, inv], f"{name}/batchnorm/mul_1")
    mean_scaled = g.op("Mul", [mean, inv], f"{name}/batchnorm/mul_2")
    offset = g.op("Sub", [beta, mean_scaled], f"{name}/batchnorm/sub")
    return Value(g.op("Add", [scaled, offset], f"{name}/batchnorm/add_1"), x.channels, x.layout)


def activation(g, x, kind, name):
    if kind == "lrelu":
        return Value(g.op("LeakyRelu", [x.name], f"{name}/LeakyRelu", alpha=0.2), x.channels, x.layout)
    return Value(g.op("Relu", [x.name], f"{name}/Relu"), x.channels, x.layout)


def add(g, a, b, name):
    return Value(g.op("Add", [a.name, b.name], f"{name}/add"), a.channels, a.layout)


LRELU_GAIN = np.sqrt(2.0 / (1 + 0.2 ** 2))


def build_style_fast(g, x):
    """Johnson et al.'s TransformerNet sizes, NHWC with Transpose pairs around every conv."""
    norm_axes = (1, 2)  # instance norm

    def block(v, channels, kernel, name, stride=1):
        v = padded_conv(g, v, channels, kernel, name, stride)
        return activation(g, moments_norm(g, v, f"{name}/instance_norm", norm_axes), "relu", name)

    v = block(x, 32, 9, "generator/conv1")
    v = block(v, 64, 3, "generator/conv2", stride=2)
    v = block(v, 128, 3, "generator/conv3", stride=2)
    for index in range(5):
        name = f"generator/residual_{index + 1}"
        y = block(v, 128, 3, f"{name}/conv1")
        y = padded_conv(g, y, 128, 3, f"{name}/conv2", gain=0.5)
        y = moments_norm(g, y, f"{name}/conv2/instance_norm", norm_axes)
        v = add(g, v, y, name)
    for index, channels in enumerate((64, 32)):
        name = f"generator/deconv{index + 1}"
        v = conv(g, v, channels, 3, name, stride=2, transpose=True)
        v = activation(g, moments_norm(g, v, f"{name}/instance_norm", norm_axes), "relu", name)
    v = padded_conv(g, v, 3, 9, "generator/conv_out", gain=1.0)
    return Value(g.op("Tanh", [v.name], "generator/output/Tanh"), 3, v.layout)


def build_style_anime(g, x):
    """AnimeGANv2's generator sizes, NCHW after one Transpose, layer norm over C,H,W."""
    v = Value(g.op("Transpose", [x.name], "generator/input/transpose", perm=[0, 3, 1, 2]), 3, "NCHW")
    norm_axes = (1, 2, 3)

    def conv_norm_lrelu(v, channels, name, kernel=3, stride=1, group=1):
        v = padded_conv(g, v, channels, kernel, name, stride, group, gain=LRELU_GAIN, bias=False)
        return activation(g, moments_norm(g, v, f"{name}/LayerNorm", norm_axes), "lrelu", name)

    def inverted_residual(v, name, expansion=2):
        hidden = v.channels * expansion
        y = conv_norm_lrelu(v, hidden, f"{name}/expand", kernel=1)
        y = conv_norm_lrelu(y, hidden, f"{name}/depthwise", group=hidden)
        y = padded_conv(g, y, v.channels, 1, f"{name}/project", gain=0.5, bias=False)
        y = moments_norm(g, y, f"{name}/project/LayerNorm", norm_axes)
        return add(g, v, y, name)

    def upsample(v, name):
        scales = g.constant("const_resize_scales_x2", np.array([1, 1, 2, 2], np.float32))
        roi = g.constant("const_resize_roi", np.array([], np.float32))
        out = g.op("Resize", [v.name, roi, scales], f"{name}/ResizeBilinear", mode="linear",
                   coordinate_transformation_mode="half_pixel")
        return Value(out, v.channels, v.layout)

    v = conv_norm_lrelu(v, 32, "generator/A/conv1", kernel=7)
    v = conv_norm_lrelu(v, 64, "generator/A/conv2", stride=2)
    v = conv_norm_lrelu(v, 64, "generator/A/conv3")
    v = conv_norm_lrelu(v, 128, "generator/B/conv1", stride=2)
    v = conv_norm_lrelu(v, 128, "generator/B/conv2")
    v = conv_norm_lrelu(v, 128, "generator/C/conv1")
    for index in range(8):
        v = inverted_residual(v, f"generator/C/r{index + 1}")
    v = conv_norm_lrelu(v, 128, "generator/C/conv2")
    v = upsample(v, "generator/D/upsample")
    v = conv_norm_lrelu(v, 128, "generator/D/conv1")
    v = conv_norm_lrelu(v, 128, "generator/D/conv2")
    v = upsample(v, "generator/E/upsample")
    v = conv_norm_lrelu(v, 64, "generator/E/conv1")
    v = conv_norm_lrelu(v, 64, "generator/E/conv2")
    v = conv_norm_lrelu(v, 32, "generator/E/conv3", kernel=7)
    v = padded_conv(g, v, 3, 1, "generator/out_layer", gain=1.0, bias=False)
    v = Value(g.op("Tanh", [v.name], "generator/out_layer/Tanh"), 3, "NCHW")
    return Value(g.op("Transpose", [v.name], "generator/output/transpose", perm=[0, 2, 3, 1]), 3, "NHWC")


def export_generator(name, size, path):
    height, width = size
    g = TfGraph(np.random.default_rng(model_seed(name)))
    x = Value("input:0", 3, "NHWC")
    builder = build_style_fast if name == "style_fast" else build_style_anime
    y = builder(g, x)
    out = g.op("Identity", [y.name], "output")
    graph = helper.make_graph(
        g.nodes, f"{name}_tf",
        [helper.make_tensor_value_info("input:0", TensorProto.FLOAT, [1, height, width, 3])],
        [helper.make_tensor_value_info(out, TensorProto.FLOAT, [1, height, width, 3])],
        initializer=g.initializers)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)],
                              producer_name="kiln benchmarks/zoo/make_zoo.py (tf2onnx spelling)")
    model.ir_version = 7
    onnx.checker.check_model(model)
    onnx.save(model, path)
    return f"input:0=1x{height}x{width}x3", f"{len(g.nodes)} nodes"


# ---------------------------------------------------------------------------

def main():
    parser = argparse.ArgumentParser(description="Writes kiln's model zoo (see the module docstring).")
    parser.add_argument("out_dir", nargs="?", default=os.path.join(REPO_ROOT, "build", "zoo"))
    parser.add_argument("--small", action="store_true", help="the small CI input sizes")
    parser.add_argument("--only", default="", help="comma-separated model names (default: all)")
    parser.add_argument("--list", action="store_true", help="print the model names and sizes, write nothing")
    args = parser.parse_args()

    names = list(MODELS)
    if args.only:
        names = [name.strip() for name in args.only.split(",") if name.strip()]
        unknown = [name for name in names if name not in MODELS]
        if unknown:
            parser.error(f"unknown model(s) {', '.join(unknown)}; known: {', '.join(MODELS)}")
    if args.list:
        for name in names:
            kind, full, small = MODELS[name]
            print(f"{name} {kind} full {full[0]}x{full[1]} small {small[0]}x{small[1]}")
        return 0

    import torch
    import warnings
    # torch 1.13 warns about prim::Constant shape inference on every segmentation export; the
    # exported graphs have all shapes fixed and are checked by onnx.checker, so it is noise here.
    warnings.filterwarnings("ignore", message="The shape inference of prim::Constant type is missing")
    torch.set_num_threads(max(1, os.cpu_count() or 1))
    os.makedirs(args.out_dir, exist_ok=True)
    lines = []
    start_all = time.monotonic()
    for name in names:
        kind, full, small = MODELS[name]
        size = small if args.small else full
        path = os.path.join(args.out_dir, f"{name}.onnx")
        start = time.monotonic()
        if kind == "generator":
            shape, detail = export_generator(name, size, path)
        else:
            shape, detail = export_torch_model(name, kind, size, path)
        lines.append(f"{name}.onnx {shape}")
        print(f"make_zoo: {path} {shape} ({detail}, {os.path.getsize(path) / 1e6:.1f} MB) "
              f"in {time.monotonic() - start:.1f} s", flush=True)
    with open(os.path.join(args.out_dir, "zoo.txt"), "w") as listing:
        listing.write(f"# written by benchmarks/zoo/make_zoo.py{' --small' if args.small else ''}; "
                      "MODEL INPUT=DIMS (benchmarks/ort/compare.js --list format)\n")
        listing.write("".join(f"{line}\n" for line in lines))
    print(f"make_zoo: {len(names)} model(s) in {args.out_dir} in {time.monotonic() - start_all:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
