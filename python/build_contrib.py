#!/usr/bin/python3
"""Write small models of ONNX Runtime's com.microsoft attention operators,
with consistent inputs, for checking Prism's host lowering against ONNX
Runtime:

    /usr/bin/python3 python/build_contrib.py gqa -o gqa.onnx --inputs DIR \\
        [--batch 2] [--seq 1] [--past 5] [--rotary] [--packed] [--window W]
    /usr/bin/python3 python/build_contrib.py rotary -o rot.onnx --inputs DIR
    /usr/bin/python3 python/build_contrib.py attention23 -o a.onnx --inputs DIR \
        [--batch 2] [--seq 3] [--past 4] [--causal] [--packed] [--softcap C]
    /usr/bin/python3 python/build_contrib.py rotary23 -o r.onnx --inputs DIR

gqa: GroupQueryAttention with 4 query heads over 2 KV heads of 8 channels,
a past cache of --past positions (the buffer one longer, so that the new
tokens land inside it), seqlens_k = past + seq - 1 per batch (batch 1 one
shorter when batch > 1 and past > 0: a padded cache), optional fused
rotary embedding and local window. rotary: RotaryEmbedding of [B, S, N*H]
input at position_ids. attention23 and rotary23: the ai.onnx (opset 23)
Attention (4 query heads over 2 KV heads, a past cache, a boolean padding
mask, causal, softcap; [B, S, N*H] inputs with --packed) and
RotaryEmbedding ([B, N, S, H] input). Prints the --input arguments.
"""
import argparse
import os
import sys

import numpy as np
from onnx import TensorProto, helper, numpy_helper

HEADS, KV_HEADS, HEAD = 4, 2, 16
MAX_POS = 32


def caches():
    inv = 1.0 / 10000 ** (np.arange(0, HEAD, 2) / HEAD)
    freqs = np.outer(np.arange(MAX_POS), inv)
    return np.cos(freqs).astype(np.float32), np.sin(freqs).astype(np.float32)


def gqa(args, rng):
    b, s, p = args.batch, args.seq, args.past
    buffer = p + 1 if p else 0
    total = max(buffer, p + s)
    cos, sin = caches()
    inits = [numpy_helper.from_array(cos, "cos"), numpy_helper.from_array(sin, "sin")]
    q_width = (HEADS + 2 * KV_HEADS) * HEAD if args.packed else HEADS * HEAD
    names = ["query", "" if args.packed else "key", "" if args.packed else "value",
             "past_key" if p else "", "past_value" if p else "", "seqlens_k",
             "total_sequence_length", "cos" if args.rotary else "", "sin" if args.rotary else ""]
    node = helper.make_node("GroupQueryAttention", names, ["output", "present_key", "present_value"],
                            domain="com.microsoft", num_heads=HEADS, kv_num_heads=KV_HEADS,
                            do_rotary=int(args.rotary), local_window_size=args.window, name="gqa")
    vi = helper.make_tensor_value_info
    inputs = [vi("query", TensorProto.FLOAT, [b, s, q_width])]
    if not args.packed:
        inputs += [vi("key", TensorProto.FLOAT, [b, s, KV_HEADS * HEAD]),
                   vi("value", TensorProto.FLOAT, [b, s, KV_HEADS * HEAD])]
    if p:
        inputs += [vi("past_key", TensorProto.FLOAT, [b, KV_HEADS, buffer, HEAD]),
                   vi("past_value", TensorProto.FLOAT, [b, KV_HEADS, buffer, HEAD])]
    inputs += [vi("seqlens_k", TensorProto.INT32, [b]),
               vi("total_sequence_length", TensorProto.INT32, [])]
    outputs = [vi("output", TensorProto.FLOAT, [b, s, HEADS * HEAD]),
               vi("present_key", TensorProto.FLOAT, [b, KV_HEADS, total, HEAD]),
               vi("present_value", TensorProto.FLOAT, [b, KV_HEADS, total, HEAD])]
    graph = helper.make_graph([node], "gqa", inputs, outputs, inits)
    data = {"query": rng.standard_normal((b, s, q_width)).astype(np.float32)}
    if not args.packed:
        data["key"] = rng.standard_normal((b, s, KV_HEADS * HEAD)).astype(np.float32)
        data["value"] = rng.standard_normal((b, s, KV_HEADS * HEAD)).astype(np.float32)
    if p:
        data["past_key"] = rng.standard_normal((b, KV_HEADS, buffer, HEAD)).astype(np.float32)
        data["past_value"] = rng.standard_normal((b, KV_HEADS, buffer, HEAD)).astype(np.float32)
    lengths = np.full(b, p + s - 1, np.int32)
    if b > 1 and p > 0:
        lengths[1] -= 1
    data["seqlens_k"] = lengths
    data["total_sequence_length"] = np.array(p + s, np.int32)
    return graph, data


