#!/usr/bin/python3
"""The cost model against the published calibration points C1-C5.

    /usr/bin/python3 python/check_calibration.py --bin-dir BIN --work DIR
        [--tolerance 0.15]

For each point of ../shared/hardware/README.md ("Calibration points"), builds
the model's preset (shape-only), compiles it to phases on the point's system
with prismc --estimate and compares the prediction with the published
figure, using the same model, precision, chip count and batch. The device
descriptions' efficiency parameters are one set per device kind
(hardware/devices/*.json), the same for every point. Prints predicted vs
published for each; exits 1 when one is off by more than the tolerance.
"""
import argparse
import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# id, what, preset, system, weight dtype, prompt, context, phase, published
# seconds (time to first token, or 1 / output tokens per second per user).
POINTS = [
    ("C1", "H100 x4 TP4, Llama-2-70B FP8, TTFT 128-token prompt", "llama-2-70b",
     "h100-sxm*4", "fp8", 128, 2048, "prefill", 0.026),
    ("C1", "H100 x4 TP4, Llama-2-70B FP8, TTFT 2048-token prompt", "llama-2-70b",
     "h100-sxm*4", "fp8", 2048, 2048, "prefill", 0.109),
    ("C2", "A100 x4 TP4, Llama-2-70B FP16, TTFT 128-token prompt", "llama-2-70b",
     "a100-80g*4", "fp16", 128, 2048, "prefill", 0.047),
    ("C2", "A100 x4 TP4, Llama-2-70B FP16, TTFT 2048-token prompt", "llama-2-70b",
     "a100-80g*4", "fp16", 2048, 2048, "prefill", 0.377),
    ("C3", "Groq LPU x576, Llama-2-70B, 4k context: ~300 tokens/s/user", "llama-2-70b",
     "lpu-v1*576", "int8", 128, 4096, "decode", 1 / 300),
    ("C4", "Cerebras CS-3, Llama-3.1-8B BF16: 1,800 tokens/s/user", "llama-3.1-8b",
     "wse-3*1", "bf16", 128, 2048, "decode", 1 / 1800),
    ("C5", "SambaNova SN40L x16, Llama-3.1-8B BF16: 1,042 tokens/s/user", "llama-3.1-8b",
     "sn40l*16", "bf16", 128, 2048, "decode", 1 / 1042),
]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bin-dir", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--tolerance", type=float, default=0.15)
    a = ap.parse_args()
    os.makedirs(a.work, exist_ok=True)
    ok = True
    for pid, what, preset, system, dtype, prompt, context, phase, published in POINTS:
        model = os.path.join(a.work, preset + ".onnx")
        if not os.path.exists(model):
            subprocess.run([sys.executable, os.path.join(ROOT, "python", "build_model.py"),
                            "--preset", preset, "-o", model], check=True,
                           stdout=subprocess.DEVNULL)
        out = subprocess.run([os.path.join(a.bin_dir, "prismc"), model,
                              "--compile-to=phases", "--prompt", str(prompt),
                              "--context", str(context), "--system", system,
                              "--weight-dtype", dtype, "--estimate"],
                             check=True, stdout=subprocess.PIPE, text=True).stdout
        block = out.split("@" + phase + " ")[1]
        predicted = float(re.search(r"time (?:to first|per output) token:\s+(\S+) s",
                                    block).group(1))
        err = (predicted - published) / published
        good = abs(err) <= a.tolerance
        ok &= good
        print("%s %-62s predicted %8.3f ms  published %8.3f ms  %+6.1f%%%s" %
              (pid, what, predicted * 1e3, published * 1e3, 100 * err,
               "" if good else "  OFF"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
