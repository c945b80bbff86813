#!/usr/bin/env bash
# Builds everything and runs every test: unit, integration (host agent and QEMU over
# ptys), GUI (offscreen), end-to-end, and a short run of each fuzz target.
# Usage: bash tests/run-all.sh        (build trees go to build/ and build-fuzz/)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

bash installers/debian-deps.sh

jobs=$(nproc)
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo
cmake --build build -j "$jobs"

# Parsers of outside input get a libFuzzer run too: a separate clang build of core.
cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTINYML_FUZZ=ON \
  -DCMAKE_C_COMPILER=clang-14 -DCMAKE_CXX_COMPILER=clang++-14
cmake --build build-fuzz -j "$jobs"

export QT_QPA_PLATFORM=offscreen
status=0
ctest --test-dir build --output-on-failure -j "$jobs" || status=1
ctest --test-dir build-fuzz --output-on-failure || status=1
exit $status
