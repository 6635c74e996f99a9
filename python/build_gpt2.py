#!/usr/bin/python3
"""Write a GPT-2-shaped decoder (HF GPT2LMHeadModel with use_cache=True, as
torch.onnx.export writes it at opset 17) with random weights: learned
position embeddings, LayerNormalization, fused c_attn projection split into
Q/K/V, the tanh GELU written out, KV cache as past_key_values.N.key/value
[batch, heads, past, head_dim], and the LM head tied to the token table.

    /usr/bin/python3 python/build_gpt2.py --preset gpt2-small -o gpt2.onnx

The graph's inputs and outputs match python/build_model.py's Llama graphs
(input_ids, attention_mask, position_ids, past_key_values.*; logits,
present.*), so make_inputs.py and the benchmarks drive both alike.
"""

import argparse
import dataclasses
import math
import os
import sys
import time

import numpy as np
from onnx import TensorProto, helper

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import build_model as bm  # noqa: E402


@dataclasses.dataclass(frozen=True)
class Gpt2Config:
    hidden_size: int
    num_layers: int
    num_heads: int
    vocab_size: int
    max_position: int
    layer_norm_eps: float = 1e-5
    dtype: str = "float32"
    source: str = ""
    stacked_cache: bool = False

    @property
    def head_dim(self):
        return self.hidden_size // self.num_heads

    @property
    def num_kv_heads(self):
        return self.num_heads

    def num_params(self):
        h = self.hidden_size
        layer = 4 * h * h + 4 * h + 2 * 4 * h * h + 5 * h + 4 * h
        return self.num_layers * layer + (self.vocab_size + self.max_position) * h + 2 * h


PRESETS = {
    # https://huggingface.co/openai-community/gpt2/blob/main/config.json
    "gpt2-small": Gpt2Config(768, 12, 12, 50257, 1024,
                             source="https://huggingface.co/openai-community/gpt2/blob/main/config.json"),
    "gpt2-tiny": Gpt2Config(64, 2, 4, 512, 128, source="random weights, test model"),
}


def layer_norm(b, x, name):
    with b.scope(name):
        h = b.cfg.hidden_size
        scale = b.weight("weight", (h,), bm.norm_weight)
        bias = b.weight("bias", (h,), bm.normal(0.1))
        return b.op("LayerNormalization", x, scale, bias, axis=-1,
                    epsilon=b.cfg.layer_norm_eps)


def gelu_new(b, x):
    """HF's NewGELUActivation, written out as the exporter does."""
    cube = b.op("Pow", x, b.fconst(3.0))
    inner = b.op("Add", x, b.op("Mul", b.fconst(0.044715), cube))
    t = b.op("Tanh", b.op("Mul", b.fconst(math.sqrt(2.0 / math.pi)), inner))
    return b.op("Mul", b.op("Mul", b.fconst(0.5), x), b.op("Add", b.fconst(1.0), t))


def attention(b, layer, x, mask):
    cfg = b.cfg
    h, n, hd = cfg.hidden_size, cfg.num_heads, cfg.head_dim
    batch, seq = b.size(x, 0), b.size(x, 1)
    qkv = bm.linear(b, x, "c_attn", h, 3 * h, bias=True)
    parts = [f"/{'/'.join(b._scope)}/Split_output_{i}" for i in range(3)]
    b.nodes.append(helper.make_node("Split", [qkv, b.const([h, h, h])], parts,
                                    name=f"/{'/'.join(b._scope)}/Split", axis=2))

    def heads(y):
        y = b.op("Reshape", y, b.shape(batch, seq, n, hd))
        return b.op("Transpose", y, perm=[0, 2, 1, 3])

    q, k, v = (heads(p) for p in parts)
    if cfg.stacked_cache:
        # Older HF GPT-2 exports: layer_past[0].transpose(-2, -1) appended to
        # the transposed keys, present = stack((keys, values)).
        past = f"past_{layer}"
        pk = b.op("Gather", past, b.const(0), axis=0)
        pv = b.op("Gather", past, b.const(1), axis=0)
        kt = b.op("Concat", b.op("Transpose", pk, perm=[0, 1, 3, 2]),
                  b.op("Transpose", k, perm=[0, 1, 3, 2]), axis=-1)
        v = b.op("Concat", pv, v, axis=-2)
        axis0 = b.const([0])
        b.op("Concat", b.op("Unsqueeze", b.op("Transpose", kt, perm=[0, 1, 3, 2]), axis0),
             b.op("Unsqueeze", v, axis0), axis=0, out=f"present_{layer}")
        scores = b.op("MatMul", q, kt)
    else:
        k = b.op("Concat", f"past_key_values.{layer}.key", k, axis=2,
                 out=f"present.{layer}.key")
        v = b.op("Concat", f"past_key_values.{layer}.value", v, axis=2,
                 out=f"present.{layer}.value")
        scores = b.op("MatMul", q, b.op("Transpose", k, perm=[0, 1, 3, 2]))
    scores = b.op("Div", scores, b.fconst(math.sqrt(hd)))
    scores = b.op("Add", scores, mask)
    probs = b.op("Softmax", scores, axis=-1)
    out = b.op("Transpose", b.op("MatMul", probs, v), perm=[0, 2, 1, 3])
    out = b.op("Reshape", out, b.shape(batch, seq, h))
    return bm.linear(b, out, "c_proj", h, h, bias=True)


