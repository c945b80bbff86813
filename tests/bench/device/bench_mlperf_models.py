#!/usr/bin/env python3
"""MLPerf Tiny reference models on the virtual Cortex-M4 (qemu-m4): one table row per model
(issue 14), optimized kernels next to the reference kernels.

For each reference model found in the mlperf-tiny folder (default: $TINYML_MLPERF_TINY_DIR,
else ../shared/mlperf-tiny beside the repository; the models are never copied into the repo):
  1. `tinyml new` (tabular) + `tinyml import-model` of the .tflite file;
  2. `tinyml profile --board qemu-m4 --json`: the product's agent image (optimized kernels,
     bound at build time): instructions per inference, arena and its tensor-level lower bound,
     package bytes and the interpreter + kernel code bytes in the agent (flash = the two);
  3. `tinyml export --c-library`: the package (TMPK), a fixed input and the host int8
     reference's output on it (model::Int8Executor);
  4. package-bench.elf (firmware-agent/bench/package_bench.c) on QEMU with those three files:
     the same package through the device interpreter with the reference and with the optimized
     kernels in one run, per invoke and per layer, and both outputs against the host's.
Counts are QEMU instruction counts (-icount shift=0), not cycles. Ratios are taken within one
QEMU run (step 4), so host load does not enter them.

usage: bench_mlperf_models.py --tinyml build/app/tinyml --qemu qemu-system-arm
         --elf build/firmware-agent/images/qemu-mps2-an386/package-bench.elf
         [--models-dir DIR] [--only kws,vww,ic,ad] [--layers] [--require]
Exit status: 0 when every model ran and opt = ref = host on every output; 1 otherwise; 77 when
the models folder is absent (with --require: 1).
"""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile

# (short name, MLPerf Tiny benchmark, file) in the benchmark's order.
MODELS = [
    ("kws", "kws01 DS-CNN", "kws_ref_model.tflite"),
    ("vww", "vww01 MobileNetV1 0.25", "vww_96_int8.tflite"),
    ("ic", "ic01 ResNet-8", "pretrainedResnet_quant.tflite"),
    ("ad", "ad01 autoencoder", "ad01_int8.tflite"),
]
# Package op codes (deploy/MODEL_PACKAGE.md) of the ops these models use.
OP_NAMES = {0: "Conv2D", 1: "DepthwiseConv2D", 2: "FullyConnected", 3: "MaxPool2D",
            4: "AvgPool2D", 5: "GlobalAvgPool", 6: "Add", 9: "Reshape", 10: "Softmax"}
SKIP = 77


def default_models_dir():
    env = os.environ.get("TINYML_MLPERF_TINY_DIR")
    if env:
        return env
    repo = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
    return os.path.join(os.path.dirname(repo), "shared", "mlperf-tiny")


def cli(tinyml, *args):
    p = subprocess.run([tinyml, *args, "--json"], capture_output=True, text=True)
    if p.returncode != 0:
        raise RuntimeError("tinyml %s failed (%d): %s" % (" ".join(args), p.returncode,
                                                          (p.stderr or p.stdout).strip()[-800:]))
    return json.loads(p.stdout)


def c_array(text, name, path):
    m = re.search(r"\b" + name + r"\[[^\]]*\][^=]*=\s*\{([^}]*)\}", text)
    if not m:
        raise RuntimeError("%s: no array %s" % (path, name))
    return bytes(int(v, 0) & 0xFF for v in m.group(1).replace("\n", " ").split(",") if v.strip())


def export_files(zip_path, out_dir):
    """The package, example input and host reference output of an `export --c-library` zip."""
    with zipfile.ZipFile(zip_path) as z:
        data = z.read("tinyml_model/src/model_data.c").decode()
        main = z.read("tinyml_model/example/main.c").decode()
    pkg = c_array(data, "tinyml_model_package", "model_data.c")
    if pkg[:4] != b"TMPK" or int.from_bytes(pkg[8:12], "little") != len(pkg):
        raise RuntimeError("model_data.c: not a TMPK package")
    files = {"pkg": pkg, "in": c_array(main, "example_input", "main.c"),
             "out": c_array(main, "expected_output", "main.c")}
    paths = {}
    for k, v in files.items():
        paths[k] = os.path.join(out_dir, "m." + k)
        with open(paths[k], "wb") as f:
            f.write(v)
    return paths


