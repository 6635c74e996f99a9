#!/usr/bin/python3
"""A shape-only Llama's decode step on the simulated LPU, against the cost model.

Builds the preset with python/build_model.py (weights are sparse external
data, never read: the program is shape-only and runs in timing-only mode),
then:

  * prices @decode on CHIPS lpu-v1 chips with the cost model (prismc
    --estimate, the plan issue's prediction);
  * compiles @decode for those chips (prismc --compile-to=lpu, the chip
    count from the --system group) and times the compile;
  * runs it in prism-sim lpu --timing-only --per-chip and reads the
    simulated time per token;
  * computes the schedule's bound: per pipeline stage, the busiest chip's
    SRAM reads at one vector per slice per cycle or its MACs at the MXM
    planes' 320x320 per cycle, whichever is longer, summed over the stages,
    plus one link latency per hop between stages; the efficiency is that
    bound over the simulated time.

Prints the figures, tokens/s per user next to Groq's published ~300 for
llama-2-70b, and the issue's budgets (simulated time within 15% of the
prediction, compile under 60 s).

    /usr/bin/python3 benchmarks/lpu_decode.py [--bin-dir build/bin]
        [--preset llama-2-70b] [--chips 576] [--context 4096]
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PUBLISHED_TOKENS_PER_S = {"llama-2-70b": 300}


def run(cmd):
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if r.returncode != 0:
        sys.exit("lpu_decode: command failed: %s\n%s" % (" ".join(cmd), r.stdout[-4000:]))
    return r.stdout


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bin-dir", default=os.path.join(ROOT, "build", "bin"))
    ap.add_argument("--preset", default="llama-2-70b")
    ap.add_argument("--chips", type=int, default=576)
    ap.add_argument("--prompt", type=int, default=128)
    ap.add_argument("--context", type=int, default=4096)
    ap.add_argument("--weight-dtype", default="int8")
    a = ap.parse_args()
    prismc = os.path.join(a.bin_dir, "prismc")
    system = "decode=lpu-v1*%d" % a.chips
    shape = ["--prompt", str(a.prompt), "--context", str(a.context), "--batch", "1",
             "--system", system, "--weight-dtype", a.weight_dtype]
    with tempfile.TemporaryDirectory() as tmp:
        model = os.path.join(tmp, a.preset + ".onnx")
        run([sys.executable, os.path.join(ROOT, "python", "build_model.py"),
             "--preset", a.preset, "-o", model])

        estimate = run([prismc, model, "--compile-to=phases", "--estimate",
                        "-o", os.path.join(tmp, "phases.mlir")] + shape)
        decode = estimate[estimate.index("@decode"):]
        predicted = float(re.search(r"time per output token:\s+([0-9.e+-]+) s", decode).group(1))
        tp, pp = map(int, re.search(r"tensor parallel (\d+), pipeline (\d+)", decode).groups())

        program = os.path.join(tmp, "decode.lpu")
        start = time.perf_counter()
        run([prismc, model, "--compile-to=lpu", "--lpu-function", "decode",
             "--lpu-tensor-parallel", str(tp), "-o", program] + shape)
        compile_s = time.perf_counter() - start
        with open(program) as f:
            machine = dict(kv.split("=") for kv in f.readline().split()[1:])
            latency = dict(kv.split("=") for kv in f.readline().split()[1:])
            instructions = 2 + sum(1 for _ in f)

        start = time.perf_counter()
        report = run([os.path.join(a.bin_dir, "prism-sim"), "lpu", "--timing-only",
                      "--per-chip", program])
        sim_s = time.perf_counter() - start

    cycles = int(re.search(r"cycles: (\d+)", report).group(1))
    us = float(re.search(r"time: ([0-9.]+) us at ([0-9.]+) MHz", report).group(1))
    mhz = float(re.search(r"time: ([0-9.]+) us at ([0-9.]+) MHz", report).group(2))
    chips = {int(c): dict(reads=int(r), macs=int(m)) for c, r, _, m, _ in
             re.findall(r"chip (\d+): reads=(\d+) loads=(\d+) macs=(\d+) sends=(\d+)", report)}
    # The machine of the program's header: slices, MXM planes (320x320) and
    # the link latency.
    slices, planes, hop_cycles = int(machine["slices"]), int(machine["planes"]), int(latency["c2c"])
    stages = a.chips // tp
    bound_cycles = 0
    for s in range(stages):
        members = [chips.get(c, dict(reads=0, macs=0)) for c in range(s * tp, (s + 1) * tp)]
        bound_cycles += max(max(w["reads"] / slices, w["macs"] / (planes * 320 * 320))
                            for w in members)
    bound_cycles += (stages - 1) * hop_cycles
    bound_us = bound_cycles / mhz
    sim_tokens = 1e6 / us
    ratio = us / (predicted * 1e6)
    print("%s decode on %d x lpu-v1 (tensor parallel %d, pipeline %d, weights %s, "
          "context %d)" % (a.preset, a.chips, tp, stages, a.weight_dtype, a.context))
    print("  compile (prismc --compile-to=lpu):   %.1f s for %d program lines "
          "(budget 60 s: %s)" % (compile_s, instructions, "met" if compile_s < 60 else "MISSED"))
    print("  simulated time per token:            %.1f us (%d cycles at %.0f MHz; "
          "prism-sim took %.1f s)" % (us, cycles, mhz, sim_s))
    print("  cost model's prediction:             %.1f us" % (predicted * 1e6))
    print("  simulated / predicted:               %.3f (within 15%%: %s)" %
          (ratio, "yes" if abs(ratio - 1) <= 0.15 else "NO"))
    print("  bound (SRAM, MXM, link latency):     %.1f us" % bound_us)
    print("  schedule efficiency (bound / sim):   %.1f%%" % (100 * bound_us / us))
    published = PUBLISHED_TOKENS_PER_S.get(a.preset)
    print("  tokens/s per user:                   %.0f simulated, %.0f predicted%s" %
          (sim_tokens, 1 / predicted,
           ", ~%d published (Groq)" % published if published else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
