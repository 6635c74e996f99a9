#!/usr/bin/python3
"""Writes the malformed models of the importer's error tests into a folder.

Each case is built here from its description, so that no test depends on an
opaque binary: run `make_bad_models.py OUT_DIR`.
"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def small_model(initializers=(), inputs=None):
    """Y = X + W (W an initializer), float[2, 3]."""
    x = helper.make_tensor_value_info("X", TensorProto.FLOAT, [2, 3])
    y = helper.make_tensor_value_info("Y", TensorProto.FLOAT, [2, 3])
    node = helper.make_node("Add", ["X", "W"], ["Y"], name="add")
    graph = helper.make_graph([node], "g", inputs or [x], [y],
                              initializer=list(initializers))
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def external_weight(location, offset=0, length=24):
    """W as external data at `location`."""
    t = TensorProto()
    t.name = "W"
    t.data_type = TensorProto.FLOAT
    t.dims.extend([2, 3])
    t.data_location = TensorProto.EXTERNAL
    for key, value in (("location", location), ("offset", str(offset)),
                       ("length", str(length))):
        entry = t.external_data.add()
        entry.key, entry.value = key, value
    return t


def write(path, data):
    with open(path, "wb") as f:
        f.write(data)


def main(out):
    os.makedirs(out, exist_ok=True)
    w = numpy_helper.from_array(np.ones((2, 3), np.float32), "W")
    good = small_model([w]).SerializeToString()
    write(os.path.join(out, "good.onnx"), good)
    write(os.path.join(out, "truncated.onnx"), good[: len(good) // 2])
    write(os.path.join(out, "corrupt.onnx"), b"\xff\xff\xff\xff garbage \x00\x01")
    write(os.path.join(out, "empty.onnx"), b"")

    # External data: outside the directory, absolute, missing, too short.
    write(os.path.join(out, "weights.bin"), bytes(24))
    write(os.path.join(out, "short.bin"), bytes(10))
    for name, location in (("ext-ok", "weights.bin"),
                           ("ext-dotdot", "../weights.bin"),
                           ("ext-absolute", "/etc/passwd"),
                           ("ext-missing", "missing.bin"),
                           ("ext-short", "short.bin")):
        write(os.path.join(out, name + ".onnx"),
              small_model([external_weight(location)]).SerializeToString())
    # A symbolic link that leaves the directory.
    link = os.path.join(out, "link.bin")
    if not os.path.lexists(link):
        os.symlink("/etc/passwd", link)
    write(os.path.join(out, "ext-symlink.onnx"),
          small_model([external_weight("link.bin")]).SerializeToString())

    # Dims whose product overflows int64.
    big = helper.make_tensor_value_info("X", TensorProto.FLOAT, [1 << 40, 1 << 40])
    write(os.path.join(out, "overflow.onnx"),
          small_model([w], inputs=[big]).SerializeToString())

    # Declared shapes far larger than the data: rejected before allocating.
    def model_with(tensor):
        return small_model([tensor]).SerializeToString()
    t = TensorProto(name="W", data_type=TensorProto.FLOAT, dims=[1 << 40])
    write(os.path.join(out, "huge-nodata.onnx"), model_with(t))
    t = TensorProto(name="W", data_type=TensorProto.FLOAT, dims=[1 << 62],
                    raw_data=b"")
    write(os.path.join(out, "huge-bytes.onnx"), model_with(t))
    t = external_weight("weights.bin", length=0)
    t.data_type = TensorProto.DOUBLE
    del t.dims[:]
    t.dims.extend([1 << 61])
    write(os.path.join(out, "huge-external.onnx"), model_with(t))

    # A Split with no outputs.
    x = helper.make_tensor_value_info("X", TensorProto.FLOAT, [4])
    split = helper.make_node("Split", ["X"], [], name="split")
    write(os.path.join(out, "split-no-outputs.onnx"), helper.make_model(
        helper.make_graph([split], "g", [x], []),
        opset_imports=[helper.make_opsetid("", 17)]).SerializeToString())

    # A required input left out (the fuzzer's ReduceMean with no data).
    y = helper.make_tensor_value_info("Y", TensorProto.FLOAT, None)
    mean = helper.make_node("ReduceMean", ["", "X"], ["Y"], name="mean")
    xi = helper.make_tensor_value_info("X", TensorProto.INT64, [1])
    write(os.path.join(out, "missing-input.onnx"), helper.make_model(
        helper.make_graph([mean], "g", [xi], [y]),
        opset_imports=[helper.make_opsetid("", 18)]).SerializeToString())

    # A bool weight is a blob like any other weight.
    mask = numpy_helper.from_array(np.tril(np.ones((64, 64), bool)), "M")
    xb = helper.make_tensor_value_info("X", TensorProto.BOOL, [64, 64])
    yb = helper.make_tensor_value_info("Y", TensorProto.BOOL, [64, 64])
    node = helper.make_node("And", ["X", "M"], ["Y"], name="and")
    write(os.path.join(out, "bool-weight.onnx"), helper.make_model(
        helper.make_graph([node], "g", [xb], [yb], initializer=[mask]),
        opset_imports=[helper.make_opsetid("", 17)]).SerializeToString())

    # Dims named by expressions that go negative or overflow when bound.
    for name, expr in (("dim-negative", "seq-8"), ("dim-overflow", "seq*seq")):
        xs = helper.make_tensor_value_info("X", TensorProto.FLOAT, [expr, 4])
        ys = helper.make_tensor_value_info("Y", TensorProto.FLOAT, [expr, 4])
        seq = helper.make_tensor_value_info("S", TensorProto.FLOAT, ["seq"])
        relu = helper.make_node("Relu", ["X"], ["Y"], name="relu")
        write(os.path.join(out, name + ".onnx"), helper.make_model(
            helper.make_graph([relu], "g", [xs, seq], [ys]),
            opset_imports=[helper.make_opsetid("", 17)]).SerializeToString())

    # Over 2 GiB without external data: a sparse file is enough, the size
    # alone is refused before reading.
    with open(os.path.join(out, "huge.onnx"), "wb") as f:
        f.write(good)
        f.truncate((2 << 30) + 16)


if __name__ == "__main__":
    main(sys.argv[1])
