# Warnings and sanitizers for Prism's own code (not for LLVM's headers).
set(PRISM_WARNING_FLAGS -Wall -Wextra -Wno-unused-parameter)
if(PRISM_WARNINGS_AS_ERRORS)
  list(APPEND PRISM_WARNING_FLAGS -Werror)
endif()
add_compile_options(${PRISM_WARNING_FLAGS})

if(PRISM_ENABLE_SANITIZERS)
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer
                      -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=address,undefined)
endif()

if(PRISM_BUILD_FUZZERS)
  # Coverage for libFuzzer in all of Prism's code, not just the target.
  add_compile_options(-fsanitize=fuzzer-no-link,address,undefined)
  add_link_options(-fsanitize=address,undefined)
endif()

# libonnx reports errors with C++ exceptions; LLVM builds without them.
# Only the files that call into libonnx enable them.
function(prism_enable_exceptions)
  set_source_files_properties(${ARGN} PROPERTIES COMPILE_OPTIONS "-fexceptions")
endfunction()
