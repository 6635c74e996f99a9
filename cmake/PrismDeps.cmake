# Finds LLVM/MLIR 22 (Debian's packages by default), ONNX and protobuf.
if(NOT MLIR_DIR)
  set(MLIR_DIR /usr/lib/llvm-22/lib/cmake/mlir)
endif()
find_package(MLIR REQUIRED CONFIG)
message(STATUS "Using MLIRConfig.cmake in: ${MLIR_DIR}")
message(STATUS "Using LLVMConfig.cmake in: ${LLVM_DIR} (LLVM ${LLVM_PACKAGE_VERSION})")

list(APPEND CMAKE_MODULE_PATH "${MLIR_CMAKE_DIR}" "${LLVM_CMAKE_DIR}")
include(TableGen)
include(AddLLVM)
include(AddMLIR)
include(HandleLLVMOptions)
# Link everything against libMLIR.so / libLLVM.so: mixing the static MLIR
# libraries with the dylib gives two copies of every registry.
set(MLIR_LINK_MLIR_DYLIB ON)
# add_mlir_doc writes to ${MLIR_BINARY_DIR}/docs: keep it in the build.
set(MLIR_BINARY_DIR ${CMAKE_BINARY_DIR})
set(LLVM_LINK_LLVM_DYLIB ON)

find_package(ONNX REQUIRED CONFIG)
find_package(Protobuf REQUIRED)

if(NOT LLVM_EXTERNAL_LIT)
  set(LLVM_EXTERNAL_LIT ${LLVM_TOOLS_BINARY_DIR}/lit)
endif()

find_program(CCACHE_PROGRAM ccache)
if(CCACHE_PROGRAM)
  set(CMAKE_CXX_COMPILER_LAUNCHER ${CCACHE_PROGRAM})
  set(CMAKE_C_COMPILER_LAUNCHER ${CCACHE_PROGRAM})
endif()
