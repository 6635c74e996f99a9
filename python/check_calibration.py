#!/usr/bin/python3
"""The cost model against published figures: fit on some, test on the rest.

    /usr/bin/python3 python/check_calibration.py --bin-dir BIN --work DIR
        [--fit [--write]] [--budget-median 0.25] [--budget-max 1.0] [-v]

Reads every point of hardware/published/*.json (a published time to first
token, time per output token, speed per user or system throughput, with the
system, model, precision, parallelism, batch and lengths it was measured
at), builds the model's preset (shape-only), and asks prismc for the work
the cost model prices (--estimate-json: each phase's kernels with their
FLOPs, bytes, rows and peak, its all-reduces and pipeline hops). The
model's time is then re-evaluated here for any set of efficiency
parameters (`Model` below mirrors lib/Cost/CostModel.cpp; before anything
else the script checks that, with the shipped parameters, it reproduces
prismc's own prediction of every phase to 1e-6).

The split is fixed before fitting and does not look at the figures: a point
is held out when the SHA-1 of its source address is 0 mod 3, so every source
is wholly in the fitting set or wholly in the test set (a test point comes
from a serving stack, a benchmark and an author the fit never saw).
Parameters are shared by a device class wherever the physics is (every
GPU: compute and memory efficiency, the bytes at which a kernel reaches
half its bandwidth, the rows at which a contraction reaches full rate, the
per-kernel overhead of prefill and, separately, of decode, the all-reduce
step latency and link efficiency); a device kind keeps only its hardware
figures.

Points the model cannot represent are listed, not fitted: a point the
database marks "exclude" (its source calls it anomalous, or it is a bound
rather than a figure); a figure faster
than the hardware's own bound (all weights and KV cache read once at full
bandwidth, all FLOPs at dense peak) needs a technique the model lacks
(speculative decoding, sparsity, a precision lower than stated); figures
stated as using speculative decoding; latencies measured under a serving
load (MLPerf server and interactive scenarios, online benchmarks at a request
rate: their queueing is not modelled) and first-token times through a
network API; points without a device description,
a preset of the model's shape, or a batch for a throughput figure; and ones
that do not fit the devices' memory.

Prints every point (predicted, published, error, split), then the median
and largest error on the fitting set, on the held-out set, and in
leave-one-out cross-validation (each point predicted by a fit that did not
see it), per device class and over all. --fit refits the shared parameters
on the fitting set (deterministic pattern search on the mean absolute log
error, with a weak pull towards the assumed starting values); --write
stores them in hardware/devices/*.json with a source saying so. Exits 1
when the held-out median error exceeds --budget-median or the largest
exceeds --budget-max, or when the mirror disagrees with prismc.
"""
import argparse
import glob
import hashlib
import json
import math
import os
import subprocess
import sys

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEVICES = os.path.join(ROOT, "hardware", "devices")
PUBLISHED = os.path.join(ROOT, "hardware", "published")

# Hugging Face names of the same architecture as a build_model.py preset.
SAME_SHAPE = {
    "meta-llama/Meta-Llama-3-8B": "llama-3.1-8b",
    "meta-llama/Meta-Llama-3-8B-Instruct": "llama-3.1-8b",
    "meta-llama/Meta-Llama-3-70B": "llama-3.1-70b",
    "meta-llama/Meta-Llama-3-70B-Instruct": "llama-3.1-70b",
    "meta-llama/Llama-3.3-70B-Instruct": "llama-3.1-70b",
    "amd/Llama-3.1-70B-Instruct-FP8-KV": "llama-3.1-70b",
    "meta-llama/Llama-3.1-405B-Instruct": "llama-3.1-405b",
    "meta-llama/Llama-3.1-405B-Instruct-FP8": "llama-3.1-405b",
    "amd/Llama-3.1-405B-Instruct-FP8-KV": "llama-3.1-405b",
    "mistralai/Mistral-7B-Instruct-v0.2": "mistral-7b",
}
PRESETS = {"llama-2-7b", "llama-2-70b", "llama-3.1-8b", "llama-3.1-70b",
           "llama-3.1-405b", "mistral-7b"}
