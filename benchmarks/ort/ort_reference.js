#!/usr/bin/env node
'use strict';
// Runs a model with onnxruntime-node and writes every output as <name>.npy,
// to serve as the reference kiln's outputs are compared with (compare_npy.js).
//
//   node benchmarks/ort/ort_reference.js MODEL.onnx --input x=in.npy --output-dir DIR
//        [--threads N] [--opt-level disabled|basic|extended|all]
//
// Inputs may also be given as bare name=path arguments. Output names with
// characters other than [A-Za-z0-9._-] have those replaced by '_' in the file name.

const fs = require('node:fs');
const path = require('node:path');
const { readNpy, writeNpy } = require('./npy');
const { parseArgs, numberOption, splitNameValue, runMain } = require('./cli_args');
const { loadOnnxruntime, onnxruntimeVersion, toOrtTensor, fromOrtTensor, npyFileName } = require('./onnxruntime');

const USAGE = 'usage: ort_reference.js MODEL.onnx --input NAME=FILE.npy ... --output-dir DIR ' +
              '[--threads N] [--opt-level disabled|basic|extended|all]';

async function main() {
  const args = parseArgs(process.argv.slice(2), {
    '--input': 'list', '--output-dir': 'value', '--threads': 'value', '--opt-level': 'value', '--help': 'flag',
  });
  if (args['--help']) {
    console.log(USAGE);
    return 0;
  }
  const [model, ...bareInputs] = args.positional;
  if (!model || !args['--output-dir']) throw new Error(USAGE);
  const inputSpecs = [...args['--input'], ...bareInputs];
  const threads = numberOption(args, '--threads', 0);
  const optLevel = args['--opt-level'] || 'all';
  if (!['disabled', 'basic', 'extended', 'all'].includes(optLevel)) throw new Error(`bad --opt-level ${optLevel}`);
  if (!fs.existsSync(model)) throw new Error(`model not found: ${model}`);

  const ort = loadOnnxruntime();
  const session = await ort.InferenceSession.create(model, {
    executionProviders: ['cpu'],
    graphOptimizationLevel: optLevel,
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
  });

  const feeds = {};
  for (const spec of inputSpecs) {
    const [name, file] = splitNameValue(spec, 'input');
    if (!session.inputNames.includes(name)) {
      throw new Error(`model has no input '${name}' (inputs: ${session.inputNames.join(', ')})`);
    }
    const array = readNpy(file);
    feeds[name] = toOrtTensor(ort, array);
    console.log(`input  ${name}: ${array.dtype} ${array.shape.join('x')} from ${file}`);
  }
  const missing = session.inputNames.filter((name) => !(name in feeds));
  if (missing.length) throw new Error(`no value given for input(s) ${missing.join(', ')}`);

  const results = await session.run(feeds);
  fs.mkdirSync(args['--output-dir'], { recursive: true });
  for (const name of session.outputNames) {
    const array = fromOrtTensor(results[name]);
    const file = path.join(args['--output-dir'], npyFileName(name));
    writeNpy(file, array);
    console.log(`output ${name}: ${array.dtype} ${array.shape.join('x')} -> ${file}`);
  }
  console.log(`onnxruntime-node ${onnxruntimeVersion()}, opt level ${optLevel}, ` +
              `threads ${threads || 'default'}`);
  await session.release();
  return 0;
}

runMain(main);
