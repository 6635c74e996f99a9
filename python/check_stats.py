#!/usr/bin/python3
"""prismc --stats against the closed-form counts of a Llama preset.

    /usr/bin/python3 python/check_stats.py --bin-dir BIN --preset llama-3.1-8b
        --work DIR [--prompt 128] [--context 2048] [--tolerance 0.01]

Builds the preset (shape-only), compiles it to phases with --stats and checks,
per phase, within the tolerance:

  * weight bytes (resident) = parameters x dtype size;
  * FLOPs per token = 2 x (parameters - embedding table) + attention, where
    attention = layers x 4 x heads x head_dim x keys attended per query
    (decode: context + 1; prefill: prompt, every score of the explicit
    mask); the embedding lookup multiplies nothing;
  * KV-cache bytes written per token per layer = 2 x kv_heads x head_dim x
    dtype size (both phases); decode reads the context's: that times context.

Prints predicted vs measured for each; exits 1 when one is off.
"""
import argparse
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import build_model  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bin-dir", required=True)
    ap.add_argument("--preset", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--prompt", type=int, default=128)
    ap.add_argument("--context", type=int, default=2048)
    ap.add_argument("--tolerance", type=float, default=0.01)
    a = ap.parse_args()
    cfg = build_model.resolve_config(a.preset)
    os.makedirs(a.work, exist_ok=True)
    model = os.path.join(a.work, a.preset + ".onnx")
    subprocess.run([sys.executable, build_model.__file__, "--preset", a.preset,
                    "-o", model], check=True, stdout=subprocess.DEVNULL)
    out = subprocess.run([os.path.join(a.bin_dir, "prismc"), model,
                          "--compile-to=phases", "--prompt", str(a.prompt),
                          "--context", str(a.context), "--stats", "--no-ir"],
                         check=True, stdout=subprocess.PIPE, text=True).stdout
    stats, phase = {}, None
    for line in out.splitlines():
        if line.startswith("@"):
            phase = line[1:].split(":")[0]
            stats[phase] = {}
        elif m := re.match(r"\s+(.+?):\s+(\S+)$", line):
            stats[phase][m.group(1)] = float(m.group(2))

    size = 2 if cfg.dtype == "float16" else 4
    params = cfg.num_params()
    matmul_params = params - cfg.vocab_size * cfg.hidden_size
    kv_per_layer = 2 * cfg.num_kv_heads * cfg.head_dim * size
    attn = cfg.num_layers * 4 * cfg.num_heads * cfg.head_dim
    expected = {
        "prefill": {
            "weight bytes (resident)": params * size,
            "FLOPs per token": 2 * matmul_params + attn * a.prompt,
            "KV-cache bytes written per token": kv_per_layer * cfg.num_layers,
        },
        "decode": {
            "weight bytes (resident)": params * size,
            "FLOPs per token": 2 * matmul_params + attn * (a.context + 1),
            "KV-cache bytes written per token": kv_per_layer * cfg.num_layers,
            "KV-cache bytes read per token": kv_per_layer * cfg.num_layers * a.context,
        },
    }
    ok = True
    print("%s (%.3fB parameters, %s), prompt %d, context %d:" %
          (a.preset, params / 1e9, cfg.dtype, a.prompt, a.context))
    for ph, checks in expected.items():
        for key, want in checks.items():
            got = stats[ph][key]
            err = abs(got - want) / want
            ok &= err <= a.tolerance
            print("  @%-8s %-34s closed form %.6e  prismc %.6e  error %.3f%%%s" %
                  (ph, key, want, got, 100 * err,
                   "" if err <= a.tolerance else "  OFF"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
