#!/usr/bin/env node
'use strict';
// Writes a deterministic float32 NCHW .npy that looks like a normalized image:
// the same arguments give the same bytes on any machine (the generator is
// mulberry32, integer arithmetic only).
//
//   node benchmarks/ort/random_npy.js OUT.npy --shape 1x3x48x320
//        [--pattern text|uniform] [--seed 1] [--low -1] [--high 1]
//
// Patterns:
//   uniform  every value uniform in [low, high].
//   text     a light page with rows of dark glyph-like strokes, plus a little
//            noise, mapped from intensity [0, 1] to [low, high]. Text detection
//            and recognition models respond to it (a uniform-noise input leaves
//            a detector's output near zero, which would hide errors).

const { writeNpy, elementCount } = require('./npy');
const { parseArgs, numberOption, parseShape, runMain } = require('./cli_args');

// mulberry32: a small 32-bit generator; returns uniform numbers in [0, 1).
function mulberry32(seed) {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const PAPER = 1.0;
const INK = 0.1;
const NOISE = 0.08;

function fillRect(page, width, height, x0, y0, w, h) {
  for (let y = Math.max(0, y0); y < Math.min(height, y0 + h); ++y) {
    for (let x = Math.max(0, x0); x < Math.min(width, x0 + w); ++x) page[y * width + x] = INK;
  }
}

// Intensities in [0, 1] of a height x width page with lines of stroke glyphs.
function drawTextPage(width, height, random) {
  const page = new Float32Array(width * height).fill(PAPER);
  const lineHeight = Math.max(8, Math.round(Math.min(height, 48) * 0.6));
  const stroke = Math.max(1, Math.round(lineHeight * 0.12));
  let top = 2 + Math.floor(random() * height * 0.1);
  while (top + lineHeight < height) {
    let x = 2 + Math.floor(random() * width * 0.1);
    const lineEnd = width - 2 - Math.floor(random() * width * 0.3);
    while (x < lineEnd) {
      const glyphWidth = Math.max(3, Math.round(lineHeight * (0.5 + 0.4 * random())));
      const strokes = 2 + Math.floor(random() * 3);
      for (let s = 0; s < strokes; ++s) {
        if (random() < 0.5) {  // vertical stroke from the top of the line
          const length = Math.round(lineHeight * (0.4 + 0.6 * random()));
          fillRect(page, width, height, x + Math.floor(random() * glyphWidth), top, stroke, length);
        } else {  // horizontal stroke somewhere in the line
          const length = Math.round(glyphWidth * (0.4 + 0.6 * random()));
          fillRect(page, width, height, x, top + Math.floor(random() * lineHeight), length, stroke);
        }
      }
      x += glyphWidth + 1 + Math.floor(random() * lineHeight * 0.3);
      if (random() < 0.12) x += lineHeight;  // a gap between words
    }
    top += lineHeight + 4 + Math.floor(random() * lineHeight);
  }
  return page;
}

function makeData(shape, pattern, random, low, high) {
  const data = new Float32Array(elementCount(shape));
  if (pattern === 'uniform') {
    for (let i = 0; i < data.length; ++i) data[i] = low + (high - low) * random();
    return data;
  }
  if (shape.length !== 4) throw new Error(`--pattern text needs an NCHW shape, got ${shape.join('x')}`);
  const [batch, channels, height, width] = shape;
  const plane = height * width;
  for (let n = 0; n < batch; ++n) {
    const page = drawTextPage(width, height, random);
    for (let c = 0; c < channels; ++c) {
      const offset = (n * channels + c) * plane;
      for (let i = 0; i < plane; ++i) {
        const intensity = Math.min(1, Math.max(0, page[i] + NOISE * (random() - 0.5)));
        data[offset + i] = low + (high - low) * intensity;
      }
    }
  }
  return data;
}

function main() {
  const args = parseArgs(process.argv.slice(2), {
    '--shape': 'value', '--pattern': 'value', '--seed': 'value', '--low': 'value', '--high': 'value', '--help': 'flag',
  });
  const usage = 'usage: random_npy.js OUT.npy --shape 1x3xHxW [--pattern text|uniform] [--seed N] [--low -1] [--high 1]';
  if (args['--help']) {
    console.log(usage);
    return 0;
  }
  if (args.positional.length !== 1 || !args['--shape']) throw new Error(usage);
  const [out] = args.positional;
  const shape = parseShape(args['--shape']);
  const pattern = args['--pattern'] || 'uniform';
  if (!['uniform', 'text'].includes(pattern)) throw new Error(`unknown --pattern ${pattern}`);
  const seed = numberOption(args, '--seed', 1);
  const low = numberOption(args, '--low', -1);
  const high = numberOption(args, '--high', 1);
  if (!(low < high)) throw new Error(`--low ${low} must be below --high ${high}`);

  const data = makeData(shape, pattern, mulberry32(seed), low, high);
  writeNpy(out, { dtype: 'float32', shape, data });
  console.log(`wrote ${out}: float32 ${shape.join('x')}, pattern ${pattern} in [${low}, ${high}], seed ${seed}`);
  return 0;
}

if (require.main === module) runMain(main);

module.exports = { mulberry32, makeData };