def block(b, layer, x, mask):
    h = b.cfg.hidden_size
    with b.scope(f"h.{layer}"):
        with b.scope("attn"):
            x = b.op("Add", x, attention(b, layer, layer_norm(b, x, "ln_1"), mask))
        y = layer_norm(b, x, "ln_2")
        with b.scope("mlp"):
            y = bm.linear(b, y, "c_fc", h, 4 * h, bias=True)
            y = bm.linear(b, gelu_new(b, y), "c_proj", 4 * h, h, bias=True)
        return b.op("Add", x, y)


def build(cfg, seed):
    store = bm.InlineWeights(cfg.dtype, seed)
    b = bm.GraphBuilder(cfg, store)
    h = cfg.hidden_size
    with b.scope("transformer"):
        wte = b.weight("wte.weight", (cfg.vocab_size, h), bm.normal(0.02 * 10))
        wpe = b.weight("wpe.weight", (cfg.max_position, h), bm.normal(0.01 * 10))
        x = b.op("Add", b.op("Gather", wte, "input_ids"),
                 b.op("Gather", wpe, "position_ids"))
        mask = (bm.attention_mask_bias(b, "past_0", 3) if cfg.stacked_cache
                else bm.attention_mask_bias(b))
        for layer in range(cfg.num_layers):
            x = block(b, layer, x, mask)
        x = layer_norm(b, x, "ln_f")
    with b.scope("lm_head"):  # tied: logits = x @ wte^T
        b.op("MatMul", x, b.op("Transpose", wte, perm=[1, 0]), out="logits")
    inputs, outputs = bm.graph_io(cfg)
    if cfg.stacked_cache:  # past_N / present_N: [2, batch, heads, positions, head_dim]
        vi = helper.make_tensor_value_info
        elem = bm.DTYPES[cfg.dtype][1]
        total = "past_sequence_length+sequence_length"
        inputs = inputs[:3] + [
            vi(f"past_{i}", elem, [2, "batch_size", cfg.num_heads, "past_sequence_length",
                                   cfg.head_dim]) for i in range(cfg.num_layers)]
        outputs = outputs[:1] + [
            vi(f"present_{i}", elem, [2, "batch_size", cfg.num_heads, total, cfg.head_dim])
            for i in range(cfg.num_layers)]
    graph = helper.make_graph(b.nodes, "main_graph", inputs, outputs,
                              initializer=store.tensors)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", bm.OPSET)],
                             producer_name="pytorch", ir_version=bm.IR_VERSION)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--preset", choices=sorted(PRESETS), required=True)
    parser.add_argument("-o", "--output", required=True)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--layers", type=int, help="override the number of layers")
    parser.add_argument("--stacked-cache", action="store_true",
                        help="the older export's cache: past_N and present_N stack each "
                        "layer's keys and values, [2, batch, heads, positions, head_dim], "
                        "the keys appended transposed")
    args = parser.parse_args(argv)
    cfg = PRESETS[args.preset]
    if args.stacked_cache:
        cfg = dataclasses.replace(cfg, stacked_cache=True)
    if args.layers is not None:
        if args.layers < 1:
            parser.error("--layers must be at least 1")
        cfg = dataclasses.replace(cfg, num_layers=args.layers)
    start = time.perf_counter()
    model = build(cfg, args.seed)
    with open(args.output, "wb") as f:
        f.write(model.SerializeToString())
    print(f"{args.output}: {args.preset} {cfg.num_layers} layers, {len(model.graph.node)} "
          f"nodes, {cfg.num_params() / 1e6:.3g}M params, "
          f"{os.path.getsize(args.output) / 1e6:.1f} MB in {time.perf_counter() - start:.2f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
