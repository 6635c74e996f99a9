#!/usr/bin/python3
"""Mutation run of prism-sim lpu: corrupted text and binary programs.

Compiles the tiny Llama's @decode to an LPU program in both forms, flips
random bytes (and sometimes truncates), runs each mutant in prism-sim lpu
--timing-only and counts the runs that neither succeed nor fail cleanly
(exit 0 or 1): crashes, aborts, sanitizer reports.

    /usr/bin/python3 benchmarks/fuzz_lpu_programs.py [--bin-dir build/bin]
        [--runs 150] [--seed 3]
"""
import argparse
import os
import random
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bin-dir", default=os.path.join(ROOT, "build", "bin"))
    ap.add_argument("--runs", type=int, default=150)
    ap.add_argument("--seed", type=int, default=3)
    a = ap.parse_args()
    random.seed(a.seed)
    with tempfile.TemporaryDirectory() as tmp:
        model = os.path.join(tmp, "tiny.onnx")
        subprocess.run([sys.executable, os.path.join(ROOT, "python", "build_model.py"),
                        "--preset", "tiny", "-o", model], check=True, stdout=subprocess.DEVNULL)
        programs = []
        for name in ("decode.lpu", "decode.lpub"):
            path = os.path.join(tmp, name)
            subprocess.run([os.path.join(a.bin_dir, "prismc"), model, "--compile-to=lpu",
                            "--prompt", "4", "--context", "8", "-o", path], check=True)
            programs.append(open(path, "rb").read())
        bad = 0
        mutant = os.path.join(tmp, "mutant")
        for i in range(a.runs):
            b = bytearray(programs[i % 2])
            for _ in range(random.randint(1, 30)):
                b[random.randrange(len(b))] = random.randrange(256)
            if random.random() < 0.3:
                b = b[:random.randrange(len(b))]
            with open(mutant, "wb") as f:
                f.write(bytes(b))
            r = subprocess.run([os.path.join(a.bin_dir, "prism-sim"), "lpu", "--timing-only",
                                mutant], capture_output=True, timeout=300)
            if r.returncode not in (0, 1) or b"Sanitizer" in r.stderr or \
                    b"runtime error" in r.stderr:
                bad += 1
                print("mutant %d: exit %d\n%s" % (i, r.returncode, r.stderr[-400:].decode()))
    print("%d mutated programs (text and binary): %d crashed or reported by a sanitizer"
          % (a.runs, bad))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
