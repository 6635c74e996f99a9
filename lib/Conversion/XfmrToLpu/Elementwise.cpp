//===- Elementwise.cpp ------------------------------------------------------===//
//
// Elementwise ops and constant folding.
//
//===----------------------------------------------------------------------===//

#include "Codegen.h"

namespace prism::lpu::detail {

//===----------------------------------------------------------------------===//
// Elementwise
//===----------------------------------------------------------------------===//

/// `c` broadcast to `shape` (token axis `tokenAxis`, `rows` rows) in the
/// piece layout of `like`, as data.
Act Codegen::materialize(const Const &c, const Act &like, ArrayRef<int64_t> shape,
                         int tokenAxis, int64_t rows) {
  Act out = newAct(shape, tokenAxis, rows);
  for (const Piece &lp : like.pieces) {
    Piece p = newPiece(lp.chip, "f32", lp.cols, rows, {lp.slice});
    p.ready.clear();
    for (int64_t r = 0; r < rows; ++r) {
      std::vector<double> v(lp.cols.size(), 0.0);
      for (auto [l, col] : llvm::enumerate(lp.cols)) {
        if (col < 0 || !c.values)
          continue;
        auto idx = unflatten(col, shape, tokenAxis);
        if (tokenAxis >= 0)
          idx[tokenAxis] = r;
        // Right-aligned broadcast into the constant's shape.
        int64_t flat = 0, off = shape.size() - c.shape.size();
        for (size_t i = 0; i < c.shape.size(); ++i)
          flat = flat * c.shape[i] + (c.shape[i] == 1 ? 0 : idx[off + i]);
        v[l] = (*c.values)[flat];
      }
      data(p.chip, p.slice, p.address + r * kVector, "f32", v);
    }
    out.pieces.push_back(p);
  }
  return out;
}

/// Ops of constants only (the causal mask a phase builds from Range, Less
/// and Where) are evaluated here.
std::optional<Const> fold(Operation *op, ArrayRef<const Const *> in) {
  StringRef name = op->getName().getStringRef();
  auto type = dyn_cast<RankedTensorType>(op->getResult(0).getType());
  if (!type || !type.hasStaticShape())
    return std::nullopt;
  for (const Const *c : in)
    if (!c->values)
      return std::nullopt;
  Const out;
  out.shape.assign(type.getShape().begin(), type.getShape().end());
  int64_t n = product(out.shape);
  out.values = std::make_shared<std::vector<float>>(n);
  std::vector<float> &r = *out.values;
  if (name == "onnx.Range" && in.size() == 3) {
    for (int64_t i = 0; i < n; ++i)
      r[i] = (*in[0]->values)[0] + i * (*in[2]->values)[0];
    return out;
  }
  // Elementwise with numpy broadcasting.
  auto at = [&](const Const &c, int64_t flat) {
    SmallVector<int64_t> idx = unflatten(flat, out.shape, -1);
    int64_t off = out.shape.size() - c.shape.size(), f = 0;
    for (size_t i = 0; i < c.shape.size(); ++i)
      f = f * c.shape[i] + (c.shape[i] == 1 ? 0 : idx[off + i]);
    return (*c.values)[f];
  };
  for (int64_t i = 0; i < n; ++i) {
    if (name == "onnx.Less" && in.size() == 2)
      r[i] = at(*in[0], i) < at(*in[1], i);
    else if (name == "onnx.Greater" && in.size() == 2)
      r[i] = at(*in[0], i) > at(*in[1], i);
    else if (name == "onnx.Equal" && in.size() == 2)
      r[i] = at(*in[0], i) == at(*in[1], i);
    else if (name == "onnx.Where" && in.size() == 3)
      r[i] = at(*in[0], i) != 0 ? at(*in[1], i) : at(*in[2], i);
    else if (name == "onnx.Add" && in.size() == 2)
      r[i] = at(*in[0], i) + at(*in[1], i);
    else if (name == "onnx.Sub" && in.size() == 2)
      r[i] = at(*in[0], i) - at(*in[1], i);
    else if (name == "onnx.Mul" && in.size() == 2)
      r[i] = at(*in[0], i) * at(*in[1], i);
    else
      return std::nullopt;
  }
  return out;
}

llvm::Error Codegen::lowerElementwise(Operation *op) {
  StringRef name = op->getName().getStringRef();
  auto outShape = cast<RankedTensorType>(op->getResult(0).getType()).getShape();
  if (name == "onnx.Cast") {
    auto entry = values.lookup(op->getOperand(0));
    if (entry && std::holds_alternative<Const>(*entry)) {
      values[op->getResult(0)] = entry; // values are kept as floats
      return llvm::Error::success();
    }
    // Integer inputs are bound as f32 columns where arithmetic reads them.
    if (auto arg = dyn_cast<BlockArgument>(op->getOperand(0))) {
      Act a = input(arg, "f32");
      values[op->getResult(0)] = std::make_shared<Entry>(a);
      return llvm::Error::success();
    }
    // Activations stay f32 in SRAM (wider than an f16 graph computes).
    if (entry && std::holds_alternative<Act>(*entry) &&
        isa<FloatType>(cast<RankedTensorType>(op->getResult(0).getType()).getElementType())) {
      values[op->getResult(0)] = entry;
      return llvm::Error::success();
    }
    return fail(op, "only casts of integer inputs and between float types are lowered");
  }
  auto lhs = values.lookup(op->getOperand(0)), rhs = values.lookup(op->getOperand(1));
  if (!lhs || !rhs)
    return fail(op, "an operand was not lowered");
  for (auto *side : {&lhs, &rhs})
    if (auto *act = std::get_if<Act>(side->get()))
      *side = std::make_shared<Entry>(toChip(*act, lead(op)));
  Act *a = std::get_if<Act>(lhs.get()), *b = std::get_if<Act>(rhs.get());
  bool swapped = false;
  if (!a) {
    std::swap(a, b);
    std::swap(lhs, rhs);
    swapped = true;
  }
  if (!a)
    return fail(op, "both operands are constants (fold them first)");
  // The main operand carries every column of the result.
  if (b && b->columns() > a->columns()) {
    std::swap(a, b);
    std::swap(lhs, rhs);
    swapped = !swapped;
  }
  if (a->columns() != product(outShape) / (a->tokenAxis >= 0 ? a->rows : 1) &&
      !(a->tokenAxis < 0 && product(outShape) == a->columns() * tokens))
    return fail(op, "broadcasting along the columns of its larger operand");
  int tokenAxis = -1;
  int64_t rows = 1;
  int offset = outShape.size() - a->shape.size();
  if (a->tokenAxis >= 0) {
    tokenAxis = a->tokenAxis + offset;
    rows = a->rows;
  } else if (tokens > 1 && product(outShape) == a->columns() * tokens) {
    // The other operand adds the token axis (a causal mask over a padding
    // mask): the axis of `tokens` where the main operand has 1.
    for (size_t i = 0; i < outShape.size(); ++i)
      if (outShape[i] == tokens && ((int)i < offset || a->shape[i - offset] == 1)) {
        tokenAxis = i;
        break;
      }
    rows = tokens;
  }
  // Rename the main operand's columns for the result shape.
  Act main = *a;
  std::vector<std::vector<int64_t>> cols;
  SmallVector<int64_t> aligned(outShape.size(), 1);
  for (size_t i = 0; i < a->shape.size(); ++i)
    aligned[offset + i] = a->shape[i];
  int alignedToken = a->tokenAxis >= 0 ? a->tokenAxis + offset : -1;
  for (const Piece &p : main.pieces) {
    std::vector<int64_t> c;
    for (int64_t col : p.cols) {
      if (col < 0) {
        c.push_back(-1);
        continue;
      }
      auto idx = unflatten(col, aligned, alignedToken);
      if (tokenAxis >= 0 && alignedToken < 0)
        idx[tokenAxis] = 0;
      c.push_back(flatten(idx, outShape, tokenAxis));
    }
    cols.push_back(c);
  }
  Act out = newAct(outShape, tokenAxis, rows);
  bool mainBroadcast = main.rows == 1 && rows > 1;
  std::string opName = name.drop_front(5).lower();
  auto constRhs = std::get_if<Const>(rhs.get());
  for (auto [i, p] : llvm::enumerate(main.pieces)) {
    Piece renamed = p;
    renamed.cols = cols[i];
    Piece result;
    if (constRhs && product(constRhs->shape) == 1) {
      if (!constRhs->values)
        return fail(op, "its scalar operand has no value");
      double k = (*constRhs->values)[0];
      result = unary(renamed, rows, mainBroadcast,
                     [&](Chain &c, int x) {
                       if (opName == "add")
                         return c.vxm("add", "f32", {x}, k);
                       if (opName == "mul")
                         return c.vxm("mul", "f32", {x}, k);
                       if (opName == "div")
                         return c.vxm("mul", "f32", {x}, 1.0 / k);
                       // sub: x - k, or k - x when the constant came first
                       if (!swapped)
                         return c.vxm("add", "f32", {x}, -k);
                       return c.vxm("add", "f32", {c.vxm("neg", "f32", {x})}, k);
                     },
                     p.chip);
    } else {
      Act other;
      bool otherBroadcast = false;
      if (constRhs) {
        Act like = newAct(outShape, tokenAxis, rows);
        like.pieces = {renamed};
        other = materialize(*constRhs, like, outShape, tokenAxis, rows);
      } else {
        other = toChip(*b, p.chip);
        otherBroadcast = other.rows == 1 && rows > 1;
        if (other.pieces.size() != main.pieces.size() || other.pieces[i].cols != p.cols)
          return fail(op, "its operands' columns are laid out differently");
        other.pieces = {other.pieces[i]};
      }
      bool reversed = swapped && (opName == "sub" || opName == "div");
      if (opName == "div")
        return fail(op, "division of two tensors is not lowered");
      result = binary(renamed, mainBroadcast, other.pieces[0], otherBroadcast, rows,
                      [&](Chain &c, int x, int y) {
                        if (reversed)
                          return c.vxm("sub", "f32", {y, x});
                        return c.vxm(opName, "f32", {x, y});
                      });
    }
    out.pieces.push_back(result);
  }
  values[op->getResult(0)] = std::make_shared<Entry>(out);
  return llvm::Error::success();
}

} // namespace prism::lpu::detail
