#!/usr/bin/python3
"""Convert a llama2.c checkpoint (../shared/models/stories260K) to ONNX.

The graph has the export form of python/build_model.py (torch.onnx's
LlamaForCausalLM with use_cache: input_ids, attention_mask, position_ids and
past_key_values.* in; logits and present.* out), with the checkpoint's
trained weights inline. llama2.c rotates interleaved pairs, the HF form
rotates halves: the rows of wq and wk are permuted per head as Hugging
Face's llama2.c converter does, which makes the two forms compute the same.

    /usr/bin/python3 python/import_llama2c.py CHECKPOINT.bin -o model.onnx
        [--prompt-ids FILE.npy --reference-tokens N --tokens-out FILE.npy]

--reference-tokens N runs the checkpoint's own forward pass in NumPy
(llama2.c's run.c: interleaved rotary, no permutation) greedily for N
tokens after the prompt (--prompt-ids, or 8 ids drawn with --seed) and
writes the prompt and the tokens (--tokens-out, an .npz that
python/phases_greedy.py --expect takes).
"""
import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import build_model  # noqa: E402


def read_checkpoint(path):
    """The header (dim, hidden, layers, heads, kv heads, vocab, seq) and the
    weights as named arrays, in llama2.c's (out, in) layout."""
    with open(path, "rb") as f:
        header = np.frombuffer(f.read(28), np.int32)
    if header.size != 7:
        sys.exit("import_llama2c: %s: no llama2.c header" % path)
    dim, hidden, layers, heads, kv_heads, vocab, seq = (int(x) for x in header)
    shared = vocab > 0
    vocab = abs(vocab)
    if min(dim, hidden, layers, heads, kv_heads, vocab, seq) <= 0 or dim % heads:
        sys.exit("import_llama2c: %s: implausible header %s" % (path, header.tolist()))
    hs = dim // heads
    kv_dim = kv_heads * hs
    data = np.fromfile(path, np.float32, offset=28)
    shapes = [("emb", (vocab, dim)), ("rms_att", (layers, dim)),
              ("wq", (layers, dim, dim)), ("wk", (layers, kv_dim, dim)),
              ("wv", (layers, kv_dim, dim)), ("wo", (layers, dim, dim)),
              ("rms_ffn", (layers, dim)), ("w1", (layers, hidden, dim)),
              ("w2", (layers, dim, hidden)), ("w3", (layers, hidden, dim)),
              ("rms_final", (dim,)), ("freq_real", (seq, hs // 2)),
              ("freq_imag", (seq, hs // 2))]
    need = sum(int(np.prod(s)) for _, s in shapes) + (0 if shared else vocab * dim)
    if data.size < need:
        sys.exit("import_llama2c: %s holds %d floats, the header needs %d" % (path, data.size, need))
    w, at = {}, 0
    for name, shape in shapes:
        n = int(np.prod(shape))
        w[name] = data[at:at + n].reshape(shape)
        at += n
    w["wcls"] = w["emb"] if shared else data[at:at + vocab * dim].reshape(vocab, dim)
    cfg = dict(dim=dim, hidden=hidden, layers=layers, heads=heads, kv_heads=kv_heads,
               vocab=vocab, seq=seq)
    return cfg, w


def to_rotate_half(w, heads):
    """Rows of each head reordered from interleaved pairs to halves."""
    out, inp = w.shape
    return w.reshape(heads, out // heads // 2, 2, inp).transpose(0, 2, 1, 3).reshape(out, inp)


def onnx_weights(cfg, w):
    """The weights under build_model's names, [in, out] for the linears."""
    named = {"model.embed_tokens.weight": w["emb"], "model.norm.weight": w["rms_final"],
             "lm_head.weight": w["wcls"].T}
    for l in range(cfg["layers"]):
        p = "model.layers.%d." % l
        named.update({
            p + "input_layernorm.weight": w["rms_att"][l],
            p + "post_attention_layernorm.weight": w["rms_ffn"][l],
            p + "self_attn.q_proj.weight": to_rotate_half(w["wq"][l], cfg["heads"]).T,
            p + "self_attn.k_proj.weight": to_rotate_half(w["wk"][l], cfg["kv_heads"]).T,
            p + "self_attn.v_proj.weight": w["wv"][l].T,
            p + "self_attn.o_proj.weight": w["wo"][l].T,
            p + "mlp.gate_proj.weight": w["w1"][l].T,
            p + "mlp.up_proj.weight": w["w3"][l].T,
            p + "mlp.down_proj.weight": w["w2"][l].T,
        })
    return named


class GivenWeights:
    """build_model's weight store, with the checkpoint's tensors by name."""

    def __init__(self, named):
        self.named = named
        self.tensors = []
        self.used = set()

    def add(self, name, shape, init):
        if name in self.named:
            values = self.named[name]
        elif name.endswith(("cos_cached", "sin_cached")):
            values = init(None, shape)  # the rotary tables, computed
        else:
            sys.exit("import_llama2c: the graph asks for '%s', which the checkpoint lacks" % name)
        values = np.ascontiguousarray(values, np.float32)
        if list(values.shape) != list(shape):
            sys.exit("import_llama2c: '%s' is %s in the checkpoint, the graph needs %s"
                     % (name, values.shape, tuple(shape)))
        self.used.add(name)
        self.tensors.append(build_model.numpy_helper.from_array(values, name))


def llama2c_logits(cfg, w, tokens):
    """llama2.c's forward pass (run.c) over `tokens`: the logits of each
    position, float32 arithmetic, interleaved rotary pairs."""
    dim, heads, kvh = cfg["dim"], cfg["heads"], cfg["kv_heads"]
    hs = dim // heads
    n = len(tokens)
    x = w["emb"][tokens].astype(np.float32)

    def rmsnorm(v, g):
        return (v / np.sqrt(np.mean(v * v, -1, keepdims=True) + np.float32(1e-5))) * g

    pos = np.arange(n, dtype=np.float32)[:, None]
    freq = 1.0 / (10000.0 ** (np.arange(0, hs, 2, dtype=np.float32) / hs))
    ang = (pos * freq).astype(np.float32)
    cos, sin = np.cos(ang), np.sin(ang)

    def rotate(v, nh):  # v [n, nh*hs], interleaved pairs
        v = v.reshape(n, nh, hs // 2, 2)
        a, b = v[..., 0], v[..., 1]
        c, s = cos[:, None, :], sin[:, None, :]
        return np.stack([a * c - b * s, a * s + b * c], -1).reshape(n, nh * hs)

    causal = np.tril(np.ones((n, n), bool))
    for l in range(cfg["layers"]):
        xb = rmsnorm(x, w["rms_att"][l])
        q = rotate(xb @ w["wq"][l].T, heads).reshape(n, heads, hs)
        k = rotate(xb @ w["wk"][l].T, kvh).reshape(n, kvh, hs)
        v = (xb @ w["wv"][l].T).reshape(n, kvh, hs)
        rep = heads // kvh
        k, v = np.repeat(k, rep, axis=1), np.repeat(v, rep, axis=1)
        att = np.einsum("qhd,khd->hqk", q, k) / np.float32(np.sqrt(hs))
        att = np.where(causal[None], att, -np.inf)
        att = np.exp(att - att.max(-1, keepdims=True))
        att /= att.sum(-1, keepdims=True)
        o = np.einsum("hqk,khd->qhd", att, v).reshape(n, dim)
        x = x + o @ w["wo"][l].T
        xb = rmsnorm(x, w["rms_ffn"][l])
        g = xb @ w["w1"][l].T
        x = x + ((g / (1 + np.exp(-g))) * (xb @ w["w3"][l].T)) @ w["w2"][l].T
    return rmsnorm(x, w["rms_final"]) @ w["wcls"].T


def greedy(cfg, w, prompt, steps):
    tokens = list(prompt)
    for _ in range(steps + 1):  # the prefill's token, then `steps` more
        tokens.append(int(llama2c_logits(cfg, w, tokens)[-1].argmax()))
    return tokens[len(prompt):]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("checkpoint")
    ap.add_argument("-o", "--output", required=True)
    ap.add_argument("--prompt-ids", help="int64 .npy of prompt ids (default: 8 drawn with --seed)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--reference-tokens", type=int, default=0,
                    help="greedy tokens of the NumPy forward pass after the prompt's (0: none)")
    ap.add_argument("--tokens-out", help="where the prompt and the reference tokens go (.npz)")
    a = ap.parse_args(argv)

    cfg, w = read_checkpoint(a.checkpoint)
    lc = build_model.LlamaConfig(
        cfg["dim"], cfg["layers"], cfg["heads"], cfg["kv_heads"], cfg["dim"] // cfg["heads"],
        cfg["hidden"], cfg["vocab"], cfg["seq"], 1e-5, 10000.0, shape_only=False,
        dtype="float32", source=os.path.basename(a.checkpoint))
    store = GivenWeights(onnx_weights(cfg, w))
    model = build_model.build_model(lc, store)
    unused = set(store.named) - store.used
    if unused:
        sys.exit("import_llama2c: the graph leaves out %s" % sorted(unused))
    with open(a.output, "wb") as f:
        f.write(model.SerializeToString())
    print("import_llama2c: %s -> %s (%d layers, dim %d, %d heads / %d KV heads, vocab %d)" % (
        a.checkpoint, a.output, cfg["layers"], cfg["dim"], cfg["heads"], cfg["kv_heads"],
        cfg["vocab"]))

    if a.reference_tokens:
        if a.prompt_ids:
            prompt = np.load(a.prompt_ids).astype(np.int64).ravel()
        else:
            prompt = np.random.default_rng(a.seed).integers(0, cfg["vocab"], 8)
        tokens = greedy(cfg, w, [int(t) for t in prompt], a.reference_tokens)
        print("NumPy reference, %d greedy tokens after the prompt %s: %s" % (
            len(tokens), prompt.tolist(), tokens))
        if a.tokens_out:
            np.savez(a.tokens_out, prompt=np.asarray(prompt, np.int64)[None],
                     tokens=np.asarray(tokens, np.int64))
    return 0


if __name__ == "__main__":
    sys.exit(main())
