#!/usr/bin/env python3
"""Overhead of the cycle-model plugin (firmware-agent/qemu-plugin): wall time of QEMU running
kernel-bench.elf (920 M guest instructions, most of them in the DS-CNN layer and whole-model
rows) with and without the plugin, best of --repeat runs each. Target (issue #15): <= 2x.

  python3 tests/bench/cycles_overhead.py [--build build] [--repeat 3]
"""
import argparse
import os
import subprocess
import sys
import tempfile
import time


def best_time(cmd, repeat):
    best = None
    for _ in range(repeat):
        t0 = time.monotonic()
        p = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                           stderr=subprocess.PIPE, text=True)
        dt = time.monotonic() - t0
        if p.returncode != 0:
            sys.exit("failed (exit %d): %s\n%s" % (p.returncode, " ".join(cmd), p.stderr))
        best = dt if best is None else min(best, dt)
    return best


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(os.path.dirname(__file__), "..", "..", "build"))
    ap.add_argument("--qemu", default="qemu-system-arm")
    ap.add_argument("--repeat", type=int, default=3)
    a = ap.parse_args()
    elf = os.path.join(a.build, "firmware-agent/images/qemu-mps2-an386/kernel-bench.elf")
    plugin = os.path.join(a.build, "firmware-agent/qemu-plugin/libtinyml_cycles.so")
    for f in (elf, plugin):
        if not os.path.exists(f):
            sys.exit("%s missing: build the project first" % f)
    base = [a.qemu, "-M", "mps2-an386", "-nographic", "-monitor", "none", "-icount",
            "shift=0,sleep=off", "-semihosting-config", "enable=on,target=native", "-kernel", elf]
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "c.txt")
        t0 = best_time(base, a.repeat)
        print("kernel-bench.elf on qemu-mps2-an386, best of %d runs" % a.repeat)
        print("%-44s %7.2f s" % ("without the plugin", t0))
        worst = 0.0
        for args in ("core=m4", "core=m4,branches=static", "core=m4,ws=1", "core=m7"):
            t = best_time(base + ["-plugin", "%s,%s,out=%s" % (plugin, args, out)], a.repeat)
            worst = max(worst, t / t0) if args == "core=m4" else worst
            print("%-44s %7.2f s  ratio %.2f" % ("with the plugin, " + args, t, t / t0))
    print("default configuration (core=m4, exact branches): ratio %.2f (target <= 2)" % worst)
    return 0 if worst <= 2.0 else 1


if __name__ == "__main__":
    sys.exit(main())
