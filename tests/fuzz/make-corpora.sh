#!/usr/bin/env bash
# Re-makes the committed fuzz seeds that our own writers produce (issue 18, item 9), then
# minimises every target's committed corpus with libFuzzer's -merge=1 so that it stays small.
# Usage: bash tests/fuzz/make-corpora.sh [BUILD_DIR] [BUILD_FUZZ_DIR]
#   BUILD_DIR       the gcc tree with app/tinyml (default build)
#   BUILD_FUZZ_DIR  the clang tree with the fuzz targets (default build-fuzz); without it the
#                   seeds are written but not minimised.
# Seeds written here (a leading byte is the target's mode byte, see each fuzz_*.cpp):
#   io/corpus/fuzz_csv           time-series and table CSV from `tinyml export-data --format csv`
#   io/corpus/fuzz_ei_cbor       EI JSON and CBOR from export-data, unsigned and signed ("fuzz-key")
#   stream/corpus/fuzz_replay_recording  the exported CSV (accelerometer) and a 16 kHz WAV
#   agent/corpus/fuzz_agent_frame_decoder  the dispatcher's frame streams without their mode byte
#   agent/corpus/fuzz_model_package  version-1 packages and motion_v2_anomaly, an impulse with a
#                                    classifier and an anomaly model (ModelPackageWriter; needs BUILD_FUZZ_DIR)
#   agent/corpus/fuzz_attestation  an ATTEST answer signed by the agent's signer (make_attest_seed; needs BUILD_FUZZ_DIR)
#   training/corpus/fuzz_onnx_import  ONNX models from our exporter (needs BUILD_FUZZ_DIR)
# Seeds made by other writers and kept as committed: version-2 model packages (fuzz_model_package,
# written by `tinyml classify` on a virtual board), serialized graphs (fuzz_graph_deserialize), WAVs,
# agent frame streams, ELF objects, stream scripts, and TFLite files (model/corpus/fuzz_tflite_import:
# `flatc --binary` of tests/core/model/tflite/fixtures/*.json, committed).
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${1:-build}
fuzzbuild=${2:-build-fuzz}
tinyml="$build/app/tinyml"
[ -x "$tinyml" ] || { echo "make-corpora: $tinyml not built" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export TINYML_HMAC_KEY=   # the key comes from the options below only

# A motion project with two short labelled recordings and a table project.
"$tinyml" new "$work/m.tinyml" --template motion > /dev/null
mkdir -p "$work/in"
python3 - "$work/in" <<'PY'
import math, sys
d = sys.argv[1]
for label, f in (("wave", 1.0), ("idle", 0.0)):
    with open(f"{d}/{label}.1.csv", "w") as out:
        out.write("timestamp,accX (m/s2),accY (m/s2),accZ (m/s2)\n")
        for i in range(12):
            out.write(f"{i*10},{f*math.sin(i/2):.6g},{-0.0 if i == 3 else 0.125*i},{9.81}\n")
PY
"$tinyml" import "$work/m.tinyml" "$work/in" --split train > /dev/null
"$tinyml" export-data "$work/m.tinyml" "$work/csv" --format csv > /dev/null
"$tinyml" export-data "$work/m.tinyml" "$work/json" --format ei-json > /dev/null
"$tinyml" export-data "$work/m.tinyml" "$work/cbor" --format ei-cbor > /dev/null
"$tinyml" export-data "$work/m.tinyml" "$work/json-signed" --format ei-json --hmac-key fuzz-key > /dev/null
"$tinyml" export-data "$work/m.tinyml" "$work/cbor-signed" --format ei-cbor --hmac-key fuzz-key > /dev/null
"$tinyml" new "$work/t.tinyml" --template tabular > /dev/null
printf 'mean,rms,label,split\n0.5,1.25,on,train\n-3e-7,2,off,test\n1,1,"on, off",\n' > "$work/table.csv"
"$tinyml" import "$work/t.tinyml" "$work/table.csv" --format csv-table > /dev/null
"$tinyml" export-data "$work/t.tinyml" "$work/table-out" --format csv > /dev/null

with_mode() { # MODE_BYTE_OCTAL SOURCE DEST
  { printf "\\$1"; cat "$2"; } > "$3"
}
first() { find "$1" -type f -name "$2" | sort | head -1; }

c=tests/fuzz/io/corpus/fuzz_csv
with_mode 000 "$(first "$work/csv" 'wave*.csv')" "$c/export_timeseries.csv"
with_mode 010 "$(first "$work/csv" 'idle*.csv')" "$c/export_timeseries_rate.csv"
with_mode 001 "$(first "$work/table-out" '*.csv')" "$c/export_table.csv"
e=tests/fuzz/io/corpus/fuzz_ei_cbor
with_mode 001 "$(first "$work/json" 'wave*')" "$e/export_unsigned.json"
with_mode 000 "$(first "$work/cbor" 'wave*')" "$e/export_unsigned.cbor"
with_mode 003 "$(first "$work/json-signed" 'idle*')" "$e/export_signed.json"
with_mode 002 "$(first "$work/cbor-signed" 'idle*')" "$e/export_signed.cbor"
r=tests/fuzz/stream/corpus/fuzz_replay_recording
mkdir -p "$r"
with_mode 003 "$(first "$work/csv" 'wave*.csv')" "$r/accel.csv"
with_mode 000 tests/fuzz/io/corpus/fuzz_wav/pcm16_mono.wav "$r/mic16k.wav"
f=tests/fuzz/agent/corpus/fuzz_agent_frame_decoder
mkdir -p "$f"
for s in tests/fuzz/agent/corpus/fuzz_agent_dispatcher/*; do
  tail -c +2 "$s" > "$f/$(basename "$s")"
done

# Seeds written by programs of the clang tree: version-1 packages and ONNX models.
if [ -d "$fuzzbuild/tests/fuzz" ]; then
  "$fuzzbuild/tests/fuzz/agent/write_package_seeds" tests/fuzz/agent/corpus/fuzz_model_package
  mkdir -p tests/fuzz/agent/corpus/fuzz_attestation
  "$fuzzbuild/tests/fuzz/agent/make_attest_seed" > tests/fuzz/agent/corpus/fuzz_attestation/statement-all-flags.bin
  TINYML_FUZZ_WRITE_SEEDS=tests/fuzz/training/corpus/fuzz_onnx_import \
    "$fuzzbuild/tests/fuzz/training/fuzz_onnx_import"
else
  echo "make-corpora: no $fuzzbuild: model package v1 and ONNX seeds not re-made" >&2
fi

# Minimise: keep only inputs that add coverage (libFuzzer -merge=1 into an empty folder).
if [ -d "$fuzzbuild/tests/fuzz" ]; then
  ctest --test-dir "$fuzzbuild" -L fuzz --show-only=json-v1 > "$work/tests.json"
  python3 - "$work/tests.json" > "$work/commands" <<'PY'
import json, sys
for t in json.load(open(sys.argv[1]))["tests"]:
    cmd = t["command"]
    if len(cmd) >= 6:  # exe, 3 options, working corpus, committed seeds
        print(cmd[0] + "\t" + cmd[5])
PY
  while IFS=$'\t' read -r exe seeds; do
    [ -d "$seeds" ] || continue
    merged="$work/merged-$(basename "$exe")"
    mkdir -p "$merged"
    "$exe" -merge=1 -rss_limit_mb=2048 "$merged" "$seeds" > "$work/merge.log" 2>&1 \
      || { cat "$work/merge.log" >&2; exit 1; }
    before=$(find "$seeds" -type f | wc -l)
    # Keep the committed names of the inputs that survive (libFuzzer names them by hash).
    for s in "$seeds"/*; do
      h=$(sha1sum "$s" | cut -d' ' -f1)
      [ -f "$merged/$h" ] || rm -f "$s"
    done
    echo "$(basename "$exe"): $before seeds, $(find "$seeds" -type f | wc -l) after -merge=1"
  done < "$work/commands"
fi
