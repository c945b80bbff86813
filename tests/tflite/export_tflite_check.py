#!/usr/bin/env python3
"""`tinyml export --tflite` checked by TensorFlow Lite itself (its WebAssembly build, tflite_run.js).

Two parts, both must pass (the second alone may be skipped):
 1. trained: a fresh project from the motion example, `tinyml train` (each --arch given; the
    convolutional ones on raw sequence features) and `tinyml quantize`, then `tinyml export --tflite`; N seeded random int8 inputs run through
    TFLite on the exported file and through `tinyml predict --json` (our int8 reference). The
    outputs must agree within --tolerance LSB and the top class must be the same (unless our two
    best are within twice that bound, where TFLite's order may flip within it). Why not 0:
    TFLite's WebAssembly build runs int8 convolutions and fully connected layers through
    XNNPACK, which requantizes in float (see compare_mlperf_tflite.py); our kernels use
    TFLite's fixed-point definition.
    Each float model the int8 ones came from is exported too (float32 ops) and compared with
    predict's float executor (--float-tolerance: float rounding only).
    Bad input in the same project: an unknown --model id and a k-means anomaly model (no TFLite
    op computes its integer score) must fail with an error naming the model (and the node's
    op), writing no file.
 2. round trip: each MLPerf Tiny reference model found in --models, and each --fixtures file
    (the importer's small test models: a float interface with QUANTIZE / DEQUANTIZE, a PAD
    folded into a convolution), is imported, exported again, and both the original and the exported file run in TFLite on the same inputs:
    outputs must be equal byte for byte (same runtime, same quantization, same ops), and the
    exported file must describe the same input and output tensors. Exit 77 (CTest: skipped)
    only when part 1 passed and the models folder is absent.

  export_tflite_check.py --tinyml BIN --modules DIR [--models DIR] [--inputs N] [--arch A,B]
"""
import argparse
import json
import os
import random
import struct
import subprocess
import sys
import tempfile

MLPERF = ["kws_ref_model.tflite", "vww_96_int8.tflite", "pretrainedResnet_quant.tflite", "ad01_int8.tflite"]


def run(cmd, what, expect_ok=True):
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if expect_ok and p.returncode != 0:
        sys.exit(f"{what} failed ({p.returncode}): {' '.join(cmd)}\n{p.stderr.strip()}")
    return p


def tflite(args, model, files):
    return json.loads(run(["node", args.runner, args.modules, model] + files, f"tflite_run.js {model}").stdout)


def random_inputs(rng, tmp, tag, size, count):
    files = []
    for i in range(count):
        path = os.path.join(tmp, f"{tag}-{i}.bin")
        with open(path, "wb") as f:
            f.write(bytes(rng.randrange(256) for _ in range(size)))
        files.append(path)
    return files


