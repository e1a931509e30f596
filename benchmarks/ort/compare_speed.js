#!/usr/bin/env node
'use strict';
// Times one model in onnxruntime-node and in kiln on the same random input.
// A first, rough comparison (it will be refined):
//
//   node benchmarks/ort/compare_speed.js MODEL.onnx --shape x=1x3x736x1280
//        [--runs 10] [--threads 2] [--kiln build/release/tools/kiln]
//
// onnxruntime: session creation is timed once, then one warm-up run and
// --runs timed runs in this process (median and min).
// kiln: when `kiln run --help` lists --runs, one `kiln run ... --runs N` process
// prints its own timings. Otherwise each of --runs `kiln run` processes is
// timed whole (model load included), and onnxruntime's load + first run is
// printed beside it as the comparable figure.

const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const { writeNpy } = require('./npy');
const { parseArgs, numberOption, parseShape, splitNameValue, runMain } = require('./cli_args');
const { REPO_ROOT, loadOnnxruntime, onnxruntimeVersion } = require('./onnxruntime');
const { mulberry32, makeData } = require('./random_npy');

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

const ms = (value) => `${value.toFixed(1)} ms`;
const now = () => Number(process.hrtime.bigint()) / 1e6;

async function timeOnnxruntime(model, feeds, runs, threads) {
  const ort = loadOnnxruntime();
  const tensors = {};
  for (const [name, array] of Object.entries(feeds)) tensors[name] = new ort.Tensor(array.dtype, array.data, array.shape);
  const createStart = now();
  const session = await ort.InferenceSession.create(model, {
    executionProviders: ['cpu'], graphOptimizationLevel: 'all', intraOpNumThreads: threads, interOpNumThreads: 1,
  });
  const createTime = now() - createStart;
  const firstStart = now();
  await session.run(tensors);
  const firstRun = now() - firstStart;
  const times = [];
  for (let i = 0; i < runs; ++i) {
    const start = now();
    await session.run(tensors);
    times.push(now() - start);
  }
  await session.release();
  return { createTime, firstRun, times };
}

function kilnHelp(kiln) {
  const result = spawnSync(kiln, ['run', '--help'], { encoding: 'utf8' });
  return `${result.stdout || ''}${result.stderr || ''}`;
}

function timeKilnProcesses(kiln, baseArgs, outputDir, runs, env) {
  const times = [];
  for (let i = 0; i < runs; ++i) {
    const start = now();
    const result = spawnSync(kiln, baseArgs, { encoding: 'utf8', env });
    times.push(now() - start);
    if (result.status !== 0) {
      throw new Error(`kiln ${baseArgs.join(' ')} failed (status ${result.status}):\n${result.stderr}`);
    }
    if (!fs.existsSync(outputDir) || !fs.readdirSync(outputDir).some((name) => name.endsWith('.npy'))) {
      throw new Error(`kiln ${baseArgs.join(' ')} wrote no .npy output into ${outputDir}`);
    }
    fs.rmSync(outputDir, { recursive: true, force: true });
  }
  return times;
}

async function main() {
  const args = parseArgs(process.argv.slice(2), {
    '--shape': 'list', '--runs': 'value', '--threads': 'value', '--kiln': 'value', '--help': 'flag',
  });
  const usage = 'usage: compare_speed.js MODEL.onnx --shape NAME=1x3xHxW ... [--runs 10] [--threads 2] [--kiln PATH]';
  if (args['--help']) {
    console.log(usage);
    return 0;
  }
  if (args.positional.length !== 1 || args['--shape'].length === 0) throw new Error(usage);
  const [model] = args.positional;
  const runs = numberOption(args, '--runs', 10);
  const threads = numberOption(args, '--threads', os.availableParallelism ? os.availableParallelism() : os.cpus().length);
  const kiln = args['--kiln'] || path.join(REPO_ROOT, 'build', 'release', 'tools', 'kiln');
  if (!fs.existsSync(model)) throw new Error(`model not found: ${model}`);
  if (!(runs >= 1)) throw new Error('--runs must be at least 1');

  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'kiln-speed-'));
  try {
    const feeds = {};
    const inputArgs = [];
    const random = mulberry32(1);
    for (const spec of args['--shape']) {
      const [name, shapeText] = splitNameValue(spec, 'shape');
      const shape = parseShape(shapeText);
      feeds[name] = { dtype: 'float32', shape, data: makeData(shape, 'uniform', random, -1, 1) };
      const file = path.join(scratch, `${name.replace(/[^A-Za-z0-9._-]/g, '_')}.npy`);
      writeNpy(file, feeds[name]);
      inputArgs.push('--input', `${name}=${file}`);
    }
    console.log(`model ${path.basename(model)}, inputs ${args['--shape'].join(' ')}, threads ${threads}, runs ${runs}`);

    const ort = await timeOnnxruntime(model, feeds, runs, threads);
    console.log(`onnxruntime-node ${onnxruntimeVersion()}: session create ${ms(ort.createTime)}, ` +
                `first run ${ms(ort.firstRun)}; then median ${ms(median(ort.times))}, min ${ms(Math.min(...ort.times))}`);

    if (!fs.existsSync(kiln)) {
      console.log(`kiln: not built at ${kiln} (scripts/build.sh), not timed`);
      return 1;
    }
    const help = kilnHelp(kiln);
    const env = { ...process.env, OMP_NUM_THREADS: String(threads) };
    const outputDir = path.join(scratch, 'kiln-out');
    const runArgs = ['run', model, ...inputArgs, '--output-dir', outputDir];
    if (help.includes('--threads')) runArgs.push('--threads', String(threads));
    if (help.includes('--runs')) {
      console.log(`kiln: ${kiln} ${[...runArgs, '--runs', String(runs)].join(' ')}`);
      const result = spawnSync(kiln, [...runArgs, '--runs', String(runs)], { stdio: 'inherit', env });
      return result.status === 0 ? 0 : 1;
    }
    const times = timeKilnProcesses(kiln, runArgs, outputDir, runs, env);
    console.log(`kiln (one process per run, model load included): median ${ms(median(times))}, ` +
                `min ${ms(Math.min(...times))}`);
    console.log(`onnxruntime comparable figure (session create + first run): ${ms(ort.createTime + ort.firstRun)}`);
    return 0;
  } finally {
    fs.rmSync(scratch, { recursive: true, force: true });
  }
}

runMain(main);
