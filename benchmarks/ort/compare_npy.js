#!/usr/bin/env node
'use strict';
// Compares actual .npy outputs with expected (reference) ones.
//
//   node benchmarks/ort/compare_npy.js ACTUAL EXPECTED [--atol 1e-4] [--rtol 1e-3]
//
// ACTUAL and EXPECTED are both files or both directories. For directories,
// every *.npy in EXPECTED must have a file of the same name in ACTUAL.
// An element passes when |actual - expected| <= atol + rtol * |expected|
// (two NaNs match; equal infinities match). Shapes and dtypes must be equal.
// Prints, per file, the max abs diff, the max rel diff (over expected != 0) and
// the violation count. Exit code: 0 all pass, 1 a comparison failed, 2 bad usage or unreadable file.

const fs = require('node:fs');
const path = require('node:path');
const { readNpy, toFloat64Array } = require('./npy');
const { parseArgs, numberOption, runMain } = require('./cli_args');

const MAX_LISTED_VIOLATIONS = 5;

function indexToString(flat, shape) {
  const index = new Array(shape.length);
  for (let axis = shape.length - 1; axis >= 0; --axis) {
    index[axis] = flat % shape[axis];
    flat = Math.floor(flat / shape[axis]);
  }
  return `[${index.join(',')}]`;
}

// Compares two arrays; returns { passed, lines } with the report lines.
function compareArrays(label, actual, expected, atol, rtol) {
  const describe = (array) => `${array.dtype} ${array.shape.join('x') || 'scalar'}`;
  if (actual.dtype !== expected.dtype || actual.shape.join('x') !== expected.shape.join('x')) {
    return { passed: false, lines: [`${label}: FAIL: actual is ${describe(actual)}, expected ${describe(expected)}`] };
  }
  const a = toFloat64Array(actual);
  const b = toFloat64Array(expected);
  let maxAbs = 0;
  let maxRel = 0;
  let violations = 0;
  let worst = -1;
  let worstExcess = -Infinity;
  const listed = [];
  for (let i = 0; i < b.length; ++i) {
    if (Number.isNaN(a[i]) && Number.isNaN(b[i])) continue;
    if (a[i] === b[i]) continue;  // also equal infinities
    const diff = Math.abs(a[i] - b[i]);  // NaN when exactly one is NaN
    const bound = atol + rtol * Math.abs(b[i]);
    if (!(diff <= bound)) {
      ++violations;
      if (listed.length < MAX_LISTED_VIOLATIONS) listed.push(i);
      const excess = Number.isNaN(diff) ? Infinity : diff - bound;
      if (excess > worstExcess) {
        worstExcess = excess;
        worst = i;
      }
    }
    if (Number.isNaN(diff)) continue;
    if (diff > maxAbs) maxAbs = diff;
    if (b[i] !== 0 && diff / Math.abs(b[i]) > maxRel) maxRel = diff / Math.abs(b[i]);
  }
  const verdict = violations === 0 ? 'PASS' : 'FAIL';
  const lines = [`${label}: ${describe(expected)}  max_abs_diff ${maxAbs.toExponential(3)}  ` +
                 `max_rel_diff ${maxRel.toExponential(3)}  violations ${violations} of ${b.length}  ${verdict}`];
  const element = (i) => `  at ${indexToString(i, expected.shape)}: actual ${a[i]}, expected ${b[i]}, ` +
                         `|diff| ${Math.abs(a[i] - b[i]).toExponential(3)} > bound ` +
                         `${(atol + rtol * Math.abs(b[i])).toExponential(3)}`;
  for (const i of listed) lines.push(element(i));
  if (violations > 0 && !listed.includes(worst)) lines.push(`${element(worst)}  (largest excess)`);
  return { passed: violations === 0, lines };
}

function npyFilesIn(dir) {
  return fs.readdirSync(dir).filter((name) => name.endsWith('.npy')).sort();
}

function main() {
  const args = parseArgs(process.argv.slice(2), { '--atol': 'value', '--rtol': 'value', '--help': 'flag' });
  const usage = 'usage: compare_npy.js ACTUAL EXPECTED [--atol 1e-4] [--rtol 1e-3]  (two files or two directories)';
  if (args['--help']) {
    console.log(usage);
    return 0;
  }
  if (args.positional.length !== 2) throw new Error(usage);
  const [actualPath, expectedPath] = args.positional;
  const atol = numberOption(args, '--atol', 1e-4);
  const rtol = numberOption(args, '--rtol', 1e-3);
  if (atol < 0 || rtol < 0) throw new Error('--atol and --rtol must not be negative');
  for (const p of [actualPath, expectedPath]) {
    if (!fs.existsSync(p)) throw new Error(`not found: ${p}`);
  }

  const pairs = [];
  const problems = [];
  const actualIsDir = fs.statSync(actualPath).isDirectory();
  const expectedIsDir = fs.statSync(expectedPath).isDirectory();
  if (actualIsDir !== expectedIsDir) throw new Error('ACTUAL and EXPECTED must both be files or both directories');
  if (expectedIsDir) {
    const expectedFiles = npyFilesIn(expectedPath);
    if (expectedFiles.length === 0) throw new Error(`no .npy files in ${expectedPath}`);
    const actualFiles = new Set(npyFilesIn(actualPath));
    for (const name of expectedFiles) {
      if (actualFiles.has(name)) pairs.push([name, path.join(actualPath, name), path.join(expectedPath, name)]);
      else problems.push(`${name}: FAIL: missing from ${actualPath}`);
      actualFiles.delete(name);
    }
    for (const name of actualFiles) console.log(`${name}: not in ${expectedPath} (not compared)`);
  } else {
    pairs.push([path.basename(expectedPath), actualPath, expectedPath]);
  }

  let failed = problems.length;
  for (const line of problems) console.log(line);
  for (const [label, actualFile, expectedFile] of pairs) {
    const result = compareArrays(label, readNpy(actualFile), readNpy(expectedFile), atol, rtol);
    for (const line of result.lines) console.log(line);
    if (!result.passed) ++failed;
  }
  const total = pairs.length + problems.length;
  console.log(`compare_npy: ${total - failed} of ${total} output(s) within atol ${atol} + rtol ${rtol} * |expected|` +
              (failed ? `, ${failed} FAILED` : ''));
  return failed ? 1 : 0;
}

if (require.main === module) runMain(main);

module.exports = { compareArrays };
