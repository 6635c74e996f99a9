#!/usr/bin/python3
"""A disaggregated bundle's greedy tokens against the host's.

    /usr/bin/python3 python/bundle_greedy.py --bin-dir BIN --model M.onnx
        --work DIR --system SPEC [--prompt 8] [--context 32] [--steps 16]
        [--seed 1] [--tolerance 1e-2]

Compiles MODEL for SYSTEM in one call (prismc --compile-to=bundle: the
partitioner places @prefill and @decode, each target compiles its phase)
and runs the bundle (prism-run --bundle: the prefill on its target, the KV
cache handed to the decode side, then STEPS decode steps on theirs). The
reference is the host: prism-run on the phases module, step by step, with
the cache kept in NumPy. Every generated token must be the same and every
step's logits within TOLERANCE * max|host|. Exits 77 when a phase's target
cannot run on this machine (prism-run says which), 1 on a mismatch.
"""
import argparse
import os
import subprocess
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lpu_greedy import prism_run, run  # noqa: E402


def host_greedy(bin_dir, phases, prompt, context, steps, work):
    """The host's tokens and logits: @prefill, then @decode step by step."""
    n = prompt.shape[1]
    out = prism_run(bin_dir, phases,
                    {"input_ids": prompt, "attention_mask": np.ones_like(prompt),
                     "position_ids": np.arange(n, dtype=np.int64)[None]},
                    os.path.join(work, "host-prefill"), ["--function", "prefill"])
    filled, logits = out("kv_cache"), out("logits")
    cache = np.zeros(filled.shape[:4] + (context, filled.shape[5]), np.float32)
    cache[..., :n, :] = filled
    rows, tokens = [logits[0, -1]], [int(logits[0, -1].argmax())]
    for step in range(1, steps + 1):
        mask = np.zeros((1, context + 1), np.int64)
        mask[0, :n] = 1
        mask[0, context] = 1
        out = prism_run(bin_dir, phases,
                        {"input_ids": np.array([[tokens[-1]]], np.int64),
                         "attention_mask": mask, "position_ids": np.array([[n]], np.int64),
                         "kv_cache": cache},
                        os.path.join(work, "host-decode%d" % step), ["--function", "decode"])
        cache[..., n:n + 1, :] = out("kv_cache_append")
        n += 1
        rows.append(out("logits")[0, -1])
        tokens.append(int(rows[-1].argmax()))
    return tokens, rows


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bin-dir", required=True)
    ap.add_argument("--model", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--system", required=True)
    ap.add_argument("--prompt", type=int, default=8)
    ap.add_argument("--context", type=int, default=32)
    ap.add_argument("--steps", type=int, default=16)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--tolerance", type=float, default=1e-2)
    a = ap.parse_args()
    os.makedirs(a.work, exist_ok=True)
    shape = ["--prompt", str(a.prompt), "--context", str(a.context)]
    bundle = os.path.join(a.work, "bundle")
    run([os.path.join(a.bin_dir, "prismc"), a.model, "--compile-to=bundle", "--system",
         a.system, "-o", bundle] + shape)

    import onnx
    model = onnx.load(a.model, load_external_data=False)
    logits = [o for o in model.graph.output if o.name == "logits"][0]
    vocab = logits.type.tensor_type.shape.dim[2].dim_value
    prompt = np.random.default_rng(a.seed).integers(0, vocab, size=(1, a.prompt),
                                                    dtype=np.int64)
    ids = os.path.join(a.work, "prompt.npy")
    np.save(ids, prompt)
    out_dir = os.path.join(a.work, "bundle-run")
    r = subprocess.run([os.path.join(a.bin_dir, "prism-run"), "--bundle", bundle,
                        "--prompt-ids", ids, "--steps", str(a.steps), "--output-dir", out_dir],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    print(r.stdout, end="")
    if r.returncode == 77:
        return 77
    if r.returncode != 0:
        sys.exit("bundle_greedy: prism-run --bundle failed")
    got = np.load(os.path.join(out_dir, "tokens.npy"))
    got_logits = np.load(os.path.join(out_dir, "logits.npy"))

    phases = os.path.join(a.work, "phases.mlir")
    run([os.path.join(a.bin_dir, "prismc"), a.model, "--compile-to=phases", "-o", phases] +
        shape)
    tokens, rows = host_greedy(a.bin_dir, phases, prompt, a.context, a.steps, a.work)

    same = len(got) == len(tokens)
    for step, (t, ref, row) in enumerate(zip(tokens, rows, got_logits)):
        err = float(np.abs(row - ref).max() / np.abs(ref).max())
        good = int(got[step]) == t and err <= a.tolerance
        same &= good
        print("%s %2d token %4d (host %4d) logits error %.2e of max|host|%s" %
              ("prefill" if step == 0 else "decode ", step, got[step], t, err,
               "" if good else "  MISMATCH"))
    print("%d greedy tokens of the bundle (%s): %s" %
          (len(tokens), a.system, "identical to the host's" if same else "MISMATCH"))
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
