#!/usr/bin/env bash
# Re-creates the model packages of the kernel benchmark's whole-model rows
# (firmware-agent/bench/model_rows.c) with the real trainer, through the tinyml CLI:
#   motion-mlp    the motion example (resources/examples/motion), spectral features, MLP
#   motion-cnn1d  the same recordings as raw 100 x 3 sequences, 1-D CNN
#   kws-dscnn     audio from the host agent's simulated microphone (scenarios silence, noise,
#                 tone, chirp; 1 s at 16 kHz), 49 x 10 MFCCs, DS-CNN (what --model auto picks
#                 for the audio template, training/ModelZoo.cpp)
# Each is trained for a few epochs (seed 1, one thread), quantized post-training (BN folded,
# ReLU fused, int8; QAT off) and exported with `tinyml export --c-library`, whose zip holds the
# TMPK package `tinyml flash` uploads (same ModelPackageWriter) plus one quantized test sample
# and the host int8 reference's output on it. Per model this writes
#   <name>.tmpk          the package (deploy/MODEL_PACKAGE.md)
#   <name>.input.bin     the example input (int8, the model's input tensor)
#   <name>.expected.bin  model::Int8Executor's output bytes on that input
# The models only need to be the trainer's real output, not good classifiers.
#
# usage: firmware-agent/bench/models/regenerate.sh [BUILD_DIR]   (default: build)
# Needs a built tinyml CLI (libtorch) and python3. Runs in about 20 s (2026-11-22, 2 cores).
# Deterministic: a second run writes the same bytes.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-$here/../../../build}
T=$build/app/tinyml
[ -x "$T" ] || { echo "no $T: build the project first" >&2; exit 1; }
start=$(date +%s)

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
train_opts=(--seed 1 --threads 1 --json)

# zip of `export --c-library` -> <name>.tmpk, .input.bin, .expected.bin
extract() {
  local zip=$1 name=$2
  rm -rf "$tmp/x" && mkdir "$tmp/x"
  (cd "$tmp/x" && unzip -q "$zip")
  python3 - "$tmp/x" "$here/$name" <<'PY'
import re, sys
src, out = sys.argv[1], sys.argv[2]
def array(path, name):
    text = open(path, encoding="utf-8").read()
    m = re.search(r"\b" + name + r"\[[^\]]*\][^=]*=\s*\{([^}]*)\}", text)
    if not m:
        sys.exit(f"{path}: no array {name}")
    return [int(v, 0) for v in m.group(1).replace("\n", " ").split(",") if v.strip()]
pkg = bytes(array(f"{src}/tinyml_model/src/model_data.c", "tinyml_model_package"))
if pkg[:4] != b"TMPK" or int.from_bytes(pkg[8:12], "little") != len(pkg):
    sys.exit("model_data.c: not a TMPK package")
main = f"{src}/tinyml_model/example/main.c"
inp = bytes(v & 0xFF for v in array(main, "example_input"))
exp = bytes(v & 0xFF for v in array(main, "expected_output"))
for suffix, data in ((".tmpk", pkg), (".input.bin", inp), (".expected.bin", exp)):
    open(out + suffix, "wb").write(data)
PY
}

package() {   # project, name
  "$T" quantize "$1" --qat-threshold -1 --threads 1 --json >/dev/null
  "$T" export "$1" --c-library "$tmp/$2.zip" --json >/dev/null
  extract "$tmp/$2.zip" "$2"
}

# motion example, default features (spectral, 39 values): MLP
"$T" new "$tmp/mlp.tinyml" --example motion --json >/dev/null
"$T" features "$tmp/mlp.tinyml" --json >/dev/null
"$T" train "$tmp/mlp.tinyml" --model mlp --epochs 3 "${train_opts[@]}" >/dev/null
package "$tmp/mlp.tinyml" motion-mlp

# the same recordings as sequences {1, 1, 100, 3}: 1-D CNN. The CLI has no option for the
# feature block, so the setting the workbench's feature panel stores
# (ProjectSettings::extra["features"], core/features/FeatureParams.cpp) is written directly.
"$T" new "$tmp/cnn.tinyml" --example motion --json >/dev/null
python3 - "$tmp/cnn.tinyml" <<'PY'
import json, sqlite3, sys
db = sqlite3.connect(sys.argv[1])
extra = json.dumps({"features": {"block": "raw", "raw": {
    "windowFrames": 100, "removeMean": False, "scale": 1.0, "asSequence": True}}})
db.execute("UPDATE settings SET value = ? WHERE key = 'extra'", (extra,))
db.commit()
PY
"$T" features "$tmp/cnn.tinyml" --json >/dev/null
"$T" train "$tmp/cnn.tinyml" --model cnn1d --epochs 3 "${train_opts[@]}" >/dev/null
package "$tmp/cnn.tinyml" motion-cnn1d

# keyword-spotting style: 1 s clips from the simulated microphone, MFCC 49 x 10, DS-CNN
"$T" new "$tmp/kws.tinyml" --template audio --board qemu-m4 \
  --labels silence,noise,tone,chirp --json >/dev/null
for s in silence noise tone chirp; do
  "$T" capture "$tmp/kws.tinyml" --board host --sensor mic --label "$s" --scenario "$s" \
    --count 5 --json >/dev/null
done
"$T" features "$tmp/kws.tinyml" --json >/dev/null
"$T" train "$tmp/kws.tinyml" --model dscnn --epochs 2 "${train_opts[@]}" >/dev/null
package "$tmp/kws.tinyml" kws-dscnn

ls -l "$here"/*.tmpk "$here"/*.bin
echo "regenerated in $(($(date +%s) - start)) s"