# The unit a source counts a device in, when it is not a chip: trn2's
# figures count physical NeuronCores, 8 per chip, and their tensor-parallel
# degree logical ones, 2 physical each by default (LNC=2): 4 per chip
# (aws-neuron-sdk trainium2.rst).
CORES_PER_CHIP = {"trn2": 8}
TP_PER_CHIP = {"trn2": 4}
# Where a source gives no chip count: SambaNova serves from 16-socket nodes
# (../shared/hardware/README.md, C5); elsewhere the fewest chips, a power
# of two, that hold the weights and the KV cache.
DEFAULT_COUNT = {"sn40l": 16}
# The storage dtype the model prices when a source gives none: 576 LPUs
# (230 MB each) hold Llama-2-70B only at 8 bits.
DEFAULT_DTYPE = {"lpu-v1": "int8"}

# The efficiency parameters, with the bounds a fit keeps them in.
PARAMS = [  # (name in the description's "efficiency", low, high)
    ("compute", 0.05, 1.0),
    ("memory", 0.05, 1.0),
    ("memory_half_bytes", 1e3, 1e9),
    ("full_rate_rows", 1.0, 4096.0),
    ("op_overhead_s", 1e-7, 1e-3),
    ("decode_op_overhead_s", 1e-7, 1e-3),
    ("link", 0.05, 1.0),
    ("collective_step_s", 1e-7, 1e-4),
]
PARAM_NAMES = [p[0] for p in PARAMS]
# Parameters a class fits (the rest keep their assumed values): a class
# with few points fits only what its points can tell apart.
FITTED = {
    "gpu": PARAM_NAMES,
    "default": ["compute", "memory", "op_overhead_s", "decode_op_overhead_s"],
}


# Where a fit starts, and what it is pulled towards where the points say
# little: assumptions, not fits (so a refit does not depend on the values
# a previous fit wrote).
PRIOR = {
    "gpu": {"compute": 0.6, "memory": 0.8, "memory_half_bytes": 1e6,
            "full_rate_rows": 64, "op_overhead_s": 1e-5,
            "decode_op_overhead_s": 5e-6, "link": 0.8, "collective_step_s": 5e-6},
    "default": {"compute": 0.5, "memory": 0.8, "op_overhead_s": 2e-6,
                "decode_op_overhead_s": 2e-6},
}


def start_of(cls, device):
    """The fit's starting parameters for a class: the prior for what it
    fits, the device's own values for the rest."""
    start = params_of(device)
    start.update(PRIOR.get(cls, PRIOR["default"]))
    return start


def load_devices():
    devices = {}
    for path in sorted(glob.glob(os.path.join(DEVICES, "*.json"))):
        with open(path) as f:
            d = json.load(f)
        d["_path"] = path
        devices[d["kind"]] = d
    return devices


def params_of(device):
    eff, links = device["efficiency"], device["links"]
    p = {k: eff[k]["value"] for k in ("compute", "memory", "full_rate_rows",
                                      "op_overhead_s", "link")}
    p["decode_op_overhead_s"] = eff.get("decode_op_overhead_s",
                                        eff["op_overhead_s"])["value"]
    p["memory_half_bytes"] = eff.get("memory_half_bytes", {"value": 0})["value"]
    p["collective_step_s"] = eff.get("collective_step_s", links["hop_latency_s"])["value"]
    return p


def test_split(point):
    """Held out when the SHA-1 of the source address is 0 mod 3."""
    h = hashlib.sha1(point["source"]["url"].encode()).hexdigest()
    return int(h, 16) % 3 == 0


