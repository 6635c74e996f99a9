#!/usr/bin/python3
"""Attention as exporters write it, in many forms: a generator and a check.

Each variant is one self-attention block built with onnx.helper from a
choice along each axis below; the forms come from real exporters (PyTorch's
BERT, GPT-2 and Llama exports, tf2onnx, Megatron, ORT's fusion inputs):

  proj    Q/K/V projections: separate MatMul + Add, Gemm on the flattened
          rows ([out, in] weights), one packed MatMul split by Split or by
          Slice
  heads   heads split by Reshape + Transpose with K^T by a second
          Transpose, K^T straight from [B, S, H, D] (perm 0,2,3,1), or 3-D
          batched heads [B*H, S, D]
  scale   Div or Mul after Q K^T, Q scaled before it, Q and K^T scaled by
          the 4th root each, or none (folded into Q's weights)
  mask    none; BERT's (1 - mask) * -10000 from an int64 or int32 [B, T]
          mask; a boolean [B, T] mask with Where and a large negative; a
          causal mask sliced from a constant lower-triangular buffer (with
          Where); a float additive [B, 1, S, T] input; causal and padding
          together
  cache   none; past keys and values concatenated separately; stacked
          [2, B, H, P, D] past and present (GPT-2)
  extra   Dropout or Identity after the softmax, or nothing
  kv      as many key/value heads as query heads, or half (grouped-query
          attention, repeated by Unsqueeze/Expand/Reshape)
  dtype   float32, or float16 throughout (checked to fp16's precision)

Negative variants are almost attention but are not: a softmax over the
query axis, a multiplicative mask, probabilities that are also an output.
They must stay unraised and compute what they computed.

For each variant the check runs `prismc --compile-to=xfmr` (the number of
xfmr.attention ops must be 1, or 0 for a negative) and `prism-run` against
ONNX Runtime with graph optimisations disabled (it runs the graph as
written) on the same inputs.

    /usr/bin/python3 python/attention_variants.py --bin-dir build/bin \\
        --ort-dir build/ort --work /tmp/variants [--count 240] [-j 2]

Prints one line per variant and a summary; exits 1 if any variant fails.
`--list` prints the variants without running them.
"""
import argparse
import concurrent.futures
import itertools
import os
import random
import re
import shutil
import subprocess
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from compare_outputs import compare  # noqa: E402

B, S, P, H, D = 2, 3, 4, 4, 8  # batch, new tokens, past, heads, head size
E = H * D
MAX_POS = 16  # the causal buffer's size

AXES = {
    "proj": ["matmul_add", "gemm", "packed_split", "packed_slice"],
    "heads": ["transpose", "kt_direct", "batched3d"],
    "scale": ["div", "mul", "q_before", "fourth_root", "none"],
    "mask": ["none", "bert_int64", "bert_int32", "bool_where", "causal_tril",
             "float_add", "causal_and_padding"],
    "cache": ["none", "separate", "stacked"],
    "extra": ["none", "dropout", "identity"],
    "kv": ["mha", "gqa"],
    "dtype": ["f32", "f16"],
}
NEGATIVES = ["softmax_query_axis", "multiplicative_mask", "probs_output"]


def valid(v):
    if v["heads"] == "batched3d" and (v["cache"] != "none" or v["kv"] == "gqa"):
        return False  # 3-D forms carry no cache and no head groups
    return True


def variants(count, seed=1):
    allv = [dict(zip(AXES, combo)) for combo in itertools.product(*AXES.values())]
    allv = [v for v in allv if valid(v)]
    rng = random.Random(seed)
    picked = rng.sample(allv, min(count, len(allv)))
    # Every value of every axis appears at least once.
    for axis, values in AXES.items():
        for value in values:
            if not any(v[axis] == value for v in picked):
                picked.append(next(v for v in allv if v[axis] == value))
    out = []
    for v in picked:
        v = dict(v, negative="")
        out.append(v)
    base = dict(proj="matmul_add", heads="transpose", scale="div",
                mask="bert_int64", cache="none", extra="none", kv="mha", dtype="f32")
    for neg in NEGATIVES:
        for cache in ("none", "separate"):
            out.append(dict(base, cache=cache, negative=neg))
    return out