def rotary(args, rng):
    b, s = args.batch, args.seq
    cos, sin = caches()
    node = helper.make_node("RotaryEmbedding", ["x", "position_ids", "cos", "sin"], ["y"],
                            domain="com.microsoft", num_heads=HEADS,
                            interleaved=int(args.interleaved), name="rotary")
    vi = helper.make_tensor_value_info
    graph = helper.make_graph(
        [node], "rotary",
        [vi("x", TensorProto.FLOAT, [b, s, HEADS * HEAD]), vi("position_ids", TensorProto.INT64, [b, s])],
        [vi("y", TensorProto.FLOAT, [b, s, HEADS * HEAD])],
        [numpy_helper.from_array(cos, "cos"), numpy_helper.from_array(sin, "sin")])
    data = {"x": rng.standard_normal((b, s, HEADS * HEAD)).astype(np.float32),
            "position_ids": rng.integers(0, MAX_POS, (b, s)).astype(np.int64)}
    return graph, data


def attention23(args, rng):
    b, s, p = args.batch, args.seq, args.past
    vi = helper.make_tensor_value_info
    f = TensorProto.FLOAT
    if args.packed:
        shapes = {"q": [b, s, HEADS * HEAD], "k": [b, s, KV_HEADS * HEAD],
                  "v": [b, s, KV_HEADS * HEAD]}
        out = [b, s, HEADS * HEAD]
        attrs = {"q_num_heads": HEADS, "kv_num_heads": KV_HEADS}
    else:
        shapes = {"q": [b, HEADS, s, HEAD], "k": [b, KV_HEADS, s, HEAD],
                  "v": [b, KV_HEADS, s, HEAD]}
        out = [b, HEADS, s, HEAD]
        attrs = {}
    if args.causal:
        attrs["is_causal"] = 1
    if args.softcap > 0:
        attrs["softcap"] = args.softcap
    cache = [b, KV_HEADS, p, HEAD]
    present = [b, KV_HEADS, p + s, HEAD]
    node = helper.make_node("Attention", ["q", "k", "v", "mask", "past_key", "past_value"],
                            ["y", "present_key", "present_value"], name="attention", **attrs)
    inputs = [vi(n, f, shape) for n, shape in shapes.items()]
    inputs += [vi("mask", TensorProto.BOOL, [b, 1, s, p + s]),
               vi("past_key", f, cache), vi("past_value", f, cache)]
    graph = helper.make_graph(
        [node], "attention23", inputs,
        [vi("y", f, out), vi("present_key", f, present), vi("present_value", f, present)])
    data = {n: rng.standard_normal(shape).astype(np.float32) for n, shape in shapes.items()}
    mask = np.ones((b, 1, s, p + s), bool)
    if b > 1 and p > 0:
        mask[1, ..., 0] = False  # a padded first position in batch 1
    data.update({"mask": mask,
                 "past_key": rng.standard_normal(cache).astype(np.float32),
                 "past_value": rng.standard_normal(cache).astype(np.float32)})
    return graph, data


def rotary23(args, rng):
    b, s = args.batch, args.seq
    cos, sin = caches()
    node = helper.make_node("RotaryEmbedding", ["x", "cos", "sin", "position_ids"], ["y"],
                            interleaved=int(args.interleaved), name="rotary")
    vi = helper.make_tensor_value_info
    shape = [b, HEADS, s, HEAD]
    graph = helper.make_graph(
        [node], "rotary23",
        [vi("x", TensorProto.FLOAT, shape), vi("position_ids", TensorProto.INT64, [b, s])],
        [vi("y", TensorProto.FLOAT, shape)],
        [numpy_helper.from_array(cos, "cos"), numpy_helper.from_array(sin, "sin")])
    data = {"x": rng.standard_normal(shape).astype(np.float32),
            "position_ids": rng.integers(0, MAX_POS, (b, s)).astype(np.int64)}
    return graph, data


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("kind", choices=["gqa", "rotary", "attention23", "rotary23"])
    parser.add_argument("-o", "--output", required=True)
    parser.add_argument("--inputs", required=True, help="folder for the .npy inputs")
    parser.add_argument("--batch", type=int, default=2)
    parser.add_argument("--seq", type=int, default=1)
    parser.add_argument("--past", type=int, default=5)
    parser.add_argument("--rotary", action="store_true")
    parser.add_argument("--packed", action="store_true")
    parser.add_argument("--interleaved", action="store_true")
    parser.add_argument("--window", type=int, default=-1)
    parser.add_argument("--causal", action="store_true")
    parser.add_argument("--softcap", type=float, default=0.0)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    rng = np.random.default_rng(args.seed)
    builders = {"gqa": gqa, "rotary": rotary, "attention23": attention23,
                "rotary23": rotary23}
    graph, data = builders[args.kind](args, rng)
    opset = 23 if args.kind.endswith("23") else 17
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset),
                                                    helper.make_opsetid("com.microsoft", 1)])
    with open(args.output, "wb") as f:
        f.write(model.SerializeToString())
    os.makedirs(args.inputs, exist_ok=True)
    for name, value in data.items():
        path = os.path.join(args.inputs, name + ".npy")
        np.save(path, value)
        print(f"--input {name}={path}", end=" ")
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
