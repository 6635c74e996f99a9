#!/usr/bin/python3
"""Generates OnnxSchemaOps.td: one ODS op per ai.onnx operator, from ONNX's
own schema registry (python3-onnx's onnx.defs), newest opset it knows.

Operators whose newest form is newer than the registry (opset 18+) or that are
not in it (com.microsoft) are written by hand in OnnxExtraOps.td; they are
listed in HAND_WRITTEN and skipped here.

Run: /usr/bin/python3 dialects/onnx/utils/gen_onnx_ops.py \
        -o dialects/onnx/include/prism/Dialect/Onnx/OnnxSchemaOps.td
"""
import argparse
import sys

import onnx
import onnx.defs as defs

# Newest semantics differ from the registry's (opset 18+): see OnnxExtraOps.td.
HAND_WRITTEN = {
    "ReduceL1", "ReduceL2", "ReduceLogSum", "ReduceLogSumExp", "ReduceMax",
    "ReduceMean", "ReduceMin", "ReduceProd", "ReduceSum", "ReduceSumSquare",
    "Split", "Pad", "QuantizeLinear", "DequantizeLinear",
}
# Not pure: their results are random.
IMPURE = {"RandomNormal", "RandomNormalLike", "RandomUniform",
          "RandomUniformLike", "Bernoulli", "Multinomial"}
# Ops whose results Prism folds when their operands are constants.
FOLDABLE = {
    "Add", "Sub", "Mul", "Div", "Neg", "Cast", "Concat", "ConstantOfShape",
    "Equal", "Expand", "Gather", "Identity", "Less", "Greater", "Where",
    "Range", "Reshape", "Shape", "Size", "Slice", "Squeeze", "Unsqueeze",
    "Constant", "Not", "Sqrt", "Min", "Max", "Ceil", "Floor", "Relu",
    "Mod", "Abs", "And", "Or", "LessOrEqual", "GreaterOrEqual",
}

ELEM = {
    "float": "F32", "double": "F64", "float16": "F16", "bfloat16": "BF16",
    "int8": "I8", "int16": "I16", "int32": "I32", "int64": "I64",
    "uint8": "UI8", "uint16": "UI16", "uint32": "UI32", "uint64": "UI64",
    "bool": "I1", "string": "ONNX_StringType",
    "complex64": "Complex<F32>", "complex128": "Complex<F64>",
}

ATTR = {
    defs.OpSchema.AttrType.FLOAT: "F32Attr",
    defs.OpSchema.AttrType.INT: "I64Attr",
    defs.OpSchema.AttrType.STRING: "StrAttr",
    defs.OpSchema.AttrType.TENSOR: "TypedAttrInterface",
    defs.OpSchema.AttrType.FLOATS: "F32ArrayAttr",
    defs.OpSchema.AttrType.INTS: "I64ArrayAttr",
    defs.OpSchema.AttrType.STRINGS: "StrArrayAttr",
    defs.OpSchema.AttrType.SPARSE_TENSOR: "AnyAttr",
    defs.OpSchema.AttrType.TYPE_PROTO: "TypeAttr",
}


def type_constraint(schema, param, optional):
    """ODS constraint for one formal parameter."""
    allowed = [param.typeStr]
    for tc in schema.type_constraints:
        if tc.type_param_str == param.typeStr:
            allowed = list(tc.allowed_type_strs)
    elems = []
    for t in allowed:
        if not t.startswith("tensor("):
            return "AnyType"  # seq(...), optional(...): not modelled
        e = ELEM[t[len("tensor("):-1]]
        if e not in elems:
            elems.append(e)
    tensor = "TensorOf<[%s]>" % ", ".join(elems)
    return "AnyTypeOf<[%s, NoneType]>" % tensor if optional else tensor


def default_literal(attr):
    v = attr.default_value
    T = defs.OpSchema.AttrType
    if attr.type == T.FLOAT:
        return "\"%s\"" % repr(float(v.f))
    if attr.type == T.INT:
        return "\"%d\"" % v.i
    if attr.type == T.STRING:
        return '"\\"%s\\""' % v.s.decode()
    if attr.type == T.INTS:
        return '"{%s}"' % ", ".join(str(i) for i in v.ints)
    if attr.type == T.FLOATS:
        return '"{%s}"' % ", ".join(repr(float(f)) for f in v.floats)
    return None


