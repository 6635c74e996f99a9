#!/usr/bin/python3
"""Greedy decoding on an NVIDIA GPU against the host, phase by phase.

    /usr/bin/python3 python/gpu_greedy.py --bin-dir BIN --model M.onnx
        --work DIR [--gpu h100-sxm] [--prompt 8] [--context 32] [--steps 16]
        [--weights bf16|fp32|fp8] [--follow-host]

Compiles MODEL to @prefill and @decode (prismc --compile-to=phases) and runs
greedy generation with both on the host (prism-run) and on the GPU
(prism-run --device=cuda: prism-lower-gpu, the launch plan, the CUDA
driver): @prefill on the prompt, then @decode once per new token, the KV
cache a buffer of CONTEXT positions that each step's keys and values are
appended to. Each side decodes from its own tokens and cache.

Every step's logits must agree within bf16's precision (the GPU stores
weights and multiplies in bf16: |gpu - host| <= 3e-2 * max|host|) and every
token must be the same. With --weights fp8 the GPU stores weights as e4m3
and quantizes the GEMMs' activations per row: the default tolerance is then
1e-1, and --follow-host (the GPU decodes the host's tokens, so a near tie
does not send the two apart) compares the logits only. Prints one line per
step; exits 1 on a mismatch and 77 (skipped) when there is no CUDA driver
or GPU.
"""
import argparse
import os
import subprocess
import sys

import numpy as np

NO_GPU = 77


def prism_run(bin_dir, phases, function, inputs, out_dir, extra=()):
    os.makedirs(out_dir, exist_ok=True)
    args = [os.path.join(bin_dir, "prism-run"), phases, "--function", function,
            "--output-dir", out_dir] + list(extra)
    for name, value in inputs.items():
        path = os.path.join(out_dir, "in_" + name + ".npy")
        np.save(path, value)
        args += ["--input", "%s=%s" % (name, path)]
    r = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if r.returncode == NO_GPU:
        print(r.stdout.strip())
        print("gpu_greedy: no CUDA driver or GPU here: skipped")
        sys.exit(NO_GPU)
    if r.returncode != 0:
        sys.exit("gpu_greedy: command failed: %s\n%s" % (" ".join(args), r.stdout))
    return lambda name: np.load(os.path.join(out_dir, name + ".npy"))


def generate(a, phases, extra, tag, prompt, follow=None):
    """Prefill, then `steps` decode steps; the logits and tokens of each.
    With `follow`, each step decodes that token list's token instead of its
    own."""
    out = prism_run(a.bin_dir, phases, "prefill",
                    {"input_ids": prompt,
                     "attention_mask": np.ones((1, a.prompt), np.int64),
                     "position_ids": np.arange(a.prompt, dtype=np.int64)[None]},
                    os.path.join(a.work, tag + "-prefill"), extra)
    filled = out("kv_cache")  # [layers, 2, 1, heads, prompt, head_dim]
    cache = np.zeros(filled.shape[:4] + (a.context, filled.shape[5]), np.float32)
    cache[..., :a.prompt, :] = filled
    logits = [out("logits")[:, -1]]
    tokens = [int(logits[0].argmax())]
    n = a.prompt
    for step in range(1, a.steps + 1):
        mask = np.zeros((1, a.context + 1), np.int64)
        mask[0, :n] = 1
        mask[0, a.context] = 1  # this step's token
        token = follow[step - 1] if follow else tokens[-1]
        out = prism_run(a.bin_dir, phases, "decode",
                        {"input_ids": np.array([[token]], np.int64),
                         "attention_mask": mask,
                         "position_ids": np.array([[n]], np.int64),
                         "kv_cache": cache},
                        os.path.join(a.work, "%s-decode%d" % (tag, step)), extra)
        cache[..., n:n + 1, :] = out("kv_cache_append")
        n += 1
        logits.append(out("logits")[:, -1])
        tokens.append(int(logits[-1].argmax()))
    return logits, tokens


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bin-dir", required=True)
    ap.add_argument("--model", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--gpu", default="h100-sxm", help="device kind to compile for")
    ap.add_argument("--prompt", type=int, default=8)
    ap.add_argument("--context", type=int, default=32)
    ap.add_argument("--steps", type=int, default=16)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--weights", default="bf16", choices=["bf16", "fp32", "fp8"],
                    help="the dtype the GPU stores weights in (prism-run --weight-dtype)")
    ap.add_argument("--follow-host", action="store_true",
                    help="the GPU decodes the host's tokens; compare logits only")
    ap.add_argument("--tolerance", type=float,
                    help="max |gpu - host| / max|host| (default 3e-2, 1e-1 for fp8)")
    a = ap.parse_args()
    if a.tolerance is None:
        a.tolerance = 1e-1 if a.weights == "fp8" else 3e-2
    if a.context < a.prompt + a.steps - 1:
        sys.exit("gpu_greedy: --context must hold the prompt and the steps")

    os.makedirs(a.work, exist_ok=True)
    phases = os.path.join(a.work, "phases.mlir")
    r = subprocess.run([os.path.join(a.bin_dir, "prismc"), a.model, "--compile-to=phases",
                        "--prompt", str(a.prompt), "--context", str(a.context),
                        "--batch", "1", "-o", phases],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if r.returncode != 0:
        sys.exit("gpu_greedy: prismc failed\n" + r.stdout)
    vocab = None
    rng = np.random.default_rng(a.seed)
    gpu_flags = ["--device=cuda", "--gpu", a.gpu, "--weight-dtype", a.weights]
    # The GPU first: without one there is nothing to compare.
    probe = prism_run(a.bin_dir, phases, "prefill",
                      {"input_ids": np.zeros((1, a.prompt), np.int64),
                       "attention_mask": np.ones((1, a.prompt), np.int64),
                       "position_ids": np.arange(a.prompt, dtype=np.int64)[None]},
                      os.path.join(a.work, "probe"), gpu_flags)
    vocab = probe("logits").shape[-1]
    prompt = rng.integers(0, vocab, size=(1, a.prompt), dtype=np.int64)

    host_logits, host_tokens = generate(a, phases, [], "host", prompt)
    gpu_logits, gpu_tokens = generate(a, phases, gpu_flags, "gpu", prompt,
                                      host_tokens if a.follow_host else None)

    ok = True
    for step, (ref, got, rt, t) in enumerate(zip(host_logits, gpu_logits, host_tokens,
                                                  gpu_tokens)):
        err = float(np.abs(got - ref).max() / np.abs(ref).max())
        good = err <= a.tolerance and (a.follow_host or rt == t)
        ok &= good
        print("%s %2d token %4d (host %4d) logits error %.2e of max|host|%s" %
              ("prefill" if step == 0 else "decode ", step, t, rt, err,
               "" if good else "  MISMATCH"))
    print("%d greedy steps on the GPU (%s weights): %s" %
          (a.steps, a.weights, "MISMATCH" if not ok else
           "logits within %g, following the host's tokens" % a.tolerance if a.follow_host
           else "identical tokens"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
