#!/usr/bin/python3
"""Write small quantized models (random weights) for checking Prism's host
lowering of the quantized operators against ONNX Runtime:

    /usr/bin/python3 python/build_quantized.py matmulnbits -o m.onnx
    /usr/bin/python3 python/build_quantized.py qdq -o q.onnx

matmulnbits: com.microsoft MatMulNBits (4-bit, block 16, packed zero
points, bias) as a Llama-style projection of x [batch, seq, 64] to 48.
qdq: QuantizeLinear (per-tensor, uint8) -> DequantizeLinear, then a
per-axis int8 weight DequantizeLinear and MatMul, and MatMulInteger on the
quantized activations (ai.onnx opset 17).
"""
import argparse
import sys

import numpy as np
from onnx import TensorProto, helper, numpy_helper


def matmulnbits(rng):
    k, n, block, bits = 64, 48, 16, 4
    blocks = k // block
    q = rng.integers(0, 16, size=(n, blocks, block), dtype=np.uint8)
    packed = (q[..., 0::2] | (q[..., 1::2] << 4)).astype(np.uint8)  # low nibble first
    scales = (rng.random(n * blocks) * 0.1 + 0.01).astype(np.float32)
    zq = rng.integers(0, 16, size=(n, blocks), dtype=np.uint8)
    zeros = (zq[:, 0::2] | (zq[:, 1::2] << 4)).reshape(-1).astype(np.uint8)
    bias = rng.standard_normal(n).astype(np.float32)
    node = helper.make_node("MatMulNBits", ["x", "B", "scales", "zeros", "", "bias"], ["y"],
                            domain="com.microsoft", K=k, N=n, bits=bits, block_size=block,
                            name="proj")
    graph = helper.make_graph(
        [node], "matmulnbits",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", "seq", k])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", "seq", n])],
        [numpy_helper.from_array(packed, "B"), numpy_helper.from_array(scales, "scales"),
         numpy_helper.from_array(zeros, "zeros"), numpy_helper.from_array(bias, "bias")])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17),
                                                   helper.make_opsetid("com.microsoft", 1)])


def qdq(rng):
    k, n = 32, 24
    w = rng.integers(-127, 128, size=(k, n), dtype=np.int8)
    w_scale = (rng.random(n) * 0.02 + 0.001).astype(np.float32)
    nodes = [
        helper.make_node("QuantizeLinear", ["x", "x_scale", "x_zp"], ["xq"], name="quant"),
        helper.make_node("DequantizeLinear", ["xq", "x_scale", "x_zp"], ["xd"], name="dequant"),
        helper.make_node("DequantizeLinear", ["w", "w_scale"], ["wd"], axis=1, name="dequant_w"),
        helper.make_node("MatMul", ["xd", "wd"], ["y"], name="matmul"),
        helper.make_node("MatMulInteger", ["xq", "wu", "x_zp", "wu_zp"], ["yi"], name="matmul_int"),
    ]
    graph = helper.make_graph(
        nodes, "qdq",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["rows", k])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["rows", n]),
         helper.make_tensor_value_info("yi", TensorProto.INT32, ["rows", n]),
         helper.make_tensor_value_info("xq", TensorProto.UINT8, ["rows", k])],
        [numpy_helper.from_array(np.array(0.02, np.float32), "x_scale"),
         numpy_helper.from_array(np.array(128, np.uint8), "x_zp"),
         numpy_helper.from_array(w, "w"), numpy_helper.from_array(w_scale, "w_scale"),
         numpy_helper.from_array(rng.integers(0, 256, size=(k, n), dtype=np.uint8), "wu"),
         numpy_helper.from_array(rng.integers(0, 256, size=(n,), dtype=np.uint8), "wu_zp")])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("kind", choices=["matmulnbits", "qdq"])
    parser.add_argument("-o", "--output", required=True)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    rng = np.random.default_rng(args.seed)
    model = (matmulnbits if args.kind == "matmulnbits" else qdq)(rng)
    with open(args.output, "wb") as f:
        f.write(model.SerializeToString())
    return 0


if __name__ == "__main__":
    sys.exit(main())
