// Runs an ONNX model in onnxruntime-node and prints its outputs as JSON.
//   node run_onnxruntime.js MODEL.onnx INPUTS.json [all|disabled]
// INPUTS.json: {"shape": [1, C, H, W], "inputs": [[...], ...]} (one flat float array per run).
// Prints {"outputs": [[...], ...]}. "disabled" turns graph optimisations off, so a QDQ model
// runs as written (float ops between QuantizeLinear / DequantizeLinear) instead of fused
// int8 kernels.
const ort = require('onnxruntime-node');
const fs = require('fs');

async function main() {
  const [model, inputsPath, level] = process.argv.slice(2);
  const spec = JSON.parse(fs.readFileSync(inputsPath, 'utf8'));
  const session = await ort.InferenceSession.create(model, {
    graphOptimizationLevel: level === 'disabled' ? 'disabled' : 'all',
    intraOpNumThreads: 1,
  });
  const inputName = session.inputNames[0];
  const outputName = session.outputNames[0];
  const outputs = [];
  for (const x of spec.inputs) {
    const feeds = {[inputName]: new ort.Tensor('float32', Float32Array.from(x), spec.shape)};
    const result = await session.run(feeds);
    outputs.push(Array.from(result[outputName].data));
  }
  process.stdout.write(JSON.stringify({outputs}));
}

main().catch((e) => {
  process.stderr.write(String(e && e.stack || e) + '\n');
  process.exit(1);
});
