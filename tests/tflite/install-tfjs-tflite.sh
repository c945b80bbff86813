#!/bin/sh
# Installs @tensorflow/tfjs-tflite (npm registry; TFLite compiled to WebAssembly, its .wasm files
# ship in the package) into BUILD_DIR/tests/tflite/tfjs, for the tests that compare our int8
# executor with TFLite itself. --ignore-scripts: nothing to build or fetch afterwards.
#   tests/tflite/install-tfjs-tflite.sh BUILD_DIR
set -eu
dir="${1:?usage: install-tfjs-tflite.sh BUILD_DIR}/tests/tflite/tfjs"
mkdir -p "$dir"
cd "$dir"
[ -f node_modules/@tensorflow/tfjs-tflite/wasm/tflite_web_api_cc.wasm ] && exit 0
npm install --ignore-scripts --no-audit --no-fund --prefix . \
  @tensorflow/tfjs-tflite@0.0.1-alpha.10 @tensorflow/tfjs-core@4.9.0 @tensorflow/tfjs-backend-cpu@4.9.0
