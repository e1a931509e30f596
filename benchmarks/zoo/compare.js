#!/usr/bin/env node
'use strict';
// kiln against onnxruntime-node on the model zoo written by make_zoo.py (issue 17), speed and
// outputs, the two engines alternating in one run. benchmarks/zoo/compare is the entry point
// (it writes the zoo first when it is missing); this is the part that measures.
//
//   node benchmarks/zoo/compare.js [--zoo DIR] [--only NAME,NAME] [--threads 1,2] [--runs 5]
//        [--warmup 1] [--seed 1] [--kiln PATH] [--isa sse41|avx2|avx512] [--csv FILE]
//   node benchmarks/zoo/compare.js --check [--zoo DIR] [--threads 2] [--atol 1e-4] [--rtol 1e-3]
//        [--expected-failures FILE]
//
// The models and their input shapes come from DIR/zoo.txt (default build/zoo). Every model gets
// the same seeded float32 input, uniform in [-1, 1) (what make_zoo.py estimated the BatchNorm
// statistics on), for both engines.
//
// Per model and thread count N:
//   1. onnxruntime-node session: all graph optimizations, intraOpNumThreads N, interOpNumThreads 1;
//      one warm-up run, then its outputs on the input are the reference.
//   2. `kiln run MODEL --input ... --threads N --opt-level all --no-tune --output-dir ...`; per
//      model the largest |kiln - ort| over all outputs and max |ort|. The outputs agree when
//      max |kiln - ort| <= atol + rtol * max |ort| (atol 1e-4, rtol 1e-3 by default).
//   3. (not with --check) --rounds rounds (default 1) of --runs timed runs (default 5) per engine,
//      which engine goes first alternating from row to row and round to round: kiln is one
//      `kiln bench MODEL --shape ... --threads N --runs R --warmup W --opt-level all --no-tune --json`
//      process (session creation and its W warm-up runs untimed), onnxruntime W untimed and R
//      timed session.run() calls here.
//
// Prints the machine, the load average at start and at end, and one Markdown table: model,
// input, threads, both medians, kiln/ort (< 1: kiln faster), max |kiln - ort|, that divided
// by max |ort|, and whether the outputs agree; then the geometric mean of kiln/ort per thread
// count. --csv FILE writes every timed sample (model, input, threads, engine, round, run, ms).
// A model kiln fails on is a table row with the error, not the end of the run.
//
// --check: outputs only (no timing), at --threads (default 2). Exits 1 when a model's outputs
// disagree or an engine fails, unless the model is listed in --expected-failures FILE (lines
// `NAME reason`, '#' comments); a listed model that now agrees is also a failure, so that the
// list can only shrink. Exit 2: bad usage or setup.

const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const ortDir = path.join(__dirname, '..', 'ort');
const { writeNpy, readNpy, toFloat64Array } = require(path.join(ortDir, 'npy'));
const { parseArgs, numberOption, parseShape, splitNameValue, runMain, median, parseThreadList } = require(path.join(ortDir, 'cli_args'));
const { REPO_ROOT, loadOnnxruntime, onnxruntimeVersion, fromOrtTensor, npyFileName } =
  require(path.join(ortDir, 'onnxruntime'));
const { mulberry32, makeData } = require(path.join(ortDir, 'random_npy'));

const USAGE = 'usage: compare.js [--zoo DIR] [--only NAME,...] [--threads 1,2] [--runs 5] [--warmup 1] ' +
              '[--rounds 1] [--seed 1] [--kiln PATH] [--isa LEVEL] [--csv FILE] ' +
              '[--check] [--atol 1e-4] [--rtol 1e-3] [--expected-failures FILE]';

const now = () => Number(process.hrtime.bigint()) / 1e6;
const loadAverage = () => os.loadavg().map((value) => value.toFixed(2)).join(' ');
const log = (text) => process.stderr.write(`zoo: ${text}\n`);