class Case:
    """A published point, as the model prices it (or why it cannot)."""

    def __init__(self, point, devices):
        self.point = point
        self.id = point["id"]
        self.metric, self.value = point["metric"], float(point["value"])
        self.test = test_split(point)
        self.assumed = []
        self.skip = None
        self.device = devices.get(point["device"])
        if point.get("exclude"):
            # Curated from the source's own words, never from the model's error.
            self.skip = "excluded by its source: " + point["exclude"]
            return
        if self.device is None:
            self.skip = "no device description for '%s'" % point["device"]
            return
        self.cls = self.device["class"]
        model = point["model"]
        self.preset = model if model in PRESETS else SAME_SHAPE.get(model)
        if self.preset is None:
            self.skip = "no preset of the shape of '%s'" % model
            return
        techniques = " ".join(point.get("techniques") or []).lower()
        if "speculative" in techniques:
            self.skip = "speculative decoding (not modelled)"
            return
        latency = self.metric in ("ttft_s", "tpot_s", "tokens_per_s_per_user")
        notes = (point.get("notes") or "").lower()
        if latency and (point.get("scenario") in ("server", "interactive") or
                        "request rate" in notes or "online load" in notes):
            self.skip = "a latency under a serving load (queueing not modelled)"
            return
        if self.metric == "ttft_s" and ("api" in point["software"]["name"].lower().split()
                                        or "network" in notes):
            self.skip = "a time to first token through a network API"
            return
        self.batch = point.get("batch")
        if self.batch is None:
            if self.metric in ("output_tokens_per_s", "total_tokens_per_s",
                               "requests_per_s"):
                self.skip = "a throughput without its batch"
                return
            self.batch = 1
            self.assumed.append("batch 1")
        self.prompt = point.get("prompt_tokens") or 0
        self.output = point.get("output_tokens") or 0
        if not self.prompt:
            self.prompt = 128
            self.assumed.append("prompt 128")
        if not self.output:
            self.output = 128
            self.assumed.append("output 128")
        dtype = point.get("precision")
        if dtype is None:
            dtype = DEFAULT_DTYPE.get(point["device"], "bf16")
            self.assumed.append("weights " + dtype)
        elif dtype == "fp4":
            dtype = "int4"
            self.assumed.append("fp4 priced as 4-bit storage")
        self.dtype = dtype
        par = point.get("parallelism") or {}
        count = point.get("count")
        per = CORES_PER_CHIP.get(point["device"], 1)
        if count is not None:
            count = max(1, count // per)
        tp, pp = par.get("tp"), par.get("pp") or 1
        if tp is not None:
            tp = max(1, tp // TP_PER_CHIP.get(point["device"], 1))
        if count is None:
            count = DEFAULT_COUNT.get(point["device"])
            self.assumed.append("chips: %s" % (count or "fewest that hold the model"))
        # One replica is priced; data-parallel replicas multiply throughput.
        self.group = tp * pp if tp else count
        self.replicas = max(1, (count or 0) // self.group) if self.group else 1
        # Decode is priced at the mean context of the output.
        self.context = self.prompt + self.output // 2

    def label(self):
        p = self.point
        return "%s %s x%s %s %s b%s %s/%s %s" % (
            p["device"], self.preset, self.group, self.dtype, p["metric"],
            self.batch, self.prompt, self.output, "test" if self.test else "fit")


def prismc_work(args, case, group):
    """prismc's --estimate-json for the case on `group` chips (cached)."""
    with open(case.device["_path"], "rb") as f:
        described = hashlib.sha1(f.read()).hexdigest()[:12]
    key = "%s-%s-%d-%s-b%d-p%d-c%d-%s" % (case.preset, case.point["device"], group,
                                          case.dtype, case.batch, case.prompt,
                                          case.context, described)
    out = os.path.join(args.work, key + ".json")
    err = os.path.join(args.work, key + ".err")
    if os.path.exists(out):
        with open(out) as f:
            return json.load(f), None
    if os.path.exists(err):
        with open(err) as f:
            return None, f.read()
    model = os.path.join(args.work, case.preset + ".onnx")
    if not os.path.exists(model):
        subprocess.run([sys.executable, os.path.join(ROOT, "python", "build_model.py"),
                        "--preset", case.preset, "-o", model], check=True,
                       stdout=subprocess.DEVNULL)
    r = subprocess.run([os.path.join(args.bin_dir, "prismc"), model,
                        "--compile-to=phases", "--prompt", str(case.prompt),
                        "--context", str(case.context), "--batch", str(case.batch),
                        "--system", "%s*%d" % (case.point["device"], group),
                        "--weight-dtype", case.dtype, "--estimate-json", out],
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    if r.returncode != 0:
        msg = r.stderr.strip().splitlines()
        msg = msg[-1] if msg else "prismc failed (exit %d)" % r.returncode
        with open(err, "w") as f:
            f.write(msg)
        if os.path.exists(out):
            os.remove(out)
        return None, msg
    with open(out) as f:
        return json.load(f), None


def price(args, case):
    """Attaches prismc's work to the case, choosing the chip count where the
    source gives none."""
    groups = [case.group] if case.group else [2 ** i for i in range(0, 13)]
    msg = None
    for g in groups:
        work, msg = prismc_work(args, case, g)
        if work is not None:
            case.group = g
            case.work = {p["phase"]: p for p in work["phases"]}
            return
        if "does not fit" not in msg:
            break
    case.skip = "prismc: " + msg.replace("prismc: ", "", 1)


class Model:
    """The cost model of lib/Cost/CostModel.cpp over many phases at once:
    kernels as flat arrays, each tagged with its phase."""

    def __init__(self, cases, devices):
        self.cases = cases
        rows = {k: [] for k in ("flops", "bytes", "rows", "peak", "count", "phase")}
        ph = {k: [] for k in ("tp", "pp", "bw", "act", "ar", "links", "linkbw", "hop",
                              "decode", "time", "optical")}
        self.phase_index = []
        for case in cases:
            index = {}
            for name in ("prefill", "decode"):
                p = case.work[name]
                index[name] = len(ph["tp"])
                ph["tp"].append(p["tensor_parallel"])
                ph["pp"].append(p["pipeline"])
                ph["bw"].append(p["memory_bandwidth"])
                ph["act"].append(p["activation_bytes"])
                ph["ar"].append(p["all_reduces"])
                d = devices[p["device"]]["links"]
                ph["links"].append(d["count"]["value"])
                ph["linkbw"].append(d["bytes_per_s_per_link"]["value"])
                ph["hop"].append(d["hop_latency_s"]["value"])
                ph["decode"].append(name == "decode")
                ph["time"].append(p["time_s"])
                ph["optical"].append(any(k["optical_tiles"] for k in p["kernels"]))
                for k in p["kernels"]:
                    rows["flops"].append(k["flops"])
                    rows["bytes"].append(k["bytes"])
                    rows["rows"].append(k["rows"])
                    rows["peak"].append(k["peak_ops_per_s"])
                    rows["count"].append(k["count"])
                    rows["phase"].append(index[name])
            self.phase_index.append(index)
        self.k = {k: np.array(v, dtype=float) for k, v in rows.items()}
        self.k["phase"] = self.k["phase"].astype(int)
        self.p = {k: np.array(v, dtype=float) for k, v in ph.items()}
        self.nphases = len(ph["tp"])

    def phase_times(self, params):
        """Every phase's time for `params` (one dict of PARAM_NAMES)."""
        k, p = self.k, self.p
        tp = p["tp"][k["phase"]]
        derate = np.where(k["rows"] > 0,
                          np.minimum(1.0, k["rows"] / params["full_rate_rows"]), 1.0)
        compute = k["flops"] / (tp * k["peak"] * params["compute"] * derate)
        per_chip = k["bytes"] / tp
        half = params["memory_half_bytes"]
        eff = params["memory"] * (per_chip / (per_chip + half) if half > 0 else 1.0)
        with np.errstate(divide="ignore", invalid="ignore"):
            memory = np.where(k["bytes"] > 0,
                              k["bytes"] / (tp * p["bw"][k["phase"]] * eff), 0.0)
        overhead = np.where(p["decode"][k["phase"]] > 0,
                            params["decode_op_overhead_s"], params["op_overhead_s"])
        t = (np.maximum(compute, memory) + overhead) * k["count"]
        ops = np.bincount(k["phase"], weights=t, minlength=self.nphases)
        tpp, pp = p["tp"], p["pp"]
        link = p["links"] * p["linkbw"] * params["link"]
        steps = 2 * np.ceil(np.log2(np.maximum(tpp, 1)))
        ar = np.where(tpp > 1, p["ar"] * (2 * (tpp - 1) / tpp * p["act"] / link +
                                          steps * params["collective_step_s"]), 0.0)
        pipe = np.where(pp > 1, (pp - 1) * (p["hop"] + p["act"] /
                                            (p["linkbw"] * params["link"])), 0.0)
        return ops + ar + pipe

    def predict(self, params):
        """The published metric of every case, as predicted."""
        t = self.phase_times(params)
        out = np.empty(len(self.cases))
        for i, (case, idx) in enumerate(zip(self.cases, self.phase_index)):
            pre, dec = t[idx["prefill"]], t[idx["decode"]]
            out[i] = metric_of(case, pre, dec)
        return out

    def bound(self):
        """Each case's metric at the hardware's bound: every kernel at full
        bandwidth and dense peak, no overhead, no communication."""
        k, p = self.k, self.p
        tp = p["tp"][k["phase"]]
        t = np.maximum(k["flops"] / (tp * k["peak"]),
                       k["bytes"] / (tp * p["bw"][k["phase"]])) * k["count"]
        ph = np.bincount(k["phase"], weights=t, minlength=self.nphases)
        return np.array([metric_of(c, ph[i["prefill"]], ph[i["decode"]])
                         for c, i in zip(self.cases, self.phase_index)])


def metric_of(case, prefill, decode):
    """The published metric from the predicted phase times (seconds)."""
    m = case.metric
    if m == "ttft_s":
        return prefill
    if m == "tpot_s":
        return decode
    if m == "tokens_per_s_per_user":
        return 1.0 / decode
    request = prefill + case.output * decode
    if m == "output_tokens_per_s":
        return case.replicas * case.batch * case.output / request
    if m == "total_tokens_per_s":
        return case.replicas * case.batch * (case.prompt + case.output) / request
    if m == "requests_per_s":
        return case.replicas * case.batch / request
    raise ValueError("unknown metric '%s' in %s" % (m, case.id))


def faster_is_larger(metric):
    return metric not in ("ttft_s", "tpot_s")


def rel_error(pred, pub):
    return pred / pub - 1.0


def fit(model, published, start, names, weights=None):
    """Pattern search in log space on the mean absolute log error (each
    point weighted), with a weak pull towards the starting values."""
    bounds = {n: (lo, hi) for n, lo, hi in PARAMS}
    x = {n: math.log(start[n]) if start[n] > 0 else math.log(bounds[n][0]) for n in names}
    x0 = dict(x)
    logpub = np.log(published)
    w = np.ones(len(published)) if weights is None else weights

    def loss(x):
        params = dict(start)
        params.update({n: math.exp(v) for n, v in x.items()})
        pred = model.predict(params)
        data = np.sum(w * np.abs(np.log(pred) - logpub)) / np.sum(w)
        return data + 0.002 * sum((x[n] - x0[n]) ** 2 for n in names)

    best = loss(x)
    step = 1.0
    while step > 0.005:
        improved = False
        for n in names:
            lo, hi = math.log(bounds[n][0]), math.log(bounds[n][1])
            for s in (step, -step):
                trial = dict(x)
                trial[n] = min(hi, max(lo, x[n] + s))
                if trial[n] == x[n]:
                    continue
                value = loss(trial)
                if value < best - 1e-12:
                    x, best, improved = trial, value, True
                    break
        if not improved:
            step /= 2
    params = dict(start)
    params.update({n: math.exp(v) for n, v in x.items()})
    return params


def summary(errors):
    if len(errors) == 0:
        return "no points"
    a = np.abs(np.array(errors))
    return "median %5.1f%%, max %6.1f%% over %d" % (100 * np.median(a), 100 * a.max(), len(a))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bin-dir", required=True, help="folder with prismc")
    ap.add_argument("--work", required=True, help="folder for presets and prismc's output")
    ap.add_argument("--fit", action="store_true",
                    help="refit the class parameters on the fitting set")
    ap.add_argument("--write", action="store_true",
                    help="with --fit: store the fitted parameters in hardware/devices")
    ap.add_argument("--no-loo", action="store_true", help="skip leave-one-out")
    ap.add_argument("--budget-median", type=float, default=0.25,
                    help="largest held-out median error (default 0.25)")
    ap.add_argument("--budget-max", type=float, default=1.0,
                    help="largest held-out error (default 1.0)")
    ap.add_argument("-v", "--verbose", action="store_true")
    a = ap.parse_args()
    os.makedirs(a.work, exist_ok=True)

    devices = load_devices()
    points = []
    for path in sorted(glob.glob(os.path.join(PUBLISHED, "*.json"))):
        with open(path) as f:
            points += json.load(f)["points"]
    ids = [p["id"] for p in points]
    dup = sorted({i for i in ids if ids.count(i) > 1})
    if dup:
        print("error: duplicate point ids: " + ", ".join(dup))
        return 1
    for p in points:
        if not p.get("source", {}).get("url"):
            print("error: point %s has no source address" % p["id"])
            return 1
    cases = [Case(p, devices) for p in points]
    for c in cases:
        if c.skip is None:
            price(a, c)
    priced = [c for c in cases if c.skip is None]
    kinds = sorted({p["device"] for p in points})
    print("%d published points over %d device kinds (%s), from %d sources" % (
        len(points), len(kinds), ", ".join(kinds),
        len({p["source"]["url"] for p in points})))

    # The mirror must be the compiler's model: shipped parameters, prismc's
    # own prediction of every phase.
    model = Model(priced, devices)
    times = np.zeros(model.nphases)
    for kind in {c.point["device"] for c in priced}:
        t = model.phase_times(params_of(devices[kind]))
        for c, idx in zip(priced, model.phase_index):
            if c.point["device"] == kind:
                for name in ("prefill", "decode"):
                    times[idx[name]] = t[idx[name]]
    mism = np.abs(times / model.p["time"] - 1)
    if np.any(mism > 1e-6):
        i = int(np.argmax(mism))
        print("error: the mirror of the cost model disagrees with prismc by %.3g "
              "on phase %d: this script and lib/Cost/CostModel.cpp have diverged" % (mism[i], i))
        return 1
    print("the mirror reproduces prismc's prediction of all %d phases (to 1e-6)" % model.nphases)

    # The hardware bound: a published figure beyond it is not fitted.
    bound = model.bound()
    usable = []
    for c, b in zip(priced, bound):
        beyond = c.value > b * 1.02 if faster_is_larger(c.metric) else c.value < b / 1.02
        if beyond:
            c.skip = ("beyond the hardware bound (%.4g at full bandwidth and peak): "
                      "needs a technique the model does not represent" % b)
        else:
            usable.append(c)
    model = Model(usable, devices)
    published = np.array([c.value for c in usable])
    classes = sorted({c.cls for c in usable})

    # Without --fit each device kind keeps its shipped parameters; a fit
    # gives the class one set.
    params = {c.point["device"]: params_of(c.device) for c in usable}
    for cls in classes:
        members = [i for i, c in enumerate(usable) if c.cls == cls]
        start = start_of(cls, usable[members[0]].device)
        if a.fit:
            fit_idx = [i for i in members if not usable[i].test]
            if fit_idx:
                sub = Model([usable[i] for i in fit_idx], devices)
                fitted = fit(sub, published[fit_idx], start,
                             FITTED.get(cls, FITTED["default"]))
                for i in members:
                    params[usable[i].point["device"]] = fitted

    def predict_all(model, cases, params):
        out = np.empty(len(cases))
        for kind in {c.point["device"] for c in cases}:
            idx = [i for i, c in enumerate(cases) if c.point["device"] == kind]
            # The class's parameters, the device kind's own hardware figures
            # (they come in through the kernels and phases).
            sub = Model([cases[i] for i in idx], devices)
            out[idx] = sub.predict(params[kind])
        return out

    pred = predict_all(model, usable, params)
    err = rel_error(pred, published)

    loo = np.full(len(usable), np.nan)
    if not a.no_loo:
        for cls in classes:
            members = [i for i, c in enumerate(usable) if c.cls == cls]
            names = FITTED.get(cls, FITTED["default"])
            start = start_of(cls, usable[members[0]].device)
            whole = Model([usable[i] for i in members], devices)
            for j, i in enumerate(members):
                w = np.ones(len(members))
                w[j] = 0
                if w.sum() == 0:
                    continue
                p = fit(whole, published[members], start, names, weights=w)
                loo[i] = rel_error(whole.predict(p)[j], published[i])

    print()
    print("%-52s %-58s %12s %12s %8s %8s" % ("point", "as priced", "predicted",
                                            "published", "error", "LOO"))
    for c, p, e, l in zip(usable, pred, err, loo):
        print("%-52s %-58s %12.5g %12.5g %+7.1f%% %s" % (
            c.id[:52], c.label()[:58], p, c.value, 100 * e,
            "" if np.isnan(l) else "%+7.1f%%" % (100 * l)))
        if a.verbose and c.assumed:
            print("    assumed: " + ", ".join(c.assumed))
    print()
    print("not fitted (%d):" % sum(1 for c in cases if c.skip))
    reasons = {}
    for c in cases:
        if c.skip:
            reasons.setdefault(c.skip.split(":")[0] if c.skip.startswith("prismc") or
                               c.skip.startswith("beyond") else c.skip, []).append(c.id)
    for r, ids in sorted(reasons.items()):
        print("  %-70s %d: %s" % (r[:70], len(ids), ", ".join(ids[:4]) +
                                  (", ..." if len(ids) > 4 else "")))
    if a.verbose:
        for c in cases:
            if c.skip:
                print("    %s: %s" % (c.id, c.skip))

    print()
    test = np.array([c.test for c in usable])
    print("%-12s %-40s %-40s %-40s" % ("class", "fit", "held out", "leave-one-out"))
    for cls in classes + ["all"]:
        m = np.array([cls == "all" or c.cls == cls for c in usable])
        print("%-12s %-40s %-40s %-40s" % (
            cls, summary(err[m & ~test]), summary(err[m & test]),
            summary(loo[m & ~np.isnan(loo)])))
    if a.fit:
        print()
        for cls in classes:
            kind = next(c.point["device"] for c in usable if c.cls == cls)
            print("%s: %s" % (cls, ", ".join("%s %.4g" % (n, params[kind][n])
                                             for n in PARAM_NAMES)))
    # Each class's range: the larger of its held-out and leave-one-out
    # median errors (what prismc --estimate and the plan report widen a
    # prediction by).
    class_error = {}
    for cls in classes:
        m = np.array([c.cls == cls for c in usable])
        medians = [np.median(np.abs(x)) for x in (err[m & test], loo[m & ~np.isnan(loo)])
                   if len(x)]
        if medians:
            class_error[cls] = float("%.3g" % max(medians))
    stale = []
    if a.fit and not a.write and not a.no_loo:
        # The shipped parameters must be this fit (not one on other points).
        for cls in classes:
            kind = next(c.point["device"] for c in usable if c.cls == cls)
            for k, d in devices.items():
                if d["class"] != cls:
                    continue
                shipped = params_of(d)
                for n in FITTED.get(cls, FITTED["default"]):
                    if abs(shipped[n] / params[kind][n] - 1) > 0.005:
                        stale.append("%s %s: shipped %.4g, fitted %.4g" % (
                            k, n, shipped[n], params[kind][n]))
                e = d["efficiency"].get("prediction_error", {"value": 0})["value"]
                if abs(e - class_error.get(cls, 0)) > 0.0015:
                    stale.append("%s prediction_error: shipped %.3g, measured %.3g" % (
                        k, e, class_error.get(cls, 0)))
        if stale:
            print("error: hardware/devices holds parameters that are not this fit "
                  "(rerun with --fit --write):\n  " + "\n  ".join(stale))
    if a.write:
        if not a.fit or a.no_loo:
            print("error: --write needs --fit (and leave-one-out)")
            return 1
        write_params(usable, params, devices, class_error)

    held = np.abs(err[test])
    print()
    print("largest held-out errors:")
    for i in sorted(np.nonzero(test)[0], key=lambda i: -abs(err[i]))[:8]:
        c = usable[i]
        print("  %+7.1f%%  %s (%s)" % (100 * err[i], c.id, c.label()))
    ok = len(held) > 0 and np.median(held) <= a.budget_median and held.max() <= a.budget_max
    print()
    print("held-out median error %.1f%% (budget %.0f%%), largest %.1f%% (budget %.0f%%): %s" % (
        100 * np.median(held), 100 * a.budget_median, 100 * held.max(),
        100 * a.budget_max, "ok" if ok else "OVER BUDGET"))
    return 0 if ok and not stale else 1


def write_params(cases, params, devices, class_error):
    """Stores each class's fitted parameters in every device of the class."""
    for cls in sorted({c.cls for c in cases}):
        kinds = sorted(k for k, d in devices.items() if d["class"] == cls)
        fitted_kind = next(c.point["device"] for c in cases if c.cls == cls)
        fitted = [c for c in cases if c.cls == cls and not c.test]
        names = FITTED.get(cls, FITTED["default"])
        note = ("F: fitted by python/check_calibration.py --fit on the %d fitting-set "
                "points of the %s class (%s) from %d sources" % (
                    len(fitted), cls, ", ".join(sorted(kinds)),
                    len({c.point["source"]["url"] for c in fitted})))
        for kind in kinds:
            path = os.path.join(DEVICES, kind + ".json")
            with open(path) as f:
                d = json.load(f)
            if cls in class_error:
                d["efficiency"]["prediction_error"] = {
                    "value": class_error[cls],
                    "source": "F: the larger of the held-out and leave-one-out median "
                              "errors of the %s class in python/check_calibration.py --fit "
                              "(a prediction t is given as t/(1+e) to t*(1+e))" % cls}
            for n in names:
                v = float("%.4g" % params[fitted_kind][n])
                d["efficiency"][n] = {"value": v, "source": note}
            with open(path, "w") as f:
                json.dump(d, f, indent=2)
                f.write("\n")


if __name__ == "__main__":
    sys.exit(main())
