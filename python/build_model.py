#!/usr/bin/python3
"""Write Llama-family decoder graphs the way torch.onnx.export (opset 17) writes
HF LlamaForCausalLM with use_cache=True: same inputs/outputs, same decomposed ops
(RMSNorm as Pow/ReduceMean/Sqrt/Div, rotary via Gather/Slice/Neg/Concat, repeat_kv
via Unsqueeze/Expand/Reshape, shapes via Shape/Gather/Unsqueeze/Concat chains) and
PyTorch-style node and initializer names.

The tiny preset carries random weights inline. Every other preset is shape-only:
its weights are external data pointing into one sparse `<output>.data` file whose
bytes are never written, so even llama-3.1-405b builds in seconds.

Run with Debian's interpreter (it has python3-onnx):
    /usr/bin/python3 python/build_model.py --preset tiny -o tiny.onnx
    /usr/bin/python3 python/build_model.py --list
"""

import argparse
import collections
import contextlib
import dataclasses
import math
import os
import sys
import time

import numpy as np
from onnx import TensorProto, helper, numpy_helper

OPSET = 17
IR_VERSION = 8
INT64_MAX = 2**63 - 1  # what torch emits as the end of an open slice `x[..., n:]`
ALIGNMENT = 4096  # page-aligned external offsets let a runtime mmap each tensor

DTYPES = {
    "float32": (np.float32, TensorProto.FLOAT),
    "float16": (np.float16, TensorProto.FLOAT16),
}


@dataclasses.dataclass(frozen=True)
class LlamaConfig:
    hidden_size: int
    num_layers: int
    num_heads: int
    num_kv_heads: int
    head_dim: int
    intermediate_size: int
    vocab_size: int
    max_position: int
    rms_norm_eps: float
    rope_theta: float
    qkv_bias: bool = False
    shape_only: bool = True
    dtype: str = "float16"
    source: str = ""

    def num_params(self):
        attn = self.hidden_size * self.head_dim * (2 * self.num_heads + 2 * self.num_kv_heads)
        if self.qkv_bias:
            attn += self.head_dim * (self.num_heads + 2 * self.num_kv_heads)
        layer = attn + 3 * self.hidden_size * self.intermediate_size + 2 * self.hidden_size
        return self.num_layers * layer + 2 * self.vocab_size * self.hidden_size + self.hidden_size


def _hf(repo):
    return f"https://huggingface.co/{repo}/blob/main/config.json"


# Values copied from each model's published HF config.json. Sliding windows,
# rope_scaling and tied embeddings do not change the graph's shapes and are
# left out (see README.md).
PRESETS = {
    "tiny": LlamaConfig(64, 2, 4, 2, 16, 172, 512, 128, 1e-5, 10000.0,
                        shape_only=False, dtype="float32", source="random weights, bundled test model"),
    "tiny-qkv-bias": LlamaConfig(64, 2, 4, 2, 16, 172, 512, 128, 1e-6, 1000000.0, qkv_bias=True,
                                 shape_only=False, dtype="float32",
                                 source="random weights, the tiny Llama with Qwen2's q/k/v biases"),
    "llama-2-7b": LlamaConfig(4096, 32, 32, 32, 128, 11008, 32000, 4096, 1e-5, 10000.0,
                              source=_hf("meta-llama/Llama-2-7b-hf")),
    "llama-2-70b": LlamaConfig(8192, 80, 64, 8, 128, 28672, 32000, 4096, 1e-5, 10000.0,
                               source=_hf("meta-llama/Llama-2-70b-hf")),
    "llama-3.1-8b": LlamaConfig(4096, 32, 32, 8, 128, 14336, 128256, 131072, 1e-5, 500000.0,
                                source=_hf("meta-llama/Llama-3.1-8B")),
    "llama-3.1-70b": LlamaConfig(8192, 80, 64, 8, 128, 28672, 128256, 131072, 1e-5, 500000.0,
                                 source=_hf("meta-llama/Llama-3.1-70B")),
    "llama-3.1-405b": LlamaConfig(16384, 126, 128, 8, 128, 53248, 128256, 131072, 1e-5, 500000.0,
                                  source=_hf("meta-llama/Llama-3.1-405B")),
    "mistral-7b": LlamaConfig(4096, 32, 32, 8, 128, 14336, 32000, 32768, 1e-5, 10000.0,
                              source=_hf("mistralai/Mistral-7B-v0.1")),
    "qwen2.5-0.5b": LlamaConfig(896, 24, 14, 2, 64, 4864, 151936, 32768, 1e-6, 1000000.0,
                                qkv_bias=True, source=_hf("Qwen/Qwen2.5-0.5B")),
}


