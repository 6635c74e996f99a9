#!/usr/bin/python3
"""Matmul throughput of Prism's host kernels against ONNX Runtime: GPT-2
small's LM head shape (rows x 768 x 50257), with the weight stored as
[768, 50257] or, as GPT-2 ties it, [50257, 768] read through a Transpose;
128 rows (a prefill) and 1 row (a decode step).

    /usr/bin/python3 benchmarks/matmul_throughput.py [--build-dir build] [--runs 5]

Prints each case's median latency and GFLOP/s (2 * rows * 768 * 50257 /
time) for both, one thread each.
"""

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np
from onnx import TensorProto, helper, numpy_helper

sys.path.insert(0, str(Path(__file__).resolve().parent))
import host_latency as hl  # noqa: E402

K, N = 768, 50257


def model(path, transposed, rows, rng):
    w = (rng.standard_normal((N, K)) * 0.02).astype(np.float32)
    if transposed:
        nodes = [helper.make_node("Transpose", ["W"], ["WT"], perm=[1, 0]),
                 helper.make_node("MatMul", ["X", "WT"], ["Y"])]
        init = numpy_helper.from_array(w, "W")
    else:
        nodes = [helper.make_node("MatMul", ["X", "W"], ["Y"])]
        init = numpy_helper.from_array(np.ascontiguousarray(w.T), "W")
    graph = helper.make_graph(
        nodes, "mm", [helper.make_tensor_value_info("X", TensorProto.FLOAT, [rows, K])],
        [helper.make_tensor_value_info("Y", TensorProto.FLOAT, [rows, N])], [init])
    with open(path, "wb") as f:
        f.write(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
                .SerializeToString())
    x = path.with_suffix(".x.npy")
    np.save(x, rng.standard_normal((rows, K)).astype(np.float32))
    return ["--input", f"X={x}"]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--build-dir", type=Path, default=hl.ROOT / "build")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args(argv)
    prism_run = args.build_dir / "bin/prism-run"
    env = dict(hl.os.environ, PRISM_ORT_DIR=str(args.build_dir / "ort/node_modules"))
    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory() as work:
        work = Path(work)
        for rows in (128, 1):
            for transposed in (False, True):
                path = work / f"mm_{rows}_{int(transposed)}.onnx"
                inputs = model(path, transposed, rows, rng)
                prism = hl.median_ms(hl.run([str(prism_run), str(path), *inputs,
                                             "--output-dir", str(work / "p"),
                                             "--time", str(args.runs)]), "prism")
                ort = hl.median_ms(hl.run(["node", str(hl.ROOT / "tools/ort-oracle/ort_run.js"),
                                           str(path), *inputs, "--output-dir", str(work / "o"),
                                           "--threads", "1", "--time", str(args.runs)],
                                          env=env), "ort")
                gflop = 2.0 * rows * K * N / 1e9
                layout = "W^T [50257, 768]" if transposed else "W [768, 50257]"
                print(f"{rows:>3} rows x {layout:<17} prism {prism:8.2f} ms "
                      f"{gflop / prism * 1e3:6.1f} GFLOP/s   ort {ort:8.2f} ms "
                      f"{gflop / ort * 1e3:6.1f} GFLOP/s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
