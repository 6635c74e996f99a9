"""Assembles every module of a `prism-translate --gpu-to-ptx` file with
CUDA's ptxas (for the SM its .target names) and prints, for FileCheck, how
many modules and kernels there were, how many failed to assemble, and how
many spill registers to local memory; then each Prism kernel kind's most
registers and shared memory. Usage: ptxas_check.py PTXAS FILE.ptx WORKDIR"""
import collections
import os
import re
import subprocess
import sys

ptxas, path, work = sys.argv[1:4]
os.makedirs(work, exist_ok=True)
text = open(path).read()
parts = re.split(r"^// gpu\.binary @(\S+) .*$", text, flags=re.M)
modules = list(zip(parts[1::2], parts[2::2]))
errors = kernels = spilling = 0
most = collections.defaultdict(lambda: [0, 0])  # kind -> registers, smem
for name, ptx in modules:
    arch = re.search(r"^\.target (sm_\w+)", ptx, re.M).group(1)
    src = os.path.join(work, name + ".ptx")
    open(src, "w").write(ptx)
    r = subprocess.run([ptxas, "-arch=" + arch, "-v", src, "-o", src + ".cubin"],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if r.returncode != 0:
        errors += 1
        print("error in", name, r.stdout.strip().splitlines()[:3])
        continue
    for entry, info in re.findall(r"Compiling entry function '(\w+)'.*?\n(.*?)(?=Compiling entry|\Z)",
                                  r.stdout, re.S):
        kernels += 1
        stores, loads = map(int, re.search(r"(\d+) bytes spill stores, (\d+) bytes spill loads",
                                           info).groups())
        if stores or loads:
            spilling += 1
            print("spills in", entry, stores, loads)
        kind = re.sub(r"_\d+$", "", entry)
        if kind.startswith(("decode", "prefill")):
            continue
        regs = int(re.search(r"Used (\d+) registers", info).group(1))
        smem = re.search(r"(\d+) bytes smem", info)
        most[kind][0] = max(most[kind][0], regs)
        most[kind][1] = max(most[kind][1], int(smem.group(1)) if smem else 0)
print("modules %d kernels %d errors %d spilling %d" % (len(modules), kernels, errors, spilling))
for kind in sorted(most):
    print("%s registers<=%d smem<=%d" % (kind, most[kind][0], most[kind][1]))
