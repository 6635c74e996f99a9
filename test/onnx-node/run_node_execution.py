#!/usr/bin/python3
"""Runs ONNX's node conformance tests on the host: prism-run against the
expected outputs of each test.

A node test (model.onnx with test_data_set_*/input_N.pb and output_N.pb)
runs when every operator of its model is one the host lowering handles
(HOST_OPS, kept with lib/Conversion/OnnxToLinalg) and its opset is one the
importer takes; the others are skipped, with the reason. A test runs each of
its data sets through `prism-run` and passes when every output has the
expected dtype and shape and, for floats, |actual - expected| <= atol + rtol
* |expected| (ONNX's defaults rtol 1e-3, atol 1e-7; NaNs must match);
integers and booleans must be equal.

Tests named in --expected-failures (`test_name: reason` lines) may fail; one
that passes is an unexpected pass and an error, so the list only shrinks.
--table writes the generated Markdown table of every selected test. Exits 77
(ctest's skip) without python3-onnx or Debian's libonnx-testdata.
"""

import argparse
import concurrent.futures
import shlex
import subprocess
import sys
import tempfile
import numpy as np
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import run_node_tests as nt  # noqa: E402  (exits 77 without onnx)

from onnx import numpy_helper  # noqa: E402

sys.path.insert(0, str(nt.REPO / "python"))
import compare_outputs  # noqa: E402

# The ai.onnx operators that convert-onnx-to-linalg lowers (with the
# decompositions), and those whose static forms fold away (Shape, Size,
# ConstantOfShape, Range).
HOST_OPS = set("""
Abs Acos Acosh Add And Asin Asinh Atan Atanh Cast CastLike Ceil Celu Clip Concat
Constant ConstantOfShape Cos Cosh Div Dropout Elu Equal Erf Exp HardSigmoid
HardSwish LeakyRelu Mean Mod Round Selu Sign Sinh Softplus Softsign Sum Tan
ThresholdedRelu Xor ArgMax ArgMin Trilu GatherElements Tile ReduceL1 ReduceL2
ReduceLogSum ReduceLogSumExp ReduceProd ReduceSumSquare DequantizeLinear
QuantizeLinear MatMulInteger NegativeLogLikelihoodLoss SoftmaxCrossEntropyLoss
BatchNormalization InstanceNormalization GlobalAveragePool GlobalMaxPool
DepthToSpace SpaceToDepth Hardmax CumSum OneHot EyeLike BitShift IsNaN IsInf Conv
MaxPool AveragePool Pad GatherND ScatterND ScatterElements DynamicQuantizeLinear
Resize ConvTranspose ConvInteger TopK HannWindow HammingWindow BlackmanWindow DFT STFT
Shrink PRelu MeanVarianceNormalization LRN Det Einsum GridSample ReverseSequence
Compress NonZero If Loop Scan SequenceEmpty SequenceConstruct SequenceInsert SequenceErase
SequenceAt SequenceLength ConcatFromSequence SplitToSequence SequenceMap Optional
OptionalHasElement OptionalGetElement
RNN GRU LSTM
TfIdfVectorizer
MaxUnpool RoiAlign
QLinearMatMul QLinearConv MelWeightMatrix
Expand Flatten Floor Gather Gelu Gemm Greater GreaterOrEqual Identity
LayerNormalization Less LessOrEqual Log LogSoftmax MatMul Max Min Mul Neg Not
Or Pow RMSNormalization Range Reciprocal ReduceMax ReduceMean ReduceMin
ReduceSum Relu Reshape Shape Sigmoid Sin Size Slice Softmax Split Sqrt Squeeze
Sub Tanh Transpose Unsqueeze Where
""".split())

RTOL, ATOL = 1e-3, 1e-7


def host_skip_reason(test, dialect_ops, opset_range):
    """Why a test does not run on the host, or None."""
    reason = nt.skip_reason(test, dialect_ops, opset_range)
    if reason:
        return reason
    missing = [op if d == nt.AI_ONNX else f"{d}::{op}" for d, op in test.ops
               if d != nt.AI_ONNX or op not in HOST_OPS]
    return "not lowered to the host: " + ", ".join(missing) if missing else None


