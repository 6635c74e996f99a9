#!/usr/bin/python3
"""Rewrites a model whose com.microsoft Attention nodes take Megatron's 4-D
mask_index [batch, 1, max_seq, max_seq] (which only ONNX Runtime's CUDA
kernel accepts) into the equivalent model with the 3-D mask [batch, seq,
total_seq] that its CPU kernel accepts: rows past..past+seq and columns
0..total of the 4-D mask, as the CUDA kernel reads it. The ONNX Runtime
oracle runs the rewritten model; Prism runs the original.

  megatron_mask_as_3d.py IN.onnx OUT.onnx
"""
import sys

import onnx
from onnx import helper, TensorProto


def main():
    model = onnx.load(sys.argv[1])
    graph = model.graph
    nodes = []
    for node in graph.node:
        if node.op_type == "Attention" and node.domain == "com.microsoft" \
                and len(node.input) > 4 and node.input[3] and node.input[4]:
            mask, past, x = node.input[3], node.input[4], node.input[0]
            p = node.name + "_mask3d_"
            one = p + "one"
            nodes += [
                helper.make_node("Constant", [], [one], value=helper.make_tensor(
                    one, TensorProto.INT64, [1], [1])),
                # past length: past is [2, batch, heads, past, head_size].
                helper.make_node("Shape", [past], [p + "past_shape"]),
                helper.make_node("Gather", [p + "past_shape", p + "i3"], [p + "past"]),
                helper.make_node("Shape", [x], [p + "x_shape"]),
                helper.make_node("Gather", [p + "x_shape", one], [p + "seq"]),
                helper.make_node("Add", [p + "past", p + "seq"], [p + "total"]),
                helper.make_node("Concat", [p + "past", p + "zero"], [p + "starts"], axis=0),
                helper.make_node("Concat", [p + "total", p + "total"], [p + "ends"], axis=0),
                helper.make_node("Slice", [mask, p + "starts", p + "ends", p + "axes"],
                                 [p + "rows"]),
                # The corpus model is opset 12: Squeeze's axes are an attribute.
                helper.make_node("Squeeze", [p + "rows"], [p + "mask"], axes=[1]),
            ]
            graph.initializer.extend([
                helper.make_tensor(p + "i3", TensorProto.INT64, [1], [3]),
                helper.make_tensor(p + "zero", TensorProto.INT64, [1], [0]),
                helper.make_tensor(p + "axes", TensorProto.INT64, [2], [2, 3]),
            ])
            node.input[3] = p + "mask"
        nodes.append(node)
    del graph.node[:]
    graph.node.extend(nodes)
    onnx.save(model, sys.argv[2])


if __name__ == "__main__":
    main()
