//===- Values.cpp -----------------------------------------------------------===//
//
// Values: constants, weights and the phase's inputs.
//
//===----------------------------------------------------------------------===//

#include "Codegen.h"

namespace prism::lpu::detail {

//===----------------------------------------------------------------------===//
// Values
//===----------------------------------------------------------------------===//

std::optional<Const> Codegen::constant(Value v) {
  auto it = values.find(v);
  if (it != values.end())
    if (auto *c = std::get_if<Const>(it->second.get()))
      return *c;
  return std::nullopt;
}

std::shared_ptr<std::vector<float>> floatsOf(Attribute attr) {
  auto type = dyn_cast<ShapedType>(cast<TypedAttr>(attr).getType());
  if (!type)
    return nullptr;
  Type elt = type.getElementType();
  int64_t n = type.getNumElements();
  if (!isa<DenseElementsAttr, DenseResourceElementsAttr>(attr))
    return nullptr; // external data: shape only
  auto out = std::make_shared<std::vector<float>>(n);
  if (auto dense = dyn_cast<DenseElementsAttr>(attr)) {
    if (isa<FloatType>(elt)) {
      int64_t i = 0;
      for (APFloat x : dense.getValues<APFloat>())
        (*out)[i++] = x.convertToDouble();
    } else if (isa<IntegerType>(elt)) {
      int64_t i = 0;
      for (APInt x : dense.getValues<APInt>())
        (*out)[i++] = (float)x.getSExtValue();
    } else {
      return nullptr;
    }
    return out;
  }
  auto resource = dyn_cast<DenseResourceElementsAttr>(attr);
  if (!resource || !resource.getRawHandle().getBlob())
    return nullptr;
  ArrayRef<char> raw = resource.getRawHandle().getBlob()->getData();
  if (elt.isF32() && (int64_t)raw.size() == 4 * n) {
    memcpy(out->data(), raw.data(), raw.size());
  } else if (elt.isF16() && (int64_t)raw.size() == 2 * n) {
    for (int64_t i = 0; i < n; ++i) {
      uint16_t bits;
      memcpy(&bits, raw.data() + 2 * i, 2);
      (*out)[i] = APFloat(APFloat::IEEEhalf(), APInt(16, bits)).convertToFloat();
    }
  } else if (elt.isInteger(64) && (int64_t)raw.size() == 8 * n) {
    for (int64_t i = 0; i < n; ++i) {
      int64_t x;
      memcpy(&x, raw.data() + 8 * i, 8);
      (*out)[i] = (float)x;
    }
  } else {
    return nullptr;
  }
  return out;
}

/// The function argument as an activation in `dtype` (integer arguments are
/// read by gathers as i32 in lane 0 of a vector per token, and by the mask
/// arithmetic as f32 columns).
Act Codegen::input(BlockArgument arg, StringRef dtype) {
  auto key = std::make_pair(arg.getArgNumber(), dtype.str());
  if (auto it = inputs.find(key); it != inputs.end())
    return it->second;
  auto type = cast<RankedTensorType>(arg.getType());
  int tokenAxis = -1;
  if (auto names = func.getArgAttrOfType<ArrayAttr>(arg.getArgNumber(), "onnx.dim_names"))
    for (auto [i, n] : llvm::enumerate(names))
      if (auto s = dyn_cast<StringAttr>(n); s && s.getValue() == "sequence_length" &&
                                             type.getDimSize(i) == tokens && tokens > 1)
        tokenAxis = i;
  int64_t rows = tokenAxis >= 0 ? tokens : 1;
  Act a = newAct(type.getShape(), tokenAxis, rows);
  std::string name = "arg" + std::to_string(arg.getArgNumber());
  if (auto n = func.getArgAttrOfType<StringAttr>(arg.getArgNumber(), "onnx.name"))
    name = n.getValue().str();
  int64_t columns = a.columns();
  int64_t chip = 0;
  auto bind = [&](const Piece &p, int64_t lane, int64_t col, int64_t count) {
    program.inputs.push_back(binding(name, col, count, p.chip, p.slice, p.address, lane,
                                     p.dtype, rows, columns));
  };
  if (dtype == "i32") {
    // One vector per element (lane 0), the gather's index.
    for (int64_t col = 0; col < columns; ++col) {
      Piece p = newPiece(chip, "i32", {col}, rows);
      bind(p, 0, col, 1);
      a.pieces.push_back(p);
    }
  } else {
    for (int64_t col = 0; col < columns; col += 80) {
      int64_t n = std::min<int64_t>(80, columns - col);
      std::vector<int64_t> cols(n);
      std::iota(cols.begin(), cols.end(), col);
      Piece p = newPiece(chip, "f32", cols, rows);
      bind(p, 0, col, n);
      a.pieces.push_back(p);
    }
  }
  inputs[key] = a;
  return a;
}

/// Columns of a matmul's result grouped per piece: half a head when the
/// result feeds rotary or attention through layout and elementwise ops (so
/// rotate-half pairs whole pieces and heads stay whole), else 80.
int64_t Codegen::pieceWidthFor(Value result) {
  SmallVector<Value> work = {result};
  while (!work.empty()) {
    Value v = work.pop_back_val();
    for (Operation *user : v.getUsers()) {
      StringRef name = user->getName().getStringRef();
      // Layout ops and elementwise ones (a projection's bias, a cast) keep
      // the pieces.
      if (name == "onnx.Reshape" || name == "onnx.Transpose" || name == "onnx.Unsqueeze" ||
          name == "onnx.Squeeze" || name == "onnx.Add" || name == "onnx.Sub" ||
          name == "onnx.Mul" || name == "onnx.Div" || name == "onnx.Cast") {
        work.push_back(user->getResult(0));
        continue;
      }
      if (isa<xfmr::RotaryOp, xfmr::AttentionOp>(user)) {
        int64_t headDim = cast<RankedTensorType>(user->getOperand(0).getType()).getShape().back();
        if (headDim % 2 == 0 && headDim / 2 <= 80)
          return headDim / 2;
      }
    }
  }
  return 80;
}

} // namespace prism::lpu::detail
