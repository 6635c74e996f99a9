#!/usr/bin/python3
"""Compares two folders of .npy outputs (ONNX Runtime's and Prism's, say).

    /usr/bin/python3 python/compare_outputs.py EXPECTED_DIR ACTUAL_DIR
        [--rtol 1e-4] [--atol 1e-5] [--atol-of-max A]

Every .npy in EXPECTED_DIR must be in ACTUAL_DIR with the same dtype and shape
and satisfy |actual - expected| <= atol + rtol * |expected| (NumPy's
allclose; NaNs must match). --atol-of-max A raises atol to A * max|expected|
for each output (a norm-wise bound, for outputs whose small elements carry
the rounding of large ones). Prints one line per output with the largest
absolute and relative error and the norm-wise relative error
max|actual - expected| / max|expected|; exits 1 on any mismatch.
"""
import argparse
import os
import sys

import numpy as np


def compare(expected, actual, rtol, atol, atol_of_max=0.0):
    if expected.dtype != actual.dtype or expected.shape != actual.shape:
        return False, "%s%s vs %s%s" % (expected.dtype, expected.shape,
                                        actual.dtype, actual.shape)
    if expected.size == 0:
        return True, "empty"
    if not np.issubdtype(expected.dtype, np.floating):
        bad = int(np.count_nonzero(expected != actual))
        return bad == 0, "%d differing elements" % bad
    e = expected.astype(np.float64)
    a = actual.astype(np.float64)
    with np.errstate(invalid="ignore"):
        diff = np.array(np.abs(a - e))  # an array even for 0-d tensors
    # NaN where both are NaN, and equal infinities, match.
    diff[(np.isnan(e) & np.isnan(a)) | (a == e)] = 0
    rel = diff / np.maximum(np.abs(e), np.finfo(np.float64).tiny)
    largest = float(np.nanmax(np.abs(e)))
    atol = max(atol, atol_of_max * largest)
    ok = bool(np.all((diff == 0) | (diff <= atol + rtol * np.abs(e))))
    normwise = np.nanmax(diff) / max(largest, np.finfo(np.float64).tiny)
    return ok, "max abs %.3g, max rel %.3g, norm-wise rel %.3g" % (
        np.nanmax(diff), np.nanmax(rel), normwise)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("expected")
    ap.add_argument("actual")
    ap.add_argument("--rtol", type=float, default=1e-4)
    ap.add_argument("--atol", type=float, default=1e-5)
    ap.add_argument("--atol-of-max", type=float, default=0.0)
    args = ap.parse_args(argv)
    names = sorted(f for f in os.listdir(args.expected) if f.endswith(".npy"))
    if not names:
        sys.exit("compare_outputs: no .npy files in " + args.expected)
    failed = False
    for name in names:
        other = os.path.join(args.actual, name)
        if not os.path.exists(other):
            print("MISSING %s" % name)
            failed = True
            continue
        ok, detail = compare(np.load(os.path.join(args.expected, name)),
                             np.load(other), args.rtol, args.atol,
                             args.atol_of_max)
        print("%s %s: %s" % ("ok" if ok else "MISMATCH", name, detail))
        failed |= not ok
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
