#!/usr/bin/python3
"""Runs ONNX's node conformance tests through Prism's importer.

For every test directory of ONNX's node test data (model.onnx plus
test_data_set_*), the runner reads the operators of the model (its nodes and
those of its subgraphs). A test is selected when one of the operators given
with --ops appears in its model (every test with --all). A selected test runs
when Prism's onnx dialect has all of its operators and its ai.onnx opset lies
in the range the importer accepts; otherwise it is skipped, with the reason.

A test that runs is imported with `prism-translate --import-onnx` (the
importer verifies what it builds); when every input of the model is statically
shaped it is also compiled with `prismc --compile-to=static --no-ir`. A
non-zero exit or an `error:` diagnostic fails the step, and a test passes when
all of its steps pass.

Tests named in --expected-failures (`test_name: reason` lines) may fail; one
that passes is an unexpected pass and an error, so that the list only shrinks.
The exit status is non-zero on any failure or unexpected pass, and 77
(ctest's SKIP_RETURN_CODE) without the onnx Python package or the test data:
Debian's python3-onnx (so run it with /usr/bin/python3) and libonnx-testdata.
"""

import argparse
import concurrent.futures
import re
import shlex
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

SKIPPED = 77

try:
    import onnx
    import onnx.defs
except ImportError:
    print("skipped: no onnx Python package (Debian's python3-onnx; run with "
          "/usr/bin/python3)")
    sys.exit(SKIPPED)

REPO = Path(__file__).resolve().parents[2]
TD_DIR = REPO / "dialects/onnx/include/prism/Dialect/Onnx"
TD_FILES = [TD_DIR / "OnnxSchemaOps.td", TD_DIR / "OnnxExtraOps.td"]
IMPORTER_HEADER = REPO / "lib/Import/ImporterInternals.h"
DEFAULT_DATA_DIR = Path("/usr/share/libonnx-testdata/data/node")
AI_ONNX = "ai.onnx"
MS_DOMAIN = "com.microsoft"

# The operators of the importer conformance issue: the default --ops.
DEFAULT_OPS = """
Abs Add And ArgMax Cast CastLike Ceil Clip Concat Constant ConstantOfShape Cos
CumSum DequantizeLinear Div Dropout Einsum Equal Erf Exp Expand Flatten Floor
Gather GatherElements GatherND Gelu Gemm Greater GreaterOrEqual Identity If
LayerNormalization Less LessOrEqual Log LogSoftmax MatMul MatMulInteger Max Mean
Min Mod Mul Neg Not Or Pow QuantizeLinear Range Reciprocal ReduceL2 ReduceMax
ReduceMean ReduceMin ReduceProd ReduceSum Relu Reshape ScatterElements ScatterND
Shape Sigmoid Sign Sin Size Slice Softmax Softplus Split Sqrt Squeeze Sub Sum
Tanh Tile TopK Transpose Trilu Unsqueeze Where Xor
""".split()


# --- The onnx dialect -------------------------------------------------------


@dataclass(frozen=True)
class DialectOp:
    """An op of Prism's onnx dialect: the ONNX operator it models."""

    domain: str
    op_type: str
    opset: int | None  # the ai.onnx opset whose semantics it has

    @property
    def label(self):
        """The operator as the tables show it: com.microsoft ones prefixed."""
        return self.op_type if self.domain == AI_ONNX else f"ms.{self.op_type}"


OP_DEF_RE = re.compile(
    r'^def\s+ONNX\w*Op\s*:\s*(?P<class>ONNX_\w*Op)<"(?P<name>[^"]+)"'
    r'\s*(?:,\s*(?P<opset>\d+))?',
    re.M)
SUMMARY_RE = re.compile(r'let summary = "[^"]*\(ai\.onnx, opset (\d+)\)')