def resolve_config(preset, layers=None, dtype=None):
    """The preset's config with the command-line overrides applied."""
    cfg = PRESETS[preset]
    if layers is not None:
        cfg = dataclasses.replace(cfg, num_layers=layers)
    if dtype is not None:
        cfg = dataclasses.replace(cfg, dtype=dtype)
    return cfg


# --- weight stores -----------------------------------------------------------
# Both take an `init(rng, shape)` callable per tensor; only the inline store calls it.

def normal(std):
    return lambda rng, shape: rng.standard_normal(shape) * std


def norm_weight(rng, shape):
    return 1.0 + 0.1 * rng.standard_normal(shape)


def rope_tables(cfg):
    """HF LlamaRotaryEmbedding's cos_cached/sin_cached, [max_position, head_dim]."""
    inv_freq = 1.0 / cfg.rope_theta ** (np.arange(0, cfg.head_dim, 2) / cfg.head_dim)
    freqs = np.outer(np.arange(cfg.max_position), inv_freq)
    emb = np.concatenate([freqs, freqs], axis=-1)
    return np.cos(emb), np.sin(emb)


class InlineWeights:
    """Materialises random weights inside the .onnx (tiny preset)."""

    def __init__(self, dtype, seed):
        self.np_dtype = DTYPES[dtype][0]
        self.rng = np.random.default_rng(seed)
        self.tensors = []

    def add(self, name, shape, init):
        values = np.asarray(init(self.rng, shape)).astype(self.np_dtype)
        self.tensors.append(numpy_helper.from_array(values, name))


