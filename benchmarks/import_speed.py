#!/usr/bin/python3
"""Import speed and memory of shape-only LLMs: prismc --compile-to=static.

Builds each preset with python/build_model.py (weights are sparse external
data, never read), runs prismc several times and prints the median wall time
and the peak resident memory of the prismc process, against the budget of
the foundation issue (llama-3.1-70b: under 2 s and 300 MB).

    /usr/bin/python3 benchmarks/import_speed.py [--bin-dir build/bin]
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
BIND = "batch_size=1,sequence_length=128,past_sequence_length=0"
BUDGET = {"llama-3.1-70b": (2.0, 300.0)}


def run_once(prismc, model, out):
    """Wall seconds and peak RSS (MiB) of one prismc run in a fresh child."""
    pid = os.fork()
    if pid == 0:
        os.execv(prismc, [prismc, model, "--compile-to=static", "--bind", BIND,
                          "-o", out])
    start = time.perf_counter()
    _, status, usage = os.wait4(pid, 0)
    wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit("prismc failed on " + model)
    return wall, usage.ru_maxrss / 1024.0


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin-dir", default=os.path.join(ROOT, "build", "bin"))
    ap.add_argument("--presets", default="llama-3.1-8b,llama-3.1-70b,llama-3.1-405b")
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    prismc = os.path.join(args.bin_dir, "prismc")
    failed = False
    with tempfile.TemporaryDirectory() as tmp:
        print("%-16s %8s %10s %10s %10s" % ("preset", "nodes", "median s",
                                          "peak MiB", "budget"))
        for preset in args.presets.split(","):
            model = os.path.join(tmp, preset + ".onnx")
            subprocess.run([sys.executable, os.path.join(ROOT, "python", "build_model.py"),
                            "--preset", preset, "-o", model], check=True,
                           stdout=subprocess.DEVNULL)
            results = [run_once(prismc, model, os.path.join(tmp, "out.mlir"))
                       for _ in range(args.runs)]
            wall = statistics.median(r[0] for r in results)
            rss = max(r[1] for r in results)
            nodes = int(subprocess.run(
                [sys.executable, "-c",
                 "import onnx,sys; print(len(onnx.load(sys.argv[1], "
                 "load_external_data=False).graph.node))", model],
                check=True, capture_output=True, text=True).stdout)
            budget = BUDGET.get(preset)
            verdict = "-"
            if budget:
                ok = wall < budget[0] and rss < budget[1]
                failed |= not ok
                verdict = ("ok" if ok else "OVER") + " (<%gs, <%gMiB)" % budget
            print("%-16s %8d %10.3f %10.1f %s" % (preset, nodes, wall, rss, verdict))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
