#!/usr/bin/env bash
# The README's main command: installs what is missing, builds, and starts the workbench.
# With a display: the GUI on the virtual board. Without one: the same pipeline, headless,
# through the CLI, into demo/demo.tinyml.
set -euo pipefail
cd "$(dirname "$0")/.."

bash installers/debian-deps.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo
cmake --build build -j "$(nproc)"

if [ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ] && [ "${TINYML_HEADLESS:-0}" != 1 ]; then
  # The GUI on the virtual Cortex-M4, in a demo project (created once, kept afterwards).
  mkdir -p demo
  if [ ! -f demo/gui-demo.tinyml ]; then
    build/app/tinyml new demo/gui-demo.tinyml --template motion --board qemu-m4 \
      --labels idle,shake,circle,updown
  fi
  exec build/app/tinyml-workbench demo/gui-demo.tinyml --board qemu-m4 "$@"
fi

echo "No display: running the pipeline headless with the CLI (build/app/tinyml)."
mkdir -p demo
project=demo/demo.tinyml
rm -f "$project" "$project-wal" "$project-shm"
tinyml=build/app/tinyml
set -x
"$tinyml" new "$project" --template motion --board qemu-m4 --labels idle,shake,circle,updown
for gesture in idle shake circle updown; do
  "$tinyml" capture "$project" --board qemu-m4 --sensor accel --rate 100 --seconds 2 \
    --label "$gesture" --scenario "$gesture" --count 10
done
"$tinyml" info "$project"
"$tinyml" features "$project"
"$tinyml" train "$project" --epochs 40 --seed 1
"$tinyml" quantize "$project"
"$tinyml" export "$project" --onnx demo/demo-int8.onnx --int8
"$tinyml" profile "$project" --board qemu-m4 --runs 20
# The whole impulse on the board: a scripted minute of gestures, measured against the script.
printf 'idle 4\nshake 3\nidle 4\ncircle 3\nidle 4\nupdown 3\nidle 4\nshake 3\nidle 4\ncircle 3\nidle 4\nupdown 3\nidle 4\nshake 3\nidle 4\ncircle 3\nidle 3\n' \
  > demo/gestures.script
"$tinyml" classify "$project" --board qemu-m4 --script demo/gestures.script
