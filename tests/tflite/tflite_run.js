// Runs a .tflite model in TensorFlow Lite itself (the WebAssembly build of TFLite that the npm
// package @tensorflow/tfjs-tflite ships), as an independent reference for our int8 executor.
//
//   node tflite_run.js MODULES_DIR MODEL.tflite [INPUT.bin...]
//
// MODULES_DIR holds node_modules/@tensorflow/tfjs-tflite (install-tfjs-tflite.sh). Each input
// file holds the first input tensor's raw bytes (int8, uint8 or float32 little-endian). Prints
// one JSON object: {"inputs": [{name, type, shape}], "outputs": [{name, type, shape}],
// "results": [[values of output 0 for input 0], ...]} (each tensor also gives its "bytes"; with no
// input file only the description). Nothing is fetched from the network:
// the WebAssembly binary is read from the package's own folder.
'use strict';
const fs = require('fs');
const path = require('path');

function fail(message) {
  process.stderr.write(`tflite_run.js: ${message}\n`);
  process.exit(2);
}

if (process.argv.length < 4)
  fail('usage: node tflite_run.js MODULES_DIR MODEL.tflite [INPUT.bin...]');
const wasmDir = path.join(path.resolve(process.argv[2]), 'node_modules', '@tensorflow', 'tfjs-tflite', 'wasm');
const factoryPath = path.join(wasmDir, 'tflite_web_api_cc.js');
if (!fs.existsSync(factoryPath))
  fail(`${factoryPath} is missing: run tests/tflite/install-tfjs-tflite.sh BUILD_DIR`);

// The plain (no SIMD, no threads) build: deterministic, and needs no worker or browser global.
const factory = require(factoryPath);
const toArray = (vector) => {
  const out = [];
  for (let i = 0; i < vector.size(); ++i)
    out.push(vector.get(i));
  vector.delete();
  return out;
};
const describe = (t) => ({name: t.name, type: t.dataType, shape: String(t.shape).split(',').map(Number),
                          bytes: t.data().byteLength});

factory({wasmBinary: fs.readFileSync(path.join(wasmDir, 'tflite_web_api_cc.wasm')),
         print: (s) => process.stderr.write(s + '\n'),
         printErr: (s) => process.stderr.write(s + '\n')})
  .then((M) => {
    const model = fs.readFileSync(process.argv[3]);
    const at = M._malloc(model.length);
    M.HEAPU8.set(model, at);
    const created = M.TFLiteWebModelRunner.CreateFromBufferAndOptions(
        at, model.length, {numThreads: 1, enableProfiling: false, maxProfilingBufferEntries: 16});
    if (!created.ok())
      fail(`${process.argv[3]}: ${created.errorMessage()}`);
    const runner = created.value();
    const inputs = toArray(runner.GetInputs());
    const outputs = toArray(runner.GetOutputs());
    const results = [];
    for (const file of process.argv.slice(4)) {
      const bytes = fs.readFileSync(file);
      const tensor = inputs[0].data();
      if (bytes.length !== tensor.byteLength)
        fail(`${file}: ${bytes.length} bytes, but input ${inputs[0].name} takes ${tensor.byteLength}`);
      new Uint8Array(tensor.buffer, tensor.byteOffset, tensor.byteLength).set(bytes);
      if (!runner.Infer())
        fail(`${file}: Infer() failed`);
      results.push(Array.from(outputs[0].data()));
    }
    process.stdout.write(JSON.stringify({inputs: inputs.map(describe), outputs: outputs.map(describe), results}) + '\n');
  })
  .catch((e) => fail(String(e && e.stack || e)));
