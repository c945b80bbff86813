#!/usr/bin/env bash
# Installs the Debian 12 packages TinyML Workbench needs to build, test and run —
# only those that are missing, so a second run does nothing.
set -euo pipefail

packages=(
  cmake ninja-build g++ pkg-config git
  qt6-base-dev qt6-base-dev-tools qt6-serialport-dev libqt6sql6-sqlite libqt6svg6
  libqcustomplot-dev libqcustomplot2.1-qt6
  libzip-dev
  libtorch-dev libonnx-dev libprotobuf-dev protobuf-compiler
  googletest libgtest-dev libgmock-dev libbenchmark-dev
  qemu-system-arm gcc-arm-none-eabi libnewlib-arm-none-eabi
  clang-14 libclang-rt-14-dev
  python3-torch
  xvfb xauth
  espeak-ng sox
  lintian librsvg2-bin dpkg-dev file
  libflatbuffers-dev flatbuffers-compiler
  libsodium-dev
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

# Node.js runs ONNX Runtime in the ONNX export test; a node/npm already on PATH will do.
if ! command -v npm >/dev/null 2>&1; then
  missing+=(nodejs npm)
fi

if [ ${#missing[@]} -eq 0 ]; then
  echo "debian-deps: everything is installed"
  exit 0
fi

echo "debian-deps: installing ${missing[*]}"
sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then
  sudo_cmd=(sudo)
fi
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
