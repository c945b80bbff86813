#!/usr/bin/env bash
# usage: test_deb_package.sh BUILD_DIR ARTIFACT_DIR
# Builds the .deb with CPack, runs lintian on it, unpacks it with dpkg-deb -x into a temporary
# root and runs the INSTALLED programs from there with the TINYML_* variables unset: an
# installed program finds its boards, agents and examples next to itself, so nothing here
# reads the source or build tree. The .deb, lintian's report and the screenshot of the
# installed GUI stay in ARTIFACT_DIR.
set -euo pipefail

build=$(cd "$1" && pwd)
artifacts=$2
mkdir -p "$artifacts"
work=$(mktemp -d "${TMPDIR:-/tmp}/tinyml-deb-test.XXXXXX")
trap 'rm -rf "$work"' EXIT

fail() { echo "FAIL: $*" >&2; exit 1; }
step() { echo "== $*"; }
json() { /usr/bin/python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2], {'d': d}))" "$@"; }

step "cpack -G DEB"
rm -rf "$artifacts/package"
cpack -G DEB --config "$build/CPackConfig.cmake" -B "$artifacts/package" > "$work/cpack.log" 2>&1 \
  || { cat "$work/cpack.log"; fail "cpack failed"; }
debs=("$artifacts"/package/tinyml-workbench_*.deb)
[ ${#debs[@]} -eq 1 ] && [ -f "${debs[0]}" ] || fail "expected one tinyml-workbench_*.deb, got: ${debs[*]}"
deb=${debs[0]}
echo "package: $deb ($(stat -c %s "$deb") bytes)"

step "control fields"
dpkg-deb --field "$deb" Package Version Section Maintainer Depends > "$work/control"
cat "$work/control"
grep -q '^Package: tinyml-workbench$' "$work/control" || fail "package name"
grep -q '^Section: electronics$' "$work/control" || fail "section"
depends=$(dpkg-deb --field "$deb" Depends)
for dep in qemu-system-arm libqt6sql6-sqlite libqt6svg6 libqt6widgets6 libqt6serialport6 libc6; do
  # the Qt and C libraries come from dpkg-shlibdeps, the others are declared
  echo "$depends" | tr ',' '\n' | sed 's/^ *//' | grep -q "^$dep\b" || fail "Depends lacks $dep: $depends"
done

step "contents"
dpkg-deb -c "$deb" | awk '{print $1, $6}' > "$work/contents"
expect_file() {  # MODE PATH
  grep -q "^$1 \./$2$" "$work/contents" || fail "package lacks $2 with mode $1 (has: $(grep "$2" "$work/contents" || echo nothing))"
}
expect_file -rwxr-xr-x usr/bin/tinyml
expect_file -rwxr-xr-x usr/bin/tinyml-workbench
expect_file -rwxr-xr-x usr/lib/tinyml-workbench/agent/tinyml-agent-host
expect_file -rw-r--r-- usr/lib/tinyml-workbench/agent/qemu-mps2-an386/tinyml-agent.elf
expect_file -rw-r--r-- usr/lib/tinyml-workbench/agent/qemu-mps2-an500/tinyml-agent.elf
expect_file -rw-r--r-- usr/lib/tinyml-workbench/agent/libtinyml_cycles.so
expect_file -rw-r--r-- usr/share/tinyml-workbench/boards/qemu-m4.json
expect_file -rw-r--r-- usr/share/tinyml-workbench/examples/motion/example.json
expect_file -rw-r--r-- usr/share/applications/tinyml-workbench.desktop
expect_file -rw-r--r-- usr/share/mime/packages/tinyml-workbench.xml
expect_file -rw-r--r-- usr/share/metainfo/org.tinymlworkbench.Workbench.metainfo.xml
for size in 16 32 48 64 128 256; do
  expect_file -rw-r--r-- "usr/share/icons/hicolor/${size}x${size}/apps/tinyml-workbench.png"
done
expect_file -rw-r--r-- usr/share/icons/hicolor/scalable/apps/tinyml-workbench.svg
expect_file -rw-r--r-- usr/share/man/man1/tinyml.1.gz
expect_file -rw-r--r-- usr/share/man/man1/tinyml-workbench.1.gz
expect_file -rw-r--r-- usr/share/doc/tinyml-workbench/copyright
expect_file -rw-r--r-- usr/share/doc/tinyml-workbench/changelog.Debian.gz
if grep -q '^d' "$work/contents" && grep '^d' "$work/contents" | grep -vq '^drwxr-xr-x '; then
  fail "directories with modes other than 755: $(grep '^d' "$work/contents" | grep -v '^drwxr-xr-x ')"
fi

step "lintian"
# As root lintian only warns that it should not be; errors make it exit non-zero.
set +e
lintian --fail-on error --display-info "$deb" > "$artifacts/lintian.txt" 2>&1
lintian_rc=$?
set -e
cat "$artifacts/lintian.txt"
[ $lintian_rc -eq 0 ] || fail "lintian reports errors (exit $lintian_rc)"
! grep -q '^E: ' "$artifacts/lintian.txt" || fail "lintian reports errors"

step "dpkg-deb -x"
root=$work/root
dpkg-deb -x "$deb" "$root"
T=$root/usr/bin/tinyml
W=$root/usr/bin/tinyml-workbench
[ -x "$T" ] && [ -x "$W" ] || fail "programs not executable after unpacking"
# No RUNPATH into the build tree may survive installation ($ORIGIN-relative entries may).
for prog in "$T" "$W"; do
  runpath=$(readelf -d "$prog" | sed -n 's/.*R\(UN\)\?PATH.*\[\(.*\)\]/\2/p')
  for entry in ${runpath//:/ }; do
    case $entry in '$ORIGIN'*) ;; *) fail "$prog has RUNPATH entry $entry" ;; esac
  done
done

# A fresh user: own home, settings and data folders; no TINYML_* overrides.
unset TINYML_BOARDS_DIR TINYML_AGENT_DIR TINYML_EXAMPLES_DIR
export HOME=$work/home XDG_CONFIG_HOME=$work/home/.config XDG_DATA_HOME=$work/home/.local/share \
       XDG_CACHE_HOME=$work/home/.cache XDG_RUNTIME_DIR=$work/runtime
mkdir -p "$HOME" "$XDG_RUNTIME_DIR" && chmod 700 "$XDG_RUNTIME_DIR"

step "installed tinyml finds its own boards"
"$T" boards --json > "$work/boards.json"
[ "$(json "$work/boards.json" "d['directory']")" = "$root/usr/share/tinyml-workbench/boards" ] \
  || fail "boards read from $(json "$work/boards.json" "d['directory']"), not from the package"

step "new --example motion"
P=$work/projects/motion.tinyml
"$T" new "$P" --example motion --json > "$work/new.json"
cat "$work/new.json"; echo
shipped=$(find "$root/usr/share/tinyml-workbench/examples/motion/data" -name '*.csv' | wc -l)
[ "$shipped" -ge 20 ] || fail "the example ships only $shipped CSV files"
[ "$(json "$work/new.json" "d['samples']")" = "$shipped" ] || fail "example project has $(json "$work/new.json" "d['samples']") samples, the package $shipped files"
[ "$(json "$work/new.json" "d['splits']['test'] > 0")" = True ] || fail "no test samples"

step "capture on the virtual Cortex-M4 (QEMU)"
"$T" capture "$P" --board qemu-m4 --label shake --scenario shake --count 2 --json > "$work/capture.json"
cat "$work/capture.json"; echo
[ "$(json "$work/capture.json" "len(d['sample_ids'])")" = 2 ] || fail "capture stored no 2 samples"
"$T" info "$P" --json > "$work/info.json"
[ "$(json "$work/info.json" "d['samples']")" = $((shipped + 2)) ] || fail "project holds $(json "$work/info.json" "d['samples']") samples"

step "train"
"$T" train "$P" --epochs 30 --seed 1 --json > "$work/train.json"
/usr/bin/python3 - "$work/train.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
print({k: d[k] for k in d if not isinstance(d[k], (list, dict))})
acc = d["float_accuracy"]
print("float test accuracy", acc)
# 4 classes: chance is 0.25; the simulated gestures are well apart.
assert acc > 0.5, f"test accuracy {acc} on the motion example is no better than chance"
PY

step "quantize"
"$T" quantize "$P" --json > "$work/quantize.json"
/usr/bin/python3 - "$work/quantize.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
print({k: d[k] for k in d if not isinstance(d[k], (list, dict))})
assert d["int8_accuracy"] > 0.5, f"int8 test accuracy {d['int8_accuracy']}"
assert d["split"] == "test", f"accuracies measured on {d.get('split')!r}, expected the test split"
PY

step "profile on the virtual Cortex-M4"
"$T" --help > "$work/help.txt" 2>&1 || true
grep -qE '^\s+profile\b' "$work/help.txt" || fail "this tinyml has no profile command"
"$T" profile "$P" --board qemu-m4 --json > "$work/profile.json"
/usr/bin/python3 - "$work/profile.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
print({k: d[k] for k in d if not isinstance(d[k], (list, dict))})
assert d["board"] == "qemu-m4"
assert d["counter"] == "instructions", "the virtual board counts instructions, not cycles"
assert d["energy_estimated"] is True
assert d["latency_ms"]["median"] > 0
assert d["device_accuracy"] > 0.5, f"on-device accuracy {d['device_accuracy']}"
PY

step "an installed program never falls back to the build tree"
mv "$root/usr/lib/tinyml-workbench/agent/qemu-mps2-an500/tinyml-agent.elf" "$work/an500.elf"
if "$T" capture "$P" --board qemu-m7 --label idle --scenario idle --json > "$work/m7.out" 2> "$work/m7.err"; then
  fail "capture on qemu-m7 worked without the packaged agent image: it used another copy"
fi
grep -q "$root/usr/lib/tinyml-workbench/agent" "$work/m7.err" || fail "unexpected error: $(cat "$work/m7.err")"
mv "$work/an500.elf" "$root/usr/lib/tinyml-workbench/agent/qemu-mps2-an500/tinyml-agent.elf"

step "without QEMU the user is told how to get it"
mkdir -p "$work/noqemu"
if PATH=$work/noqemu "$T" capture "$P" --board qemu-m4 --label idle --json > /dev/null 2> "$work/noqemu.err"; then
  fail "capture worked without qemu-system-arm on PATH"
fi
cat "$work/noqemu.err"
grep -q "sudo apt-get install qemu-system-arm" "$work/noqemu.err" || fail "no install hint for QEMU"

step "installed GUI, offscreen: welcome screen"
shot=$artifacts/welcome-installed.png
rm -f "$shot"
QT_QPA_PLATFORM=offscreen timeout 60 "$W" --screenshot "$shot"
[ -s "$shot" ] || fail "no screenshot written"
file "$shot" | grep -q 'PNG image data, 1280 x 800' || fail "screenshot: $(file "$shot")"
echo "screenshot: $shot"

step "installed GUI, offscreen: Open example lands on the Dataset page"
shot2=$artifacts/example-dataset-installed.png
rm -f "$shot2"
QT_QPA_PLATFORM=offscreen timeout 60 "$W" --open-example "$work/projects/gui-example.tinyml" --screenshot "$shot2"
[ -s "$shot2" ] || fail "no screenshot of the example written"
"$T" info "$work/projects/gui-example.tinyml" --json > "$work/gui-info.json"
[ "$(json "$work/gui-info.json" "d['samples']")" = "$shipped" ] || fail "the GUI's example copy holds $(json "$work/gui-info.json" "d['samples']") samples"
echo "screenshot: $shot2"

step "installed GUI without QEMU: the acquisition page says how to get it"
shot3=$artifacts/no-qemu-installed.png
rm -f "$shot3"
QT_QPA_PLATFORM=offscreen timeout 60 env PATH="$work/noqemu" "$W" "$work/projects/gui-example.tinyml" \
  --screenshot "$shot3" 2> "$work/gui-noqemu.err" || fail "GUI without QEMU: $(grep -v QCP "$work/gui-noqemu.err" | tail -3)"
[ -s "$shot3" ] || fail "no screenshot without QEMU written"
echo "screenshot: $shot3"

echo "PASS"
