//===- Einsum.cpp - Einsum as one linalg.generic --------------------------===//
//
// An einsum is exactly a linalg.generic: one loop per label, each operand
// indexed by its labels, the labels missing from the output reduced, the
// body a product summed into the output. Repeated labels in a term read a
// diagonal; an ellipsis stands for the (right-aligned, broadcast) dims not
// named by letters.
//
//===----------------------------------------------------------------------===//

#include "LoweringUtils.h"

#include "prism/Dialect/Onnx/OnnxOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

#include <map>

using namespace mlir;
using namespace prism::onnx;
using namespace prism::lowering;

namespace {

/// The labels of each term, with the ellipsis expanded to labels
/// '0', '1', ... (right-aligned across terms).
struct Equation {
  SmallVector<std::string> inputs;
  std::string output;
};

/// Parses `equation` for inputs of the given ranks; nullopt if malformed.
std::optional<Equation> parseEquation(StringRef equation,
                                      ArrayRef<int64_t> ranks) {
  std::string eq;
  for (char c : equation)
    if (c != ' ')
      eq.push_back(c);
  auto [lhs, rhs] = StringRef(eq).split("->");
  bool explicitOutput = StringRef(eq).contains("->");
  SmallVector<StringRef> terms;
  lhs.split(terms, ',');
  if (terms.size() != ranks.size())
    return std::nullopt;
  // The ellipsis covers the dims its term does not name.
  int64_t ellipsisRank = 0;
  SmallVector<int64_t> covered;
  for (auto [term, rank] : llvm::zip(terms, ranks)) {
    int64_t letters = llvm::count_if(term, [](char c) { return std::isalpha(c); });
    int64_t dims = term.contains("...") ? rank - letters : 0;
    if (dims < 0 || (!term.contains("...") && letters != rank))
      return std::nullopt;
    covered.push_back(dims);
    ellipsisRank = std::max(ellipsisRank, dims);
  }
  auto expand = [&](StringRef term, int64_t dims) {
    std::string labels;
    for (size_t i = 0; i < term.size(); ++i) {
      if (term.substr(i).starts_with("...")) {
        for (int64_t d = ellipsisRank - dims; d < ellipsisRank; ++d)
          labels.push_back('0' + d);
        i += 2;
      } else {
        labels.push_back(term[i]);
      }
    }
    return labels;
  };
  Equation result;
  for (auto [term, dims] : llvm::zip(terms, covered))
    result.inputs.push_back(expand(term, dims));
  if (explicitOutput) {
    result.output = expand(rhs, ellipsisRank);
  } else {
    // Implicit form: the ellipsis, then the letters used once, sorted.
    std::map<char, int> uses;
    for (const std::string &t : result.inputs)
      for (char c : t)
        if (std::isalpha(c))
          ++uses[c];
    for (int64_t d = 0; d < ellipsisRank; ++d)
      result.output.push_back('0' + d);
    for (auto [c, n] : uses)
      if (n == 1)
        result.output.push_back(c);
  }
  return result;
}

struct EinsumToGeneric : public OpRewritePattern<ONNXEinsumOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(ONNXEinsumOp op,
                                PatternRewriter &rewriter) const override {
    if (!allStatic(op))
      return failure();
    SmallVector<int64_t> ranks;
    for (Value in : op.getInputs())
      ranks.push_back(tensorType(in).getRank());
    auto eq = parseEquation(op.getEquation(), ranks);
    if (!eq)
      return failure();
    auto result = cast<RankedTensorType>(op.getType());
    Type elem = result.getElementType();
    Type signless = signlessOf(elem);
    if (!isa<FloatType, IntegerType>(elem) ||
        (int64_t)eq->output.size() != result.getRank())
      return failure();

    // Loops: the output's labels (parallel), then the others (reduced).
    std::string loops = eq->output;
    for (const std::string &t : eq->inputs)
      for (char c : t)
        if (loops.find(c) == std::string::npos)
          loops.push_back(c);
    std::map<char, int64_t> extent;
    for (auto [t, in] : llvm::zip(eq->inputs, op.getInputs()))
      for (auto [i, c] : llvm::enumerate(t))
        extent[c] = std::max(extent[c], tensorType(in).getDimSize(i));
    MLIRContext *ctx = rewriter.getContext();
    auto mapOf = [&](const std::string &labels, RankedTensorType type) {
      SmallVector<AffineExpr> exprs;
      for (auto [i, c] : llvm::enumerate(labels)) {
        // A broadcast dim of size 1 reads index 0.
        if (type.getDimSize(i) == 1 && extent[c] != 1)
          exprs.push_back(getAffineConstantExpr(0, ctx));
        else
          exprs.push_back(getAffineDimExpr(loops.find(c), ctx));
      }
      return AffineMap::get(loops.size(), 0, exprs, ctx);
    };
    SmallVector<AffineMap> maps;
    SmallVector<Value> inputs;
    Location loc = op.getLoc();
    for (auto [t, in] : llvm::zip(eq->inputs, op.getInputs())) {
      auto type = tensorType(in);
      if (type.getElementType() != elem)
        return failure();
      maps.push_back(mapOf(t, type));
      inputs.push_back(signless == elem ? in
                                        : tensor::BitcastOp::create(
                                              rewriter, loc, type.clone(signless), in)
                                              .getResult());
    }
    maps.push_back(mapOf(eq->output, result));
    SmallVector<utils::IteratorType> iterators(loops.size(),
                                               utils::IteratorType::reduction);
    std::fill_n(iterators.begin(), eq->output.size(), utils::IteratorType::parallel);

    Value zero = arith::ConstantOp::create(rewriter, loc, rewriter.getZeroAttr(signless));
    Value init = linalg::FillOp::create(
                     rewriter, loc, ValueRange{zero},
                     ValueRange{tensor::EmptyOp::create(rewriter, loc,
                                                        result.getShape(), signless)})
                     .getResult(0);
    bool isFloat = isa<FloatType>(elem);
    Value sum = linalg::GenericOp::create(
                    rewriter, loc, TypeRange{init.getType()}, inputs, ValueRange{init},
                    maps, iterators,
                    [&](OpBuilder &b, Location l, ValueRange args) {
                      Value product = args[0];
                      for (Value v : args.drop_front().drop_back())
                        product = isFloat ? arith::MulFOp::create(b, l, product, v)
                                                .getResult()
                                          : arith::MulIOp::create(b, l, product, v)
                                                .getResult();
                      Value acc = args.back();
                      Value r = isFloat ? arith::AddFOp::create(b, l, acc, product)
                                              .getResult()
                                        : arith::AddIOp::create(b, l, acc, product)
                                              .getResult();
                      linalg::YieldOp::create(b, l, r);
                    })
                    .getResult(0);
    if (signless != elem)
      sum = tensor::BitcastOp::create(rewriter, loc, result, sum);
    rewriter.replaceOp(op, sum);
    return success();
  }
};

} // namespace

void prism::lowering::populateEinsumPatterns(RewritePatternSet &patterns) {
  patterns.add<EinsumToGeneric>(patterns.getContext());
}
