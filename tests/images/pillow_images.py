#!/usr/bin/python3
"""The image tests' independent codec and style-model reference (not kiln's code).

    pillow_images.py convert IN OUT [IN OUT ...] [--quality Q] [--orientation N] [--upright]
        Reads each IN with Pillow (Debian's python3-pil), converts it to 8-bit
        RGB and writes OUT in the format its extension names (.ppm, .png, .bmp,
        .jpg). JPEG is written at quality Q (default 95) without chroma
        subsampling, and with --orientation N carries the EXIF orientation tag
        N (1..8). --upright applies IN's EXIF orientation when reading it
        (ImageOps.exif_transpose), as a photo viewer shows it.

    pillow_images.py merge-alpha RGB.ppm ALPHA.pgm OUT
        Writes OUT (.png or .bmp) as RGBA: the colours of RGB.ppm, the alpha of ALPHA.pgm.

    pillow_images.py split-alpha IN OUT.pgm
        Writes the alpha channel of IN as a PGM; exit 1 when IN has none.

    pillow_images.py style MODEL IN.ppm OUT.ppm --layout nchw|nhwc --range LO,HI
        Runs a style model from models/generate_style_models.py on the RGB
        image IN with that script's float64 numpy evaluator: bytes map to the
        range LO..HI, the output maps back, clamped to 0..255 and rounded half
        up, and is written to OUT.

Errors go to stderr with exit code 1.
"""

import os
import sys

import numpy as np
from PIL import Image, ImageOps

RANGES = {"0,255": (1.0, 0.0), "0,1": (255.0, 0.0), "-1,1": (127.5, -1.0)}  # bytes per unit, offset


def convert(args):
    quality = 95
    if "--quality" in args:
        at = args.index("--quality")
        quality = int(args[at + 1])
        del args[at:at + 2]
    orientation = None
    if "--orientation" in args:
        at = args.index("--orientation")
        orientation = int(args[at + 1])
        del args[at:at + 2]
    upright = "--upright" in args
    if upright:
        args.remove("--upright")
    if not args or len(args) % 2:
        sys.exit("convert: expected IN OUT pairs")
    for source, target in zip(args[0::2], args[1::2]):
        with Image.open(source) as image:
            rgb = (ImageOps.exif_transpose(image) if upright else image).convert("RGB")
        options = {}
        if target.lower().endswith((".jpg", ".jpeg")):
            options = {"quality": quality, "subsampling": 0}
            if orientation is not None:
                exif = Image.Exif()
                exif[0x0112] = orientation  # Orientation
                options["exif"] = exif.tobytes()
        rgb.save(target, **options)


def merge_alpha(args):
    rgb_path, alpha_path, target = args
    with Image.open(rgb_path) as rgb, Image.open(alpha_path) as alpha:
        rgba = rgb.convert("RGB")
        rgba.putalpha(alpha.convert("L"))
    rgba.save(target)


def split_alpha(args):
    source, target = args
    with Image.open(source) as image:
        if "A" not in image.getbands():
            sys.exit(f"split-alpha: {source} has no alpha channel (mode {image.mode})")
        image.getchannel("A").save(target)


def style(args):
    model_path, source, target = args[0], args[1], args[2]
    layout = args[args.index("--layout") + 1]
    bytes_per_unit, offset = RANGES[args[args.index("--range") + 1]]
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "models"))
    import onnx
    from generate_style_models import evaluate

    model = onnx.load(model_path)
    with Image.open(source) as image:
        pixels = np.asarray(image.convert("RGB"), dtype=np.float64)  # H, W, 3
    x = pixels / bytes_per_unit + offset
    x = x[np.newaxis] if layout == "nhwc" else x.transpose(2, 0, 1)[np.newaxis]
    # kiln feeds float32: the reference sees the same rounded input values.
    x = x.astype(np.float32).astype(np.float64)
    (y,) = evaluate(model, {model.graph.input[0].name: x})
    y = y[0] if layout == "nhwc" else y[0].transpose(1, 2, 0)
    out = np.floor(np.clip((y - offset) * bytes_per_unit, 0, 255) + 0.5).astype(np.uint8)
    Image.fromarray(out, "RGB").save(target)


def main():
    commands = {"convert": convert, "style": style, "merge-alpha": merge_alpha, "split-alpha": split_alpha}
    if len(sys.argv) < 2 or sys.argv[1] not in commands:
        sys.exit(__doc__)
    try:
        commands[sys.argv[1]](sys.argv[2:])
    except (OSError, ValueError, KeyError, IndexError) as error:
        sys.exit(f"pillow_images.py {sys.argv[1]}: {error}")


if __name__ == "__main__":
    main()
