#!/usr/bin/env python3
"""Validation of the cycle model (firmware-agent/qemu-plugin), run by ctest.

  test_cycles.py microbench --qemu Q --plugin SO --elf cycles-bench.elf --source cycles_bench.S --objdump OD
      Runs the microbenchmarks under the plugin and compares every interval with the count
      worked out by hand in cycles_bench.S ("@ BENCH" lines): cycles and instructions exact,
      low/high bounds where the model is not exact. Also: the whole-run total equals the last
      mark plus the hand-counted tail (the total is the sum of its parts), flash wait states
      (ws=2) on three benchmarks, the Cortex-M7 model runs, and bad plugin arguments fail.
  test_cycles.py decoder --classify TOOL --objdump OD ELF...
      Decodes every instruction objdump lists in the ELF files with the plugin's decoder:
      no instruction may be unknown, and each class must agree with objdump's mnemonic.

Fails (exit 1) on any mismatch; never skips.
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile

FAILURES = []


def fail(msg):
    FAILURES.append(msg)
    print("FAIL: " + msg)


def parse_kv(tokens):
    out = {}
    for t in tokens:
        k, _, v = t.partition("=")
        out[k] = v
    return out


def read_side_channel(path):
    header, marks, total = None, [], None
    with open(path) as f:
        for n, line in enumerate(f, 1):
            tok = line.split()
            if not tok:
                continue
            if tok[0] == "tinyml-cycles":
                header = parse_kv(tok[1:])
            elif tok[0] == "mark":
                marks.append(parse_kv(tok[1:]))
            elif tok[0] == "total":
                total = parse_kv(tok[1:])
            elif tok[0] == "unknown":
                fail("%s:%d: the plugin met an unknown instruction: %s" % (path, n, line.strip()))
    if header is None or total is None:
        fail("%s: no header or no total line" % path)
    return header, marks, total


def run_qemu(qemu, machine, elf, plugin_args, timeout=120):
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "cycles.txt")
        cmd = [qemu, "-M", machine, "-nographic", "-monitor", "none", "-icount", "shift=0,sleep=off",
               "-semihosting-config", "enable=on,target=native", "-kernel", elf]
        if plugin_args is not None:
            cmd += ["-plugin", plugin_args + ",out=" + out]
        p = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=timeout, text=True)
        side = read_side_channel(out) if plugin_args is not None and p.returncode == 0 else None
        return p, side


def expectations(source):
    benches, tail = [], None
    with open(source) as f:
        for n, line in enumerate(f, 1):
            tok = line.split()
            if len(tok) >= 3 and tok[0] == "@" and tok[1] == "BENCH":
                e = parse_kv(tok[3:])
                e["name"], e["line"] = tok[2], n
                benches.append(e)
            elif len(tok) >= 2 and tok[0] == "@" and tok[1] == "TAIL":
                tail = parse_kv(tok[2:])
    return benches, tail


def intervals(marks):
    return [{k: int(b[k]) - int(a[k]) for k in ("cycles", "insns", "low", "high")}
            for a, b in zip(marks, marks[1:])]


def microbench(a):
    benches, tail = expectations(a.source)
    if not benches or tail is None:
        fail("%s: no '@ BENCH' or '@ TAIL' lines" % a.source)
        return
    # The hand counts assume every marker call is word aligned (README: refill alignment).
    dis = subprocess.run([a.objdump, "-d", a.elf], stdout=subprocess.PIPE, text=True, check=True).stdout
    for m in re.finditer(r"^\s*([0-9a-f]+):\s+[0-9a-f]{4} [0-9a-f]{4}\s+bl\s+\S+ <tm_cycle_mark_user>",
                         dis, re.M):
        if int(m.group(1), 16) % 4:
            fail("bl tm_cycle_mark_user at 0x%s is not word aligned: the hand counts assume it"
                 % m.group(1))

    p, _ = run_qemu(a.qemu, "mps2-an386", a.elf, None)
    if p.returncode != 0:
        fail("cycles-bench.elf without the plugin: exit %d: %s" % (p.returncode, p.stderr))

    p, side = run_qemu(a.qemu, "mps2-an386", a.elf, a.plugin + ",core=m4")
    if p.returncode != 0 or side is None:
        fail("cycles-bench.elf with the plugin: exit %d: %s" % (p.returncode, p.stderr))
        return
    header, marks, total = side
    if header.get("core") != "m4" or header.get("ws") != "0":
        fail("header: %s" % header)
    if len(marks) != len(benches) + 1:
        fail("%d marks for %d benchmarks (expected %d)" % (len(marks), len(benches), len(benches) + 1))
        return
    print("%-20s %8s %8s %8s %8s   %s" % ("benchmark", "cycles", "expected", "insns", "expected", "bounds"))
    for e, got in zip(benches, intervals(marks)):
        want = {"cycles": int(e["cycles"]), "insns": int(e["insns"])}
        want["low"] = int(e.get("low", e["cycles"]))
        want["high"] = int(e.get("high", e["cycles"]))
        print("%-20s %8d %8d %8d %8d   %d..%d (expected %d..%d)" % (
            e["name"], got["cycles"], want["cycles"], got["insns"], want["insns"],
            got["low"], got["high"], want["low"], want["high"]))
        for k in ("cycles", "insns", "low", "high"):
            if got[k] != want[k]:
                fail("%s (cycles_bench.S:%d): %s = %d, worked out by hand: %d"
                     % (e["name"], e["line"], k, got[k], want[k]))
    # The whole run is the sum of its parts: start..first mark, the intervals, last mark..exit.
    parts = int(marks[0]["cycles"]) + sum(i["cycles"] for i in intervals(marks)) + int(tail["cycles"])
    if int(total["cycles"]) != parts:
        fail("total cycles %s != first mark + intervals + tail = %d" % (total["cycles"], parts))
    if int(total["insns"]) != int(marks[-1]["insns"]) + int(tail["insns"]):
        fail("total insns %s != last mark %s + tail %s" % (total["insns"], marks[-1]["insns"], tail["insns"]))
    if int(total["high"]) != int(marks[-1]["high"]) + int(tail.get("high", tail["cycles"])):
        fail("total high %s != last mark high %s + tail %s" % (total["high"], marks[-1]["high"], tail.get("high")))
    for k in ("unknown", "exceptions"):
        if total.get(k) != "0":
            fail("total %s=%s, expected 0" % (k, total.get(k)))

    # Flash wait states: ws per 32-bit fetch and per load from flash (code SSRAM at 0).
    #   empty: marker block (1 word) + the block holding the next bl (1 word): 5 + 2*2 = 9
    #   ldr_pipelined: 3 words of code + 1 of the marker: 10 + 4*2 = 18
    #   ldr_literal: 2 words + 1 word + one literal load from flash: 8 + 3*2 + 2 = 16
    p, side = run_qemu(a.qemu, "mps2-an386", a.elf, a.plugin + ",core=m4,ws=2")
    if p.returncode != 0 or side is None:
        fail("ws=2: exit %d: %s" % (p.returncode, p.stderr))
    else:
        got = {e["name"]: i["cycles"] for e, i in zip(benches, intervals(side[1]))}
        for name, want in (("empty", 9), ("ldr_pipelined", 18), ("ldr_literal", 16)):
            print("ws=2 %-15s %4d cycles (expected %d)" % (name, got.get(name, -1), want))
            if got.get(name) != want:
                fail("ws=2 %s: %s cycles, expected %d" % (name, got.get(name), want))
        if side[2].get("flash_loads") != "4":
            fail("ws=2: flash_loads=%s, expected 4 (literal loads: 2 in reset, 1 in "
                 "ldr_literal, 1 in the tail)" % side[2].get("flash_loads"))

    # Cortex-M7 (rough model): runs, same instructions, never more cycles than the M4 model
    # on this code (dual issue, single-cycle loads).
    p, side = run_qemu(a.qemu, "mps2-an500", a.elf, a.plugin + ",core=m7")
    if p.returncode != 0 or side is None:
        fail("core=m7: exit %d: %s" % (p.returncode, p.stderr))
    else:
        if side[2]["insns"] != total["insns"] or int(side[2]["cycles"]) > int(total["cycles"]):
            fail("core=m7 total %s vs m4 %s" % (side[2], total))
        print("core=m7: %s cycles, %s instructions (m4: %s)" % (side[2]["cycles"], side[2]["insns"],
                                                              total["cycles"]))

    # Bad arguments: QEMU refuses to start and the message names the argument.
    for bad, word in (("core=m9", "core=m9"), ("ws=x", "ws=x"), ("colour=red", "colour")):
        p, _ = run_qemu(a.qemu, "mps2-an386", a.elf, a.plugin + "," + bad)
        if p.returncode == 0 or word not in p.stderr:
            fail("plugin argument %s: exit %d, stderr %r" % (bad, p.returncode, p.stderr[-300:]))


CONDS = ("eq", "ne", "cs", "hs", "cc", "lo", "mi", "pl", "vs", "vc", "hi", "ls", "ge", "lt", "gt", "le", "al")

CLASSES = {}
for names, classes in (
    ("adc add addw adr and asr bfc bfi bic clz cmn cmp cpy eor lsl lsr mov movt movw mvn neg orn "
     "orr rbit rev rev16 revsh ror rrx rsb sbc sbfx ssat ssat16 sub subw sxtb sxth sxtab sxtah "
     "sxtb16 sxtab16 teq tst ubfx usat usat16 uxtb uxth uxtab uxtah uxtb16 uxtab16 sel sadd16 "
     "sadd8 ssub16 ssub8 sasx ssax qadd qsub qadd16 qadd8 qsub16 qsub8 qasx qsax qdadd qdsub "
     "shadd16 shadd8 shsub16 shsub8 shasx shsax uadd16 uadd8 usub16 usub8 uasx usax uqadd16 "
     "uqadd8 uqsub16 uqsub8 uqasx uqsax uhadd16 uhadd8 uhsub16 uhsub8 uhasx uhsax pkhbt pkhtb",
     {"alu"}),
    ("mul smulbb smulbt smultb smultt smlabb smlabt smlatb smlatt smlad smladx smlsd smlsdx "
     "smuad smuadx smusd smusdx smmul smmulr smmla smmlar smmls smmlsr smulwb smulwt smlawb "
     "smlawt smull umull smlal umlal smlalbb smlalbt smlaltb smlaltt smlald smlaldx smlsld "
     "smlsldx umaal usad8 usada8", {"mul"}),
    ("mla mls", {"mla"}),
    ("sdiv udiv", {"div"}),
    ("ldr ldrb ldrh ldrsb ldrsh ldrex ldrexb ldrexh ldrt ldrbt ldrht ldrsbt ldrsht", {"load"}),
    ("str strb strh strex strexb strexh strt strbt strht", {"store"}),
    ("ldrd", {"load_dual"}), ("strd", {"store_dual"}),
    ("ldm ldmia ldmfd ldmdb ldmea pop", {"load_multi"}),
    ("stm stmia stmea stmdb stmfd push", {"store_multi"}),
    ("b", {"branch", "branch_cond"}), ("bl", {"branch"}), ("cbz cbnz", {"branch_cond"}),
    ("bx blx", {"branch_ind"}), ("tbb tbh", {"table_branch"}),
    ("nop yield wfe wfi sev pld pli", {"hint"}),
    ("dmb dsb isb clrex", {"barrier"}),
    ("mrs msr cpsid cpsie svc bkpt udf", {"system"}),
    ("vadd vsub vmul vnmul vabs vneg vcmp vcmpe vcvt vcvtb vcvtt vcvtr vsel vmaxnm vminnm "
     "vrinta vrintn vrintp vrintm vrintr vrintx vrintz vcvta vcvtn vcvtp vcvtm", {"vfp_alu"}),
    ("vmla vmls vnmla vnmls vfma vfms vfnma vfnms", {"vfp_mac"}),
    ("vdiv vsqrt", {"vfp_div"}),
    ("vldr", {"vfp_load"}), ("vstr", {"vfp_store"}),
    ("vldm vldmia vldmdb vpop", {"vfp_load_multi"}), ("vstm vstmia vstmdb vpush", {"vfp_store_multi"}),
    ("vmov", {"vfp_alu", "vfp_xfer", "vfp_xfer2"}), ("vmrs vmsr", {"vfp_xfer"}),
):
    for n in names.split():
        CLASSES[n] = classes


def expected_classes(mnemonic):
    m = mnemonic.split(".")[0]
    if re.fullmatch(r"it[te]{0,3}", m):
        return {"it"}
    strip_cond = lambda s: s[:-2] if len(s) > 2 and s[-2:] in CONDS else s
    strip_s = lambda s: s[:-1] if len(s) > 1 and s.endswith("s") else s
    for cand in (m, strip_cond(m), strip_s(strip_cond(m)), strip_s(m)):
        if cand in CLASSES:
            return CLASSES[cand]
    return None


LINE = re.compile(r"^\s*([0-9a-f]+):\t([0-9a-f]{4})(?: ([0-9a-f]{4}))?\s*\t(\S+)")


def decoder(a):
    for elf in a.elf:
        dis = subprocess.run([a.objdump, "-d", elf], stdout=subprocess.PIPE, text=True, check=True).stdout
        insns = []
        for line in dis.splitlines():
            m = LINE.match(line)
            if m and not m.group(4).startswith("."):
                insns.append((m.group(1), m.group(2), m.group(3), m.group(4)))
        if not insns:
            fail("%s: objdump listed no instructions" % elf)
            continue
        feed = "".join("%s %s %s\n" % (ad, h1, h2 or "") for ad, h1, h2, _ in insns)
        p = subprocess.run([a.classify], input=feed, stdout=subprocess.PIPE, text=True, check=True)
        out = p.stdout.splitlines()
        if len(out) != len(insns):
            fail("%s: %d classifications for %d instructions" % (elf, len(out), len(insns)))
            continue
        unknown, mismatch, unmapped, counts = 0, 0, set(), {}
        for (ad, h1, h2, mn), res in zip(insns, out):
            _, size, cls = res.split()
            counts[cls] = counts.get(cls, 0) + 1
            if int(size) != (4 if h2 else 2):
                fail("%s 0x%s %s: decoded size %s" % (elf, ad, mn, size))
            if cls == "unknown":
                unknown += 1
                if unknown <= 20:
                    fail("%s 0x%s: %s %s (%s) is unknown to the decoder" % (elf, ad, h1, h2 or "", mn))
                continue
            want = expected_classes(mn)
            if want is None:
                unmapped.add(mn)
            elif cls not in want:
                mismatch += 1
                if mismatch <= 20:
                    fail("%s 0x%s: %s %s: objdump says %s, the decoder %s" % (elf, ad, h1, h2 or "", mn, cls))
        if unmapped:
            fail("%s: mnemonics missing from test_cycles.py's table: %s" % (elf, " ".join(sorted(unmapped))))
        print("%s: %d instructions, %d unknown, %d class mismatches; %s" % (
            os.path.basename(elf), len(insns), unknown, mismatch,
            ", ".join("%s %d" % kv for kv in sorted(counts.items()))))
        if unknown:
            fail("%s: %d unknown instructions (must be 0)" % (elf, unknown))


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    m = sub.add_parser("microbench")
    m.add_argument("--qemu", required=True)
    m.add_argument("--plugin", required=True)
    m.add_argument("--elf", required=True)
    m.add_argument("--source", required=True)
    m.add_argument("--objdump", required=True)
    d = sub.add_parser("decoder")
    d.add_argument("--classify", required=True)
    d.add_argument("--objdump", required=True)
    d.add_argument("elf", nargs="+")
    a = ap.parse_args()
    {"microbench": microbench, "decoder": decoder}[a.cmd](a)
    if FAILURES:
        print("%d failure(s)" % len(FAILURES))
        return 1
    print("all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
