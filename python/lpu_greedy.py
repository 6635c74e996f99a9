#!/usr/bin/python3
"""Greedy decoding on the simulated LPU against the host.

    /usr/bin/python3 python/lpu_greedy.py --bin-dir BIN --model M.onnx
        --work DIR [--chips 1x1,2x2,8x2] [--prompt 8] [--context 32]
        [--steps 16] [--seed 1] [--tolerance 1e-2]

Runs greedy generation on the host (prism-run on the phases: @prefill,
then @decode into a cache buffer of CONTEXT positions) and, for each
CHIPSxTP of --chips, in the LPU simulator: MODEL's @prefill and @decode
compiled for CHIPS chips in stages of TP (prismc --compile-to=lpu), run by
prism-sim lpu step by step (each step's inputs, the cache included, are
the program's inputs; its logits and appended cache entries its outputs).

Every step's logits must agree within fp16 tolerance
(|lpu - host| <= TOLERANCE * max|host|) and every generated token must be
the same. Prints one line per step and the simulator's report of the last
decode step; exits 1 on a mismatch.
"""
import argparse
import os
import subprocess
import sys

import numpy as np
import onnx


def run(cmd):
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       text=True)
    if r.returncode != 0:
        sys.exit("lpu_greedy: command failed: %s\n%s" % (" ".join(cmd), r.stdout))
    return r.stdout


def prism_run(bin_dir, model, inputs, out_dir, extra=()):
    os.makedirs(out_dir, exist_ok=True)
    args = [os.path.join(bin_dir, "prism-run"), model, "--output-dir", out_dir]
    for name, value in inputs.items():
        path = os.path.join(out_dir, "in_" + name + ".npy")
        np.save(path, value)
        args += ["--input", "%s=%s" % (name, path)]
    run(args + list(extra))
    return lambda name: np.load(os.path.join(out_dir, name + ".npy"))


def prism_sim(bin_dir, program, inputs, out_dir):
    """Runs an LPU program; returns its outputs (flat) and its report."""
    os.makedirs(out_dir, exist_ok=True)
    args = [os.path.join(bin_dir, "prism-sim"), "lpu", program]
    for name, value in inputs.items():
        path = os.path.join(out_dir, name + ".txt")
        np.savetxt(path, np.asarray(value, np.float64).reshape(-1), fmt="%.9g")
        args += ["--input", "%s=%s" % (name, path)]
    text = run(args)
    outputs, report = {}, []
    for line in text.splitlines():
        if line.startswith("output "):
            name, values = line[len("output "):].split(":", 1)
            outputs[name] = np.array([float(v) for v in values.split()], np.float32)
        else:
            report.append(line)
    return outputs, "\n".join(report)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bin-dir", required=True)
    ap.add_argument("--model", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--chips", default="1x1",
                    help="comma-separated CHIPSxTP (chips, chips per stage)")
    ap.add_argument("--prompt", type=int, default=8)
    ap.add_argument("--context", type=int, default=32)
    ap.add_argument("--steps", type=int, default=16)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--tolerance", type=float, default=1e-2)
    a = ap.parse_args()
    if a.context < a.prompt + a.steps - 1:
        sys.exit("lpu_greedy: --context must hold the prompt and the steps")

    os.makedirs(a.work, exist_ok=True)
    prismc = os.path.join(a.bin_dir, "prismc")
    shape = ["--prompt", str(a.prompt), "--context", str(a.context), "--batch", "1"]
    phases = os.path.join(a.work, "phases.mlir")
    run([prismc, a.model, "--compile-to=phases", "-o", phases] + shape)
    configs = [tuple(int(x) for x in c.split("x")) for c in a.chips.split(",")]
    programs = {}
    for chips, tp in configs:
        for fn in ("prefill", "decode"):
            path = os.path.join(a.work, "%s-%dx%d.lpu" % (fn, chips, tp))
            programs[(chips, fn)] = path
            run([prismc, a.model, "--compile-to=lpu", "--lpu-verify", "--lpu-function", fn,
                 "--lpu-chips", str(chips), "--lpu-tensor-parallel", str(tp),
                 "-o", path] + shape)

    model = onnx.load(a.model, load_external_data=False)
    logits = [o for o in model.graph.output if o.name == "logits"][0]
    vocab = logits.type.tensor_type.shape.dim[2].dim_value
    prompt = np.random.default_rng(a.seed).integers(0, vocab, size=(1, a.prompt),
                                                    dtype=np.int64)
    results = {}
    for target in ["host"] + [chips for chips, _ in configs]:
        prompt_inputs = {"attention_mask": np.ones((1, a.prompt), np.int64),
                         "position_ids": np.arange(a.prompt, dtype=np.int64)[None]}
        prompt_inputs["input_ids"] = prompt
        if target == "host":
            out = prism_run(a.bin_dir, phases, prompt_inputs,
                            os.path.join(a.work, "host-prefill"), ["--function", "prefill"])
            filled, logits = out("kv_cache"), out("logits")
        else:
            out, _ = prism_sim(a.bin_dir, programs[(target, "prefill")], prompt_inputs,
                               os.path.join(a.work, "lpu%d-prefill" % target))
            logits = out["logits"].reshape(1, a.prompt, vocab)
            filled = out["kv_cache"].reshape(filled_shape)
        filled_shape = filled.shape  # [layers, 2, 1, heads, prompt, head_dim]
        buffer = np.zeros(filled.shape[:4] + (a.context, filled.shape[5]), np.float32)
        buffer[..., :a.prompt, :] = filled
        steps = [logits[:, -1]]
        tokens = [int(steps[0].argmax())]
        n, report = a.prompt, ""
        for step in range(1, a.steps + 1):
            mask = np.zeros((1, a.context + 1), np.int64)
            mask[0, :n] = 1
            mask[0, a.context] = 1  # this step's token
            inputs = {"input_ids": np.array([[tokens[-1]]], np.int64),
                      "attention_mask": mask,
                      "position_ids": np.array([[n]], np.int64),
                      "kv_cache": buffer}
            if target == "host":
                out = prism_run(a.bin_dir, phases, inputs,
                                os.path.join(a.work, "host-decode%d" % step),
                                ["--function", "decode"])
                append, logits = out("kv_cache_append"), out("logits")
            else:
                out, report = prism_sim(a.bin_dir, programs[(target, "decode")], inputs,
                                        os.path.join(a.work, "lpu%d-decode%d" % (target, step)))
                append = out["kv_cache_append"].reshape(buffer.shape[:4] + (1, buffer.shape[5]))
                logits = out["logits"].reshape(1, 1, vocab)
            buffer[..., n:n + 1, :] = append
            n += 1
            steps.append(logits[:, -1])
            tokens.append(int(steps[-1].argmax()))
        results[target] = (steps, tokens, report)

    ok = True
    host = results["host"]
    for chips, tp in configs:
        lpu = results[chips]
        same = True
        for step, (ref, got, rt, t) in enumerate(zip(host[0], lpu[0], host[1], lpu[1])):
            err = float(np.abs(got - ref).max() / np.abs(ref).max())
            good = err <= a.tolerance and rt == t
            same &= good
            print("%d chips: %s %2d token %4d (host %4d) logits error %.2e of max|host|%s" %
                  (chips, "prefill" if step == 0 else "decode ", step, t, rt, err,
                   "" if good else "  MISMATCH"))
        print("%d chips (stages of %d), last decode step:\n%s" % (chips, tp, lpu[2]))
        print("%d greedy steps on %d chips: %s" %
              (a.steps, chips, "identical tokens" if same else "MISMATCH"))
        ok &= same
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