// DIR/zoo.txt: `NAME.onnx INPUT=DIMS ...` per line.
function readZoo(dir) {
  const file = path.join(dir, 'zoo.txt');
  if (!fs.existsSync(file)) throw new Error(`no ${file}: write the zoo first (benchmarks/zoo/make_zoo.py ${dir})`);
  const models = [];
  fs.readFileSync(file, 'utf8').split('\n').forEach((raw, index) => {
    const line = raw.replace(/#.*/, '').trim();
    if (!line) return;
    const [model, ...specs] = line.split(/\s+/);
    if (specs.length === 0) throw new Error(`${file}:${index + 1}: no INPUT=DIMS after the model`);
    const inputs = specs.map((spec) => {
      const [name, dims] = splitNameValue(spec, 'shape');
      return { name, shape: parseShape(dims) };
    });
    const modelPath = path.resolve(dir, model);
    if (!fs.existsSync(modelPath)) throw new Error(`${file}:${index + 1}: ${modelPath} does not exist`);
    models.push({ name: path.basename(model, '.onnx'), model: modelPath, inputs });
  });
  if (models.length === 0) throw new Error(`${file} lists no model`);
  return models;
}

// `NAME reason` per line -> Map(name -> reason).
function readExpectedFailures(file) {
  const list = new Map();
  if (!file) return list;
  for (const raw of fs.readFileSync(file, 'utf8').split('\n')) {
    const line = raw.replace(/#.*/, '').trim();
    if (!line) continue;
    const [name, ...reason] = line.split(/\s+/);
    if (reason.length === 0) throw new Error(`${file}: '${name}' has no reason`);
    list.set(name, reason.join(' '));
  }
  return list;
}

function runKiln(ctx, args) {
  const result = spawnSync(ctx.kiln, args, { encoding: 'utf8', env: ctx.env, maxBuffer: 64 << 20 });
  if (result.error) throw new Error(`cannot run ${ctx.kiln}: ${result.error.message}`);
  if (result.status !== 0) {
    const message = (result.stderr || result.stdout).trim().split('\n').slice(-3).join(' / ');
    throw new Error(`kiln ${args[0]} failed (exit ${result.status}): ${message}`);
  }
  return result.stdout;
}

// Largest |a - b| and largest |b| of one output (a NaN on either side counts as Infinity).
function outputStats(label, actual, expected) {
  if (actual.shape.join('x') !== expected.shape.join('x')) {
    throw new Error(`output ${label}: kiln gave shape ${actual.shape.join('x')}, onnxruntime ${expected.shape.join('x')}`);
  }
  const a = toFloat64Array(actual);
  const b = toFloat64Array(expected);
  let maxDiff = 0;
  let maxRef = 0;
  for (let i = 0; i < a.length; ++i) {
    const diff = Number.isNaN(a[i]) || Number.isNaN(b[i]) ? Infinity : Math.abs(a[i] - b[i]);
    if (diff > maxDiff) maxDiff = diff;
    const ref = Number.isNaN(b[i]) ? Infinity : Math.abs(b[i]);
    if (ref > maxRef) maxRef = ref;
  }
  return { maxDiff, maxRef };
}

// kiln's outputs against onnxruntime's on the row's input.
async function compareOutputs(ctx, spec, session, ortFeeds, threads) {
  const outputDir = path.join(ctx.scratch, `kiln-out-${spec.name}-${threads}`);
  fs.rmSync(outputDir, { recursive: true, force: true });
  const inputArgs = spec.inputFiles.flatMap(({ name, file }) => ['--input', `${name}=${file}`]);
  runKiln(ctx, ['run', spec.model, ...inputArgs, '--output-dir', outputDir, '--threads', String(threads),
                '--opt-level', 'all', '--no-tune']);
  const results = await session.run(ortFeeds);
  let maxDiff = 0;
  let maxRef = 0;
  for (const name of session.outputNames) {
    const file = path.join(outputDir, npyFileName(name));
    if (!fs.existsSync(file)) throw new Error(`kiln run wrote no ${npyFileName(name)} for output '${name}'`);
    const stats = outputStats(name, readNpy(file), fromOrtTensor(results[name]));
    maxDiff = Math.max(maxDiff, stats.maxDiff);
    maxRef = Math.max(maxRef, stats.maxRef);
  }
  fs.rmSync(outputDir, { recursive: true, force: true });
  const limit = ctx.atol + ctx.rtol * maxRef;
  return { maxDiff, maxRef, agree: maxDiff <= limit, limit };
}

function timeKiln(ctx, spec, threads) {
  const shapeArgs = spec.inputs.flatMap(({ name, shape }) => ['--shape', `${name}=${shape.join('x')}`]);
  const out = runKiln(ctx, ['bench', spec.model, ...shapeArgs, '--threads', String(threads), '--runs', String(ctx.runs),
                            '--warmup', String(ctx.warmup), '--opt-level', 'all', '--no-tune', '--json']);
  const report = JSON.parse(out);
  if (!Array.isArray(report.times_ms) || report.times_ms.length !== ctx.runs) {
    throw new Error(`kiln bench --json gave no times_ms array of ${ctx.runs} runs: ${out.trim()}`);
  }
  return report.times_ms;
}

async function timeOnnxruntime(ctx, session, feeds) {
  for (let i = 0; i < ctx.warmup; ++i) await session.run(feeds);
  const times = [];
  for (let i = 0; i < ctx.runs; ++i) {
    const start = now();
    await session.run(feeds);
    times.push(now() - start);
  }
  return times;
}

// One table row: a model at one thread count.
async function measureRow(ctx, spec, threads, rowIndex) {
  const row = { name: spec.name, input: spec.inputText, threads, kilnMs: [], ortMs: [], error: '' };
  let session;
  try {
    session = await ctx.ort.InferenceSession.create(spec.model, {
      executionProviders: ['cpu'], graphOptimizationLevel: 'all', intraOpNumThreads: threads, interOpNumThreads: 1,
    });
  } catch (error) {
    row.error = `onnxruntime cannot load it: ${error.message}`;
    return row;
  }
  try {
    const ortFeeds = {};
    for (const { name, array } of spec.feeds) ortFeeds[name] = new ctx.ort.Tensor(array.dtype, array.data, array.shape);
    await session.run(ortFeeds);  // warm-up
    Object.assign(row, await compareOutputs(ctx, spec, session, ortFeeds, threads));
    if (ctx.check) return row;
    for (let round = 0; round < ctx.rounds; ++round) {
      const kilnFirst = (rowIndex + round) % 2 === 0;
      if (!kilnFirst) row.ortMs.push(await timeOnnxruntime(ctx, session, ortFeeds));
      row.kilnMs.push(timeKiln(ctx, spec, threads));
      if (kilnFirst) row.ortMs.push(await timeOnnxruntime(ctx, session, ortFeeds));
    }
    row.kilnMedian = median(row.kilnMs.flat());
    row.ortMedian = median(row.ortMs.flat());
    row.ratio = row.kilnMedian / row.ortMedian;
  } catch (error) {
    row.error = error.message;
  } finally {
    await session.release();
  }
  return row;
}

function formatMs(ms) {
  return ms >= 100 ? ms.toFixed(0) : ms >= 10 ? ms.toFixed(1) : ms.toFixed(2);
}

function printTable(ctx, rows) {
  const agreement = (row) => (row.agree ? 'yes' : `NO (limit ${row.limit.toExponential(1)})`);
  if (ctx.check) {
    console.log('| model | input | threads | max abs diff | diff / max abs ref | agree |');
    console.log('| --- | --- | --- | --- | --- | --- |');
  } else {
    console.log('| model | input | threads | kiln median ms | ort median ms | kiln/ort | max abs diff | diff / max abs ref | agree |');
    console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- |');
  }
  for (const row of rows) {
    const head = `| ${row.name} | ${row.input} | ${row.threads} |`;
    if (row.error && row.maxDiff === undefined) {
      console.log(`${head} ${ctx.check ? '' : '- | - | - | '}- | - | ERROR: ${row.error.replace(/\|/g, '/')} |`);
      continue;
    }
    const diffs = `${row.maxDiff.toExponential(1)} | ${(row.maxDiff / row.maxRef).toExponential(1)} | ${agreement(row)}`;
    if (ctx.check) {
      console.log(`${head} ${diffs} |`);
    } else if (row.error) {
      console.log(`${head} - | - | - | ${diffs}; ERROR: ${row.error.replace(/\|/g, '/')} |`);
    } else {
      console.log(`${head} ${formatMs(row.kilnMedian)} | ${formatMs(row.ortMedian)} | ${row.ratio.toFixed(2)} | ${diffs} |`);
    }
  }
  if (ctx.check) return;
  console.log('');
  for (const threads of ctx.threadCounts) {
    const ratios = rows.filter((row) => row.threads === threads && row.ratio > 0).map((row) => row.ratio);
    if (ratios.length === 0) continue;
    const geomean = Math.exp(ratios.reduce((sum, ratio) => sum + Math.log(ratio), 0) / ratios.length);
    const slower = ratios.filter((ratio) => ratio > 1).length;
    console.log(`geometric mean of kiln/ort at ${threads} thread(s): ${geomean.toFixed(2)} ` +
                `over ${ratios.length} model(s); kiln slower on ${slower}`);
  }
}

function writeCsv(file, rows) {
  const lines = ['model,input,threads,engine,round,run,ms'];
  for (const row of rows) {
    for (const [engine, rounds] of [['kiln', row.kilnMs], ['onnxruntime', row.ortMs]]) {
      rounds.forEach((times, round) => times.forEach((ms, run) => {
        lines.push(`${row.name},${row.input},${row.threads},${engine},${round + 1},${run + 1},${ms.toFixed(3)}`);
      }));
    }
  }
  fs.writeFileSync(file, `${lines.join('\n')}\n`);
}

async function main() {
  const args = parseArgs(process.argv.slice(2), {
    '--zoo': 'value', '--only': 'value', '--threads': 'value', '--runs': 'value', '--warmup': 'value',
    '--rounds': 'value', '--seed': 'value', '--kiln': 'value', '--isa': 'value', '--csv': 'value', '--check': 'flag',
    '--atol': 'value', '--rtol': 'value', '--expected-failures': 'value', '--help': 'flag',
  });
  if (args['--help']) {
    console.log(USAGE);
    return 0;
  }
  if (args.positional.length) throw new Error(`unexpected argument '${args.positional[0]}'\n${USAGE}`);
  const check = args['--check'];
  const zooDir = path.resolve(args['--zoo'] || path.join(REPO_ROOT, 'build', 'zoo'));
  let specs = readZoo(zooDir);
  if (args['--only']) {
    const wanted = args['--only'].split(',').map((name) => name.trim()).filter(Boolean);
    const unknown = wanted.filter((name) => !specs.some((spec) => spec.name === name));
    if (unknown.length) throw new Error(`--only: ${unknown.join(', ')} not in ${zooDir}/zoo.txt`);
    specs = specs.filter((spec) => wanted.includes(spec.name));
  }
  const ctx = {
    check,
    threadCounts: parseThreadList(args['--threads'] || (check ? '2' : '1,2')),
    runs: numberOption(args, '--runs', 5),
    warmup: numberOption(args, '--warmup', 1),
    rounds: numberOption(args, '--rounds', 1),
    atol: numberOption(args, '--atol', 1e-4),
    rtol: numberOption(args, '--rtol', 1e-3),
    kiln: path.resolve(args['--kiln'] || path.join(REPO_ROOT, 'build', 'release', 'tools', 'kiln')),
    env: { ...process.env },
  };
  for (const key of ['runs', 'rounds']) {
    if (!Number.isInteger(ctx[key]) || ctx[key] < 1) throw new Error(`--${key} must be a whole number >= 1`);
  }
  if (!Number.isInteger(ctx.warmup) || ctx.warmup < 0) throw new Error('--warmup must be a whole number >= 0');
  if (!fs.existsSync(ctx.kiln)) throw new Error(`kiln not found at ${ctx.kiln} (build it, or pass --kiln PATH)`);
  if (args['--isa']) ctx.env.KILN_ISA = args['--isa'];
  const expectedFailures = readExpectedFailures(args['--expected-failures']);
  for (const name of expectedFailures.keys()) {
    if (!readZoo(zooDir).some((spec) => spec.name === name)) {
      throw new Error(`expected failure '${name}' is not a model of ${zooDir}/zoo.txt (stale list line?)`);
    }
  }
  ctx.ort = loadOnnxruntime();
  ctx.scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'kiln-zoo-'));

  try {
    const kilnIsa = runKiln(ctx, ['info']).split('\n').filter((line) => /\bisa\b/i.test(line)).map((l) => l.trim());
    console.log(`machine: ${os.cpus()[0] ? os.cpus()[0].model : 'unknown'}, nproc ${os.cpus().length}`);
    console.log(`kiln: ${kilnIsa.join('; ') || '(no ISA line in kiln info)'}`);
    console.log(`onnxruntime-node ${onnxruntimeVersion()} (node ${process.version}), all graph optimizations`);
    console.log(`zoo: ${zooDir}, ${specs.length} model(s), threads ${ctx.threadCounts.join(',')}` +
                (check ? ', outputs only' : `, ${ctx.rounds} round(s) x ${ctx.runs} timed run(s) after ` +
                 `${ctx.warmup} warm-up per engine, alternating`));
    console.log(`outputs agree when max |kiln - ort| <= ${ctx.atol} + ${ctx.rtol} * max |ort|`);
    console.log(`load average at start: ${loadAverage()}\n`);

    const seed = numberOption(args, '--seed', 1);
    const rows = [];
    for (const spec of specs) {
      const random = mulberry32(seed);
      spec.inputText = spec.inputs.map(({ name, shape }) => `${name}=${shape.join('x')}`).join(' ');
      spec.feeds = spec.inputs.map(({ name, shape }) => (
        { name, array: { dtype: 'float32', shape, data: makeData(shape, 'uniform', random, -1, 1) } }));
      spec.inputFiles = spec.feeds.map(({ name, array }) => {
        const file = path.join(ctx.scratch, `${spec.name}-${npyFileName(name)}`);
        writeNpy(file, array);
        return { name, file };
      });
      for (const threads of ctx.threadCounts) {
        const start = now();
        const row = await measureRow(ctx, spec, threads, rows.length);
        rows.push(row);
        const summary = row.error ? `ERROR ${row.error}`
          : `max diff ${row.maxDiff.toExponential(1)} (max |ref| ${row.maxRef.toPrecision(3)}, ` +
            `${row.agree ? 'agree' : 'DISAGREE'})` +
            (check ? '' : `, kiln ${formatMs(row.kilnMedian)} ms, ort ${formatMs(row.ortMedian)} ms`);
        log(`${spec.name} threads ${threads}: ${summary} [${((now() - start) / 1000).toFixed(1)} s]`);
      }
      spec.feeds = null;
    }

    printTable(ctx, rows);
    console.log(`\nload average at end: ${loadAverage()}`);
    if (args['--csv']) {
      writeCsv(args['--csv'], rows);
      console.log(`samples written to ${args['--csv']}`);
    }
    if (!check) return 0;

    let failed = 0;
    for (const spec of specs) {
      const bad = rows.filter((row) => row.name === spec.name && (row.error || !row.agree));
      const expected = expectedFailures.get(spec.name);
      if (bad.length && expected) {
        console.log(`expected failure: ${spec.name} (${expected})`);
      } else if (bad.length) {
        failed += 1;
        for (const row of bad) {
          console.log(`FAIL: ${spec.name} threads ${row.threads}: ` +
                      (row.error || `max |kiln - ort| ${row.maxDiff.toExponential(2)} > ${row.limit.toExponential(2)}`));
        }
      } else if (expected) {
        failed += 1;
        console.log(`FAIL: ${spec.name} is listed as an expected failure (${expected}) but now agrees: ` +
                    'remove it from the list');
      }
    }
    console.log(failed ? `${failed} model(s) failed` : `all ${specs.length} model(s) agree`);
    return failed ? 1 : 0;
  } finally {
    fs.rmSync(ctx.scratch, { recursive: true, force: true });
  }
}

runMain(main);
