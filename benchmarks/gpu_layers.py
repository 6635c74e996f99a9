#!/usr/bin/python3
"""Prism's GPU kernels on a real GPU: layer stacks against the hardware's
peaks, the cost model and PyTorch.

    /usr/bin/python3 benchmarks/gpu_layers.py [--build-dir build] [--gpu h100-sxm]
        [--models gpt2-small,llama-3.1-8b] [--layers 2] [--prompt 512]
        [--context 2048] [--runs 20]

For each model shape (a stack of --layers layers with its embedding and LM
head; weights left out of the IR and zero on the device, which does not
change the kernels' time):

  * prismc --compile-to=phases, then prism-run --device=cuda --time RUNS on
    @prefill (the prompt) and @decode (one token against --context cached
    positions); each launch is timed with CUDA events;
  * the launch plans (prismc --compile-to=emit) give each launch's shapes:
    prefill's GEMMs as FLOP/s against the device's dense bf16 (or, with
    --weights fp8, fp8) peak, and
    decode's GEMVs as weight bytes/s against its HBM bandwidth (both from
    hardware/devices/<gpu>.json);
  * prismc --estimate's time for each phase against the measured one, and
    the tiling model's time for each of Prism's GEMM, GEMV and attention
    launches (the plan's predicted_s) against theirs;
  * PyTorch (when importable with CUDA): the same stack in bf16, eager and
    torch.compile, timed in the same run on the same shapes.

Needs a CUDA driver and GPU (prism-run exits 77 without: so does this).
"""
import argparse
import json
import os
import pathlib
import re
import subprocess
import sys
import tempfile

NO_GPU = 77


def sh(cmd, **kw):
    r = subprocess.run([str(c) for c in cmd], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       text=True, **kw)
    if r.returncode == NO_GPU:
        print(r.stdout.strip())
        sys.exit("gpu_layers: no CUDA driver or GPU here")
    if r.returncode:
        sys.exit("gpu_layers: failed: %s\n%s" % (" ".join(map(str, cmd)), r.stdout))
    return r.stdout


def build_model(repo, name, layers, path):
    if name.startswith("gpt2"):
        sh(["/usr/bin/python3", repo / "python/build_gpt2.py", "--preset", name,
            "--layers", layers, "-o", path])
    else:
        # f32 activations: the GPU kernels take f32 and multiply in bf16.
        sh(["/usr/bin/python3", repo / "python/build_model.py", "--preset", name,
            "--layers", layers, "--dtype", "float32", "-o", path])


def launch_shapes(plan):
    """(kind, flops, weight bytes, predicted ms) of each launch of a plan,
    in order."""
    out = []
    for l in plan["launches"]:
        views = [a for a in l["args"] if "buffer" in a]
        kind = re.sub(r"_\d+$", "", l["kernel"])
        flops = weight = 0
        if kind in ("gemm", "gemv"):
            a, b = views[0]["sizes"], views[1]["sizes"]
            m, k = a
            n = b[0] if b[1] == k else b[1]  # B is [N, K] or [K, N]
            flops = 2 * m * n * k
            weight = n * k * {"f8e4m3": 1, "bf16": 2}.get(views[1]["dtype"], 4)
        out.append((kind, flops, weight, l.get("predicted_s", 0) * 1e3))
    return out


