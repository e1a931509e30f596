#!/usr/bin/python3
"""Renders a page of text for the text-detection demo and its test.

    render_text_page.py OUT.png [--boxes OUT.txt] [--width W] [--height H]

Draws a few lines of English text in DejaVu Sans (Debian's fonts-dejavu-core)
in black on a white page with Pillow, at fixed positions and sizes, so every
run writes the same picture. With --boxes, writes one line per drawn text line,
"x0 y0 x1 y1" (the ink's bounding box in pixels, x1/y1 exclusive), for a test
to compare a detector's boxes with.
"""

import argparse
import sys

from PIL import Image, ImageDraw, ImageFont

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
BOLD = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"

# (text, point size, bold): a heading, then body lines of a few sizes.
LINES = [
    ("kiln runs this text detector", 40, True),
    ("PaddleOCR v4 finds the lines of a page,", 26, False),
    ("on a plain x86-64 CPU with SSE4.2 or AVX.", 26, False),
    ("Each box is drawn from the model's output map:", 22, False),
    ("threshold 0.3, connected components, boxes.", 22, False),
    ("Small print works too: 0123456789", 18, False),
]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out")
    parser.add_argument("--boxes")
    parser.add_argument("--width", type=int, default=800)
    parser.add_argument("--height", type=int, default=450)
    args = parser.parse_args()

    page = Image.new("RGB", (args.width, args.height), "white")
    draw = ImageDraw.Draw(page)
    boxes = []
    y = 40
    for text, size, bold in LINES:
        try:
            font = ImageFont.truetype(BOLD if bold else FONT, size)
        except OSError as error:
            sys.exit(f"render_text_page.py: cannot load the DejaVu font ({error}); install fonts-dejavu-core")
        draw.text((48, y), text, fill="black", font=font)
        left, top, right, bottom = draw.textbbox((48, y), text, font=font)
        if right > args.width or bottom > args.height:
            sys.exit(f"render_text_page.py: the page of {args.width}x{args.height} is too small for the text")
        boxes.append((left, top, right, bottom))
        y = bottom + size
    page.save(args.out)
    if args.boxes:
        with open(args.boxes, "w") as out:
            for box in boxes:
                out.write("%d %d %d %d\n" % box)


if __name__ == "__main__":
    main()