def parse_dialect_ops(td_files):
    """Returns the dialect's ops, keyed by (domain, op_type).

    Reads the `def ONNX<Name>Op : ONNX_...Op<"<Name>" ...>` records; `ms.`
    names (ONNX_MsOp adds the prefix) are com.microsoft operators. The opset
    comes from the `(ai.onnx, opset N)` of the op's summary or, for the
    hand-written ops whose summary their class builds, from the class's
    opset argument.
    """
    ops = {}
    for td in td_files:
        text = td.read_text()
        matches = list(OP_DEF_RE.finditer(text))
        for match, following in zip(matches, matches[1:] + [None]):
            body = text[match.end():following.start() if following else None]
            name = match["name"].removeprefix("ms.")
            if match["class"] == "ONNX_MsOp" or name != match["name"]:
                op = DialectOp(MS_DOMAIN, name, None)
            else:
                summary = SUMMARY_RE.search(body)
                opset = summary[1] if summary else match["opset"]
                op = DialectOp(AI_ONNX, name, int(opset) if opset else None)
            ops[(op.domain, op.op_type)] = op
    return ops


FULL_OPSET = 7  # kFullOpset in lib/Import/ImporterInternals.h


def read_opset_range(header):
    """Returns the importer's (kMinOpset, kMaxOpset) for ai.onnx."""
    text = header.read_text()
    bounds = [re.search(rf"\b{name}\s*=\s*(\d+)", text)
              for name in ("kMinOpset", "kMaxOpset")]
    if not all(bounds):
        sys.exit(f"error: no kMinOpset/kMaxOpset in {header}")
    return tuple(int(b[1]) for b in bounds)


def first_opsets():
    """Returns the opset that introduced each ai.onnx operator ONNX knows."""
    first = {}
    for schema in onnx.defs.get_all_schemas_with_history():
        if schema.domain in ("", AI_ONNX):
            since = schema.since_version
            first[schema.name] = min(first.get(schema.name, since), since)
    return first


# --- Node tests -------------------------------------------------------------


@dataclass(frozen=True)
class NodeTest:
    """One ONNX node test: its model's operators, opsets and input shapes."""

    name: str
    model: Path
    ops: tuple  # sorted (domain, op_type) pairs, subgraphs included
    opsets: dict  # domain -> version of the model's opset_import
    static: bool  # every graph input has a fully known tensor shape

    @property
    def onnx_opset(self):
        """The model's ai.onnx opset (None when it imports none)."""
        return self.opsets.get(AI_ONNX)


def graph_ops(graph, ops):
    """Adds the (domain, op_type) of every node of graph and its subgraphs."""
    for node in graph.node:
        ops.add((node.domain or AI_ONNX, node.op_type))
        for attr in node.attribute:
            subgraphs = [attr.g] if attr.HasField("g") else list(attr.graphs)
            for subgraph in subgraphs:
                graph_ops(subgraph, ops)
    return ops


def is_static_input(value_info):
    """Whether a graph input is a tensor whose every dim has a value."""
    tensor = value_info.type.tensor_type
    return (value_info.type.HasField("tensor_type")
            and tensor.HasField("shape")
            and all(d.HasField("dim_value") for d in tensor.shape.dim))


def load_test(directory):
    """Reads the NodeTest of a test directory."""
    model = onnx.load(str(directory / "model.onnx"), load_external_data=False)
    return NodeTest(
        name=directory.name,
        model=directory / "model.onnx",
        ops=tuple(sorted(graph_ops(model.graph, set()))),
        opsets={o.domain or AI_ONNX: o.version for o in model.opset_import},
        static=all(is_static_input(i) for i in model.graph.input))


def find_tests(data_dir):
    """Returns the NodeTests of data_dir, sorted by name."""
    return [load_test(d) for d in sorted(data_dir.iterdir())
            if (d / "model.onnx").is_file()]


def select_tests(tests, ops):
    """The tests whose model has one of ops (every test when ops is None)."""
    if ops is None:
        return tests
    wanted = set(ops)
    return [t for t in tests if any(op in wanted for _, op in t.ops)]


def warn_unknown_ops(ops, tests):
    """Warns about operators of --ops that no node test has (typos)."""
    known = {op for test in tests for _, op in test.ops}
    for op in sorted(set(ops) - known):
        print(f"warning: no node test has operator {op}")