def torch_times(model, layers, prompt, context, runs):
    """PyTorch eager and torch.compile ms for prefill and one decode step,
    or None without torch and CUDA."""
    try:
        import torch
        import torch.nn.functional as F
    except ImportError:
        return None
    if not torch.cuda.is_available():
        return None
    dev, dt = "cuda", torch.bfloat16
    if model.startswith("gpt2"):
        hidden, heads, kv, ffn, vocab = 768, 12, 12, 3072, 50257
    else:
        hidden, heads, kv, ffn, vocab = 4096, 32, 8, 14336, 128256
    hd = hidden // heads
    llama = not model.startswith("gpt2")
    W = lambda *s: torch.zeros(*s, device=dev, dtype=dt)
    params = [dict(qkv=W((heads + 2 * kv) * hd, hidden), o=W(hidden, hidden),
                   up=W(2 * ffn if llama else ffn, hidden), down=W(hidden, ffn),
                   n1=W(hidden), n2=W(hidden)) for _ in range(layers)]
    head = W(vocab, hidden)

    def norm(x, w):
        if llama:
            return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-5) * w
        return F.layer_norm(x, (hidden,), w)

    def stack(x, past):
        s = x.shape[1]
        for p in params:
            h = norm(x, p["n1"])
            q, k, v = (h @ p["qkv"].T).split([heads * hd, kv * hd, kv * hd], -1)
            q = q.view(1, s, heads, hd).transpose(1, 2)
            k = k.view(1, s, kv, hd).transpose(1, 2)
            v = v.view(1, s, kv, hd).transpose(1, 2)
            if past is not None:
                k = torch.cat([past, k], 2)
                v = torch.cat([past, v], 2)
            a = F.scaled_dot_product_attention(q, k, v, is_causal=past is None,
                                               enable_gqa=kv != heads)
            x = x + a.transpose(1, 2).reshape(1, s, hidden) @ p["o"].T
            h = norm(x, p["n2"])
            u = h @ p["up"].T
            if llama:
                g, u = u.chunk(2, -1)
                u = F.silu(g) * u
            else:
                u = F.gelu(u)
            x = x + u @ p["down"].T
        return norm(x, params[0]["n1"]) @ head.T

    def timed(fn, *args):
        for _ in range(3):
            fn(*args)
        torch.cuda.synchronize()
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        for _ in range(runs):
            fn(*args)
        end.record()
        torch.cuda.synchronize()
        return start.elapsed_time(end) / runs

    x_pre = W(1, prompt, hidden)
    x_dec = W(1, 1, hidden)
    past = W(1, kv, context, hd)
    result = {}
    with torch.no_grad():
        result["eager"] = (timed(stack, x_pre, None), timed(stack, x_dec, past))
        compiled = torch.compile(stack)
        result["compile"] = (timed(compiled, x_pre, None), timed(compiled, x_dec, past))
    return result


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--build-dir", type=pathlib.Path, default=pathlib.Path("build"))
    ap.add_argument("--gpu", default="h100-sxm")
    ap.add_argument("--models", default="gpt2-small,llama-3.1-8b")
    ap.add_argument("--layers", type=int, default=2)
    ap.add_argument("--prompt", type=int, default=512)
    ap.add_argument("--context", type=int, default=2048)
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--weights", default="bf16", choices=["bf16", "fp8"],
                    help="the dtype Prism stores weights in (fp8: e4m3, the GEMMs "
                         "against the fp8 peak)")
    a = ap.parse_args()
    repo = pathlib.Path(__file__).resolve().parent.parent
    bin_dir = a.build_dir.resolve() / "bin"
    device = json.load(open(repo / "hardware/devices" / (a.gpu + ".json")))
    peak = device["peak_ops_per_s"][a.weights]["value"]
    bandwidth = device["memory"][0]["bandwidth_bytes_per_s"]["value"]
    work = pathlib.Path(tempfile.mkdtemp(prefix="gpu_layers."))
    print("device %s: %s peak %.0f TFLOP/s, HBM %.2f TB/s; weights %s" %
          (a.gpu, a.weights, peak / 1e12, bandwidth / 1e12, a.weights))
    for model in a.models.split(","):
        onnx = work / (model + ".onnx")
        build_model(repo, model, a.layers, onnx)
        phases = work / (model + ".mlir")
        common = ["--prompt", a.prompt, "--context", a.context, "--elide-weights"]
        sh([bin_dir / "prismc", onnx, "--compile-to=phases", *common, "-o", phases])
        estimate = sh([bin_dir / "prismc", onnx, "--compile-to=phases", *common,
                       "--system", "%s*1" % a.gpu, "--estimate"])
        predicted = [float(x) for x in re.findall(
            r"time (?:to first token|per output token):\s+([0-9.e+-]+) s", estimate)]
        print("\n%s, %d layers, prompt %d, context %d" % (model, a.layers, a.prompt, a.context))
        for phase, pred in zip(("prefill", "decode"), predicted):
            plan_path = work / ("%s.%s.json" % (model, phase))
            sh([bin_dir / "prismc", onnx, "--compile-to=emit", *common, "--system", "%s*1" % a.gpu,
                "--lpu-function", phase, "--weight-dtype", a.weights, "-o", plan_path])
            shapes = launch_shapes(json.load(open(plan_path)))
            out = sh([bin_dir / "prism-run", phases, "--function", phase, "--device=cuda",
                      "--gpu", a.gpu, "--weight-dtype", a.weights, "--random-inputs=1",
                      "--elided-weights-as-zeros",
                      "--time", a.runs, "--output-dir", work / ("out-" + phase)])
            total = float(re.search(r"mean_ms=([0-9.]+)", out).group(1))
            ms = [float(x) for x in re.findall(r"^prism launch \d+ \S+ ms=([0-9.]+)", out, re.M)]
            if len(ms) != len(shapes):
                sys.exit("gpu_layers: the plan and the run disagree on the launches")
            by = {}
            for (kind, flops, weight, predicted_ms), t in zip(shapes, ms):
                k = by.setdefault(kind, [0, 0.0, 0, 0, 0.0])
                k[0] += 1
                k[1] += t
                k[2] += flops
                k[3] += weight
                k[4] += predicted_ms
            print("  @%s: %.3f ms measured, %.3f ms predicted by the cost model (error %+.0f%%)"
                  % (phase, total, pred * 1e3, (pred * 1e3 / total - 1) * 100))
            for kind, (n, t, flops, weight, pred_ms) in sorted(by.items(), key=lambda kv: -kv[1][1]):
                line = "    %-18s %4d launches %8.3f ms" % (kind, n, t)
                if pred_ms > 0:
                    line += " (tiling model %.3f ms, error %+.0f%%)" % (pred_ms, (pred_ms / t - 1) * 100)
                if kind == "gemm" and t > 0:
                    line += "  %.1f TFLOP/s = %.1f%% of the %s peak" % (
                        flops / t / 1e9, flops / t / 1e9 * 1e12 / peak * 100, a.weights)
                if kind == "gemv" and t > 0:
                    line += "  %.0f GB/s of weights = %.1f%% of %.2f TB/s" % (
                        weight / t / 1e6, weight / t * 1e3 / bandwidth * 100, bandwidth / 1e12)
                print(line)
            phase_total = total
            if phase == "prefill":
                prefill_ms = phase_total
            else:
                decode_ms = phase_total
        torch = torch_times(model, a.layers, a.prompt, a.context, a.runs)
        if torch is None:
            print("  PyTorch: not importable with CUDA here: no comparison")
        else:
            for mode, (pre, dec) in torch.items():
                print("  PyTorch %-7s prefill %.3f ms, decode %.3f ms: Prism / PyTorch = %.2f, %.2f"
                      % (mode, pre, dec, prefill_ms / pre, decode_ms / dec))
    return 0


if __name__ == "__main__":
    sys.exit(main())