def has_default(attr):
    return attr.default_value is not None and attr.default_value.type != 0


def quote_doc(text):
    return text.replace("[{", "[ {").replace("}]", "} ]").strip()


def gen_op(schema):
    name = schema.name
    Option = defs.OpSchema.FormalParameterOption
    args, regions = [], []
    for p in schema.inputs:
        c = type_constraint(schema, p, p.option == Option.Optional)
        if p.option == Option.Variadic:
            c = "Variadic<%s>" % c
        args.append("%s:$%s" % (c, p.name))
    for aname, attr in sorted(schema.attributes.items()):
        if attr.type == defs.OpSchema.AttrType.GRAPH:
            regions.append("SizedRegion<1>:$%s" % aname)
            continue
        base = ATTR[attr.type]
        lit = default_literal(attr) if has_default(attr) else None
        if attr.required:
            c = base
        elif lit is not None:
            c = "DefaultValuedAttr<%s, %s>" % (base, lit)
        else:
            c = "OptionalAttr<%s>" % base
        args.append("%s:$%s" % (c, aname))
    # Regions in sorted order, `then_branch` first (ONNX's If reads then/else;
    # OnnxSchemaInference.cpp's getSchemaGraphAttributes follows this order).
    regions.sort(key=lambda r: (not r.endswith("$then_branch"), r))
    results = []
    for p in schema.outputs:
        c = type_constraint(schema, p, p.option == Option.Optional)
        if p.option == Option.Variadic:
            c = "Variadic<%s>" % c
        results.append("%s:$%s" % (c, p.name))

    traits = ["ONNX_SchemaOp"]
    if name not in IMPURE:
        traits.append("Pure")
    if name == "Constant":
        traits.append("ConstantLike")
    if regions:
        traits = ["ONNX_SchemaOp", "RecursiveMemoryEffects"]
    doc = schema.doc or ""
    out = []
    out.append("def ONNX%sOp : ONNX_Op<\"%s\", [%s]> {" % (name, name, ", ".join(traits)))
    out.append("  let summary = \"ONNX %s (ai.onnx, opset %d)\";" % (name, schema.since_version))
    out.append("  let description = [{\n%s\n  }];" % quote_doc(doc))
    out.append("  let arguments = (ins%s);" % ("\n    " + ",\n    ".join(args) if args else ""))
    out.append("  let results = (outs%s);" % ("\n    " + ",\n    ".join(results) if results else ""))
    if regions:
        out.append("  let regions = (region %s);" % ", ".join(regions))
    if name in FOLDABLE:
        out.append("  let hasFolder = 1;")
    out.append("  let extraClassDeclaration = [{")
    out.append("    static constexpr int kOnnxOpset = %d;" % schema.since_version)
    out.append("  }];")
    out.append("}")
    return "\n".join(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("-o", "--output", required=True)
    args = ap.parse_args()
    schemas = sorted((s for s in defs.get_all_schemas()
                      if s.domain == "" and not s.deprecated
                      and s.name not in HAND_WRITTEN), key=lambda s: s.name)
    with open(args.output, "w") as f:
        f.write("// Generated by dialects/onnx/utils/gen_onnx_ops.py from onnx %s\n"
                "// (opset %d): do not edit.\n\n" % (onnx.__version__, defs.onnx_opset_version()))
        f.write("#ifndef PRISM_ONNX_SCHEMA_OPS\n#define PRISM_ONNX_SCHEMA_OPS\n\n")
        f.write("include \"prism/Dialect/Onnx/OnnxBase.td\"\n\n")
        for s in schemas:
            f.write(gen_op(s) + "\n\n")
        f.write("#endif // PRISM_ONNX_SCHEMA_OPS\n")
    print("wrote %d ops to %s" % (len(schemas), args.output), file=sys.stderr)


if __name__ == "__main__":
    main()
