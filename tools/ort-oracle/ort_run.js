#!/usr/bin/env node
// Runs an ONNX model in ONNX Runtime (the npm package onnxruntime-node, CPU)
// on .npy inputs and writes each output as <sanitized name>.npy: Prism's
// numerical oracle.
//
//   node ort_run.js MODEL --input NAME=FILE.npy ... --output-dir DIR
//        [--threads N] [--time RUNS]
//
// --time RUNS also prints the median latency of RUNS more runs (after one
// warm-up) as `ort median_ms=<ms>`.
'use strict';
const fs = require('fs');
const path = require('path');

// dtype: [npy descr, ORT type, TypedArray]
const DTYPES = [
  ['<f4', 'float32', Float32Array], ['<f8', 'float64', Float64Array],
  ['<f2', 'float16', Uint16Array], ['|i1', 'int8', Int8Array],
  ['<i2', 'int16', Int16Array], ['<i4', 'int32', Int32Array],
  ['<i8', 'int64', BigInt64Array], ['|u1', 'uint8', Uint8Array],
  ['<u2', 'uint16', Uint16Array], ['<u4', 'uint32', Uint32Array],
  ['<u8', 'uint64', BigUint64Array], ['|b1', 'bool', Uint8Array],
];

function fail(msg) {
  process.stderr.write(`ort_run: ${msg}\n`);
  process.exit(1);
}

function readNpy(file) {
  const buf = fs.readFileSync(file);
  if (buf.slice(0, 6).toString('latin1') !== '\x93NUMPY') fail(`${file}: not a .npy file`);
  const major = buf[6];
  const headerLen = major === 1 ? buf.readUInt16LE(8) : buf.readUInt32LE(8);
  const start = major === 1 ? 10 : 12;
  const header = buf.slice(start, start + headerLen).toString('latin1');
  const descr = /'descr':\s*'([^']+)'/.exec(header);
  const shape = /'shape':\s*\(([^)]*)\)/.exec(header);
  if (!descr || !shape || /'fortran_order':\s*True/.test(header))
    fail(`${file}: unsupported .npy header ${header.trim()}`);
  const entry = DTYPES.find((d) => d[0] === descr[1].replace('=', '<'));
  if (!entry) fail(`${file}: unsupported dtype ${descr[1]}`);
  const dims = shape[1].split(',').map((s) => s.trim()).filter((s) => s).map(Number);
  const data = buf.slice(start + headerLen);
  const bytes = new Uint8Array(data.length);
  bytes.set(data);  // copy: typed arrays need aligned, owned storage
  const values = new entry[2](bytes.buffer, 0, data.length / entry[2].BYTES_PER_ELEMENT);
  return { type: entry[1], dims, values };
}

function writeNpy(file, tensor) {
  const entry = DTYPES.find((d) => d[1] === tensor.type);
  if (!entry) fail(`output type ${tensor.type} has no .npy form`);
  const dims = tensor.dims;
  const shape = dims.length === 1 ? `${dims[0]},` : dims.join(', ');
  let header = `{'descr': '${entry[0]}', 'fortran_order': False, 'shape': (${shape}), }`;
  header += ' '.repeat((64 - ((10 + header.length + 1) % 64)) % 64) + '\n';
  const prefix = Buffer.alloc(10);
  prefix.write('\x93NUMPY', 0, 'latin1');
  prefix[6] = 1; prefix[7] = 0;
  prefix.writeUInt16LE(header.length, 8);
  let data = tensor.data;
  if (tensor.type === 'bool') data = Uint8Array.from(data, (v) => (v ? 1 : 0));
  fs.writeFileSync(file, Buffer.concat([prefix, Buffer.from(header, 'latin1'),
    Buffer.from(data.buffer, data.byteOffset, data.byteLength)]));
}

function parseArgs(argv) {
  const args = { inputs: [], threads: 1, time: 0 };
  for (let i = 0; i < argv.length; ++i) {
    const a = argv[i];
    if (a === '--input') args.inputs.push(argv[++i]);
    else if (a === '--output-dir') args.outputDir = argv[++i];
    else if (a === '--threads') args.threads = Number(argv[++i]);
    else if (a === '--time') args.time = Number(argv[++i]);
    else if (a.startsWith('--')) fail(`unknown option ${a}`);
    else args.model = a;
  }
  if (!args.model || !args.outputDir) fail('usage: ort_run.js MODEL --input NAME=FILE ... --output-dir DIR');
  return args;
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const moduleDir = process.env.PRISM_ORT_DIR || path.join(__dirname, 'node_modules');
  const ort = require(path.join(moduleDir, 'onnxruntime-node'));
  const session = await ort.InferenceSession.create(args.model, {
    logSeverityLevel: 3, intraOpNumThreads: args.threads, interOpNumThreads: 1,
    executionMode: 'sequential',
  });
  const feeds = {};
  for (const spec of args.inputs) {
    const eq = spec.indexOf('=');
    if (eq < 0) fail(`--input ${spec}: expected NAME=FILE`);
    const t = readNpy(spec.slice(eq + 1));
    feeds[spec.slice(0, eq)] = new ort.Tensor(t.type, t.values, t.dims);
  }
  const results = await session.run(feeds);
  fs.mkdirSync(args.outputDir, { recursive: true });
  for (const [name, tensor] of Object.entries(results))
    writeNpy(path.join(args.outputDir, name.replace(/[^A-Za-z0-9._-]/g, '_') + '.npy'), tensor);
  if (args.time > 0) {
    const times = [];
    for (let i = 0; i < args.time; ++i) {
      const t0 = process.hrtime.bigint();
      await session.run(feeds);
      times.push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
    times.sort((a, b) => a - b);
    console.log(`ort median_ms=${times[Math.floor(times.length / 2)].toFixed(3)}`);
  }
}

main().catch((e) => fail(e.message));
