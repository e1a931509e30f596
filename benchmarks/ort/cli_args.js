'use strict';
// A small command-line parser for the scripts in this folder.
//
//   parseArgs(argv, { '--atol': 'value', '--input': 'list', '--help': 'flag' })
//
// returns { positional: [...], '--atol': '1e-4', '--input': ['x=a.npy'], '--help': true }.
// Options may be written '--name value' or '--name=value'. Unknown options throw.

function parseArgs(argv, spec) {
  const result = { positional: [] };
  for (const [name, kind] of Object.entries(spec)) {
    if (kind === 'list') result[name] = [];
    if (kind === 'flag') result[name] = false;
  }
  for (let i = 0; i < argv.length; ++i) {
    const arg = argv[i];
    if (!arg.startsWith('--')) {
      result.positional.push(arg);
      continue;
    }
    const equals = arg.indexOf('=');
    const name = equals < 0 ? arg : arg.slice(0, equals);
    const kind = spec[name];
    if (!kind) throw new Error(`unknown option ${name}`);
    if (kind === 'flag') {
      if (equals >= 0) throw new Error(`option ${name} takes no value`);
      result[name] = true;
      continue;
    }
    let value;
    if (equals >= 0) {
      value = arg.slice(equals + 1);
    } else {
      if (i + 1 >= argv.length) throw new Error(`option ${name} needs a value`);
      value = argv[++i];
    }
    if (kind === 'list') result[name].push(value);
    else result[name] = value;
  }
  return result;
}

// Parses a number option, with a default when it is absent.
function numberOption(args, name, fallback) {
  if (args[name] === undefined) return fallback;
  const value = Number(args[name]);
  if (!Number.isFinite(value)) throw new Error(`option ${name}: '${args[name]}' is not a number`);
  return value;
}

// Parses "1x3x736x1280" into [1, 3, 736, 1280].
function parseShape(text) {
  const dims = text.split('x').map((dim) => Number(dim));
  if (dims.length === 0 || dims.some((dim) => !Number.isInteger(dim) || dim < 0)) {
    throw new Error(`bad shape '${text}' (expected e.g. 1x3x224x224)`);
  }
  return dims;
}

// Splits "name=value" at the first '='.
function splitNameValue(text, what) {
  const equals = text.indexOf('=');
  if (equals <= 0 || equals === text.length - 1) throw new Error(`bad ${what} '${text}' (expected name=value)`);
  return [text.slice(0, equals), text.slice(equals + 1)];
}

// Runs main(), printing an Error's message (not its stack) and exiting 2 on failure.
function runMain(main) {
  Promise.resolve()
    .then(main)
    .then((code) => { process.exitCode = code || 0; })
    .catch((error) => {
      console.error(`${require('node:path').basename(process.argv[1])}: ${error.message}`);
      process.exitCode = 2;
    });
}

// The median of a list of numbers (the mean of the middle two for an even count).
function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

// "1,2" -> [1, 2].
function parseThreadList(text) {
  const list = text.split(',').map((item) => Number(item.trim()));
  if (list.length === 0 || list.some((n) => !Number.isInteger(n) || n < 1)) {
    throw new Error(`bad --threads '${text}' (expected e.g. 1,2)`);
  }
  return list;
}

module.exports = { parseArgs, numberOption, parseShape, splitNameValue, runMain, median, parseThreadList };