def trained(args, tmp, rng, failures):
    project = os.path.join(tmp, "motion.tinyml")
    run([args.tinyml, "new", project, "--example", "motion"], "tinyml new")
    print(f"{'model':10} {'id':>3} {'ops':>4} {'inputs':>6} {'outputs':>8} {'equal':>6} {'max |diff|':>10} "
          f"{'top-1 same':>10}  allowed")
    sequence = False
    for arch in filter(None, args.arch.split(",")):
        if arch != "mlp" and not sequence:
            # Convolutional models need an {H, W, C} input: the raw block as a sequence, [1, 1, 100, 3].
            run([args.tinyml, "features", project, "--block", "raw", "--set", "asSequence=true"], "tinyml features")
            sequence = True
        t = json.loads(run([args.tinyml, "train", project, "--model", arch, "--epochs", str(args.epochs),
                            "--seed", "3", "--json"], f"tinyml train --model {arch}").stdout)
        q = json.loads(run([args.tinyml, "quantize", project, "--json"], "tinyml quantize").stdout)
        model_id = q["model_id"]
        out = os.path.join(tmp, f"{arch}.tflite")
        e = json.loads(run([args.tinyml, "export", project, "--tflite", out, "--model", str(model_id), "--json"],
                           "tinyml export --tflite").stdout)
        if e.get("model_id") != model_id or not os.path.isfile(out) or os.path.getsize(out) != e.get("bytes"):
            failures.append(f"{arch}: export --json reports {e}, file {out} has "
                            f"{os.path.getsize(out) if os.path.isfile(out) else 'no'} bytes")
            continue
        desc = tflite(args, out, [])
        inp, outp = desc["inputs"][0], desc["outputs"][0]
        if inp["type"] != "int8" or outp["type"] != "int8":
            failures.append(f"{arch}: TFLite sees input {inp['type']} and output {outp['type']}, expected int8")
        files = random_inputs(rng, tmp, arch, inp["bytes"], args.inputs)
        theirs = tflite(args, out, files)["results"]
        rows = json.loads(run([args.tinyml, "predict", project, "--model", str(model_id), "--json"] + files,
                              "tinyml predict").stdout)
        rows = rows if isinstance(rows, list) else rows.get("results", [])
        ours = [r["outputs_int8"] for r in rows]
        if len(ours) != len(theirs) or any(len(a) != len(b) for a, b in zip(ours, theirs)):
            failures.append(f"{arch}: result counts differ (predict {len(ours)}, TFLite {len(theirs)})")
            continue
        n = equal = same_top = worst = 0
        for a, b in zip(ours, theirs):
            n += len(a)
            equal += sum(1 for x, y in zip(a, b) if x == y)
            worst = max(worst, max(abs(x - y) for x, y in zip(a, b)))
            # A top class may flip only where our two best are within two allowed differences.
            top2 = sorted(a)[-2:]
            same_top += 1 if a.index(max(a)) == b.index(max(b)) or top2[-1] - top2[0] <= 2 * args.tolerance else 0
        print(f"{arch:10} {model_id:3} {e['operators']:4} {len(ours):6} {n:8} {equal:6} {worst:10} "
              f"{same_top:7}/{len(ours):<2}  {args.tolerance}   ({', '.join(e['operator_codes'])})")
        if worst > args.tolerance:
            failures.append(f"{arch}: TFLite's outputs differ from tinyml predict's by up to {worst} LSB "
                            f"(allowed {args.tolerance})")
        if same_top != len(ours):
            failures.append(f"{arch}: top class differs on {len(ours) - same_top} of {len(ours)} inputs")
        float_model(args, tmp, rng, failures, project, arch, t["model_id"])

    # Bad input: an id that does not exist, and a float model.
    bad = run([args.tinyml, "export", project, "--tflite", os.path.join(tmp, "x.tflite"), "--model", "999"],
              "export --model 999", expect_ok=False)
    if bad.returncode == 0 or "model 999" not in bad.stderr:
        failures.append(f"export --model 999: exit {bad.returncode}, stderr {bad.stderr.strip()!r}")
    # An anomaly model: its integer score has no TFLite op; refused naming the node and op.
    run([args.tinyml, "train", project, "--model", "kmeans", "--normal", "idle", "--json"], "tinyml train --model kmeans")
    k = json.loads(run([args.tinyml, "quantize", project, "--json"], "tinyml quantize (kmeans)").stdout)["model_id"]
    bad = run([args.tinyml, "export", project, "--tflite", os.path.join(tmp, "k.tflite")], "export of kmeans",
              expect_ok=False)
    if bad.returncode == 0 or f"model {k}" not in bad.stderr or "(kmeans_score)" not in bad.stderr:
        failures.append(f"export of the kmeans model {k}: exit {bad.returncode}, stderr {bad.stderr.strip()!r}")
    if any(os.path.exists(os.path.join(tmp, f)) for f in ("x.tflite", "k.tflite")):
        failures.append("a refused export left a file behind")


