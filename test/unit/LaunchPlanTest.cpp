//===- LaunchPlanTest.cpp - The GPU launch plan format round-trips --------===//

#include "prism/Target/Gpu/Format/LaunchPlan.h"

#include "llvm/Support/FormatVariadic.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

using namespace prism::gpu;

namespace {

std::string text(const LaunchPlan &plan) {
  return llvm::formatv("{0:2}", toJson(plan)).str();
}

LaunchPlan samplePlan() {
  LaunchPlan plan;
  plan.phase = "decode";
  PlanBuffer in{PlanBuffer::Kind::Input, "input_ids", "", 8, {}, false, 0};
  PlanBuffer w{PlanBuffer::Kind::Weight, "__constant_4x4xbf16", "w", 32, {}, false, 64};
  PlanBuffer gone{PlanBuffer::Kind::Weight, "__elided", "", 16, {}, true, 0};
  PlanBuffer scratch{PlanBuffer::Kind::Scratch, "", "", 64, {}, false, 0};
  plan.buffers = {in, w, gone, scratch};
  PlanView view{3, 4, {2, 3}, {3, 1}, "f32", 4};
  plan.inputs = {{"input_ids", PlanView{0, 0, {1, 1}, {1, 1}, "i64", 8}}};
  plan.outputs = {{"logits", view}};
  PlanLaunch l;
  l.module = "m0";
  l.kernel = "k";
  l.grid = {2, 1, 1};
  l.block = {128, 1, 1};
  PlanArg a;
  a.view = view;
  PlanArg i;
  i.kind = PlanArg::Kind::Int;
  i.intValue = -7;
  i.bits = 32;
  PlanArg f;
  f.kind = PlanArg::Kind::Float;
  f.floatValue = -std::numeric_limits<double>::infinity();
  f.bits = 32;
  l.args = {a, i, f};
  l.predictedSeconds = 1.5e-6;
  plan.launches = {l};
  plan.modules = {{"m0", false, ".version 8.0\n"}, {"m1", true, std::string("\x7f" "ELF\0\1", 6)}};
  return plan;
}

TEST(LaunchPlanFormat, RoundTrips) {
  LaunchPlan plan = samplePlan();
  std::string first = text(plan);
  // Not finite: a string, which every JSON reader accepts.
  EXPECT_NE(first.find("\"-inf\""), std::string::npos);
  auto parsed = llvm::json::parse(first);
  ASSERT_TRUE((bool)parsed);
  auto back = fromJson(*parsed, "sample");
  ASSERT_TRUE((bool)back) << llvm::toString(back.takeError());
  EXPECT_EQ(text(*back), first);
  EXPECT_TRUE(std::isinf(back->launches[0].args[2].floatValue));
  EXPECT_EQ(back->modules[1].data, plan.modules[1].data);
  EXPECT_EQ(back->outputs[0].view.elementBytes, 4);
  EXPECT_TRUE(back->buffers[2].elided);
}

TEST(LaunchPlanFormat, RejectsWhatItCannotRun) {
  auto errorOf = [](llvm::StringRef json) {
    auto parsed = llvm::json::parse(json);
    EXPECT_TRUE((bool)parsed);
    auto plan = fromJson(*parsed, "bad.json");
    return plan ? std::string() : llvm::toString(plan.takeError());
  };
  std::string good = text(samplePlan());
  EXPECT_EQ(errorOf(good), "");
  // A view of a buffer the plan does not have.
  std::string outside = good;
  outside.replace(outside.find("\"buffer\": 3"), 11, "\"buffer\": 9");
  EXPECT_NE(errorOf(outside).find("names buffer 9"), std::string::npos) << errorOf(outside);
  // A launch of a module the plan does not hold.
  std::string module = good;
  module.replace(module.find("\"module\": \"m0\""), 14, "\"module\": \"mX\"");
  EXPECT_NE(errorOf(module).find("names module 'mX'"), std::string::npos) << errorOf(module);
  EXPECT_NE(errorOf("[1, 2]").find("bad.json: not a launch plan"), std::string::npos);
  EXPECT_NE(errorOf("{\"buffers\": [{\"kind\": \"disk\", \"bytes\": 1}]}").find("kind 'disk'"),
            std::string::npos);
}

} // namespace
