#!/usr/bin/python3
"""Greedy decoding with the split phases against the original graph.

    /usr/bin/python3 python/phases_greedy.py --bin-dir BIN --model M.onnx
        --work DIR [--prompt 8] [--context 32] [--steps 16] [--seed 1]

Compiles MODEL to @prefill and @decode (prismc --compile-to=phases) and runs
greedy generation two ways with prism-run:

  * the original graph with its growing KV cache (past_key_values.* in,
    present.* out), as exported, not raised (--no-raise), recompiled for
    each step's past length;
  * @prefill once (the prompt), then @decode once per new token: the cache
    is a fixed buffer of CONTEXT positions, the attention mask marks the
    filled ones, and each step's appended keys and values are written at
    the next position.

Every step's logits must agree (|split - original| <= 1e-4 * max|original|)
and every generated token must be the same. Prints one line per step;
exits 1 on a mismatch.
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
        sys.exit("phases_greedy: command failed: %s\n%s" % (" ".join(cmd), r.stdout))


# The model's integer input types (ids and masks are int32 in some exports).
INPUT_DTYPES = {}


def prism_run(bin_dir, model, inputs, out_dir, extra=()):
    os.makedirs(out_dir, exist_ok=True)
    args = [os.path.join(bin_dir, "prism-run"), model, "--output-dir", out_dir]
    for name, value in inputs.items():
        path = os.path.join(out_dir, "in_" + name.replace("/", "_") + ".npy")
        np.save(path, value.astype(INPUT_DTYPES.get(name, value.dtype)))
        args += ["--input", "%s=%s" % (name, path)]
    run(args + list(extra))
    return lambda name: np.load(os.path.join(out_dir, name + ".npy"))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bin-dir", required=True)
    ap.add_argument("--model", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--prompt", type=int, default=8)
    ap.add_argument("--context", type=int, default=32)
    ap.add_argument("--steps", type=int, default=16)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--expect", help="an .npz with the prompt ([1, P] ids) and the "
                    "tokens a reference generates after it (python/import_llama2c.py "
                    "--tokens-out): the prompt is used, and both runs must generate "
                    "those tokens")
    ap.add_argument("--generation-decoder", action="store_true",
                    help="MODEL is ONNX Runtime's generation loop (com.microsoft "
                    "BeamSearch/GreedySearch): prismc compiles its decoder subgraph; "
                    "the original graph run is that subgraph, extracted here")
    ap.add_argument("--original-raised", action="store_true",
                    help="run the original graph raised (its fused com.microsoft "
                    "attention runs only raised), not as imported")
    ap.add_argument("--skip-original", action="store_true",
                    help="with --expect: check the phases against the reference's "
                    "tokens only, without running the original graph step by step")
    a = ap.parse_args()
    if a.context < a.prompt + a.steps - 1:
        sys.exit("phases_greedy: --context must hold the prompt and the steps")

    m = onnx.load(a.model, load_external_data=False)
    original = a.model
    if a.generation_decoder:
        loop = m.graph.node[0]
        decoder = [x.g for x in loop.attribute if x.name == "decoder"][0]
        names = {t.name for t in decoder.initializer} | {i.name for i in decoder.input}
        decoder.initializer.extend(t for t in m.graph.initializer if t.name not in names)
        m = onnx.helper.make_model(decoder, opset_imports=m.opset_import,
                                   ir_version=m.ir_version)
        os.makedirs(a.work, exist_ok=True)
        original = os.path.join(a.work, "decoder.onnx")
        onnx.save(m, original)
    for i in m.graph.input:
        if i.type.tensor_type.elem_type == onnx.TensorProto.INT32:
            INPUT_DTYPES[i.name] = np.int32
    past = [i for i in m.graph.input if "past" in i.name]
    presents = [o.name for o in m.graph.output if "present" in o.name]
    vocab = [o for o in m.graph.output if o.name == "logits"][0]
    dims = past[0].type.tensor_type.shape.dim
    stacked = len(dims) == 5  # [2, batch, heads, past, head_dim] (GPT-2's past_N)
    heads, head_dim = dims[-3].dim_value, dims[-1].dim_value
    vocab_size = vocab.type.tensor_type.shape.dim[2].dim_value
    elem = np.float32

    os.makedirs(a.work, exist_ok=True)
    phases = os.path.join(a.work, "phases.mlir")
    run([os.path.join(a.bin_dir, "prismc"), a.model, "--compile-to=phases",
         "--prompt", str(a.prompt), "--context", str(a.context), "--batch", "1",
         "-o", phases])

    rng = np.random.default_rng(a.seed)
    prompt = rng.integers(0, vocab_size, size=(1, a.prompt), dtype=np.int64)
    expected = None
    if a.expect:
        ref = np.load(a.expect)
        prompt, expected = ref["prompt"].astype(np.int64), [int(t) for t in ref["tokens"]]
        if prompt.shape != (1, a.prompt) or len(expected) < a.steps + 1:
            sys.exit("phases_greedy: %s holds a prompt of %s and %d tokens; --prompt %d "
                     "--steps %d need [1, %d] and %d" % (a.expect, prompt.shape, len(expected),
                                                      a.prompt, a.steps, a.prompt, a.steps + 1))

    if a.skip_original and expected is None:
        sys.exit("phases_greedy: --skip-original needs --expect")
    # The original graph, its cache growing by one position a step.
    ref_logits, ref_tokens = [], []
    empty = ((2,) if stacked else ()) + (1, heads, 0, head_dim)
    cache = {p.name: np.zeros(empty, elem) for p in past}
    ids, n = prompt, 0
    for step in range(0 if a.skip_original else a.steps + 1):
        s = ids.shape[1]
        inputs = {"input_ids": ids,
                  "attention_mask": np.ones((1, n + s), np.int64),
                  "position_ids": np.arange(n, n + s, dtype=np.int64)[None]}
        inputs.update(cache)
        out = prism_run(a.bin_dir, original, inputs,
                        os.path.join(a.work, "ref%d" % step),
                        [] if a.original_raised else ["--no-raise"])
        logits = out("logits")[:, -1]
        ref_logits.append(logits)
        ref_tokens.append(int(logits.argmax()))
        cache = {p.name: out(pr.replace("/", "_"))
                 for p, pr in zip(past, presents)}
        n += s
        ids = np.array([[ref_tokens[-1]]], np.int64)

    # @prefill, then @decode into a buffer of `context` positions.
    out = prism_run(a.bin_dir, phases,
                    {"input_ids": prompt,
                     "attention_mask": np.ones((1, a.prompt), np.int64),
                     "position_ids": np.arange(a.prompt, dtype=np.int64)[None]},
                    os.path.join(a.work, "prefill"), ["--function", "prefill"])
    filled = out("kv_cache")  # [layers, 2, 1, heads, prompt, head_dim]
    buffer = np.zeros(filled.shape[:4] + (a.context, head_dim), elem)
    buffer[..., :a.prompt, :] = filled
    logits = [out("logits")[:, -1]]
    tokens = [int(logits[0].argmax())]
    n = a.prompt
    for step in range(1, a.steps + 1):
        mask = np.zeros((1, a.context + 1), np.int64)
        mask[0, :n] = 1
        mask[0, a.context] = 1  # this step's token
        out = prism_run(a.bin_dir, phases,
                        {"input_ids": np.array([[tokens[-1]]], np.int64),
                         "attention_mask": mask,
                         "position_ids": np.array([[n]], np.int64),
                         "kv_cache": buffer},
                        os.path.join(a.work, "decode%d" % step),
                        ["--function", "decode"])
        buffer[..., n:n + 1, :] = out("kv_cache_append")
        n += 1
        logits.append(out("logits")[:, -1])
        tokens.append(int(logits[-1].argmax()))

    ok = True
    if a.skip_original:
        ref_logits, ref_tokens = logits, expected[:a.steps + 1]
    for step, (ref, got, rt, t) in enumerate(zip(ref_logits, logits, ref_tokens, tokens)):
        err = float(np.abs(got - ref).max() / np.abs(ref).max())
        good = err <= 1e-4 and rt == t
        ok &= good
        print("%s %2d token %4d (original %4d) logits norm-wise error %.2e%s" %
              ("prefill" if step == 0 else "decode ", step, t, rt, err,
               "" if good else "  MISMATCH"))
    print("%d greedy steps: %s" % (a.steps, "identical tokens" if ok else "MISMATCH"))
    if expected is not None:
        same = tokens == expected[:a.steps + 1] and list(ref_tokens) == expected[:a.steps + 1]
        ok &= same
        print("the reference's %d tokens: %s" % (a.steps + 1, "identical" if same else
              "MISMATCH (reference %s)" % expected[:a.steps + 1]))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