def package_bench(qemu, elf, paths, timeout):
    for p in paths.values():
        if " " in p or "," in p:
            raise RuntimeError("semihosting arguments cannot hold spaces or commas: " + p)
    cmd = [qemu, "-M", "mps2-an386", "-nographic", "-monitor", "none",
           "-icount", "shift=0,sleep=off", "-semihosting-config",
           "enable=on,target=native,arg=package-bench,arg=%s,arg=%s,arg=%s"
           % (paths["pkg"], paths["in"], paths["out"]), "-kernel", elf]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    # QEMU writes the guest's semihosting console to stderr; stdout is taken too.
    out = p.stdout + p.stderr
    r = {"layers": [], "log": out}
    for ln in out.splitlines():
        w = ln.split()
        if ln.startswith("package-bench package "):
            r.update(package=int(w[2]), arena=int(w[4]), ops=int(w[6]), macs=int(w[8]),
                     reps=int(w[10]))
        elif w[:1] == ["layer"]:
            r["layers"].append({"index": int(w[1]), "op": int(w[3]), "macs": int(w[5]),
                                "ref": int(w[7]), "opt": int(w[9])})
        elif w[:2] == ["invoke", "ref"]:
            r["ref"], r["opt"] = int(w[2]), int(w[4])
        elif w[:1] == ["outputs"]:
            r["same"] = w[2] == "yes"
            r["ref_host"] = w[4] == "yes"
            r["opt_host"] = w[6] == "yes"
        elif ln.startswith("package-bench status"):
            r["status"] = int(w[2])
    if "ref" not in r or "same" not in r:
        raise RuntimeError("package-bench gave no result (exit %d):\n%s" % (p.returncode, r["log"][-1500:]))
    return r


