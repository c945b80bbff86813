#!/usr/bin/env bash
# Builds everything and runs every test: unit, integration (host agent and QEMU over
# ptys), GUI (offscreen), end-to-end, a short run of each fuzz target under CTest, then a
# longer fuzz budget (FUZZ_SECONDS per target, default 60; tests/fuzz/run-budget.sh).
# Usage: bash tests/run-all.sh        (build trees go to build/ and build-fuzz/)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

bash installers/debian-deps.sh

jobs=$(nproc)
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo
cmake --build build -j "$jobs"
# ONNX Runtime for the ONNX export test (npm registry; its CPU library ships in the package).
bash tests/training/install-onnxruntime-node.sh build
# TensorFlow Lite itself (WebAssembly, npm registry) for the int8 comparison with TFLite.
bash tests/tflite/install-tfjs-tflite.sh build

# Parsers of outside input get a libFuzzer run too: a separate clang build of core.
cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTINYML_FUZZ=ON \
  -DCMAKE_C_COMPILER=clang-14 -DCMAKE_CXX_COMPILER=clang++-14
cmake --build build-fuzz -j "$jobs"

export QT_QPA_PLATFORM=offscreen
status=0
log=$(mktemp)
# Integration tests share the two cores with QEMU: run the suites two at a time.
ctest --test-dir build --output-on-failure -j "$jobs" 2>&1 | tee "$log" || true
ctest --test-dir build-fuzz --output-on-failure 2>&1 | tee -a "$log" || true

# One closing line over both runs. A skipped test is reported as skipped, never as passed.
passed=0; failed=0
while read -r _ _ _ nfail _ _ _ _ total; do
  failed=$((failed + nfail)); passed=$((passed + total - nfail))
done < <(grep -E '^[0-9]+% tests passed, [0-9]+ tests failed out of [0-9]+' "$log")
skipped=$(grep -cE '^[[:space:]]*[0-9]+ - .* \(Skipped\)$' "$log" || true)
passed=$((passed - skipped))
runs=$(grep -cE '^[0-9]+% tests passed' "$log" || true)
rm -f "$log"
if [ "$runs" -ne 2 ] || [ "$failed" -ne 0 ] || [ "$passed" -le 0 ]; then
  status=1
fi

# The longer fuzz run: FUZZ_SECONDS per target (60 by default, two at a time: about 5 min for
# ten targets, inside CI's 90 min beside the 20-50 min above). One line per target with
# executions, coverage and "no crash"; a crash fails the run.
fuzz_status=0
bash tests/fuzz/run-budget.sh build-fuzz || fuzz_status=1
[ "$fuzz_status" -eq 0 ] || status=1

echo "tests: $passed passed, $failed failed, $skipped skipped"
[ "$fuzz_status" -eq 0 ] && echo "fuzz budget: no crash" || echo "fuzz budget: FAILED (see above)"
exit $status
