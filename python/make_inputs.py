#!/usr/bin/python3
"""Writes deterministic inputs for a model as .npy files, one per graph input.

    /usr/bin/python3 python/make_inputs.py MODEL --bind name=value,... -o DIR
        [--seed N] [--past P]

Symbolic dims are bound by name (a dim named by an expression of others, such
as past_sequence_length+sequence_length, is computed). Integer inputs that an
embedding Gather indexes get ids within the vocabulary; `attention_mask` is
ones; `position_ids` counts from --past (default: the bound
past_sequence_length, else 0); other integer inputs are small non-negative
values; float inputs are normal(0, 0.5). Prints the `--input NAME=FILE`
arguments for ort_run.js / prism-run.
"""
import argparse
import os
import re
import sys

import numpy as np
import onnx
from onnx import mapping

ROOT = os.path.dirname(os.path.abspath(__file__))


def bind_dim(dim, binds):
    if dim.HasField("dim_value"):
        return dim.dim_value
    name = dim.dim_param
    if name in binds:
        return binds[name]
    expr = name
    for key in sorted(binds, key=len, reverse=True):
        expr = expr.replace(key, str(binds[key]))
    if not re.fullmatch(r"[0-9+\-*/() ]+", expr):
        sys.exit("make_inputs: dim '%s' is not bound" % name)
    return int(eval(expr))  # digits and arithmetic only


def vocab_sizes(model):
    """Rows of the initializer each input indexes through a Gather."""
    inits = {t.name: list(t.dims) for t in model.graph.initializer}
    sizes = {}
    for node in model.graph.node:
        if node.op_type == "Gather" and node.input[0] in inits:
            sizes[node.input[1]] = inits[node.input[0]][0]
    return sizes


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("model")
    ap.add_argument("--bind", default="")
    ap.add_argument("-o", "--output-dir", required=True)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--past", type=int)
    args = ap.parse_args(argv)
    binds = {}
    for item in filter(None, args.bind.split(",")):
        name, value = item.rsplit("=", 1)
        binds[name.strip()] = int(value)
    model = onnx.load(args.model, load_external_data=False)
    inits = {t.name for t in model.graph.initializer}
    vocab = vocab_sizes(model)
    past = args.past if args.past is not None else binds.get("past_sequence_length", 0)
    rng = np.random.default_rng(args.seed)
    os.makedirs(args.output_dir, exist_ok=True)
    specs = []
    for vi in model.graph.input:
        if vi.name in inits:
            continue
        tt = vi.type.tensor_type
        shape = [bind_dim(d, binds) for d in tt.shape.dim]
        dtype = mapping.TENSOR_TYPE_TO_NP_TYPE[tt.elem_type]
        if vi.name == "attention_mask":
            value = np.ones(shape, dtype)
        elif vi.name == "position_ids":
            value = np.broadcast_to(np.arange(past, past + shape[-1], dtype=dtype),
                                    shape).copy()
        elif np.issubdtype(dtype, np.integer):
            high = vocab.get(vi.name, 4)
            value = rng.integers(0, high, size=shape, dtype=dtype)
        elif dtype == np.bool_:
            value = rng.integers(0, 2, size=shape).astype(np.bool_)
        else:
            value = (rng.standard_normal(shape) * 0.5).astype(dtype)
        file = os.path.join(args.output_dir,
                            re.sub(r"[^A-Za-z0-9._-]", "_", vi.name) + ".npy")
        np.save(file, value)
        specs.append("--input %s=%s" % (vi.name, file))
    print(" ".join(specs))


if __name__ == "__main__":
    main()
