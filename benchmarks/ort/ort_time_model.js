#!/usr/bin/env node
'use strict';
// Times one model in onnxruntime-node alone, for scripts that alternate it
// with kiln in separate processes (style_transfer_compare.sh):
//
//   node benchmarks/ort/ort_time_model.js MODEL.onnx --shape NAME=1x720x1280x3 [--threads 2] [--runs 5]
//
// Creates the session (all graph optimizations, one inter-op thread), runs
// once to warm up, then --runs timed runs on uniform random input in [-1, 1)
// (seeded). Prints "create_ms X", "warmup_ms X" and one "run_ms X" line per run.

const { parseArgs, numberOption, parseShape, splitNameValue, runMain } = require('./cli_args');
const { loadOnnxruntime } = require('./onnxruntime');
const { mulberry32, makeData } = require('./random_npy');

const now = () => Number(process.hrtime.bigint()) / 1e6;

async function main() {
  const args = parseArgs(process.argv.slice(2), { '--shape': 'list', '--threads': 'value', '--runs': 'value' });
  if (args.positional.length !== 1 || args['--shape'].length === 0) {
    throw new Error('usage: ort_time_model.js MODEL.onnx --shape NAME=DIMS ... [--threads N] [--runs N]');
  }
  const threads = numberOption(args, '--threads', 1);
  const runs = numberOption(args, '--runs', 5);
  const ort = loadOnnxruntime();
  const random = mulberry32(1);
  const feeds = {};
  for (const spec of args['--shape']) {
    const [name, text] = splitNameValue(spec, 'shape');
    const shape = parseShape(text);
    feeds[name] = new ort.Tensor('float32', makeData(shape, 'uniform', random, -1, 1), shape);
  }
  let start = now();
  const session = await ort.InferenceSession.create(args.positional[0], {
    executionProviders: ['cpu'], graphOptimizationLevel: 'all', intraOpNumThreads: threads, interOpNumThreads: 1,
  });
  console.log(`create_ms ${(now() - start).toFixed(2)}`);
  start = now();
  await session.run(feeds);
  console.log(`warmup_ms ${(now() - start).toFixed(2)}`);
  for (let i = 0; i < runs; ++i) {
    start = now();
    await session.run(feeds);
    console.log(`run_ms ${(now() - start).toFixed(2)}`);
  }
  await session.release();
  return 0;
}

runMain(main);