def graph_io(model_path):
    """The names of the model's inputs (initializers excluded) and outputs."""
    model = nt.onnx.load(str(model_path), load_external_data=False)
    inits = {i.name for i in model.graph.initializer}
    return ([i.name for i in model.graph.input if i.name not in inits],
            [(o.name, o.type.WhichOneof("value"))
             for o in model.graph.output])


def sanitize(name):
    """prism-run's file name for an output (as sanitizeFileName)."""
    return "".join(c if c.isalnum() or c in "._-" else "_" for c in name)


def compare(expected, actual):
    """None when actual matches expected (python/compare_outputs.py's rule
    with ONNX's tolerances), else what differs."""
    ok, detail = compare_outputs.compare(expected, actual, RTOL, ATOL)
    return None if ok else detail


def read_values(path, kind):
    """The tensors of a TensorProto file, or of a SequenceProto or an
    OptionalProto one (kind: the output's TypeProto field)."""
    data = path.read_bytes()
    if kind == "sequence_type":
        sequence = nt.onnx.SequenceProto()
        sequence.ParseFromString(data)
        return [numpy_helper.to_array(t) for t in sequence.tensor_values]
    if kind == "optional_type":
        optional = nt.onnx.OptionalProto()
        optional.ParseFromString(data)
        if optional.HasField("tensor_value"):
            return [numpy_helper.to_array(optional.tensor_value)]
        return [numpy_helper.to_array(t)
                for t in optional.sequence_value.tensor_values]
    tensor = nt.onnx.TensorProto()
    tensor.ParseFromString(data)
    return [numpy_helper.to_array(tensor)]


def run_test(test, bin_dir, timeout):
    """Runs every data set of a test; returns None or the first failure."""
    inputs, outputs = graph_io(test.model)
    sets = sorted(test.model.parent.glob("test_data_set_*"))
    if not sets:
        return "no test data"
    for data in sets:
        given = sorted(data.glob("input_*.pb"),
                       key=lambda p: int(p.stem.split("_")[1]))
        if len(given) != len(inputs):
            return f"{data.name}: {len(given)} input files for {len(inputs)} inputs"
        with tempfile.TemporaryDirectory() as out:
            command = [str(bin_dir / "prism-run"), str(test.model),
                       "--output-dir", out, "--output-format=pb"]
            for name, path in zip(inputs, given):
                command += ["--input", f"{name}={path}"]
            try:
                done = subprocess.run(command, stdout=subprocess.DEVNULL,
                                      stderr=subprocess.PIPE, text=True,
                                      errors="replace", timeout=timeout,
                                      check=False)
            except subprocess.TimeoutExpired:
                return f"timed out after {timeout} s"
            error = nt.first_error(done.stderr, test.model, done.returncode)
            if error:
                return error.replace(str(test.model.parent) + "/", "")
            for i, (name, kind) in enumerate(outputs):
                actual_path = Path(out) / (sanitize(name) + ".pb")
                if not actual_path.exists():
                    return f"no output {name}"
                expected = read_values(data / f"output_{i}.pb", kind)
                actual = read_values(actual_path, kind)
                if len(expected) != len(actual):
                    return (f"{data.name}: output '{name}': {len(actual)} "
                            f"elements, expected {len(expected)}")
                for e, a in zip(expected, actual):
                    if e.dtype == np.uint16 and a.dtype == np.float32:
                        # ONNX's test data stores bfloat16 as its uint16 bits.
                        e = (e.astype(np.uint32) << 16).view(np.float32)
                    diff = compare(e, a)
                    if diff:
                        return f"{data.name}: output '{name}': {diff}"
    return None


def write_table(path, command, selected, skipped, failures):
    """Writes the per-test Markdown table."""
    lines = nt.generated_header("ONNX node tests on the host", command) + [
        "Every ONNX node test whose operators Prism's onnx dialect has: "
        "whether `prism-run` reproduces its outputs (rtol 1e-3, atol 1e-7), "
        "or why it does not run on the host.", "",
        "| test | operators | opset | host |", "|---|---|---|---|"]
    for test in selected:
        if test.name in skipped:
            cell = f"skipped: {nt.md(skipped[test.name])}"
        elif failures[test.name] is None:
            cell = "pass"
        else:
            cell = f"FAIL: {nt.md(failures[test.name])}"
        lines.append(f"| {test.name} | {nt.md(nt.ops_cell(test))} | "
                     f"{nt.opsets_cell(test)} | {cell} |")
    path.write_text("\n".join(lines) + "\n")


