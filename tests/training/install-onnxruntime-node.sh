#!/bin/sh
# Installs onnxruntime-node (npm) into BUILD_DIR/tests/training/ort for the ONNX test that
# runs exported models in ONNX Runtime. --ignore-scripts: the package ships its CPU binaries;
# the install script only fetches optional GPU pieces.
#   tests/training/install-onnxruntime-node.sh BUILD_DIR
set -eu
dir="${1:?usage: install-onnxruntime-node.sh BUILD_DIR}/tests/training/ort"
mkdir -p "$dir"
cd "$dir"
[ -d node_modules/onnxruntime-node ] && exit 0
npm install --ignore-scripts --no-audit --no-fund --prefix . onnxruntime-node
