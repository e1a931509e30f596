#!/usr/bin/env node
'use strict';
// kiln against onnxruntime-node on the same models, shapes and thread counts,
// alternating in one run so machine noise hits both alike:
//
//   node benchmarks/ort/compare.js MODEL.onnx [--model MODEL2.onnx ...] --shape NAME=DIMS ...
//        [--list FILE] [--threads 1,2] [--rounds 5] [--runs 5] [--seed 1]
//        [--kiln build/release/tools/kiln] [--isa sse41|avx2|avx512] [--json FILE]
//
// Models: positional arguments and --model share the --shape options (every
// input of each model needs one). --list FILE gives models with their own
// shapes, one per line: `MODEL NAME=DIMS [NAME=DIMS ...]` ('#' starts a
// comment; a relative MODEL is relative to FILE's folder, `npm:PATH` is
// PATH under build/npm/node_modules, e.g. benchmarks/ort/paddleocr_models.txt).
//
// Per model and thread count N:
//   1. onnxruntime-node session, created once in this process: all graph
//      optimizations, intraOpNumThreads N, interOpNumThreads 1; one warm-up run.
//   2. Accuracy: `kiln run MODEL --input ... --output-dir ... --threads N` and
//      onnxruntime on the same seeded float32 input (a synthetic text page for
//      NCHW inputs with 1 or 3 channels, uniform in [-1, 1) otherwise, as
//      random_npy.js makes them); the largest |kiln - ort| over all outputs.
//   3. --rounds rounds, each timing --runs runs of both engines, which engine
//      goes first alternating by round: kiln is one
//      `kiln bench MODEL --shape ... --threads N --runs R --warmup 1 --opt-level all --no-tune --json`
//      process (its per-run times_ms; session creation and warm-up untimed),
//      onnxruntime R session.run() calls timed here. (kiln bench feeds its own
//      pseudo-random input; the timed models have no data-dependent work.)
// The medians are over all rounds x runs samples of an engine. --isa sets
// KILN_ISA for every kiln process; onnxruntime always uses its best kernels.
//
// Prints machine info (CPU, nproc, kiln's ISA line, onnxruntime version), the
// load average at start and end, and a Markdown table: model, shape, threads,
// both medians, kiln/ort (< 1: kiln faster) and the max abs difference.
// --json FILE writes every sample. Progress goes to stderr.
// Exit code: 0 done, 2 bad usage or a failed engine run.

const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const { writeNpy, readNpy, toFloat64Array } = require('./npy');
const { parseArgs, numberOption, parseShape, splitNameValue, runMain, median, parseThreadList } = require('./cli_args');
const { REPO_ROOT, npmDir, loadOnnxruntime, onnxruntimeVersion, fromOrtTensor, npyFileName } = require('./onnxruntime');
const { mulberry32, makeData } = require('./random_npy');

const USAGE = 'usage: compare.js MODEL.onnx [--model MODEL ...] --shape NAME=DIMS ... [--list FILE] ' +
              '[--threads 1,2] [--rounds 5] [--runs 5] [--seed 1] [--kiln PATH] [--isa LEVEL] [--json FILE]';

const now = () => Number(process.hrtime.bigint()) / 1e6;

// ["x=1x3x48x192", ...] -> [{ name, shape }].
function parseShapeSpecs(specs) {
  return specs.map((spec) => {
    const [name, dims] = splitNameValue(spec, 'shape');
    return { name, shape: parseShape(dims) };
  });
}

function resolveModelPath(text, baseDir) {
  if (text.startsWith('npm:')) return path.join(npmDir(), 'node_modules', text.slice(4));
  return path.resolve(baseDir, text);
}