def main(argv):
    """Runs the tests; returns the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bin-dir", type=Path, required=True,
                        help="directory of prism-run")
    parser.add_argument("--data-dir", type=Path, default=nt.DEFAULT_DATA_DIR,
                        help="ONNX node test data (default: %(default)s)")
    parser.add_argument("--expected-failures", type=Path,
                        help="file of 'test_name: reason' lines that may fail")
    parser.add_argument("--table", type=Path,
                        help="write the per-test Markdown table here")
    parser.add_argument("--filter", default="",
                        help="run only tests whose name contains this")
    parser.add_argument("-j", "--jobs", type=int, default=1)
    parser.add_argument("--timeout", type=int, default=120,
                        help="seconds per prism-run (default: %(default)s)")
    args = parser.parse_args(argv)
    if not (args.bin_dir / "prism-run").is_file():
        sys.exit(f"error: no prism-run in {args.bin_dir}")
    if not args.data_dir.is_dir():
        print(f"skipped: no {args.data_dir} (Debian's libonnx-testdata)")
        return nt.SKIPPED
    dialect_ops = nt.parse_dialect_ops(nt.TD_FILES)
    opset_range = nt.read_opset_range(nt.IMPORTER_HEADER)
    expected = (nt.read_expected_failures(args.expected_failures)
                if args.expected_failures else {})

    start = time.monotonic()
    tests = [t for t in nt.find_tests(args.data_dir) if args.filter in t.name]
    # The tests of operators the dialect has (others are the importer's
    # business: see run_node_tests.py).
    selected = [t for t in tests
                if nt.skip_reason(t, dialect_ops, opset_range) is None]
    skipped = {t.name: r for t in selected
               if (r := host_skip_reason(t, dialect_ops, opset_range))}
    runnable = [t for t in selected if t.name not in skipped]
    with concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs) as pool:
        results = pool.map(lambda t: run_test(t, args.bin_dir, args.timeout),
                           runnable)
        failures = {t.name: r for t, r in zip(runnable, results)}

    counts = {"passed": 0, "failed": 0, "expected": 0, "unexpected": 0}
    for name, failure in sorted(failures.items()):
        if failure is None and name in expected:
            counts["unexpected"] += 1
            print(f"UNEXPECTED PASS: {name} (remove it from the expected "
                  "failures)")
        elif failure is None:
            counts["passed"] += 1
        elif name in expected:
            counts["expected"] += 1
        else:
            counts["failed"] += 1
            print(f"FAIL: {name}: {failure}")
    for name in sorted(set(expected) - set(failures)):
        print(f"warning: expected failure {name} does not run on the host")
    ran = len(failures)
    passing = sum(f is None for f in failures.values())
    print(f"{len(selected)} tests of the dialect's operators (in scope), "
          f"{ran} run on the host, {len(skipped)} skipped (operator not "
          f"lowered); {passing}/{ran} of those run pass "
          f"({100.0 * passing / max(ran, 1):.1f}%), {passing}/{len(selected)} "
          f"of those in scope ({100.0 * passing / max(len(selected), 1):.1f}%); "
          f"{time.monotonic() - start:.1f} s")
    if args.table:
        script = Path(__file__).resolve()
        shown = (script.relative_to(nt.REPO) if script.is_relative_to(nt.REPO)
                 else script)
        command = " ".join(shlex.quote(a) for a in [str(shown)] + argv)
        write_table(args.table, command, selected, skipped, failures)
    print(f"{counts['passed']} passed, {counts['failed']} failed, "
          f"{counts['expected']} expected failures, "
          f"{counts['unexpected']} unexpected passes")
    return 0 if counts["failed"] == 0 and counts["unexpected"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
