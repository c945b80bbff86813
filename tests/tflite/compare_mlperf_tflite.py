#!/usr/bin/env python3
"""Our int8 executor against TensorFlow Lite on the four MLPerf Tiny reference models.

For every reference model found in the models folder (../shared/mlperf-tiny beside the
repository): a fresh project, `tinyml import-model`, N seeded random int8 inputs, then the
outputs of `tinyml predict --json` (our host int8 reference, the same C kernels as the agent)
against those of TFLite's WebAssembly build (tflite_run.js). Prints one table row per model
and fails when an output differs by more than the model's allowed LSBs (--tolerance; 0 means
bit-exact) or a classifier's top class differs where ours leads its second by more than twice
that bound (closer than that, TFLite's order may flip within the bound: counted as near ties). Exit 77 (CTest: skipped) when the models folder
is absent, saying so.

Why a tolerance: the WebAssembly TFLite runs int8 convolutions and fully connected layers
through its XNNPACK delegate, which requantizes in float (fp32 multiply, round to nearest)
where TFLite's reference kernels and TFLite Micro use the fixed-point multiplier and shift;
a rounding-boundary case moves one LSB, and later layers (most of all the softmax) spread it.
(The .wasm's own strings list XNNPACK's QS8 Convolution, Fully Connected, Add and Global Average
Pooling operators, and its runner options offer no way to turn the delegate off.)
Our kernels follow the fixed-point definition (checked against reference vectors in the
kernel tests); this comparison bounds the distance to a real TFLite build.

  compare_mlperf_tflite.py --tinyml BIN --modules DIR [--models DIR] [--inputs N] [--seed S]
"""
import argparse
import json
import os
import random
import subprocess
import sys
import tempfile

MODELS = [  # file, benchmark
    ("kws_ref_model.tflite", "kws01"),
    ("vww_96_int8.tflite", "vww01"),
    ("pretrainedResnet_quant.tflite", "ic01"),
    ("ad01_int8.tflite", "ad01"),
]


def run(cmd, what):
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if p.returncode != 0:
        sys.exit(f"{what} failed ({p.returncode}): {' '.join(cmd)}\n{p.stderr.strip()}")
    return p.stdout


def parse_tolerances(text):
    out = {}
    for item in filter(None, (text or "").split(",")):
        name, _, lsb = item.partition("=")
        out[name.strip()] = int(lsb)
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tinyml", required=True)
    ap.add_argument("--modules", required=True, help="folder holding node_modules/@tensorflow/tfjs-tflite")
    ap.add_argument("--runner", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "tflite_run.js"))
    ap.add_argument("--models", default=os.environ.get("TINYML_MLPERF_TINY_DIR", ""))
    ap.add_argument("--inputs", type=int, default=8)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--tolerance", default="", help="benchmark=LSB,... allowed int8 difference (default 0)")
    args = ap.parse_args()

    if not args.models or not os.path.isdir(args.models):
        print(f"SKIPPED: the MLPerf Tiny reference models folder is absent ({args.models or 'not given'}); "
              "put the four .tflite files in ../shared/mlperf-tiny beside the repository")
        return 77
    present = [(f, b) for f, b in MODELS if os.path.isfile(os.path.join(args.models, f))]
    if not present:
        print(f"SKIPPED: none of the four reference .tflite files is in {args.models}")
        return 77
    tolerances = parse_tolerances(args.tolerance)
    rng = random.Random(args.seed)
    failures = []
    print(f"{'model':8} {'inputs':>6} {'outputs':>8} {'equal':>8} {'max |diff|':>10} {'top-1 same':>10}  allowed")
    with tempfile.TemporaryDirectory() as tmp:
        for file, bench in present:
            model = os.path.join(args.models, file)
            project = os.path.join(tmp, bench + ".tinyml")
            run([args.tinyml, "new", project, "--template", "tabular"], "tinyml new")
            run([args.tinyml, "import-model", project, model], "tinyml import-model")
            # The input size comes from TFLite's own description of the model.
            desc = json.loads(run(["node", args.runner, args.modules, model], "tflite_run.js (describe)"))
            size = desc["inputs"][0]["bytes"]
            files = []
            for i in range(args.inputs):
                path = os.path.join(tmp, f"{bench}-{i}.bin")
                with open(path, "wb") as f:
                    f.write(bytes(rng.randrange(256) for _ in range(size)))
                files.append(path)
            theirs = json.loads(run(["node", args.runner, args.modules, model] + files, "tflite_run.js"))["results"]
            ours_json = json.loads(run([args.tinyml, "predict", project, "--json"] + files, "tinyml predict"))
            rows = ours_json if isinstance(ours_json, list) else ours_json.get("results", [])
            ours = [r["outputs_int8"] for r in rows]
            if len(ours) != len(theirs):
                sys.exit(f"{bench}: {len(ours)} results from tinyml predict, {len(theirs)} from TFLite")
            allowed = tolerances.get(bench, 0)
            n = equal = same_top = near_ties = 0
            worst = 0
            for a, b in zip(ours, theirs):
                if len(a) != len(b):
                    sys.exit(f"{bench}: {len(a)} outputs from tinyml predict, {len(b)} from TFLite")
                n += len(a)
                equal += sum(1 for x, y in zip(a, b) if x == y)
                worst = max(worst, max(abs(x - y) for x, y in zip(a, b)))
                if a.index(max(a)) == b.index(max(b)):
                    same_top += 1
                elif bench != "ad01" and sorted(a)[-1] - sorted(a)[-2] <= 2 * allowed:
                    # our two best are closer than two allowed differences: TFLite's order
                    # may flip within the stated bound, so this is not a disagreement
                    near_ties += 1
            classifier = bench != "ad01"  # ad01 reconstructs its input: no top class
            top = f"{same_top:7}/{len(ours):<3}" if classifier else f"{'-':>11}"
            ties = f" ({near_ties} near ties)" if near_ties else ""
            print(f"{bench:8} {len(ours):6} {n:8} {equal:8} {worst:10} {top}  {allowed}{ties}")
            if worst > allowed:
                failures.append(f"{bench}: outputs differ from TFLite's by up to {worst} LSB (allowed {allowed})")
            if classifier and same_top + near_ties != len(ours):
                failures.append(f"{bench}: top class differs from TFLite's on {len(ours) - same_top - near_ties} "
                                f"of {len(ours)} inputs where ours leads by more than {2 * allowed} LSB")
    for f in failures:
        print("FAIL", f)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
