'use strict';
// Reads and writes NumPy .npy files (format versions 1.0, 2.0 and 3.0).
//
// An array is { dtype, shape, data }: dtype is one of the names in DTYPES
// (the same names onnxruntime-node uses for tensor types), shape an array of
// numbers, data a typed array of element_count(shape) elements. float16 is kept
// as raw Uint16Array bits; use toFloat64Array() to get comparable numbers.
// Only C-order (fortran_order False) arrays are supported.

const fs = require('node:fs');

const MAGIC = Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]);  // "\x93NUMPY"

// dtype name -> npy kind+size (without byte order) and typed array.
const DTYPES = {
  float16: { code: 'f2', array: Uint16Array },
  float32: { code: 'f4', array: Float32Array },
  float64: { code: 'f8', array: Float64Array },
  int8: { code: 'i1', array: Int8Array },
  uint8: { code: 'u1', array: Uint8Array },
  int16: { code: 'i2', array: Int16Array },
  uint16: { code: 'u2', array: Uint16Array },
  int32: { code: 'i4', array: Int32Array },
  uint32: { code: 'u4', array: Uint32Array },
  int64: { code: 'i8', array: BigInt64Array },
  uint64: { code: 'u8', array: BigUint64Array },
  bool: { code: 'b1', array: Uint8Array },
};

function elementCount(shape) {
  return shape.reduce((count, dim) => count * dim, 1);
}

function dtypeFromDescr(descr, file) {
  const match = /^([<>|=])([a-z]\d+)$/.exec(descr);
  const name = match && Object.keys(DTYPES).find((key) => DTYPES[key].code === match[2]);
  if (!name) throw new Error(`${file}: unsupported npy dtype '${descr}'`);
  const size = DTYPES[name].array.BYTES_PER_ELEMENT;
  const bigEndian = match[1] === '>' && size > 1;
  return { name, bigEndian };
}

function parseHeader(text, file) {
  const descr = /'descr'\s*:\s*'([^']*)'/.exec(text);
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(text);
  const shape = /'shape'\s*:\s*\(([^)]*)\)/.exec(text);
  if (!descr || !fortran || !shape) throw new Error(`${file}: malformed npy header: ${text.trim()}`);
  if (fortran[1] === 'True') throw new Error(`${file}: Fortran-order npy arrays are not supported`);
  const dims = shape[1].split(',').map((s) => s.trim()).filter((s) => s.length > 0);
  for (const dim of dims) {
    if (!/^\d+L?$/.test(dim)) throw new Error(`${file}: bad dimension '${dim}' in npy shape`);
  }
  return { descr: descr[1], shape: dims.map((dim) => parseInt(dim, 10)) };
}

function readNpy(file) {
  const bytes = fs.readFileSync(file);
  if (bytes.length < 10 || !bytes.subarray(0, 6).equals(MAGIC)) {
    throw new Error(`${file}: not an npy file (bad magic)`);
  }
  const major = bytes[6];
  let headerLength;
  let headerStart;
  if (major === 1) {
    headerLength = bytes.readUInt16LE(8);
    headerStart = 10;
  } else if (major === 2 || major === 3) {
    headerLength = bytes.readUInt32LE(8);
    headerStart = 12;
  } else {
    throw new Error(`${file}: unsupported npy format version ${major}.${bytes[7]}`);
  }
  const dataStart = headerStart + headerLength;
  if (dataStart > bytes.length) throw new Error(`${file}: truncated npy header`);
  const header = parseHeader(bytes.toString(major === 3 ? 'utf8' : 'latin1', headerStart, dataStart), file);
  const { name, bigEndian } = dtypeFromDescr(header.descr, file);
  const ArrayType = DTYPES[name].array;
  const count = elementCount(header.shape);
  const byteLength = count * ArrayType.BYTES_PER_ELEMENT;
  if (bytes.length - dataStart !== byteLength) {
    throw new Error(`${file}: shape (${header.shape.join(', ')}) of ${header.descr} needs ${byteLength} data bytes, ` +
                    `file has ${bytes.length - dataStart}`);
  }
  const owned = new ArrayBuffer(byteLength);  // a fresh buffer is aligned for every element type
  const raw = Buffer.from(owned);
  bytes.copy(raw, 0, dataStart);
  if (bigEndian) raw[`swap${8 * ArrayType.BYTES_PER_ELEMENT}`]();
  return { dtype: name, shape: header.shape, data: new ArrayType(owned, 0, count) };
}

function writeNpy(file, array) {
  const info = DTYPES[array.dtype];
  if (!info) throw new Error(`${file}: cannot write dtype '${array.dtype}' to npy`);
  const count = elementCount(array.shape);
  if (array.data.length !== count) {
    throw new Error(`${file}: ${array.data.length} elements do not fill shape [${array.shape.join(', ')}]`);
  }
  const order = info.array.BYTES_PER_ELEMENT === 1 ? '|' : '<';
  const shape = array.shape.length === 1 ? `(${array.shape[0]},)` : `(${array.shape.join(', ')})`;
  let header = `{'descr': '${order}${info.code}', 'fortran_order': False, 'shape': ${shape}, }`;
  // Pad with spaces so that magic + version + length + header + '\n' is a multiple of 64.
  const unpadded = MAGIC.length + 2 + 2 + header.length + 1;
  header += ' '.repeat((64 - (unpadded % 64)) % 64) + '\n';
  if (header.length > 0xffff) throw new Error(`${file}: npy header too long`);
  const prefix = Buffer.alloc(10);
  MAGIC.copy(prefix, 0);
  prefix[6] = 1;
  prefix[7] = 0;
  prefix.writeUInt16LE(header.length, 8);
  const data = Buffer.from(array.data.buffer, array.data.byteOffset, array.data.byteLength);
  fs.writeFileSync(file, Buffer.concat([prefix, Buffer.from(header, 'latin1'), data]));
}

function halfToFloat(bits) {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const mantissa = bits & 0x3ff;
  if (exponent === 0) return sign * mantissa * 2 ** -24;
  if (exponent === 31) return mantissa ? NaN : sign * Infinity;
  return sign * (1 + mantissa / 1024) * 2 ** (exponent - 15);
}

// The elements as float64 numbers, whatever the dtype (int64 beyond 2^53 rounds).
function toFloat64Array(array) {
  const out = new Float64Array(array.data.length);
  if (array.dtype === 'float16') {
    for (let i = 0; i < out.length; ++i) out[i] = halfToFloat(array.data[i]);
  } else {
    for (let i = 0; i < out.length; ++i) out[i] = Number(array.data[i]);
  }
  return out;
}

module.exports = { DTYPES, elementCount, readNpy, writeNpy, toFloat64Array, halfToFloat };