def skip_reason(test, dialect_ops, opset_range):
    """Why the importer cannot take test's model by design, or None."""
    missing = [f"{domain}::{op}" for domain, op in test.ops
               if (domain, op) not in dialect_ops]
    if missing:
        return "unsupported: " + ", ".join(missing)
    low, high = opset_range
    opset = test.onnx_opset
    if opset is not None and not low <= opset <= high:
        return f"opset {opset} outside {low}-{high}"
    return None


# --- Running the tools ------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    """What importing (and compiling to static shapes) a test's model gave.

    An error is None for a step that passed; the static step runs only for
    models whose inputs are all statically shaped.
    """

    import_error: str | None
    static_error: str | None
    static_ran: bool

    @property
    def passed(self):
        """Whether every step that ran passed."""
        return self.import_error is None and self.static_error is None

    @property
    def reason(self):
        """The first failing step and its error."""
        if self.import_error is not None:
            return f"import: {self.import_error}"
        return f"static: {self.static_error}"


def first_error(stderr, model, returncode):
    """The first `error:` line of stderr (model's path shortened), or why the
    tool failed without one; None when it succeeded."""
    for line in stderr.splitlines():
        if "error:" in line:
            return line.replace(str(model), model.name).strip()
    if returncode == 0:
        return None
    if returncode < 0:
        return f"crashed (signal {-returncode})"
    last = stderr.strip().splitlines()[-1:] or ["no message"]
    return f"exit status {returncode}: {last[0]}"


def run_tool(command, model, timeout):
    """Runs a tool on model; returns its first error, or None on success."""
    try:
        done = subprocess.run(command, stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, text=True,
                              errors="replace", timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        return f"timed out after {timeout} s"
    except OSError as error:
        return f"cannot run {command[0]}: {error.strerror}"
    return first_error(done.stderr, model, done.returncode)


def run_test(test, bin_dir, timeout):
    """Imports test's model and, when its inputs are static, compiles it to
    static shapes."""
    model = str(test.model)
    import_error = run_tool([str(bin_dir / "prism-translate"), "--import-onnx",
                             model], test.model, timeout)
    static_error = None
    if test.static:
        static_error = run_tool([str(bin_dir / "prismc"), model,
                                 "--compile-to=static", "--no-ir"],
                                test.model, timeout)
    return Outcome(import_error, static_error, test.static)


def run_tests(tests, bin_dir, jobs, timeout):
    """Runs tests on jobs workers; returns {test name: Outcome}."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=jobs) as pool:
        outcomes = pool.map(lambda t: run_test(t, bin_dir, timeout), tests)
        return {t.name: o for t, o in zip(tests, outcomes)}


# --- Expected failures and the summary -------------------------------------


def read_expected_failures(path):
    """Reads `test_name: reason` lines (`#` comments and blank lines
    allowed) into {test name: reason}."""
    expected = {}
    for number, line in enumerate(path.read_text().splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        name, sep, reason = line.partition(":")
        if not sep or not name.strip().startswith("test_"):
            sys.exit(f"{path}:{number}: error: expected 'test_name: reason'")
        expected[name.strip()] = reason.strip()
    return expected


def report(outcomes, expected, known_tests):
    """Prints failures and unexpected passes and the summary line; returns
    whether the run is clean."""
    counts = {"passed": 0, "failed": 0, "expected": 0, "unexpected": 0}
    for name, outcome in sorted(outcomes.items()):
        if outcome.passed and name in expected:
            counts["unexpected"] += 1
            print(f"UNEXPECTED PASS: {name} (remove it from the expected "
                  "failures)")
        elif outcome.passed:
            counts["passed"] += 1
        elif name in expected:
            counts["expected"] += 1
        else:
            counts["failed"] += 1
            print(f"FAIL: {name}: {outcome.reason}")
    for name in sorted(set(expected) - set(known_tests)):
        print(f"warning: expected failure {name} is not a node test")
    print(f"{counts['passed']} passed, {counts['failed']} failed, "
          f"{counts['expected']} expected failures, "
          f"{counts['unexpected']} unexpected passes")
    return counts["failed"] == 0 and counts["unexpected"] == 0


def print_overview(selected, skipped, outcomes, seconds):
    """Prints how many tests ran, were skipped, and passed each step."""
    imported = sum(o.import_error is None for o in outcomes.values())
    static_run = [o for o in outcomes.values() if o.static_ran]
    static_ok = sum(o.static_error is None for o in static_run)
    print(f"{len(selected)} tests selected, {len(outcomes)} run, "
          f"{len(skipped)} skipped (unsupported operator or opset); "
          f"import {imported}/{len(outcomes)}, "
          f"static {static_ok}/{len(static_run)}; {seconds:.1f} s")


# --- Generated Markdown -----------------------------------------------------


def md(text):
    """Escapes text for a Markdown table cell."""
    return text.replace("|", "\\|").replace("\n", " ")


def generated_header(title, command):
    """The title and the do-not-edit line of a generated document."""
    return [f"# {title}", "",
            f"Generated by `{command}`: do not edit by hand; rerun the "
            "command instead.", ""]


def step_cell(error, ran=True):
    """A table cell for one step: pass, its error, or n/a when not run."""
    if not ran:
        return "n/a"
    return "pass" if error is None else f"FAIL: {md(error)}"


def opsets_cell(test):
    """The model's opset_import: the ai.onnx version first."""
    others = [f"{domain} {version}"
              for domain, version in sorted(test.opsets.items())
              if domain != AI_ONNX]
    first = [str(test.onnx_opset)] if test.onnx_opset is not None else []
    return ", ".join(first + others)


def ops_cell(test):
    """The operators of a test's model, domain-qualified outside ai.onnx."""
    return ", ".join(op if d == AI_ONNX else f"{d}::{op}" for d, op in test.ops)


def write_test_table(path, command, selected, skipped, outcomes):
    """Writes the per-test Markdown table."""
    lines = generated_header("ONNX node tests", command) + [
        "Every selected ONNX node test: the operators and opset of its model, "
        "the result of `prism-translate --import-onnx` and, when every input "
        "is statically shaped, of `prismc --compile-to=static` (n/a "
        "otherwise). Skipped tests have an operator the onnx dialect lacks "
        "or an opset the importer does not take.", "",
        "| test | operators | opset | import | static |",
        "|---|---|---|---|---|"]
    for test in selected:
        outcome = outcomes.get(test.name)
        if outcome is None:
            results = f"skipped: {md(skipped[test.name])} | n/a"
        else:
            results = (f"{step_cell(outcome.import_error)} | "
                       f"{step_cell(outcome.static_error, outcome.static_ran)}")
        lines.append(f"| {test.name} | {md(ops_cell(test))} | "
                     f"{opsets_cell(test)} | {results} |")
    path.write_text("\n".join(lines) + "\n")


def op_status(op, selected, outcomes):
    """The import and static cells of an op: passed/total of the tests that
    ran with it, and how many were skipped."""
    key = (op.domain, op.op_type)
    tests = [t for t in selected if key in t.ops]
    if not tests:
        return "no tests", "no tests"
    ran = [outcomes[t.name] for t in tests if t.name in outcomes]
    skipped = len(tests) - len(ran)
    note = f" ({skipped} skipped)" if skipped else ""
    imported = sum(o.import_error is None for o in ran)
    static = [o for o in ran if o.static_ran]
    static_ok = sum(o.static_error is None for o in static)
    return f"{imported}/{len(ran)}{note}", f"{static_ok}/{len(static)}"


def accepted_opsets(op, first, opset_range):
    """The opsets of models whose op the importer takes (normalising the
    older forms to the dialect's)."""
    if op.domain != AI_ONNX:
        return "any"
    low, high = opset_range
    # Below kFullOpset only operators unchanged since their first opset.
    first_opset = first.get(op.op_type, op.opset or low)
    unchanged = latest_since(op.op_type) == first_opset
    since = max(low if unchanged else FULL_OPSET, first_opset)
    return str(high) if since == high else f"{since}-{high}"


def latest_since(op_type):
    """The since-version of the newest ai.onnx schema ONNX has for an op."""
    try:
        return onnx.defs.get_schema(op_type).since_version
    except Exception:  # not in the registry (hand-written, opset 18+)
        return None


def write_ops_table(path, command, dialect_ops, selected, outcomes,
                    opset_range):
    """Writes the per-operator Markdown table."""
    first = first_opsets()
    lines = generated_header("ONNX operators of the onnx dialect", command) + [
        "Each op of the dialect: the operator's domain, the opset whose "
        "semantics the op has, the opsets of the models the importer takes "
        "(from the operator's first opset, older forms normalised), and the "
        "node tests with the operator that passed import and static shapes "
        "(passed/run, and how many tests with it were skipped).", "",
        "| operator | domain | Prism's opset | importer accepts | import | "
        "static |", "|---|---|---|---|---|---|"]
    for op in sorted(dialect_ops.values(), key=lambda o: (o.domain, o.op_type)):
        imported, static = op_status(op, selected, outcomes)
        opset = str(op.opset) if op.opset is not None else "-"
        accepted = accepted_opsets(op, first, opset_range)
        lines.append(f"| {op.label} | {op.domain} | {opset} | {accepted} | "
                     f"{imported} | {static} |")
    path.write_text("\n".join(lines) + "\n")


# --- Main -------------------------------------------------------------------


def parse_args(argv):
    """Parses the command line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bin-dir", type=Path, required=True,
                        help="directory of prism-translate and prismc")
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR,
                        help="ONNX node test data (default: %(default)s)")
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--ops", type=lambda s: [o for o in s.split(",") if o],
                       default=DEFAULT_OPS,
                       help="comma-separated operators whose tests run "
                            "(default: the importer issue's list)")
    which.add_argument("--all", action="store_true",
                       help="run every test whose operators are supported")
    parser.add_argument("--expected-failures", type=Path,
                        help="file of 'test_name: reason' lines that may fail")
    parser.add_argument("--table", type=Path,
                        help="write the per-test Markdown table here")
    parser.add_argument("--ops-table", type=Path,
                        help="write the per-operator Markdown table here")
    parser.add_argument("-j", "--jobs", type=int, default=1,
                        help="parallel workers (default: %(default)s)")
    parser.add_argument("--timeout", type=int, default=120,
                        help="seconds per tool run (default: %(default)s)")
    return parser.parse_args(argv)


def command_line(argv):
    """The command as the generated documents quote it."""
    script = Path(__file__).resolve()
    shown = script.relative_to(REPO) if script.is_relative_to(REPO) else script
    return " ".join(shlex.quote(a) for a in [str(shown)] + argv)


def main(argv):
    """Runs the selected tests; returns the exit status."""
    args = parse_args(argv)
    for tool in ("prism-translate", "prismc"):
        if not (args.bin_dir / tool).is_file():
            sys.exit(f"error: no {tool} in {args.bin_dir}")
    if not args.data_dir.is_dir():
        print(f"skipped: no {args.data_dir} (Debian's libonnx-testdata)")
        return SKIPPED
    dialect_ops = parse_dialect_ops(TD_FILES)
    opset_range = read_opset_range(IMPORTER_HEADER)
    expected = (read_expected_failures(args.expected_failures)
                if args.expected_failures else {})

    start = time.monotonic()
    tests = find_tests(args.data_dir)
    if not args.all:
        warn_unknown_ops(args.ops, tests)
    selected = select_tests(tests, None if args.all else args.ops)
    skipped = {t.name: r for t in selected
               if (r := skip_reason(t, dialect_ops, opset_range))}
    runnable = [t for t in selected if t.name not in skipped]
    outcomes = run_tests(runnable, args.bin_dir, args.jobs, args.timeout)
    print_overview(selected, skipped, outcomes, time.monotonic() - start)

    command = command_line(argv)
    if args.table:
        write_test_table(args.table, command, selected, skipped, outcomes)
    if args.ops_table:
        write_ops_table(args.ops_table, command, dialect_ops, selected,
                        outcomes, opset_range)
    clean = report(outcomes, expected, [t.name for t in tests])
    return 0 if clean else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
