# -*- Python -*-
import os

import lit.formats
from lit.llvm import llvm_config

config.name = "Prism"
config.test_format = lit.formats.ShTest(not llvm_config.use_lit_shell)
config.suffixes = [".mlir", ".onnxtxt", ".test"]
config.excludes = ["Inputs", "CMakeLists.txt", "lit.cfg.py", "lit.site.cfg.py"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.prism_obj_root, "test")

config.substitutions.append(("%shared", config.shared_dir))
config.substitutions.append(("%python", "/usr/bin/python3"))
config.substitutions.append(("%src", config.prism_src_root))

llvm_config.with_system_environment(["HOME", "TMPDIR"])
# Debian's headless Chromium renders the HTML plan report.
import shutil
if shutil.which("chromium"):
    config.available_features.add("chromium")
# CUDA's PTX assembler, where a toolkit is installed: the GPU target's PTX
# is assembled for its SM (test/Target/Gpu/ptxas.test). PRISM_PTXAS names
# another one.
ptxas = os.environ.get("PRISM_PTXAS") or shutil.which("ptxas") or (
    "/usr/local/cuda/bin/ptxas" if os.access("/usr/local/cuda/bin/ptxas", os.X_OK) else None)
if ptxas:
    config.available_features.add("ptxas")
    config.substitutions.append(("%ptxas", ptxas))
if getattr(config, "prism_sanitizers", False):
    # LLVM's allocators poison memory in Prism's instrumented code that
    # libMLIR (not instrumented) then hands out: turn user poisoning off.
    config.environment["ASAN_OPTIONS"] = "allow_user_poisoning=0"
    config.environment["UBSAN_OPTIONS"] = "print_stacktrace=1:halt_on_error=1"
llvm_config.use_default_substitutions()
llvm_config.add_tool_substitutions(
    ["prism-opt", "prism-translate", "prismc", "prism-run", "prism-sim"],
    [config.prism_tools_dir])
llvm_config.with_environment("PATH", config.llvm_tools_dir, append_path=True)
