#!/usr/bin/env bash
# Renders the workbench at 1280x800 and writes PNGs into OUTDIR (default ./screenshots).
# Usage: tests/ui/screenshots.sh [OUTDIR] [BUILD_DIR] [live-only]
# (live-only: just the Live page, on a real run on the host agent, about a minute)
# Runs under Xvfb when it is installed (real X11 rendering, like a desktop); otherwise
# with Qt's offscreen platform. Either way the app grabs its own windows.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
out=$(realpath -m "${1:-screenshots}")
build=${2:-$root/build}
mkdir -p "$out"
if [ ! -x "$build/tests/ui/workbench-screenshots" ]; then
  cmake -S "$root" -B "$build" -G Ninja >/dev/null
  cmake --build "$build" --target workbench-screenshots tinyml-agent-host
fi
tool="$build/tests/ui/workbench-screenshots"
if command -v xvfb-run >/dev/null 2>&1; then
  QT_QPA_PLATFORM=xcb xvfb-run -a -s "-screen 0 1280x800x24" "$tool" "$out" ${3:+"$3"}
else
  QT_QPA_PLATFORM=offscreen "$tool" "$out" ${3:+"$3"}
fi
