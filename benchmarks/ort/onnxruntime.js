'use strict';
// Loads onnxruntime-node from build/npm (installed by scripts/fetch_models.sh)
// and converts between its tensors and npy arrays (see npy.js).
//
// onnxruntime is used only for reference outputs and speed comparisons; kiln
// never links or loads it.

const fs = require('node:fs');
const path = require('node:path');
const { DTYPES } = require('./npy');

const REPO_ROOT = path.resolve(__dirname, '..', '..');

// build/npm by default; KILN_NPM_DIR overrides it.
function npmDir() {
  return process.env.KILN_NPM_DIR || path.join(REPO_ROOT, 'build', 'npm');
}

function loadOnnxruntime() {
  const packageDir = path.join(npmDir(), 'node_modules', 'onnxruntime-node');
  if (!fs.existsSync(path.join(packageDir, 'package.json'))) {
    throw new Error(`onnxruntime-node is not installed in ${npmDir()}: run scripts/fetch_models.sh`);
  }
  return require(packageDir);
}

function onnxruntimeVersion() {
  const file = path.join(npmDir(), 'node_modules', 'onnxruntime-node', 'package.json');
  return JSON.parse(fs.readFileSync(file, 'utf8')).version;
}

function toOrtTensor(ort, array) {
  if (!DTYPES[array.dtype]) throw new Error(`dtype ${array.dtype} cannot be given to onnxruntime`);
  return new ort.Tensor(array.dtype, array.data, array.shape);
}

function fromOrtTensor(tensor) {
  const info = DTYPES[tensor.type];
  if (!info) throw new Error(`onnxruntime output type '${tensor.type}' cannot be written as npy`);
  let data = tensor.data;
  if (!(data instanceof info.array)) {
    // float16 may come as a Float16Array where the runtime has one: keep the raw bits.
    data = new info.array(data.buffer, data.byteOffset, data.byteLength / info.array.BYTES_PER_ELEMENT);
  }
  return { dtype: tensor.type, shape: Array.from(tensor.dims, Number), data };
}

// A file name for a tensor name: characters other than [A-Za-z0-9._-] become '_'.
function npyFileName(tensorName) {
  return `${tensorName.replace(/[^A-Za-z0-9._-]/g, '_')}.npy`;
}

module.exports = { REPO_ROOT, npmDir, loadOnnxruntime, onnxruntimeVersion, toOrtTensor, fromOrtTensor, npyFileName };
