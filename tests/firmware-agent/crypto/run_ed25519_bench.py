#!/usr/bin/env python3
"""Runs ed25519-bench.elf (firmware-agent/crypto/bench) on qemu-mps2-an386 under the
cycle-model plugin and prints its table with estimated Cortex-M4 cycles per row.

Fails when the guest reports a failed check (an RFC 8032 vector refused, a modified input
accepted, a signature other than RFC 8032's, a wrong SHA-512 digest), when QEMU exits non-zero, when the plugin's instruction
count of a row differs from the guest's TIMER0 count by more than the timer's resolution,
or when one verification costs more than --max-verify-instructions (one signature more than
--max-sign-instructions) or its stack more than
--max-stack-bytes (regression guards; firmware-agent/crypto/README.md has the current numbers).

    run_ed25519_bench.py --qemu qemu-system-arm --plugin libtinyml_cycles.so --elf ed25519-bench.elf
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile

ROW = re.compile(r"^(?P<label>.*?): (?P<instr>\d+) instructions.*\[(?P<m0>\d+) (?P<m1>\d+)\]")
STACK = re.compile(r"^stack: (?P<bytes>\d+) bytes")
OVERHEAD = re.compile(r"^timer read overhead (?P<instr>\d+) \[(?P<m0>\d+) (?P<m1>\d+)\]")


def user_marks(path):
    marks = []
    with open(path) as f:
        for line in f:
            tok = line.split()
            if not tok or tok[0] != "mark":
                continue
            kv = dict(t.split("=", 1) for t in tok[1:] if "=" in t)
            if kv.get("kind") == "user":
                marks.append((int(kv["cycles"]), int(kv["insns"])))
    return marks


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--qemu", required=True)
    ap.add_argument("--plugin", required=True)
    ap.add_argument("--elf", required=True)
    ap.add_argument("--max-verify-instructions", type=int, default=2000000)
    ap.add_argument("--max-stack-bytes", type=int, default=4096)
    ap.add_argument("--max-sign-instructions", type=int, default=1600000)
    a = ap.parse_args()

    failures = []
    with tempfile.TemporaryDirectory() as tmp:
        side = os.path.join(tmp, "cycles.txt")
        cmd = [a.qemu, "-M", "mps2-an386", "-nographic", "-monitor", "none",
               "-icount", "shift=0,sleep=off", "-semihosting-config", "enable=on,target=native",
               "-kernel", a.elf, "-plugin", "%s,core=m4,ws=0,out=%s" % (a.plugin, side)]
        p = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True, timeout=100)
        marks = user_marks(side)
    # Semihosting output (target=native) arrives on QEMU's stderr.
    out = [l for l in (p.stdout + p.stderr).splitlines() if l.strip()]
    if p.returncode != 0:
        failures.append("QEMU exit status %d" % p.returncode)
    if not out or out[-1].strip() != "ed25519-bench: all checks passed":
        failures.append("the guest did not report success")

    base_cycles = base_insns = 0
    for line in out:
        m = OVERHEAD.match(line)
        if m and int(m["m1"]) < len(marks):
            base_cycles = marks[int(m["m1"])][0] - marks[int(m["m0"])][0]
            base_insns = marks[int(m["m1"])][1] - marks[int(m["m0"])][1]
    stack_seen = False
    for line in out:
        m = STACK.match(line)
        if m:
            stack_seen = True
            if int(m["bytes"]) > a.max_stack_bytes:
                failures.append("verification uses %s bytes of stack, over the budget of %d"
                                % (m["bytes"], a.max_stack_bytes))
    if not stack_seen:
        failures.append("the guest printed no stack measurement")
    for line in out:
        m = ROW.match(line)
        if not m:
            print(line)
            continue
        m0, m1, instr = int(m["m0"]), int(m["m1"]), int(m["instr"])
        if m1 >= len(marks):
            failures.append("%s: mark %d missing from the plugin's side channel" % (m["label"], m1))
            print(line)
            continue
        cycles = marks[m1][0] - marks[m0][0] - base_cycles
        insns = marks[m1][1] - marks[m0][1] - base_insns
        print("%s | plugin: %d instructions, %d estimated Cortex-M4 cycles (%.2f CPI)"
              % (line, insns, cycles, cycles / max(insns, 1)))
        if abs(insns - instr) > 80:
            failures.append("%s: plugin counts %d instructions, the guest's timer %d"
                            % (m["label"], insns, instr))
        if m["label"].startswith("sign") and instr > a.max_sign_instructions:
            failures.append("%s: %d instructions, over the budget of %d"
                            % (m["label"], instr, a.max_sign_instructions))
        if m["label"].startswith("verify") and instr > a.max_verify_instructions:
            failures.append("%s: %d instructions, over the budget of %d"
                            % (m["label"], instr, a.max_verify_instructions))
    for f in failures:
        print("FAIL:", f)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
