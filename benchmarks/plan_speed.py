#!/usr/bin/python3
"""Planning time of a shape-only Llama: prismc --compile-to=plan.

Builds the preset with python/build_model.py (weights are sparse external
data, never read) and times, median of several runs of a fresh prismc,
import + phase split + raising + pricing every candidate placement on a
disaggregated system + the JSON report, against the budget of the plan issue
(llama-3.1-405b under 10 s).

    /usr/bin/python3 benchmarks/plan_speed.py [--bin-dir build/bin]
        [--preset llama-3.1-405b] [--runs 5]
"""
import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUDGET_S = {"llama-3.1-405b": 10.0}
SYSTEM = "prefill=h100-sxm*16,decode=lpu-v1*4096,link=rdma:400GBps"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bin-dir", default=os.path.join(ROOT, "build", "bin"))
    ap.add_argument("--preset", default="llama-3.1-405b")
    ap.add_argument("--runs", type=int, default=5)
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        model = os.path.join(tmp, a.preset + ".onnx")
        subprocess.run([sys.executable, os.path.join(ROOT, "python", "build_model.py"),
                        "--preset", a.preset, "-o", model], check=True,
                       stdout=subprocess.DEVNULL)
        cmd = [os.path.join(a.bin_dir, "prismc"), model, "--compile-to=plan",
               "--prompt", "2048", "--context", "8192", "--system", SYSTEM,
               "--weight-dtype", "fp8", "--objective", "cost", "--tpot-slo", "0.05",
               "--report", os.path.join(tmp, "plan.json"), "-o", os.path.join(tmp, "plan.mlir")]
        times = []
        for _ in range(a.runs):
            start = time.perf_counter()
            subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
            times.append(time.perf_counter() - start)
        median = statistics.median(times)
        budget = BUDGET_S.get(a.preset)
        verdict = "" if budget is None else "  (budget %.0f s: %s)" % (
            budget, "ok" if median < budget else "OVER")
        print("%s on %s: --compile-to=plan median %.3f s over %d runs%s" %
              (a.preset, SYSTEM, median, a.runs, verdict))
        return 0 if budget is None or median < budget else 1


if __name__ == "__main__":
    sys.exit(main())