class ExternalWeights:
    """Records only shape and file offset; the bytes stay a hole in a sparse file."""

    def __init__(self, dtype, location):
        self.itemsize = np.dtype(DTYPES[dtype][0]).itemsize
        self.elem_type = DTYPES[dtype][1]
        self.location = location
        self.size = 0
        self.tensors = []

    def add(self, name, shape, init):  # init is deliberately unused: shape-only
        offset = -(-self.size // ALIGNMENT) * ALIGNMENT
        length = math.prod(shape) * self.itemsize
        tensor = TensorProto(name=name, dims=shape, data_type=self.elem_type,
                             data_location=TensorProto.EXTERNAL)
        for key, value in (("location", self.location), ("offset", str(offset)), ("length", str(length))):
            tensor.external_data.add(key=key, value=value)
        self.tensors.append(tensor)
        self.size = offset + length

    def write_data(self, path):
        with open(path, "wb") as f:
            f.truncate(self.size)


# --- graph builder -----------------------------------------------------------

class GraphBuilder:
    """Appends nodes named like torch.onnx names them: '/model/layers.0/self_attn/MatMul_1'
    with output '<node name>_output_0'; parameters are named '<scope dotted>.<name>'."""

    def __init__(self, cfg, store):
        self.cfg = cfg
        self.np_dtype, self.elem_type = DTYPES[cfg.dtype]
        self.store = store
        self.nodes = []
        self._scope = []
        self._taken = collections.Counter()

    @contextlib.contextmanager
    def scope(self, name):
        self._scope.append(name)
        try:
            yield
        finally:
            self._scope.pop()

    def op(self, op_type, *inputs, out=None, **attrs):
        prefix = "/" + "/".join(self._scope + [op_type])
        count = self._taken[prefix]
        self._taken[prefix] += 1
        name = f"{prefix}_{count}" if count else prefix
        output = out or f"{name}_output_0"
        self.nodes.append(helper.make_node(op_type, list(inputs), [output], name=name, **attrs))
        return output

    def const(self, value, dtype=np.int64):
        return self.op("Constant", value=numpy_helper.from_array(np.asarray(value, dtype)))

    def fconst(self, value):
        """A scalar in the model's dtype, as torch emits for Python float operands."""
        return self.const(value, self.np_dtype)

    def weight(self, name, shape, init):
        full_name = ".".join(self._scope + [name])
        self.store.add(full_name, list(shape), init)
        return full_name

    def size(self, x, axis):
        """x.size(axis): a 0-d int64 from Shape -> Gather."""
        return self.op("Gather", self.op("Shape", x), self.const(axis), axis=0)

    def shape(self, *dims):
        """A shape vector from traced 0-d sizes (str) and static ints, as for .view()."""
        parts = [self.op("Unsqueeze", d, self.const([0])) if isinstance(d, str) else self.const([d])
                 for d in dims]
        return self.op("Concat", *parts, axis=0)


# --- Llama blocks ------------------------------------------------------------

def linear(b, x, name, n_in, n_out, bias=False, out=None):
    """nn.Linear exports as MatMul with the weight stored transposed, [in, out]."""
    with b.scope(name):
        weight = b.weight("weight", (n_in, n_out), normal(1.0 / math.sqrt(n_in)))
        if not bias:
            return b.op("MatMul", x, weight, out=out)
        y = b.op("MatMul", x, weight)
        return b.op("Add", b.weight("bias", (n_out,), normal(0.1)), y, out=out)


def rms_norm(b, x, name):
    """LlamaRMSNorm: computed in float32, cast back, then scaled by the weight."""
    with b.scope(name):
        fp16 = b.elem_type != TensorProto.FLOAT
        x32 = b.op("Cast", x, to=TensorProto.FLOAT) if fp16 else x
        var = b.op("ReduceMean", b.op("Pow", x32, b.const(2.0, np.float32)), axes=[-1], keepdims=1)
        std = b.op("Sqrt", b.op("Add", var, b.const(b.cfg.rms_norm_eps, np.float32)))
        y = b.op("Mul", x32, b.op("Div", b.const(1.0, np.float32), std))  # torch.rsqrt
        if fp16:
            y = b.op("Cast", y, to=b.elem_type)
        return b.op("Mul", b.weight("weight", (b.cfg.hidden_size,), norm_weight), y)


def attention_mask_bias(b, past_input="past_key_values.0.key", past_axis=2):
    """Additive [b, 1, s, past+s] mask: finfo.min where a key is in the future of
    its query (causal) or is padding (attention_mask == 0), else 0."""
    neg = np.finfo(b.np_dtype).min
    seq = b.size("input_ids", 1)
    past = b.size(past_input, past_axis)
    total = b.size("attention_mask", 1)
    query_pos = b.op("Range", past, b.op("Add", past, seq), b.const(1))
    key_pos = b.op("Range", b.const(0), total, b.const(1))
    query_col = b.op("Unsqueeze", query_pos, b.const([1]))
    key_row = b.op("Unsqueeze", key_pos, b.const([0]))
    future = b.op("Less", query_col, key_row)
    causal = b.op("Where", future, b.fconst(neg), b.fconst(0.0))
    keep = b.op("Cast", b.op("Unsqueeze", "attention_mask", b.const([1, 2])), to=b.elem_type)
    padding = b.op("Mul", b.op("Sub", b.fconst(1.0), keep), b.fconst(neg))
    return b.op("Add", padding, causal)


def rotate_half(b, x):
    half = b.cfg.head_dim // 2
    x1 = b.op("Slice", x, b.const([0]), b.const([half]), b.const([3]), b.const([1]))
    x2 = b.op("Slice", x, b.const([half]), b.const([INT64_MAX]), b.const([3]), b.const([1]))
    return b.op("Concat", b.op("Neg", x2), x1, axis=-1)


def apply_rope(b, x, cos, sin):
    return b.op("Add", b.op("Mul", x, cos), b.op("Mul", rotate_half(b, x), sin))


def repeat_kv(b, x):
    """[b, kv, t, hd] -> [b, kv*n_rep, t, hd] through a broadcast, as HF's repeat_kv."""
    cfg = b.cfg
    n_rep = cfg.num_heads // cfg.num_kv_heads
    if n_rep == 1:
        return x
    batch, length = b.size(x, 0), b.size(x, 2)
    x = b.op("Unsqueeze", x, b.const([2]))
    x = b.op("Expand", x, b.shape(batch, cfg.num_kv_heads, n_rep, length, cfg.head_dim))
    return b.op("Reshape", x, b.shape(batch, cfg.num_heads, length, cfg.head_dim))


def self_attention(b, layer, x, mask, cos, sin):
    cfg = b.cfg
    heads_dim = cfg.num_heads * cfg.head_dim
    batch, seq = b.size(x, 0), b.size(x, 1)

    def split_heads(proj, n_heads):  # [b, s, n*hd] -> [b, n, s, hd]
        y = linear(b, x, proj, cfg.hidden_size, n_heads * cfg.head_dim, cfg.qkv_bias)
        y = b.op("Reshape", y, b.shape(batch, seq, n_heads, cfg.head_dim))
        return b.op("Transpose", y, perm=[0, 2, 1, 3])

    q = split_heads("q_proj", cfg.num_heads)
    k = split_heads("k_proj", cfg.num_kv_heads)
    v = split_heads("v_proj", cfg.num_kv_heads)
    cos = b.op("Unsqueeze", cos, b.const([1]))  # broadcast over the head axis
    sin = b.op("Unsqueeze", sin, b.const([1]))
    q, k = apply_rope(b, q, cos, sin), apply_rope(b, k, cos, sin)
    k = b.op("Concat", f"past_key_values.{layer}.key", k, axis=2, out=f"present.{layer}.key")
    v = b.op("Concat", f"past_key_values.{layer}.value", v, axis=2, out=f"present.{layer}.value")
    k, v = repeat_kv(b, k), repeat_kv(b, v)

    scores = b.op("MatMul", q, b.op("Transpose", k, perm=[0, 1, 3, 2]))
    scores = b.op("Div", scores, b.fconst(math.sqrt(cfg.head_dim)))
    scores = b.op("Add", scores, mask)
    # HF clamps at finfo.min so padding+causal (which overflows to -inf) stays finite.
    scores = b.op("Max", scores, b.fconst(np.finfo(b.np_dtype).min))
    if b.elem_type == TensorProto.FLOAT:
        probs = b.op("Softmax", scores, axis=-1)
    else:  # softmax(..., dtype=torch.float32).to(query.dtype)
        probs = b.op("Softmax", b.op("Cast", scores, to=TensorProto.FLOAT), axis=-1)
        probs = b.op("Cast", probs, to=b.elem_type)
    out = b.op("Transpose", b.op("MatMul", probs, v), perm=[0, 2, 1, 3])
    out = b.op("Reshape", out, b.shape(batch, seq, heads_dim))
    return linear(b, out, "o_proj", heads_dim, cfg.hidden_size)


def mlp(b, x):
    cfg = b.cfg
    gate = linear(b, x, "gate_proj", cfg.hidden_size, cfg.intermediate_size)
    with b.scope("act_fn"):  # SiLU exports as x * Sigmoid(x) at opset 17
        gate = b.op("Mul", gate, b.op("Sigmoid", gate))
    up = linear(b, x, "up_proj", cfg.hidden_size, cfg.intermediate_size)
    return linear(b, b.op("Mul", gate, up), "down_proj", cfg.intermediate_size, cfg.hidden_size)


def decoder_layer(b, layer, h, mask, cos, sin):
    with b.scope(f"layers.{layer}"):
        x = rms_norm(b, h, "input_layernorm")
        with b.scope("self_attn"):
            attn = self_attention(b, layer, x, mask, cos, sin)
        h = b.op("Add", h, attn)
        x = rms_norm(b, h, "post_attention_layernorm")
        with b.scope("mlp"):
            ffn = mlp(b, x)
        return b.op("Add", h, ffn)


def graph_io(cfg):
    elem = DTYPES[cfg.dtype][1]
    total = "past_sequence_length+sequence_length"
    kv_past = ["batch_size", cfg.num_kv_heads, "past_sequence_length", cfg.head_dim]
    kv_total = ["batch_size", cfg.num_kv_heads, total, cfg.head_dim]
    vi = helper.make_tensor_value_info
    inputs = [vi("input_ids", TensorProto.INT64, ["batch_size", "sequence_length"]),
              vi("attention_mask", TensorProto.INT64, ["batch_size", total]),
              vi("position_ids", TensorProto.INT64, ["batch_size", "sequence_length"])]
    outputs = [vi("logits", TensorProto.FLOAT, ["batch_size", "sequence_length", cfg.vocab_size])]
    for i in range(cfg.num_layers):
        for kind in ("key", "value"):
            inputs.append(vi(f"past_key_values.{i}.{kind}", elem, kv_past))
            outputs.append(vi(f"present.{i}.{kind}", elem, kv_total))
    return inputs, outputs


def build_model(cfg, store):
    b = GraphBuilder(cfg, store)
    with b.scope("model"):
        with b.scope("embed_tokens"):
            table = b.weight("weight", (cfg.vocab_size, cfg.hidden_size), normal(1.0))
            h = b.op("Gather", table, "input_ids")
        mask = attention_mask_bias(b)
        with b.scope("rotary_emb"):  # cos/sin rows for each position, shared by all layers
            table = (cfg.max_position, cfg.head_dim)
            cos_table = b.weight("cos_cached", table, lambda rng, shape: rope_tables(cfg)[0])
            sin_table = b.weight("sin_cached", table, lambda rng, shape: rope_tables(cfg)[1])
            cos = b.op("Gather", cos_table, "position_ids")
            sin = b.op("Gather", sin_table, "position_ids")
        for layer in range(cfg.num_layers):
            h = decoder_layer(b, layer, h, mask, cos, sin)
        h = rms_norm(b, h, "norm")
    if b.elem_type == TensorProto.FLOAT:
        linear(b, h, "lm_head", cfg.hidden_size, cfg.vocab_size, out="logits")
    else:  # LlamaForCausalLM returns logits.float()
        logits = linear(b, h, "lm_head", cfg.hidden_size, cfg.vocab_size)
        b.op("Cast", logits, to=TensorProto.FLOAT, out="logits")

    inputs, outputs = graph_io(cfg)
    graph = helper.make_graph(b.nodes, "main_graph", inputs, outputs, initializer=store.tensors)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)],
                             producer_name="pytorch", ir_version=IR_VERSION)