def bench_model(a, short, task, path, work):
    proj = os.path.join(work, short + ".tinyml")
    cli(a.tinyml, "new", proj, "--template", "tabular")
    cli(a.tinyml, "import-model", proj, path)
    prof = cli(a.tinyml, "profile", proj, "--board", "qemu-m4")
    zip_path = os.path.join(work, short + ".zip")
    cli(a.tinyml, "export", proj, "--c-library", zip_path)
    d = os.path.join(work, short)
    os.makedirs(d)
    pb = package_bench(a.qemu, a.elf, export_files(zip_path, d), a.timeout)
    counters = sorted(prof["run_counters"])
    return {"short": short, "task": task, "profile": prof, "bench": pb,
            "agent_instr": counters[len(counters) // 2]}


def fmt(n):
    return "{:,}".format(n).replace(",", " ")


def table(rows):
    head = ("| model | MACs | agent instr/inf | agent est. M4 cycles | opt instr/inf | ref instr/inf | opt instr/MAC "
            "| ref instr/MAC | ref/opt | outputs opt = ref = host | arena B | lower bound B "
            "| arena/bound | arena + scratch B | package B | kernels+interp B | flash B |")
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    for r in rows:
        p, b = r["profile"], r["bench"]
        macs = b["macs"]
        # The cycle-model plugin's estimate, when the profile ran under it.
        cyc = p.get("cycles_estimated", {}).get("median")
        est = fmt(int(cyc)) if cyc else "-"
        lines.append("| %s | %s | %s | %s | %s | %s | %.2f | %.2f | %.2f | %s | %s | %s | %.3f | %s | %s | %s | %s |" % (
            r["task"], fmt(macs), fmt(r["agent_instr"]), est, fmt(b["opt"]), fmt(b["ref"]),
            b["opt"] / macs, b["ref"] / macs, b["ref"] / b["opt"],
            "yes" if b["same"] and b["ref_host"] and b["opt_host"] else
            "NO (ref=opt %s, ref=host %s, opt=host %s)" % (b["same"], b["ref_host"], b["opt_host"]),
            fmt(p["arena_bytes"]), fmt(p["arena_lower_bound_bytes"]),
            p["arena_bytes"] / max(1, p["arena_lower_bound_bytes"]), fmt(b["arena"]),
            fmt(p["package_bytes"]), fmt(p["runtime_bytes"]), fmt(p["flash_bytes"])))
    return "\n".join(lines)


def layer_table(r):
    out = ["%s, per layer (instructions per invoke, one callback and timer read included):"
           % r["task"], "| # | op | MACs | opt | ref | ref/opt | opt instr/MAC |", "|---|---|---|---|---|---|---|"]
    for l in r["bench"]["layers"]:
        ratio = l["ref"] / l["opt"] if l["opt"] else 0.0
        per_mac = "%.2f" % (l["opt"] / l["macs"]) if l["macs"] else "-"
        out.append("| %d | %s | %s | %s | %s | %.2f | %s |" % (
            l["index"], OP_NAMES.get(l["op"], "op %d" % l["op"]), fmt(l["macs"]), fmt(l["opt"]),
            fmt(l["ref"]), ratio, per_mac))
    return "\n".join(out)


def fallbacks(r, threshold=1.15):
    """Layers with MACs whose optimized path is within threshold of the reference."""
    return [l for l in r["bench"]["layers"] if l["macs"] > 0 and l["opt"] and l["ref"] / l["opt"] < threshold]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--tinyml", required=True)
    ap.add_argument("--qemu", required=True)
    ap.add_argument("--elf", required=True, help="package-bench.elf")
    ap.add_argument("--models-dir", default=default_models_dir())
    ap.add_argument("--only", default="", help="comma-separated: kws,vww,ic,ad")
    ap.add_argument("--layers", action="store_true", help="per-layer tables too")
    ap.add_argument("--require", action="store_true", help="a missing models folder fails")
    ap.add_argument("--timeout", type=int, default=600, help="seconds per QEMU run")
    a = ap.parse_args()

    wanted = [m for m in MODELS if not a.only or m[0] in a.only.split(",")]
    found = [(s, t, os.path.join(a.models_dir, f)) for s, t, f in wanted
             if os.path.isfile(os.path.join(a.models_dir, f))]
    if not found:
        print("MLPerf Tiny reference models not found in %s (expected %s in the mlperf-tiny "
              "folder beside the repository, ../shared/mlperf-tiny, or $TINYML_MLPERF_TINY_DIR)"
              % (a.models_dir, ", ".join(f for _, _, f in wanted)), file=sys.stderr)
        return 1 if a.require else SKIP
    for s, t, f in wanted:
        if s not in [x[0] for x in found]:
            print("not found, skipped: %s" % os.path.join(a.models_dir, f), file=sys.stderr)
    for tool in (a.tinyml, a.elf):
        if not os.path.isfile(tool):
            print("missing: %s (build the project and tinyml-agent-firmware first)" % tool, file=sys.stderr)
            return 1
    if shutil.which(a.qemu) is None and not os.path.isfile(a.qemu):
        print("missing: %s" % a.qemu, file=sys.stderr)
        return 1

    rows, ok = [], True
    work = tempfile.mkdtemp(prefix="tinyml-mlperf-bench-")
    try:
        for short, task, path in found:
            try:
                r = bench_model(a, short, task, path, work)
            except (RuntimeError, subprocess.TimeoutExpired, KeyError, ValueError) as e:
                print("%s (%s): %s" % (task, path, e), file=sys.stderr)
                ok = False
                continue
            b = r["bench"]
            ok &= b["same"] and b["ref_host"] and b["opt_host"] and b.get("status") == 0
            rows.append(r)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    print("MLPerf Tiny reference models on qemu-m4 (QEMU mps2-an386, -icount shift=0): counts are "
          "QEMU instruction counts, not cycles. agent = `tinyml profile` (median of its runs); "
          "opt/ref = package-bench.elf, both kernel sets in one QEMU run.")
    print(table(rows))
    for r in rows:
        slow = fallbacks(r)
        if slow:
            print("%s: layers with ref/opt < 1.15: %s" % (r["task"], ", ".join(
                "#%d %s %.2f" % (l["index"], OP_NAMES.get(l["op"], str(l["op"])), l["ref"] / l["opt"])
                for l in slow)))
        if a.layers:
            print()
            print(layer_table(r))
    return 0 if ok and rows else 1


if __name__ == "__main__":
    sys.exit(main())
