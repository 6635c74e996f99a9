#!/usr/bin/python3
"""Host latency: Prism (prism-run) against ONNX Runtime (onnxruntime-node,
CPU) on one decode step and one 128-token prefill, for the tiny Llama and a
GPT-2-small-shaped model with random weights.

    /usr/bin/python3 benchmarks/host_latency.py [--build-dir build]
        [--runs 10] [--threads 1,2] [--past 127] [--prompt 128]

Both run the same model on the same inputs (python/make_inputs.py), at each
thread count of --threads (Prism's --num-threads, ORT's intra-op threads),
and report the median of --runs timed runs after a warm-up; compilation
(Prism's JIT, ORT's session creation) is excluded. The
last column is Prism's latency over ONNX Runtime's: below 1 means Prism is
faster. Needs the ORT oracle installed (tools/ort-oracle/install.sh, which
ctest's ort-install does) and a built prism-run.
"""

import argparse
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PY = "/usr/bin/python3"

MODELS = {
    "tiny-llama": [PY, str(ROOT / "python/build_model.py"), "--preset", "tiny"],
    "gpt2-small": [PY, str(ROOT / "python/build_gpt2.py"), "--preset", "gpt2-small"],
}


def run(command, **kwargs):
    done = subprocess.run(command, capture_output=True, text=True, **kwargs)
    if done.returncode != 0:
        sys.exit(f"host_latency: {' '.join(map(str, command))} failed:\n"
                 f"{done.stderr.strip()}")
    return done.stdout


def median_ms(output, tool):
    match = re.search(rf"{tool} median_ms=([0-9.]+)", output)
    if not match:
        sys.exit(f"host_latency: no '{tool} median_ms=' in:\n{output}")
    return float(match[1])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--build-dir", type=Path, default=ROOT / "build")
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--threads", default="1,2",
                        help="thread counts to compare at (both runtimes)")
    parser.add_argument("--past", type=int, default=127,
                        help="cached tokens before the decode step (the tiny "
                             "Llama has 128 positions)")
    parser.add_argument("--prompt", type=int, default=128,
                        help="tokens of the prefill")
    parser.add_argument("--models", default=",".join(MODELS))
    args = parser.parse_args(argv)
    prism_run = args.build_dir / "bin/prism-run"
    ort_dir = args.build_dir / "ort/node_modules"
    if not prism_run.is_file():
        sys.exit(f"host_latency: no {prism_run}: build Prism first")
    if not (ort_dir / "onnxruntime-node").is_dir():
        sys.exit(f"host_latency: no ONNX Runtime in {ort_dir}: run "
                 f"tools/ort-oracle/install.sh {args.build_dir / 'ort'}")
    env = dict(os.environ, PRISM_ORT_DIR=str(ort_dir))
    rows = []
    with tempfile.TemporaryDirectory() as work:
        work = Path(work)
        for name in args.models.split(","):
            model = work / f"{name}.onnx"
            run(MODELS[name] + ["-o", str(model)])
            for phase, seq, past in (("decode", 1, args.past),
                                     ("prefill", args.prompt, 0)):
                binds = (f"batch_size=1,sequence_length={seq},"
                         f"past_sequence_length={past}")
                inputs = run([PY, str(ROOT / "python/make_inputs.py"), str(model),
                              "--bind", binds, "-o", str(work / "in"), "--seed", "1"]).split()
                for threads in args.threads.split(","):
                    prism = median_ms(run([str(prism_run), str(model), *inputs,
                                           "--output-dir", str(work / "prism"),
                                           "--num-threads", threads,
                                           "--time", str(args.runs)]), "prism")
                    ort = median_ms(run(["node", str(ROOT / "tools/ort-oracle/ort_run.js"),
                                         str(model), *inputs, "--output-dir",
                                         str(work / "ort"), "--threads", threads,
                                         "--time", str(args.runs)], env=env), "ort")
                    case = f"{phase} (past {past}, {seq} token{'s' if seq > 1 else ''})"
                    rows.append((name, case, threads, prism, ort))
                    print(f"{name:<11} {case:<30} {threads} thr  prism {prism:9.3f} ms   "
                          f"ort {ort:9.3f} ms   prism/ort {prism / ort:6.2f}", flush=True)
    print(f"\nmedian of {args.runs} runs, the same thread count for both; "
          "prism/ort < 1: Prism is faster")
    return 0


if __name__ == "__main__":
    sys.exit(main())
