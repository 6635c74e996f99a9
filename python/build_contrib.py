#!/usr/bin/python3
"""Write small models of ONNX Runtime's com.microsoft attention operators,
with consistent inputs, for checking Prism's host lowering against ONNX
Runtime:

    /usr/bin/python3 python/build_contrib.py gqa -o gqa.onnx --inputs DIR \\
        [--batch 2] [--seq 1] [--past 5] [--rotary] [--packed] [--window W]
    /usr/bin/python3 python/build_contrib.py rotary -o rot.onnx --inputs DIR

gqa: GroupQueryAttention with 4 query heads over 2 KV heads of 8 channels,
a past cache of --past positions (the buffer one longer, so that the new
tokens land inside it), seqlens_k = past + seq - 1 per batch (batch 1 one
shorter when batch > 1 and past > 0: a padded cache), optional fused
rotary embedding and local window. rotary: RotaryEmbedding of [B, S, N*H]
input at position_ids. Prints the --input arguments.
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


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("kind", choices=["gqa", "rotary"])
    parser.add_argument("-o", "--output", required=True)
    parser.add_argument("--inputs", required=True, help="folder for the .npy inputs")
    parser.add_argument("--batch", type=int, default=2)
    parser.add_argument("--seq", type=int, default=1)
    parser.add_argument("--past", type=int, default=5)
    parser.add_argument("--rotary", action="store_true")
    parser.add_argument("--packed", action="store_true")
    parser.add_argument("--interleaved", action="store_true")
    parser.add_argument("--window", type=int, default=-1)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    rng = np.random.default_rng(args.seed)
    graph, data = (gqa if args.kind == "gqa" else rotary)(args, rng)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17),
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