def name_of(v):
    parts = [v[a] for a in AXES]
    if v["negative"]:
        parts.append("NOT-" + v["negative"])
    return "-".join(parts)


class Graph:
    def __init__(self, rng, ft):
        self.ft = ft  # the model's float type
        self.elem = TensorProto.FLOAT16 if ft == np.float16 else TensorProto.FLOAT
        self.nodes, self.inits, self.inputs, self.outputs = [], [], [], []
        self.feeds = {}
        self.rng = rng
        self.n = 0

    def fresh(self, base):
        self.n += 1
        return "%s_%d" % (base, self.n)

    def const(self, value, base="c"):
        name = self.fresh(base)
        self.inits.append(numpy_helper.from_array(np.asarray(value), name))
        return name

    def weight(self, shape, base="w"):
        return self.const((self.rng.standard_normal(shape) / np.sqrt(shape[0]))
                          .astype(self.ft), base)

    def op(self, op_type, inputs, base=None, n_out=1, **attrs):
        outs = [self.fresh(base or op_type.lower()) for _ in range(n_out)]
        self.nodes.append(helper.make_node(op_type, inputs, outs,
                                           name=self.fresh(op_type), **attrs))
        return outs[0] if n_out == 1 else outs

    def input(self, name, value):
        dtype = {np.float32: TensorProto.FLOAT, np.float16: TensorProto.FLOAT16,
                 np.int64: TensorProto.INT64,
                 np.int32: TensorProto.INT32, np.bool_: TensorProto.BOOL}[value.dtype.type]
        self.inputs.append(helper.make_tensor_value_info(name, dtype, value.shape))
        self.feeds[name] = value
        return name

    def output(self, name, value_name, dtype=None):
        dtype = self.elem if dtype is None else dtype
        self.nodes.append(helper.make_node("Identity", [value_name], [name],
                                           name=self.fresh("out")))
        self.outputs.append(helper.make_tensor_value_info(name, dtype, None))

    def shape(self, dims):
        return self.const(np.array(dims, np.int64), "shape")


