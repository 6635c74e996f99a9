#!/usr/bin/python3
"""Mutation run of the lpu dialect's passes: tensor-level IR with bad numbers.

Takes tensor-level lpu IR (test/Target/Lpu/schedule.mlir, and the tiny
Llama's @decode from convert-xfmr-to-lpu on 2 chips), replaces random
integer literals with hostile ones (negative, zero, huge, off by one) or
drops an instruction, and runs each mutant through prism-opt --lpu-schedule
and prism-translate --lpu-to-program. Counts the runs that neither succeed
nor fail cleanly (exit 0 or 1): crashes, aborts, sanitizer reports.

    /usr/bin/python3 benchmarks/fuzz_lpu_ir.py [--bin-dir build/bin]
        [--runs 200] [--seed 3]
"""
import argparse
import os
import random
import re
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HOSTILE = [-1, 0, 1, 2, 3, 87, 88, 319, 320, 1 << 31, (1 << 62), -(1 << 40)]


def mutate(text):
    lines = text.split("\n")
    for _ in range(random.randint(1, 4)):
        i = random.randrange(len(lines))
        line = lines[i]
        if "lpu." in line and random.random() < 0.15 and "lpu.program" not in line:
            lines[i] = ""  # drop an instruction (its results go unused or undefined)
            continue
        numbers = list(re.finditer(r"(?<![\w%#.])-?\d+(?![\w.])", line))
        if numbers:
            m = random.choice(numbers)
            lines[i] = line[:m.start()] + str(random.choice(HOSTILE)) + line[m.end():]
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bin-dir", default=os.path.join(ROOT, "build", "bin"))
    ap.add_argument("--runs", type=int, default=200)
    ap.add_argument("--seed", type=int, default=3)
    a = ap.parse_args()
    random.seed(a.seed)
    opt = os.path.join(a.bin_dir, "prism-opt")
    translate = os.path.join(a.bin_dir, "prism-translate")
    with tempfile.TemporaryDirectory() as tmp:
        model = os.path.join(tmp, "tiny.onnx")
        subprocess.run([sys.executable, os.path.join(ROOT, "python", "build_model.py"),
                        "--preset", "tiny", "--layers", "1", "-o", model], check=True,
                       stdout=subprocess.DEVNULL)
        phases = os.path.join(tmp, "phases.mlir")
        subprocess.run([os.path.join(a.bin_dir, "prismc"), model, "--compile-to=phases",
                        "--prompt", "4", "--context", "8", "-o", phases], check=True)
        tiny = subprocess.run([opt, phases, "--convert-xfmr-to-lpu=function=decode chips=2"],
                              check=True, capture_output=True, text=True).stdout
        # Keep the program only (its data lines are many and alike).
        tiny = "\n".join(l for l in tiny.split("\n") if "lpu.data" not in l)
        tiny = tiny[tiny.index("  lpu.program"):tiny.rindex("}")]
        sources = [open(os.path.join(ROOT, "test", "Target", "Lpu", "schedule.mlir")).read(),
                   tiny]
        bad = rejected = 0
        mutant = os.path.join(tmp, "mutant.mlir")
        for i in range(a.runs):
            with open(mutant, "w") as f:
                f.write(mutate(sources[i % 2]))
            for cmd in ([opt, mutant, "--lpu-schedule", "-o", mutant + ".s"],
                        [translate, "--lpu-to-program", mutant + ".s", "-o", mutant + ".lpu"]):
                r = subprocess.run(cmd, capture_output=True, timeout=300)
                if r.returncode not in (0, 1) or b"Sanitizer" in r.stderr or \
                        b"runtime error" in r.stderr:
                    bad += 1
                    print("mutant %d (%s): exit %d\n%s" % (i, os.path.basename(cmd[0]),
                                                           r.returncode, r.stderr[-600:].decode()))
                if r.returncode:
                    rejected += 1
                    break
    print("%d mutated lpu programs (IR): %d rejected with an error, %d crashed or "
          "reported by a sanitizer" % (a.runs, rejected, bad))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