// The models of a --list file: [{ model, inputs: [{ name, shape }] }].
function readModelList(file) {
  const models = [];
  const lines = fs.readFileSync(file, 'utf8').split('\n');
  lines.forEach((raw, index) => {
    const line = raw.replace(/#.*/, '').trim();
    if (!line) return;
    const [model, ...specs] = line.split(/\s+/);
    if (specs.length === 0) throw new Error(`${file}:${index + 1}: no NAME=DIMS shape after the model`);
    models.push({ model: resolveModelPath(model, path.dirname(file)), inputs: parseShapeSpecs(specs) });
  });
  return models;
}

// A seeded float32 array per input (see the header for the patterns).
function makeFeeds(inputs, seed) {
  const random = mulberry32(seed);
  return inputs.map(({ name, shape }) => {
    const pattern = shape.length === 4 && (shape[1] === 1 || shape[1] === 3) ? 'text' : 'uniform';
    return { name, array: { dtype: 'float32', shape, data: makeData(shape, pattern, random, -1, 1) } };
  });
}

function runKiln(kiln, args, env) {
  const result = spawnSync(kiln, args, { encoding: 'utf8', env, maxBuffer: 64 << 20 });
  if (result.error) throw new Error(`cannot run ${kiln}: ${result.error.message}`);
  if (result.status !== 0) {
    throw new Error(`kiln ${args.join(' ')} failed (exit ${result.status}):\n${result.stderr.trim()}`);
  }
  return result.stdout;
}

// The largest |a - b| over two arrays of the same shape (two NaNs match; a
// NaN against a number counts as Infinity).
function maxAbsDiff(label, actual, expected) {
  if (actual.shape.join('x') !== expected.shape.join('x')) {
    throw new Error(`output ${label}: kiln gave shape ${actual.shape.join('x')}, ` +
                    `onnxruntime ${expected.shape.join('x')}`);
  }
  const a = toFloat64Array(actual);
  const b = toFloat64Array(expected);
  let worst = 0;
  for (let i = 0; i < a.length; ++i) {
    if (Number.isNaN(a[i]) && Number.isNaN(b[i])) continue;
    if (a[i] === b[i]) continue;
    const diff = Number.isNaN(a[i]) || Number.isNaN(b[i]) ? Infinity : Math.abs(a[i] - b[i]);
    if (diff > worst) worst = diff;
  }
  return worst;
}

// Max abs difference between kiln's and onnxruntime's outputs on `feeds`.
async function outputDifference(ctx, spec, session, ortFeeds, inputFiles, threads) {
  const outputDir = path.join(ctx.scratch, `kiln-out-${threads}`);
  fs.rmSync(outputDir, { recursive: true, force: true });
  const inputArgs = inputFiles.flatMap(({ name, file }) => ['--input', `${name}=${file}`]);
  runKiln(ctx.kiln, ['run', spec.model, ...inputArgs, '--output-dir', outputDir, '--threads', String(threads),
                      '--opt-level', 'all'],
          ctx.env);
  const results = await session.run(ortFeeds);
  let worst = 0;
  for (const name of session.outputNames) {
    const file = path.join(outputDir, npyFileName(name));
    if (!fs.existsSync(file)) throw new Error(`kiln run wrote no ${npyFileName(name)} for output '${name}'`);
    worst = Math.max(worst, maxAbsDiff(name, readNpy(file), fromOrtTensor(results[name])));
  }
  return worst;
}

function timeKiln(ctx, spec, threads) {
  const shapeArgs = spec.inputs.flatMap(({ name, shape }) => ['--shape', `${name}=${shape.join('x')}`]);
  const out = runKiln(ctx.kiln, ['bench', spec.model, ...shapeArgs, '--threads', String(threads),
                                 '--runs', String(ctx.runs), '--warmup', '1', '--opt-level', 'all', '--no-tune',
                                 '--json'], ctx.env);
  const report = JSON.parse(out);
  if (!Array.isArray(report.times_ms) || report.times_ms.length !== ctx.runs) {
    throw new Error(`kiln bench --json gave no times_ms array of ${ctx.runs} runs (rebuild kiln?): ${out.trim()}`);
  }
  return { times: report.times_ms, isa: report.isa, threads: report.threads };
}

async function timeOnnxruntime(session, feeds, runs) {
  const times = [];
  for (let i = 0; i < runs; ++i) {
    const start = now();
    await session.run(feeds);
    times.push(now() - start);
  }
  return times;
}

// One table row: model x thread count.
async function compareAt(ctx, spec, feeds, inputFiles, threads) {
  const ort = ctx.ort;
  const session = await ort.InferenceSession.create(spec.model, {
    executionProviders: ['cpu'], graphOptimizationLevel: 'all', intraOpNumThreads: threads, interOpNumThreads: 1,
  });
  try {
    const given = feeds.map(({ name }) => name);
    const unknown = given.filter((name) => !session.inputNames.includes(name));
    const missing = session.inputNames.filter((name) => !given.includes(name));
    if (unknown.length || missing.length) {
      throw new Error(`${path.basename(spec.model)} has inputs ${session.inputNames.join(', ')}: ` +
                      (missing.length ? `no --shape for ${missing.join(', ')}` : `no input ${unknown.join(', ')}`));
    }
    const ortFeeds = {};
    for (const { name, array } of feeds) ortFeeds[name] = new ort.Tensor(array.dtype, array.data, array.shape);
    await session.run(ortFeeds);  // warm-up

    const maxDiff = await outputDifference(ctx, spec, session, ortFeeds, inputFiles, threads);
    const kilnRounds = [];
    const ortRounds = [];
    let kilnIsa = '';
    for (let round = 0; round < ctx.rounds; ++round) {
      const kilnFirst = round % 2 === 0;
      if (!kilnFirst) ortRounds.push(await timeOnnxruntime(session, ortFeeds, ctx.runs));
      const kiln = timeKiln(ctx, spec, threads);
      kilnRounds.push(kiln.times);
      kilnIsa = kiln.isa;
      if (kilnFirst) ortRounds.push(await timeOnnxruntime(session, ortFeeds, ctx.runs));
      process.stderr.write(`compare: ${path.basename(spec.model)} threads ${threads} round ${round + 1}/${ctx.rounds}: ` +
                           `kiln median ${median(kilnRounds[round]).toFixed(2)} ms, ` +
                           `onnxruntime median ${median(ortRounds[round]).toFixed(2)} ms\n`);
    }
    const kilnMedian = median(kilnRounds.flat());
    const ortMedian = median(ortRounds.flat());
    return {
      model: spec.model,
      inputs: spec.inputs.map(({ name, shape }) => `${name}=${shape.join('x')}`).join(' '),
      threads,
      kiln_isa: kilnIsa,
      kiln_median_ms: kilnMedian,
      ort_median_ms: ortMedian,
      ratio: kilnMedian / ortMedian,
      max_abs_diff: maxDiff,
      kiln_ms: kilnRounds,
      ort_ms: ortRounds,
    };
  } finally {
    await session.release();
  }
}

function machineInfo(ctx) {
  const info = runKiln(ctx.kiln, ['info'], ctx.env);
  const isaLines = info.split('\n').filter((line) => /\bisa\b/i.test(line)).map((line) => line.trim());
  return {
    cpu: os.cpus()[0] ? os.cpus()[0].model : 'unknown',
    nproc: os.availableParallelism ? os.availableParallelism() : os.cpus().length,
    kiln_isa: isaLines.join('; ') || '(no ISA line in kiln info)',
    kiln_isa_env: ctx.env.KILN_ISA || '',
    onnxruntime_node: onnxruntimeVersion(),
    node: process.version,
  };
}

const loadAverage = () => os.loadavg().map((value) => value.toFixed(2)).join(' ');

function printTable(rows) {
  const format = (ms) => ms.toFixed(2);
  console.log('| model | shape | threads | kiln median ms | onnxruntime median ms | kiln/ort | max abs diff |');
  console.log('| --- | --- | --- | --- | --- | --- | --- |');
  for (const row of rows) {
    console.log(`| ${path.basename(row.model)} | ${row.inputs} | ${row.threads} | ${format(row.kiln_median_ms)} | ` +
                `${format(row.ort_median_ms)} | ${row.ratio.toFixed(2)} | ${row.max_abs_diff.toExponential(2)} |`);
  }
}

async function main() {
  const args = parseArgs(process.argv.slice(2), {
    '--model': 'list', '--shape': 'list', '--list': 'value', '--threads': 'value', '--rounds': 'value',
    '--runs': 'value', '--seed': 'value', '--kiln': 'value', '--isa': 'value', '--json': 'value', '--help': 'flag',
  });
  if (args['--help']) {
    console.log(USAGE);
    return 0;
  }
  const sharedInputs = parseShapeSpecs(args['--shape']);
  const specs = [...args.positional, ...args['--model']].map((model) => ({
    model: path.resolve(model), inputs: sharedInputs,
  }));
  if (specs.length > 0 && sharedInputs.length === 0) throw new Error(`no --shape given\n${USAGE}`);
  if (args['--list']) specs.push(...readModelList(args['--list']));
  if (specs.length === 0) throw new Error(USAGE);
  for (const spec of specs) {
    if (!fs.existsSync(spec.model)) throw new Error(`model not found: ${spec.model}`);
  }
  const threadCounts = parseThreadList(args['--threads'] || '1,2');
  const rounds = numberOption(args, '--rounds', 5);
  const runs = numberOption(args, '--runs', 5);
  const seed = numberOption(args, '--seed', 1);
  if (!Number.isInteger(rounds) || rounds < 1) throw new Error('--rounds must be a whole number >= 1');
  if (!Number.isInteger(runs) || runs < 1) throw new Error('--runs must be a whole number >= 1');
  const kiln = path.resolve(args['--kiln'] || path.join(REPO_ROOT, 'build', 'release', 'tools', 'kiln'));
  if (!fs.existsSync(kiln)) throw new Error(`kiln not found at ${kiln} (build it, or pass --kiln PATH)`);
  const env = { ...process.env };
  if (args['--isa']) env.KILN_ISA = args['--isa'];

  const ctx = { kiln, env, rounds, runs, ort: loadOnnxruntime(), scratch: fs.mkdtempSync(path.join(os.tmpdir(), 'kiln-compare-')) };
  try {
    const machine = machineInfo(ctx);
    const loadStart = loadAverage();
    console.log(`machine: ${machine.cpu}, nproc ${machine.nproc}`);
    console.log(`kiln: ${machine.kiln_isa}`);  // says when KILN_ISA forced the level
    console.log(`onnxruntime-node ${machine.onnxruntime_node} (node ${machine.node})`);
    console.log(`load average at start: ${loadStart}`);
    console.log(`${rounds} round(s) x ${runs} run(s) per engine, model and thread count, alternating\n`);

    const rows = [];
    for (const spec of specs) {
      const feeds = makeFeeds(spec.inputs, seed);
      const inputFiles = feeds.map(({ name, array }) => {
        const file = path.join(ctx.scratch, `input-${rows.length}-${npyFileName(name)}`);
        writeNpy(file, array);
        return { name, file };
      });
      for (const threads of threadCounts) rows.push(await compareAt(ctx, spec, feeds, inputFiles, threads));
    }

    const loadEnd = loadAverage();
    printTable(rows);
    console.log(`\nkiln/ort < 1: kiln faster. load average at end: ${loadEnd}`);
    if (args['--json']) {
      const report = { machine, load_average_start: loadStart, load_average_end: loadEnd, rounds, runs, seed, rows };
      fs.writeFileSync(args['--json'], `${JSON.stringify(report, null, 1)}\n`);
      console.log(`samples written to ${args['--json']}`);
    }
    return 0;
  } finally {
    fs.rmSync(ctx.scratch, { recursive: true, force: true });
  }
}

runMain(main);
