#!/usr/bin/env python3
"""kernel-bench with estimated cycles: runs kernel-bench.elf on QEMU's mps2-an386 under the
cycle-model plugin (firmware-agent/qemu-plugin) and prints the guest's table with estimated
Cortex-M4 cycles, cycles per MAC and cycles per instruction added to every row.

The guest marks every TIMER0 read and prints, after each row, the marks of the loops it timed
(bench_marks.h); the plugin's side channel gives the estimated cycles and instructions at each
mark, and this script applies the guest's own per-run formula to them.

  kernel_bench_cycles.py --qemu qemu-system-arm --plugin libtinyml_cycles.so --elf kernel-bench.elf
      [--core m4] [--ws 0] [--check]

--check (ctest cycles_kernel_bench_icount) also runs the image without the plugin and fails
unless (1) the guest prints the same table with and without the plugin, and (2) for every row
the plugin's instruction count per run equals the guest's icount-based count within the
TIMER0 resolution (40 instructions per tick, divided by the repetitions).
"""
import argparse
import os
import subprocess
import sys
import tempfile
import time


def run(qemu, elf, plugin_arg):
    cmd = [qemu, "-M", "mps2-an386", "-nographic", "-monitor", "none", "-icount", "shift=0,sleep=off",
           "-semihosting-config", "enable=on,target=native", "-kernel", elf]
    if plugin_arg:
        cmd += ["-plugin", plugin_arg]
    t0 = time.monotonic()
    p = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       text=True, timeout=600)
    return p, time.monotonic() - t0


def side_channel(path):
    header, marks, total = {}, [], {}
    with open(path) as f:
        for line in f:
            tok = line.split()
            kv = dict(t.split("=", 1) for t in tok[1:] if "=" in t)
            if tok and tok[0] == "tinyml-cycles":
                header = kv
            elif tok and tok[0] == "mark" and kv.get("kind") == "user":
                marks.append(kv)
            elif tok and tok[0] == "total":
                total = kv
    return header, marks, total


def per_run(marks, recipe, key):
    """recipe: m0 m1 b0 b1 reps (b0/b1 '-' when nothing is subtracted)."""
    m0, m1, b0, b1, reps = recipe
    reps = int(reps)
    v = int(marks[int(m1)][key]) - int(marks[int(m0)][key])
    b = 0 if b0 == "-" else int(marks[int(b1)][key]) - int(marks[int(b0)][key])
    return (v - b + reps // 2) // reps if v > b else 0, reps, b0 != "-"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--qemu", required=True)
    ap.add_argument("--plugin", required=True)
    ap.add_argument("--elf", required=True)
    ap.add_argument("--core", default="m4")
    ap.add_argument("--ws", default="0")
    ap.add_argument("--check", action="store_true")
    a = ap.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "cycles.txt")
        p, secs = run(a.qemu, a.elf, "%s,core=%s,ws=%s,out=%s" % (a.plugin, a.core, a.ws, out))
        if p.returncode != 0:
            sys.stderr.write(p.stdout + p.stderr)
            print("kernel-bench with the plugin failed (exit %d)" % p.returncode)
            return 1
        header, marks, total = side_channel(out)
    guest = (p.stdout + p.stderr).splitlines()

    failures = []
    rows = []   # (line, recipes) for the table
    pending = None
    for line in guest:
        if line.startswith("#cycles"):
            tok = line.split()
            ref, opt = tok[2:7], tok[8:13]
            if pending is None or tok[1] != "ref" or tok[7] != "opt":
                failures.append("recipe line without a row: " + line)
                continue
            rows[-1] = (pending, (ref, opt))
            pending = None
        else:
            rows.append((line, None))
            pending = line

    model = header.get("model", "?")
    wait = "zero wait states" if a.ws == "0" else "%s flash wait states" % a.ws
    extra_header = "   cycles (ref)   cycles (opt)  cyc/MAC ref  cyc/MAC opt  cyc/instr opt"
    for line, recipes in rows:
        if line.startswith("layer") and "instr (ref)" in line:
            print(line + extra_header)
            continue
        if recipes is None:
            print(line)
            if line.startswith("kernel-bench: int8 kernels"):
                print("estimated cycles: %s timing model (%s), %s; an estimate from QEMU's "
                      "instruction stream, not a measurement on silicon" %
                      ("Cortex-M7" if a.core == "m7" else "Cortex-M4", model, wait))
            continue
        name = line[:40].rstrip()
        cols = line[40:].split()
        macs, guest_ref, guest_opt = int(cols[0]), int(cols[1]), int(cols[2])
        cyc = []
        for which, recipe, guest_instr in (("ref", recipes[0], guest_ref), ("opt", recipes[1], guest_opt)):
            c, reps, subtracted = per_run(marks, recipe, "cycles")
            n, _, _ = per_run(marks, recipe, "insns")
            cyc.append((c, n))
            # TIMER0 ticks every 40 instructions: each timed loop is off by < 40, the
            # subtracted one too, and the per-run rounding by 1.
            bound = (80 if subtracted else 40) // reps + 1
            if abs(n - guest_instr) > bound:
                failures.append("%s %s: plugin %d instructions per run, guest (icount) %d, bound %d"
                                % (name, which, n, guest_instr, bound))
        (cref, nref), (copt, nopt) = cyc
        per_mac = lambda c: "%13.2f" % (c / macs) if macs > 0 else "%13s" % "-"
        cpi = "%15.2f" % (copt / nopt) if nopt else "%15s" % "-"
        print("%s%15d%15d%s%s%s" % (line, cref, copt, per_mac(cref), per_mac(copt), cpi))
    print("cycle model: %s; whole run %s estimated cycles for %s instructions (%.3f per instruction), "
          "bounds %s..%s; QEMU with the plugin %.1f s" % (
              model, total.get("cycles"), total.get("insns"),
              int(total.get("cycles", 0)) / max(1, int(total.get("insns", 1))),
              total.get("low"), total.get("high"), secs))
    if total.get("unknown") != "0":
        failures.append("the plugin met %s unknown instructions" % total.get("unknown"))

    if a.check:
        q, secs0 = run(a.qemu, a.elf, None)
        if q.returncode != 0:
            failures.append("kernel-bench without the plugin failed (exit %d)" % q.returncode)
        elif (q.stdout + q.stderr).splitlines() != guest:
            failures.append("the guest's output differs with and without the plugin")
        print("without the plugin %.1f s, with %.1f s: ratio %.2f" % (secs0, secs, secs / secs0))
        for f in failures:
            print("FAIL: " + f)
        print("%d failure(s)" % len(failures) if failures else "all checks passed")
    elif failures:
        for f in failures:
            print("FAIL: " + f)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