def write_model(cfg, path, seed):
    """Build and write the model (and the sparse .data file when shape-only)."""
    data_path = path + ".data"
    if cfg.shape_only:
        store = ExternalWeights(cfg.dtype, os.path.basename(data_path))
    else:
        store = InlineWeights(cfg.dtype, seed)
    model = build_model(cfg, store)
    with open(path, "wb") as f:
        f.write(model.SerializeToString())
    if cfg.shape_only:
        store.write_data(data_path)
    return model


def human_count(n):
    return f"{n / 1e9:.3g}B" if n >= 1e9 else f"{n / 1e6:.3g}M"


def list_presets():
    header = ("preset", "hidden", "layers", "heads", "kv", "head_dim", "ffn", "vocab",
              "max_pos", "eps", "theta", "bias", "dtype", "weights", "params")
    rows = [header]
    for name, c in PRESETS.items():
        rows.append((name, c.hidden_size, c.num_layers, c.num_heads, c.num_kv_heads, c.head_dim,
                     c.intermediate_size, c.vocab_size, c.max_position, f"{c.rms_norm_eps:g}",
                     f"{c.rope_theta:g}", "qkv" if c.qkv_bias else "-", c.dtype,
                     "shape-only" if c.shape_only else "random", human_count(c.num_params())))
    widths = [max(len(str(r[i])) for r in rows) for i in range(len(header))]
    for row in rows:
        print("  ".join(str(v).ljust(w) for v, w in zip(row, widths)).rstrip())
    print()
    for name, c in PRESETS.items():
        print(f"{name}: {c.source}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--preset", choices=sorted(PRESETS))
    parser.add_argument("-o", "--output", help="path of the .onnx file to write")
    parser.add_argument("--seed", type=int, default=0, help="seed for random (tiny) weights")
    parser.add_argument("--layers", type=int, help="override the number of decoder layers")
    parser.add_argument("--dtype", choices=sorted(DTYPES), help="override the weight dtype")
    parser.add_argument("--list", action="store_true", help="print the presets and exit")
    args = parser.parse_args(argv)
    if args.list:
        list_presets()
        return 0
    if not args.preset or not args.output:
        parser.error("--preset and -o are required (or use --list)")
    if args.layers is not None and args.layers < 1:
        parser.error("--layers must be at least 1")

    cfg = resolve_config(args.preset, args.layers, args.dtype)
    start = time.perf_counter()
    model = write_model(cfg, args.output, args.seed)
    elapsed = time.perf_counter() - start
    print(f"{args.output}: {args.preset} {cfg.dtype} {cfg.num_layers} layers, "
          f"{len(model.graph.node)} nodes, {human_count(cfg.num_params())} params, "
          f"{os.path.getsize(args.output) / 1e6:.2f} MB in {elapsed:.2f}s")
    if cfg.shape_only:
        data_size = os.path.getsize(args.output + ".data")
        print(f"{args.output}.data: sparse, {data_size / 1e9:.1f} GB apparent size")
    return 0


if __name__ == "__main__":
    sys.exit(main())