def build(v, seed):
    rng = np.random.default_rng(seed)
    ft = np.float16 if v["dtype"] == "f16" else np.float32
    g = Graph(rng, ft)
    lowest = float(np.finfo(ft).min)
    hkv = H // 2 if v["kv"] == "gqa" else H
    ekv = hkv * D
    past = P if v["cache"] != "none" else 0
    total = past + S
    x = g.input("x", rng.standard_normal((B, S, E)).astype(ft))

    # Projections to q [B, S, E], k and v [B, S, Ekv].
    scale_q = 1.0
    if v["scale"] == "none":
        scale_q = D ** -0.5  # folded into Q's weights: the raise sees scale 1
    if v["proj"] == "matmul_add":
        q = g.op("Add", [g.op("MatMul", [x, g.weight((E, E))]), g.weight((E,))])
        k = g.op("Add", [g.op("MatMul", [x, g.weight((E, ekv))]), g.weight((ekv,))])
        val = g.op("Add", [g.op("MatMul", [x, g.weight((E, ekv))]), g.weight((ekv,))])
    elif v["proj"] == "gemm":
        rows = g.op("Reshape", [x, g.shape([B * S, E])])

        def gemm(out):
            w = g.const((rng.standard_normal((out, E)) / np.sqrt(E)).astype(ft))
            y = g.op("Gemm", [rows, w, g.weight((out,))], transB=1)
            return g.op("Reshape", [y, g.shape([B, S, out])])
        q, k, val = gemm(E), gemm(ekv), gemm(ekv)
    else:
        qkv = g.op("Add", [g.op("MatMul", [x, g.weight((E, E + 2 * ekv))]),
                           g.weight((E + 2 * ekv,))])
        if v["proj"] == "packed_split":
            q, k, val = g.op("Split", [qkv, g.const(np.array([E, ekv, ekv], np.int64))],
                             n_out=3, axis=2)
        else:
            def sl(a, b):
                return g.op("Slice", [qkv, g.const(np.array([a], np.int64)),
                                      g.const(np.array([b], np.int64)),
                                      g.const(np.array([-1], np.int64))])
            q, k, val = sl(0, E), sl(E, E + ekv), sl(E + ekv, E + 2 * ekv)
    if scale_q != 1.0:
        q = g.op("Mul", [q, g.const(np.array(scale_q, ft))])

    # Heads.
    def split_heads(t, heads, perm=(0, 2, 1, 3)):
        r = g.op("Reshape", [t, g.shape([B, S, heads, D])])
        return g.op("Transpose", [r], perm=list(perm))

    inv_sqrt = D ** -0.5
    if v["scale"] == "q_before":
        q = g.op("Mul", [q, g.const(np.array(inv_sqrt, ft))])
    if v["heads"] == "batched3d":
        def to3(t):
            return g.op("Reshape", [split_heads(t, H), g.shape([B * H, S, D])])
        qh, kh, vh = to3(q), to3(k), to3(val)
        kt = g.op("Transpose", [kh], perm=[0, 2, 1])
    else:
        qh = split_heads(q, H)
        vh = split_heads(val, hkv)
        if v["heads"] == "kt_direct" and v["cache"] == "none" and v["kv"] == "mha":
            kt = split_heads(k, hkv, perm=(0, 2, 3, 1))
            kh = None
        else:
            kh = split_heads(k, hkv)
            kt = None

    # The cache.
    if v["cache"] != "none":
        pk_val = rng.standard_normal((B, hkv, past, D)).astype(ft)
        pv_val = rng.standard_normal((B, hkv, past, D)).astype(ft)
        if v["cache"] == "separate":
            pk = g.input("past_key", pk_val)
            pv = g.input("past_value", pv_val)
        else:
            stacked = g.input("past", np.stack([pk_val, pv_val]))
            pk = g.op("Squeeze", [g.op("Gather", [stacked, g.const(np.array([0], np.int64))], axis=0),
                                  g.const(np.array([0], np.int64))])
            pv = g.op("Squeeze", [g.op("Gather", [stacked, g.const(np.array([1], np.int64))], axis=0),
                                  g.const(np.array([0], np.int64))])
        kh = g.op("Concat", [pk, kh], axis=2)
        vh = g.op("Concat", [pv, vh], axis=2)
        if v["cache"] == "separate":
            g.output("present_key", kh)
            g.output("present_value", vh)
        else:
            ax = g.const(np.array([0], np.int64))
            g.output("present", g.op("Concat", [g.op("Unsqueeze", [kh, ax]),
                                                g.op("Unsqueeze", [vh, ax])], axis=0))
    if v["kv"] == "gqa":
        def repeat(t):
            u = g.op("Unsqueeze", [t, g.const(np.array([2], np.int64))])
            e = g.op("Expand", [u, g.shape([B, hkv, H // hkv, total, D])])
            return g.op("Reshape", [e, g.shape([B, H, total, D])])
        kh, vh = repeat(kh), repeat(vh)
    if kt is None:
        kt = g.op("Transpose", [kh], perm=[0, 1, 3, 2])

    if v["scale"] == "fourth_root":
        r = g.const(np.array(D ** -0.25, ft))
        qh, kt = g.op("Mul", [qh, r]), g.op("Mul", [kt, r])
    scores = g.op("MatMul", [qh, kt])
    if v["scale"] == "div":
        scores = g.op("Div", [scores, g.const(np.array(np.sqrt(D), ft))])
    elif v["scale"] == "mul":
        scores = g.op("Mul", [g.const(np.array(inv_sqrt, ft)), scores])

    # The mask.
    def padding_mask():
        m = np.ones((B, total), np.int64)
        m[1, :2] = 0  # the second sequence is left-padded
        return m

    def to_batched(m4):
        # [B, 1, S|1, T] -> [B*H, S|1, T] for the 3-D forms.
        if v["heads"] != "batched3d":
            return m4
        e = g.op("Expand", [m4, g.shape([B, H, 1, total])])
        return g.op("Reshape", [e, g.shape([B * H, -1, total])])

    def causal_bool():
        tril = np.tril(np.ones((MAX_POS, MAX_POS), np.uint8)).reshape(1, 1, MAX_POS, MAX_POS)
        buf = g.const(tril, "bias")
        sliced = g.op("Slice", [buf, g.const(np.array([past, 0], np.int64)),
                                g.const(np.array([total, total], np.int64)),
                                g.const(np.array([2, 3], np.int64))])
        return g.op("Cast", [sliced], to=TensorProto.BOOL)

    mask = v["mask"]
    neg = v["negative"]
    if neg == "multiplicative_mask":
        m = g.input("attention_mask", padding_mask())
        mf = g.op("Cast", [g.op("Unsqueeze", [m, g.const(np.array([1, 2], np.int64))])],
                  to=g.elem)
        scores = g.op("Mul", [scores, to_batched(mf)])
    elif mask in ("bert_int64", "bert_int32"):
        m = padding_mask().astype(np.int64 if mask == "bert_int64" else np.int32)
        mi = g.input("attention_mask", m)
        mf = g.op("Cast", [g.op("Unsqueeze", [mi, g.const(np.array([1, 2], np.int64))])],
                  to=g.elem)
        add = g.op("Mul", [g.op("Sub", [g.const(np.array(1.0, ft)), mf]),
                           g.const(np.array(-10000.0, ft))])
        scores = g.op("Add", [scores, to_batched(add)])
    elif mask == "bool_where":
        mb = g.input("attention_mask", padding_mask().astype(bool))
        m4 = g.op("Unsqueeze", [mb, g.const(np.array([1, 2], np.int64))])
        if v["heads"] == "batched3d":
            m4 = g.op("Cast", [to_batched(g.op("Cast", [m4], to=TensorProto.INT64))],
                      to=TensorProto.BOOL)
        scores = g.op("Where", [m4, scores, g.const(np.array(-1e9 if ft == np.float32 else lowest, ft))])
    elif mask == "causal_tril":
        c = causal_bool()
        if v["heads"] == "batched3d":
            c = g.op("Reshape", [c, g.shape([1, S, total])])
        scores = g.op("Where", [c, scores, g.const(np.array(lowest, ft))])
    elif mask == "float_add":
        mv = np.where(rng.random((B, 1, S, total)) < 0.25, -10000.0,
                      -rng.random((B, 1, S, total))).astype(ft)
        mf = g.input("attention_bias", mv)
        scores = g.op("Add", [scores, to_batched(mf)])
    elif mask == "causal_and_padding":
        c = causal_bool()
        mi = g.input("attention_mask", padding_mask())
        pad = g.op("Cast", [g.op("Unsqueeze", [mi, g.const(np.array([1, 2], np.int64))])],
                   to=TensorProto.BOOL)
        keep = g.op("And", [c, pad])
        if v["heads"] == "batched3d":
            keep = g.op("Cast", [to_batched(g.op("Cast", [keep], to=TensorProto.INT64))],
                        to=TensorProto.BOOL)
        scores = g.op("Where", [keep, scores, g.const(np.array(-1e4, ft))])

    axis = 2 if neg == "softmax_query_axis" else -1
    probs = g.op("Softmax", [scores], axis=axis)
    if neg == "probs_output":
        g.output("probs", probs)
    if v["extra"] == "dropout":
        probs = g.op("Dropout", [probs], n_out=1)
    elif v["extra"] == "identity":
        probs = g.op("Identity", [probs])
    ctx = g.op("MatMul", [probs, vh])
    if v["heads"] == "batched3d":
        ctx = g.op("Reshape", [ctx, g.shape([B, H, S, D])])
    merged = g.op("Reshape", [g.op("Transpose", [ctx], perm=[0, 2, 1, 3]), g.shape([B, S, E])])
    out = g.op("MatMul", [merged, g.weight((E, E))])
    g.output("out", out)

    graph = helper.make_graph(g.nodes, "attention_variant", g.inputs, g.outputs, g.inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)],
                              producer_name="prism-attention-variants")
    model.ir_version = 8
    return model, g.feeds


def run_variant(index, v, args):
    name = name_of(v)
    work = os.path.join(args.work, "%03d" % index)
    shutil.rmtree(work, ignore_errors=True)  # no outputs of an earlier run
    os.makedirs(os.path.join(work, "inputs"), exist_ok=True)
    model, feeds = build(v, seed=1000 + index)
    path = os.path.join(work, "model.onnx")
    onnx.save(model, path)
    inputs = []
    for k, a in feeds.items():
        f = os.path.join(work, "inputs", k + ".npy")
        np.save(f, a)
        inputs += ["--input", "%s=%s" % (k, f)]
    expected = 0 if v["negative"] else 1
    bin_dir = args.bin_dir

    def run(cmd):
        return subprocess.run(cmd, capture_output=True, text=True)

    r = run([os.path.join(bin_dir, "prismc"), path, "--compile-to=xfmr",
             "-o", os.path.join(work, "xfmr.mlir")])
    if r.returncode != 0:
        return False, name, "prismc failed: " + r.stderr.strip().splitlines()[-1]
    text = open(os.path.join(work, "xfmr.mlir")).read()
    raised = len(re.findall(r" = xfmr\.attention ", text))
    softmax_left = len(re.findall(r'"onnx\.Softmax"', text))
    if raised != expected:
        return False, name, "raised %d attention blocks, expected %d" % (raised, expected)
    r = run([os.path.join(bin_dir, "prism-run"), path] + inputs +
            ["--output-dir", os.path.join(work, "prism")])
    if r.returncode != 0:
        return False, name, "prism-run failed: " + r.stderr.strip()[-300:]
    r = run(["node", os.path.join(args.root, "tools/ort-oracle/ort_run.js"), path] +
            inputs + ["--output-dir", os.path.join(work, "ort")])
    if r.returncode != 0:
        return False, name, "ONNX Runtime failed: " + r.stderr.strip()[-300:]
    worst = 0.0
    for f in sorted(os.listdir(os.path.join(work, "ort"))):
        e = np.load(os.path.join(work, "ort", f))
        a = np.load(os.path.join(work, "prism", f))
        f16 = v["dtype"] == "f16"  # checked to fp16's own precision
        ok, detail = compare(e, a, max(args.rtol, 1e-2) if f16 else args.rtol, 0.0,
                             max(args.atol_of_max, 1e-2) if f16 else args.atol_of_max)
        if not ok:
            return False, name, "%s differs from ONNX Runtime: %s" % (f, detail)
        if e.size and np.issubdtype(e.dtype, np.floating):
            worst = max(worst, float(np.max(np.abs(a.astype(np.float64) - e)) /
                                     max(np.max(np.abs(e)), 1e-30)))
    return True, name, "raised %d (softmax left %d), max norm-wise error %.1e" % (
        raised, softmax_left, worst)


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin-dir")
    ap.add_argument("--ort-dir", help="where tools/ort-oracle/install.sh put onnxruntime-node")
    ap.add_argument("--work", default="/tmp/prism-attention-variants")
    ap.add_argument("--count", type=int, default=240,
                    help="positive variants drawn from the cross product (plus negatives)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--rtol", type=float, default=1e-4)
    ap.add_argument("--atol-of-max", type=float, default=1e-4)
    ap.add_argument("--only", help="run only variants whose name contains this")
    ap.add_argument("--list", action="store_true")
    ap.add_argument("-j", type=int, default=2)
    args = ap.parse_args()
    args.root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    vs = variants(args.count, args.seed)
    if args.only:
        vs = [v for v in vs if args.only in name_of(v)]
    if args.list:
        for i, v in enumerate(vs):
            print("%03d %s" % (i, name_of(v)))
        return
    if not args.bin_dir or not args.ort_dir:
        ap.error("--bin-dir and --ort-dir are required to run the variants")
    os.environ["PRISM_ORT_DIR"] = os.path.join(os.path.abspath(args.ort_dir), "node_modules")
    os.makedirs(args.work, exist_ok=True)
    failed = []
    with concurrent.futures.ThreadPoolExecutor(args.j) as pool:
        futures = [pool.submit(run_variant, i, v, args) for i, v in enumerate(vs)]
        for i, fut in enumerate(futures):
            ok, name, detail = fut.result()
            print("%s %03d %s: %s" % ("ok" if ok else "FAIL", i, name, detail), flush=True)
            if not ok:
                failed.append(name)
    positives = sum(1 for v in vs if not v["negative"])
    print("%d variants (%d attention, %d negative): %d passed, %d failed" % (
        len(vs), positives, len(vs) - positives, len(vs) - len(failed), len(failed)))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
