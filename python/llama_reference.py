#!/usr/bin/python3
"""NumPy forward pass of the decoder that build_model.py writes, used to check
what a runtime computes for a model with inline weights (the tiny preset).

    /usr/bin/python3 python/llama_reference.py --preset tiny --model tiny.onnx --compare run.json

`run.json` holds runtime results as {"steps": [{"feeds": {...}, "outputs": {...}}]},
each tensor as {"dtype": "int64"|"float32"|"float16", "dims": [...], "data": [...]}
(float16 data as its uint16 bit patterns). Each step's feeds go through forward()
and every recorded output is compared with the reference's.
"""

import argparse
import json
import os
import sys

import numpy as np
import onnx
from onnx import numpy_helper

from build_model import DTYPES, PRESETS, resolve_config


def load_weights(path):
    model = onnx.load(path)
    return {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}


def rms_norm(x, weight, eps):
    x32 = x.astype(np.float32)
    y = x32 * (1 / np.sqrt(np.mean(x32 * x32, axis=-1, keepdims=True) + eps))
    return weight * y.astype(x.dtype)


def rotate_half(x):
    half = x.shape[-1] // 2
    return np.concatenate([-x[..., half:], x[..., :half]], axis=-1)


def mask_bias(attention_mask, past_len, seq_len, dtype):
    """finfo.min where the key is padding or lies after the query, else 0."""
    neg = np.finfo(dtype).min
    query_pos = np.arange(past_len, past_len + seq_len)[:, None]
    key_pos = np.arange(attention_mask.shape[1])[None, :]
    causal = np.where(query_pos < key_pos, neg, 0).astype(dtype)
    padding = ((1 - attention_mask[:, None, None, :]) * neg).astype(dtype)
    with np.errstate(over="ignore"):  # both masked overflows to -inf, clamped later
        return padding + causal


def softmax(x):
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def attention(cfg, w, p, x, mask, cos, sin, past_k, past_v):
    b, s, _ = x.shape
    hd = cfg.head_dim

    def split_heads(proj, n_heads):
        y = x @ w[p + proj + ".weight"]
        if cfg.qkv_bias:
            y = y + w[p + proj + ".bias"]
        return y.reshape(b, s, n_heads, hd).transpose(0, 2, 1, 3)

    q = split_heads("q_proj", cfg.num_heads)
    k = split_heads("k_proj", cfg.num_kv_heads)
    v = split_heads("v_proj", cfg.num_kv_heads)
    q = q * cos + rotate_half(q) * sin
    k = k * cos + rotate_half(k) * sin
    present_k = np.concatenate([past_k, k], axis=2)
    present_v = np.concatenate([past_v, v], axis=2)
    n_rep = cfg.num_heads // cfg.num_kv_heads
    k_all = np.repeat(present_k, n_rep, axis=1)
    v_all = np.repeat(present_v, n_rep, axis=1)

    scores = (q @ k_all.transpose(0, 1, 3, 2)) / x.dtype.type(np.sqrt(hd))
    with np.errstate(over="ignore"):
        scores = np.maximum(scores + mask, np.finfo(x.dtype).min)
    probs = softmax(scores.astype(np.float32)).astype(x.dtype)
    out = (probs @ v_all).transpose(0, 2, 1, 3).reshape(b, s, cfg.num_heads * hd)
    return out @ w[p + "o_proj.weight"], present_k, present_v


def forward(cfg, w, input_ids, attention_mask, position_ids, past):
    """past: [(key, value)] per layer. Returns (float32 logits, [(key, value)] presents)."""
    dtype = DTYPES[cfg.dtype][0]
    seq_len, past_len = input_ids.shape[1], past[0][0].shape[2]
    h = w["model.embed_tokens.weight"][input_ids]
    mask = mask_bias(attention_mask, past_len, seq_len, dtype)
    cos = w["model.rotary_emb.cos_cached"][position_ids][:, None]
    sin = w["model.rotary_emb.sin_cached"][position_ids][:, None]
    presents = []
    for i, (past_k, past_v) in enumerate(past):
        p = f"model.layers.{i}."
        x = rms_norm(h, w[p + "input_layernorm.weight"], cfg.rms_norm_eps)
        attn, k, v = attention(cfg, w, p + "self_attn.", x, mask, cos, sin, past_k, past_v)
        presents.append((k, v))
        h = h + attn
        x = rms_norm(h, w[p + "post_attention_layernorm.weight"], cfg.rms_norm_eps)
        gate = x @ w[p + "mlp.gate_proj.weight"]
        gate = gate / (1 + np.exp(-gate))
        h = h + (gate * (x @ w[p + "mlp.up_proj.weight"])) @ w[p + "mlp.down_proj.weight"]
    h = rms_norm(h, w["model.norm.weight"], cfg.rms_norm_eps)
    return (h @ w["lm_head.weight"]).astype(np.float32), presents


