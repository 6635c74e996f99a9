#!/usr/bin/python3
"""Raising and phase-split time of shape-only LLMs.

Builds each preset with python/build_model.py (weights are sparse external
data, never read) and times, median of several runs of a fresh prismc:

  * --compile-to=xfmr   (import, bind, static, raise);
  * --compile-to=phases (import, split into @prefill and @decode, static,
    raise both), with --stats, writing the IR;

against the budget of the xfmr issue (llama-3.1-70b: raise and split under
5 s).

    /usr/bin/python3 benchmarks/raise_split_speed.py [--bin-dir build/bin]
        [--presets llama-3.1-70b,...] [--runs 5]
"""
import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUDGET_S = {"llama-3.1-70b": 5.0}


def timed(cmd, runs):
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bin-dir", default=os.path.join(ROOT, "build", "bin"))
    ap.add_argument("--presets", default="llama-3.1-8b,llama-3.1-70b,llama-3.1-405b")
    ap.add_argument("--runs", type=int, default=5)
    a = ap.parse_args()
    prismc = os.path.join(a.bin_dir, "prismc")
    failed = False
    with tempfile.TemporaryDirectory() as tmp:
        print("%-16s %14s %24s" % ("preset", "xfmr (s)", "phases + stats (s)"))
        for preset in a.presets.split(","):
            model = os.path.join(tmp, preset + ".onnx")
            subprocess.run([sys.executable, os.path.join(ROOT, "python", "build_model.py"),
                            "--preset", preset, "-o", model], check=True,
                           stdout=subprocess.DEVNULL)
            xfmr = timed([prismc, model, "--compile-to=xfmr", "--bind",
                          "batch_size=1,sequence_length=128,past_sequence_length=0",
                          "-o", os.path.join(tmp, "x.mlir")], a.runs)
            phases = timed([prismc, model, "--compile-to=phases", "--prompt", "128",
                            "--context", "2048", "--stats",
                            "-o", os.path.join(tmp, "p.mlir")], a.runs)
            verdict = ""
            if preset in BUDGET_S:
                ok = phases < BUDGET_S[preset]
                failed |= not ok
                verdict = "  (budget %.0f s: %s)" % (BUDGET_S[preset], "ok" if ok else "OVER")
            print("%-16s %14.3f %24.3f%s" % (preset, xfmr, phases, verdict))
            os.remove(model)
            os.remove(model + ".data")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
