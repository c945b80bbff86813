#!/usr/bin/env bash
# Compiles every int8 kernel source for Cortex-M4F and Cortex-M7 with arm-none-eabi-gcc at
# every optimisation level, with and without a frame pointer, soft and hard float ABI.
# The optimized kernels hold inline and naked assembly with fixed or many registers: the
# agent images build them at -O3 only, while the C export (tinyml export --c-library) lets
# users pick their own flags, and an asm statement gcc cannot allocate ("impossible
# constraints") only shows at some of them. Fails on the first source that does not compile.
# usage: compile_flag_matrix.sh ARM_GCC NN_INCLUDE_DIR SOURCE...
set -u
gcc=$1 inc=$2
shift 2
src_dir=$(dirname "$1")
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
cpus=("-mcpu=cortex-m4" "-mcpu=cortex-m4 -mfloat-abi=hard -mfpu=fpv4-sp-d16"
      "-mcpu=cortex-m7 -mfloat-abi=hard -mfpu=fpv5-d16")
count=0
for src in "$@"; do
  for opt in -O0 -O1 -O2 -O3 -Os -Og; do
    for fp in "" -fno-omit-frame-pointer; do
      for cpu in "${cpus[@]}"; do
        # shellcheck disable=SC2086
        if ! "$gcc" -std=c99 -mthumb $cpu $opt $fp -ffp-contract=off -I"$inc" -I"$src_dir" \
             -c "$src" -o "$out/x.o" 2> "$out/err"; then
          echo "FAILED: $(basename "$src") with $cpu $opt $fp" >&2
          cat "$out/err" >&2
          exit 1
        fi
        count=$((count + 1))
      done
    done
  done
done
echo "compiled $count source/flag combinations"