def from_json(t):
    if t["dtype"] == "float16":
        data = np.asarray(t["data"], np.uint16).view(np.float16)
    else:
        data = np.asarray(t["data"], t["dtype"])
    return data.reshape(t["dims"])


def compare(cfg, weights, run):
    """Max abs difference per step against the runtime's recorded outputs."""
    worst = []
    for n, step in enumerate(run["steps"]):
        feeds = {name: from_json(t) for name, t in step["feeds"].items()}
        past = [(feeds[f"past_key_values.{i}.key"], feeds[f"past_key_values.{i}.value"])
                for i in range(cfg.num_layers)]
        logits, presents = forward(cfg, weights, feeds["input_ids"], feeds["attention_mask"],
                                   feeds["position_ids"], past)
        expected = {"logits": logits}
        for i, (k, v) in enumerate(presents):
            expected[f"present.{i}.key"], expected[f"present.{i}.value"] = k, v
        diffs = {name: float(np.max(np.abs(from_json(t).astype(np.float64) - expected[name])))
                 for name, t in step["outputs"].items()}
        name = max(diffs, key=diffs.get)
        print(f"step {n}: input_ids {list(feeds['input_ids'].shape)}, past {past[0][0].shape[2]}: "
              f"max |logits diff| {diffs['logits']:.3g}, max over all outputs {diffs[name]:.3g} ({name})")
        worst.append(diffs[name])
    return max(worst)


def write_outputs(cfg, weights, inputs_dir, output_dir):
    """Runs forward() on the .npy inputs of a folder and writes the outputs
    (logits, present.N.key/value) as .npy, as ort_run.js and prism-run do."""
    def load(name):
        return np.load(os.path.join(inputs_dir, name + ".npy"))
    past = [(load(f"past_key_values.{i}.key"), load(f"past_key_values.{i}.value"))
            for i in range(cfg.num_layers)]
    logits, presents = forward(cfg, weights, load("input_ids"), load("attention_mask"),
                               load("position_ids"), past)
    os.makedirs(output_dir, exist_ok=True)
    np.save(os.path.join(output_dir, "logits.npy"), logits)
    for i, (k, v) in enumerate(presents):
        np.save(os.path.join(output_dir, f"present.{i}.key.npy"), k)
        np.save(os.path.join(output_dir, f"present.{i}.value.npy"), v)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--preset", choices=sorted(PRESETS), required=True)
    parser.add_argument("--layers", type=int)
    parser.add_argument("--dtype", choices=sorted(DTYPES))
    parser.add_argument("--model", required=True, help=".onnx with inline weights")
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--compare", help="runtime results as JSON (see above)")
    mode.add_argument("--inputs", help="a folder of .npy inputs (python/make_inputs.py): "
                      "write the reference outputs as .npy to --output-dir")
    parser.add_argument("--output-dir", help="where --inputs writes the outputs")
    parser.add_argument("--tol", type=float, default=1e-4)
    args = parser.parse_args(argv)

    cfg = resolve_config(args.preset, args.layers, args.dtype)
    if args.inputs:
        if not args.output_dir:
            parser.error("--inputs needs --output-dir")
        write_outputs(cfg, load_weights(args.model), args.inputs, args.output_dir)
        return 0
    with open(args.compare) as f:
        run = json.load(f)
    worst = compare(cfg, load_weights(args.model), run)
    ok = worst <= args.tol
    print(f"{'PASS' if ok else 'FAIL'}: max abs diff {worst:.3g} (tolerance {args.tol:g})")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
