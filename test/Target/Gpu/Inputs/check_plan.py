"""Prints a launch plan's shape for FileCheck, and checks that its weights
file holds exactly the bytes the plan names (each weight's range)."""
import base64
import collections
import json
import os
import sys

plan_path = sys.argv[1]
plan = json.load(open(plan_path))
print("phase", plan["phase"])
for kind in ("inputs", "outputs"):
    for v in plan[kind]:
        print(kind[:-1], v["name"], v["dtype"], "x".join(map(str, v["sizes"])))
kinds = collections.Counter(b["kind"] for b in plan["buffers"])
print("buffers", " ".join(f"{k}={kinds[k]}" for k in sorted(kinds)))
stems = collections.Counter(l["kernel"].rstrip("0123456789").rstrip("_") for l in plan["launches"])
print("launches", " ".join(f"{k}={stems[k]}" for k in sorted(stems)))
for l in plan["launches"]:
    if l["kernel"].startswith(("gemv", "gemm", "attention")):
        args = ", ".join(f'{a["dtype"]}[{"x".join(map(str, a["sizes"]))}]' if "buffer" in a
                         else str(a.get("int", a.get("float"))) for a in l["args"])
        print("launch", l["kernel"], "grid", l["grid"], "block", l["block"], "args", args,
              "predicted" if l.get("predicted_s", 0) > 0 else "")
modules = {m["name"] for m in plan["modules"]}
missing = {l["module"] for l in plan["launches"]} - modules
print("modules", len(modules), "missing", len(missing))
targets = collections.Counter(line.split()[1] for m in plan["modules"] if "ptx" in m
                              for line in m["ptx"].splitlines() if line.startswith(".target"))
print("targets", dict(targets))
cubins = [base64.b64decode(m["cubin"]) for m in plan["modules"] if "cubin" in m]
if cubins:
    print("cubins", len(cubins), "elf", sum(c[:4] == b"\x7fELF" for c in cubins))
weights = [b for b in plan["buffers"] if b["kind"] == "weight" and not b.get("elided")]
print("elided", sum(1 for b in plan["buffers"] if b.get("elided")))
end = max((b["weights_offset"] + b["bytes"] for b in weights), default=0)
size = os.path.getsize(plan_path + ".weights")
# Each weight starts 64-byte aligned in the file (the kernels read 16-byte
# vectors, and a loader may keep the file in one allocation).
aligned = all(b["weights_offset"] % 64 == 0 for b in weights)
print("weights", "consistent" if end == size == plan["weight_bytes"] and aligned else
      f"INCONSISTENT end={end} file={size} plan={plan['weight_bytes']} aligned={aligned}")