def float_model(args, tmp, rng, failures, project, arch, model_id):
    """The float model the int8 one came from: TFLite's float32 kernels against `tinyml predict`'s
    float executor on seeded N(0, 1) inputs; they differ by float rounding only (--float-tolerance)."""
    out = os.path.join(tmp, f"{arch}-float.tflite")
    e = json.loads(run([args.tinyml, "export", project, "--tflite", out, "--model", str(model_id), "--json"],
                       "tinyml export --tflite (float)").stdout)
    desc = tflite(args, out, [])
    if e.get("kind") != "float" or desc["inputs"][0]["type"] != "float32" or desc["outputs"][0]["type"] != "float32":
        failures.append(f"{arch} float: export says {e.get('kind')}, TFLite sees {desc['inputs'][0]['type']} in, "
                        f"{desc['outputs'][0]['type']} out")
        return
    files = []
    for i in range(args.inputs):
        path = os.path.join(tmp, f"{arch}-float-{i}.bin")
        with open(path, "wb") as f:
            f.write(struct.pack(f"<{desc['inputs'][0]['bytes'] // 4}f",
                                *(rng.gauss(0.0, 1.0) for _ in range(desc["inputs"][0]["bytes"] // 4))))
        files.append(path)
    theirs = tflite(args, out, files)["results"]
    rows = json.loads(run([args.tinyml, "predict", project, "--model", str(model_id), "--as", "float32", "--json"]
                          + files, "tinyml predict (float)").stdout)
    rows = rows if isinstance(rows, list) else rows.get("results", [])
    ours = [r["outputs"] for r in rows]
    worst = max((abs(x - y) for a, b in zip(ours, theirs) for x, y in zip(a, b)), default=float("inf"))
    same_top = sum(1 for a, b in zip(ours, theirs) if a.index(max(a)) == b.index(max(b)))
    print(f"{arch + ' fp32':10} {model_id:3} {e['operators']:4} {len(ours):6} {sum(len(a) for a in ours):8} "
          f"{'-':>6} {worst:10.2e} {same_top:7}/{len(ours):<2}  {args.float_tolerance:g}   "
          f"({', '.join(e['operator_codes'])})")
    if len(ours) != len(theirs) or worst > args.float_tolerance:
        failures.append(f"{arch} float: TFLite's outputs differ from tinyml predict's by up to {worst:.3g} "
                        f"(allowed {args.float_tolerance:g})")


def round_trip(args, tmp, rng, failures):
    """True when the MLPerf models were there (the fixtures always run)."""
    present = [os.path.join(args.models, f) for f in MLPERF
               if args.models and os.path.isfile(os.path.join(args.models, f))]
    if not present:
        print(f"SKIPPED (round trip of MLPerf models): none in {args.models or '(not given)'}; put the "
              ".tflite files in ../shared/mlperf-tiny beside the repository")
    fixtures = []
    for f in filter(None, args.fixtures.split(",")):
        path = os.path.join(args.fixtures_dir, f)
        if not os.path.isfile(path):
            failures.append(f"{path} is missing: build the test_core_model_tflite_fixtures target")
        else:
            fixtures.append(path)
    print(f"{'file':32} {'bytes in':>9} {'bytes out':>9} {'inputs':>6} {'outputs':>8} {'equal':>8}")
    for original in fixtures + present:
        file = os.path.basename(original)
        project = os.path.join(tmp, file + ".tinyml")
        run([args.tinyml, "new", project, "--template", "tabular"], "tinyml new")
        run([args.tinyml, "import-model", project, original], "tinyml import-model")
        exported = os.path.join(tmp, "exported-" + file)
        run([args.tinyml, "export", project, "--tflite", exported], "tinyml export --tflite")
        a, b = tflite(args, original, []), tflite(args, exported, [])
        for side in ("inputs", "outputs"):
            ta, tb = a[side][0], b[side][0]
            if (ta["type"], ta["shape"], ta["bytes"]) != (tb["type"], tb["shape"], tb["bytes"]):
                failures.append(f"{file}: {side[:-1]} {ta} in the original, {tb} exported")
        if a["inputs"][0]["type"] == "float32":
            files = []
            for i in range(args.inputs):
                path = os.path.join(tmp, f"{file}-{i}.bin")
                with open(path, "wb") as f:
                    count = a["inputs"][0]["bytes"] // 4
                    f.write(struct.pack(f"<{count}f", *(rng.gauss(0.0, 2.0) for _ in range(count))))
                files.append(path)
        else:
            files = random_inputs(rng, tmp, file, a["inputs"][0]["bytes"], args.inputs)
        ra, rb = tflite(args, original, files)["results"], tflite(args, exported, files)["results"]
        n = sum(len(r) for r in ra)
        equal = sum(1 for x, y in zip(ra, rb) for p, q in zip(x, y) if p == q)
        print(f"{file:32} {os.path.getsize(original):9} {os.path.getsize(exported):9} {len(ra):6} {n:8} {equal:8}")
        if len(ra) != len(rb) or equal != n or any(len(x) != len(y) for x, y in zip(ra, rb)):
            failures.append(f"{file}: TFLite gives different outputs for the exported file ({equal} of {n} equal)")
    return bool(present)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tinyml", required=True)
    ap.add_argument("--modules", required=True, help="folder holding node_modules/@tensorflow/tfjs-tflite")
    ap.add_argument("--runner", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "tflite_run.js"))
    ap.add_argument("--models", default=os.environ.get("TINYML_MLPERF_TINY_DIR", ""))
    ap.add_argument("--fixtures-dir", default="", help="folder of the importer's .tflite test fixtures")
    ap.add_argument("--fixtures", default="", help="comma-separated fixture files to round-trip too")
    ap.add_argument("--inputs", type=int, default=8)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--arch", default="mlp,cnn1d,dscnn", help="comma-separated `tinyml train --model` values")
    ap.add_argument("--epochs", type=int, default=5)
    ap.add_argument("--tolerance", type=int, default=0, help="allowed int8 difference from predict (trained models)")
    ap.add_argument("--float-tolerance", type=float, default=1e-4, help="allowed float difference (float models)")
    args = ap.parse_args()
    rng = random.Random(args.seed)
    failures = []
    with tempfile.TemporaryDirectory() as tmp:
        trained(args, tmp, rng, failures)
        ran = round_trip(args, tmp, rng, failures)
    for f in failures:
        print("FAIL", f)
    if failures:
        return 1
    return 0 if ran else 77


if __name__ == "__main__":
    sys.exit(main())
