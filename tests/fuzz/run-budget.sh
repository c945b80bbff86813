#!/usr/bin/env bash
# The longer fuzz run of CI (issue 18, item 9): every libFuzzer target of a build-fuzz tree,
# FUZZ_SECONDS each (default 60), FUZZ_JOBS at a time (default 2), on its committed seeds plus
# the tree's working corpus. Prints one line per target:
#     fuzz_csv: 1843210 execs in 60 s, cov 1015, ft 3480, corpus 212, no crash
# and exits non-zero when a target crashed, leaked, timed out or ran out of memory (its log
# and the crashing input are kept in build-fuzz/fuzz-budget/).
# Usage: bash tests/fuzz/run-budget.sh [BUILD_FUZZ_DIR]
set -uo pipefail
build=${1:-build-fuzz}
seconds=${FUZZ_SECONDS:-60}
jobs=${FUZZ_JOBS:-2}
out="$build/fuzz-budget"
rm -rf "$out"
mkdir -p "$out"

# The targets and their corpus folders, exactly as CTest runs them (tests/fuzz/CMakeLists.txt).
ctest --test-dir "$build" -L fuzz --show-only=json-v1 > "$out/tests.json" || exit 1
python3 - "$out/tests.json" > "$out/commands" <<'PY' || exit 1
import json, sys
for t in json.load(open(sys.argv[1]))["tests"]:
    cmd = [a for a in t["command"] if not a.startswith("-max_total_time=")]
    print(t["name"] + "\t" + "\t".join(cmd))
PY
if [ ! -s "$out/commands" ]; then
  echo "fuzz budget: no fuzz targets in $build" >&2
  exit 1
fi

run_one() {
  local name=$1; shift
  local log="$out/$name.log"
  mkdir -p "$out/$name"
  # -artifact_prefix keeps crash inputs apart per target; -print_final_stats gives the counts.
  "$@" -max_total_time="$seconds" -print_final_stats=1 -artifact_prefix="$out/$name/" > "$log" 2>&1
  local rc=$?
  local execs cov ft corpus verdict
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  cov=$(grep -oE 'cov: [0-9]+' "$log" | tail -1 | cut -d' ' -f2)
  ft=$(grep -oE 'ft: [0-9]+' "$log" | tail -1 | cut -d' ' -f2)
  corpus=$(grep -oE 'corp: [0-9]+' "$log" | tail -1 | cut -d' ' -f2)
  # UBSan reports do not stop libFuzzer (exit 0), so the log is searched for them too.
  local report
  report=$(grep -m1 -oE 'ERROR: (libFuzzer|AddressSanitizer|LeakSanitizer): [a-z-]+|runtime error: .*' "$log")
  if [ "$rc" -eq 0 ] && [ -z "$report" ]; then
    verdict="no crash"
  else
    verdict="FAILED: ${report:-exit $rc} (exit $rc; log $log)"
  fi
  printf '%s: %s execs in %s s, cov %s, ft %s, corpus %s, %s\n' \
    "$name" "${execs:-?}" "$seconds" "${cov:-?}" "${ft:-?}" "${corpus:-?}" "$verdict" > "$out/$name.line"
}

running=0
while IFS=$'\t' read -r name cmd; do
  IFS=$'\t' read -r -a argv <<< "$cmd"
  run_one "$name" "${argv[@]}" &
  running=$((running + 1))
  if [ "$running" -ge "$jobs" ]; then
    wait -n
    running=$((running - 1))
  fi
done < "$out/commands"
wait

status=0
echo "fuzz budget: ${seconds} s per target"
while IFS=$'\t' read -r name _; do
  if [ -f "$out/$name.line" ]; then
    cat "$out/$name.line"
    grep -q ', no crash$' "$out/$name.line" || status=1
  else
    echo "$name: did not run"; status=1
  fi
done < "$out/commands"
exit $status
