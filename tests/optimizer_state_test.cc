// An optimizer's state saved part-way and restored into a fresh optimizer
// continues bit for bit, for every optimizer and option: what `runner
// resume` relies on. And a state that does not fit is refused by name.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "common/error.h"
#include "optim/optimizer.h"

namespace mb {
namespace {

OptimizerConfig Make(OptimizerKind kind, float momentum = 0, bool nesterov = false,
                     bool centered = false, bool amsgrad = false) {
  OptimizerConfig c;
  c.kind = kind;
  c.momentum = momentum;
  c.nesterov = nesterov;
  c.centered = centered;
  c.amsgrad = amsgrad;
  // Keras' defaults where they differ from OptimizerConfig's.
  if (kind == OptimizerKind::kAdamW) c.weight_decay = 0.004f;
  if (kind == OptimizerKind::kAdadelta) c.rho = 0.95f;
  if (kind == OptimizerKind::kLion) c.beta_2 = 0.99f;
  return c;
}

// Every optimizer and every option that adds state.
std::vector<std::pair<std::string, OptimizerConfig>> EveryOptimizer() {
  return {{"sgd", Make(OptimizerKind::kSgd)},
          {"sgd momentum", Make(OptimizerKind::kSgd, 0.9f)},
          {"sgd nesterov", Make(OptimizerKind::kSgd, 0.9f, true)},
          {"rmsprop", Make(OptimizerKind::kRmsprop)},
          {"rmsprop momentum centered", Make(OptimizerKind::kRmsprop, 0.5f, false, true)},
          {"adam", Make(OptimizerKind::kAdam)},
          {"adam amsgrad", Make(OptimizerKind::kAdam, 0, false, false, true)},
          {"adamw", Make(OptimizerKind::kAdamW)},
          {"adagrad", Make(OptimizerKind::kAdagrad)},
          {"adadelta", Make(OptimizerKind::kAdadelta)},
          {"adamax", Make(OptimizerKind::kAdamax)},
          {"nadam", Make(OptimizerKind::kNadam)},
          {"lion", Make(OptimizerKind::kLion)}};
}

struct Tensors {
  Parameter kernel = MakeParameter("layers.0.kernel", {7, 5}, {});
  Parameter bias = MakeParameter("layers.0.bias", {5}, {});
  std::vector<Parameter*> list() { return {&kernel, &bias}; }
};

// Step `step`'s gradients, different for every element and step.
void SetGradients(Tensors& t, int step) {
  int i = 0;
  for (Parameter* p : t.list()) {
    for (float& g : p->gradient) g = 0.1f * std::sin(static_cast<float>(++i * 7 + step * 13));
  }
}

bool SameBits(const Parameter& a, const Parameter& b) {
  return std::memcmp(a.value.data(), b.value.data(), a.size() * sizeof(float)) == 0;
}

TEST_CASE("A restored optimizer continues bit for bit", "[optim][resume]") {
  for (const auto& [name, config] : EveryOptimizer()) {
    INFO(name);
    Tensors uninterrupted;
    for (Parameter* p : uninterrupted.list()) p->value.assign(p->size(), 0.5f);
    Optimizer first(config, uninterrupted.list());
    for (int step = 0; step < 3; ++step) {
      SetGradients(uninterrupted, step);
      first.Step();
    }
    first.set_learning_rate(0.0005f);  // as a schedule or ReduceLROnPlateau would
    const OptimizerState saved = first.State();
    Tensors resumed;
    resumed.kernel.value = uninterrupted.kernel.value;
    resumed.bias.value = uninterrupted.bias.value;
    for (int step = 3; step < 6; ++step) {
      SetGradients(uninterrupted, step);
      first.Step();
    }

    Optimizer second(config, resumed.list());
    second.Restore(saved, "checkpoint.safetensors");
    CHECK(second.steps() == 3);
    CHECK(second.learning_rate() == 0.0005f);
    for (int step = 3; step < 6; ++step) {
      SetGradients(resumed, step);
      second.Step();
    }
    CHECK(SameBits(uninterrupted.kernel, resumed.kernel));
    CHECK(SameBits(uninterrupted.bias, resumed.bias));
    CHECK(second.State().tensors.size() == saved.tensors.size());
  }
}

TEST_CASE("The state names each slot as Keras does", "[optim][resume]") {
  Tensors t;
  const OptimizerState adam = Optimizer(Make(OptimizerKind::kAdam, 0, false, false, true),
                                        t.list()).State();
  CHECK(adam.tensors.count("layers.0.kernel.momentum") == 1);
  CHECK(adam.tensors.count("layers.0.bias.velocity") == 1);
  CHECK(adam.tensors.count("layers.0.bias.velocity_hat") == 1);
  CHECK(adam.tensors.at("layers.0.kernel.momentum").shape == std::vector<int64_t>{7, 5});
  const OptimizerState rmsprop = Optimizer(Make(OptimizerKind::kRmsprop), t.list()).State();
  CHECK(rmsprop.tensors.size() == 2);
  CHECK(rmsprop.tensors.count("layers.0.kernel.velocity") == 1);
  CHECK(Optimizer(Make(OptimizerKind::kSgd), t.list()).State().tensors.empty());
  // Keras 3's names for the other optimizers' slots (keras/src/optimizers/*.py).
  const std::pair<OptimizerKind, std::vector<std::string>> names[] = {
      {OptimizerKind::kAdagrad, {"accumulator"}},
      {OptimizerKind::kAdadelta, {"accumulated_delta_var", "accumulated_grad"}},
      {OptimizerKind::kAdamax, {"momentum", "norm"}},
      {OptimizerKind::kNadam, {"momentum", "velocity"}},
      {OptimizerKind::kLion, {"momentum"}},
  };
  for (const auto& [kind, slots] : names) {
    const OptimizerState state = Optimizer(Make(kind), t.list()).State();
    std::vector<std::string> bias_slots;
    for (const auto& [name, tensor] : state.tensors) {
      if (name.rfind("layers.0.bias.", 0) == 0) bias_slots.push_back(name.substr(14));
    }
    CHECK(bias_slots == slots);  // TensorMap is sorted by name
    CHECK(state.tensors.size() == 2 * slots.size());
  }
  // Adagrad's accumulators start at initial_accumulator_value; Nadam keeps
  // the product of its momentum schedule as a scalar, from 1.
  CHECK(Optimizer(Make(OptimizerKind::kAdagrad), t.list())
            .State()
            .tensors.at("layers.0.kernel.accumulator")
            .data[0] == 0.1f);
  const OptimizerState nadam = Optimizer(Make(OptimizerKind::kNadam), t.list()).State();
  CHECK(nadam.scalars.at("u_product") == 1.0);
  CHECK(Optimizer(Make(OptimizerKind::kAdam), t.list()).State().scalars.count("u_product") == 0);
}

TEST_CASE("A state that does not fit is refused by name", "[optim][resume]") {
  Tensors t;
  const OptimizerConfig config = Make(OptimizerKind::kAdam);
  const OptimizerState good = Optimizer(config, t.list()).State();
  Optimizer optimizer(config, t.list());
  const auto refused = [&](OptimizerState state, const std::string& message) {
    try {
      optimizer.Restore(state, "run/checkpoint.safetensors");
    } catch (const InputError& e) {
      CHECK(std::string(e.what()) == message);
      return;
    }
    FAIL("accepted: " << message);
  };
  OptimizerState missing = good;
  missing.tensors.erase("layers.0.bias.velocity");
  refused(missing, "run/checkpoint.safetensors: optimizer state layers.0.bias.velocity is missing");
  OptimizerState reshaped = good;
  reshaped.tensors["layers.0.kernel.momentum"].shape = {5, 7};
  refused(reshaped, "run/checkpoint.safetensors: optimizer state layers.0.kernel.momentum does "
                    "not have the shape of parameter layers.0.kernel");
  OptimizerState extra = good;
  extra.tensors["layers.1.kernel.momentum"] = {{1}, {0.0f}};
  refused(extra, "run/checkpoint.safetensors: optimizer state layers.1.kernel.momentum does "
                 "not belong to this optimizer and model");
  OptimizerState no_steps = good;
  no_steps.scalars.erase("steps");
  refused(no_steps,
          "run/checkpoint.safetensors: optimizer scalar steps is missing or not a number");
  OptimizerState fractional = good;
  fractional.scalars["steps"] = 2.5;
  refused(fractional, "run/checkpoint.safetensors: optimizer scalar steps is not a count of steps");
  // Nadam's and Adam's slots have the same names: the scalar tells them apart.
  OptimizerState nadam_scalar = good;
  nadam_scalar.scalars["u_product"] = 0.5;
  refused(nadam_scalar, "run/checkpoint.safetensors: optimizer scalar u_product does not belong "
                        "to this optimizer");
  Optimizer nadam(Make(OptimizerKind::kNadam), t.list());
  try {
    nadam.Restore(good, "run/checkpoint.safetensors");
    FAIL("accepted adam's state");
  } catch (const InputError& e) {
    CHECK(std::string(e.what()) ==
          "run/checkpoint.safetensors: optimizer scalar u_product is missing or not a number");
  }
}

}  // namespace
}  // namespace mb
