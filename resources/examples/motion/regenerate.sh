#!/usr/bin/env bash
# Regenerates data/ of the motion example: 12 samples per gesture from the simulated
# accelerometer of the host agent (the same sensor model as the virtual Cortex-M4), 2 s at
# 50 Hz, written as one time-series CSV per sample (`<label>.<id>.csv`, the Edge Impulse
# file-name convention the importer reads).
# usage: resources/examples/motion/regenerate.sh [BUILD_DIR]   (default: build)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-$here/../../../build}
T=$build/app/tinyml
[ -x "$T" ] || { echo "no $T: build the project first" >&2; exit 1; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$T" new "$tmp/motion.tinyml" --template motion --board host --labels idle,shake,circle,updown
for gesture in idle shake circle updown; do
  "$T" capture "$tmp/motion.tinyml" --board host --sensor accel --label "$gesture" \
    --scenario "$gesture" --seconds 2 --rate 50 --count 12
done
rm -rf "$here/data"
"$T" export-data "$tmp/motion.tinyml" "$here/data" --format csv
du -sh "$here/data"
