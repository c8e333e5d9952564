// The baseline's exact numbers, as committed in tests/fixtures/baseline_golden.json,
// reproduced bit for bit on whatever machine runs the suite: on every SIMD
// target it supports, and at 1, 2 and 4 threads. One fixture per numerics class
// (kernels/target.h): "fma" for AVX2 and AVX-512, "no-fma" for SSE4, SSSE3
// and SCALAR.
//
// To regenerate the fixture after a change that is meant to move the numbers
// (and say so in the commit message):
//   MB_WRITE_GOLDEN=1 build/tests/test_train '[golden]'
// writes it from the best target of each class this machine has, and fails so
// that a run with the variable set never passes silently.
#include <catch2/catch.hpp>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/sha256.h"
#include "config/config.h"
#include "data/dataset.h"
#include "kernels/target.h"
#include "nn/init.h"
#include "report/atomic_file.h"
#include "report/machine_info.h"
#include "train/threads.h"
#include "train/trainer.h"

namespace mb {
namespace {

using nlohmann::json;

// The first steps of the baseline checked per step on each target and
// thread count, per class; the no-fma class runs fewer, its SCALAR target
// being slow.
const std::map<std::string, size_t> kCheckedSteps = {{"fma", 300}, {"no-fma", 100}};

std::string FixturePath() {
  const char* root = std::getenv("MB_SOURCE_ROOT");
  return std::string(root ? root : ".") + "/tests/fixtures/baseline_golden.json";
}

const Config& Baseline() {
  static const Config config = LoadConfig("configs/baseline.json", {});
  return config;
}

const Dataset& Mnist() {
  static const Dataset data = LoadDataset(Baseline().data, Baseline().validation_split);
  return data;
}

// A double exactly, as C's hex float ("0x1.1197f2cb4c12bp-2").
std::string Hex(double value) {
  char text[64];
  std::snprintf(text, sizeof text, "%a", value);
  return text;
}

std::string WeightsSha256(const Model& model) {
  Sha256 hash;
  ForEachParameter(model, [&](const Parameter& p) {
    hash.Update(p.value.data(), p.size() * sizeof(float));
  });
  return hash.HexDigest();
}

struct Numbers {
  std::vector<std::string> step_losses;  // the mean loss of each batch, as hex
  std::string weights_sha256;
  // The full run only:
  std::vector<std::string> epoch_losses, epoch_accuracies;
  std::string test_loss, test_accuracy;
};

// The baseline trained on the current target: its first `steps` steps, or
// (steps = 0) the whole run with the test set evaluated.
Numbers TrainBaseline(int threads, size_t steps) {
  ConfigureThreads(threads);
  const Config& config = Baseline();
  const Dataset& data = Mnist();
  Model model = BuildModel(data.image_shape(), config.model);
  InitializeModel(model, config.seed);
  Trainer trainer(config, data, model);
  Numbers numbers;
  if (steps > 0) {
    trainer.set_step_observer([&](size_t step, const BatchLoss& loss, size_t batch) {
      numbers.step_losses.push_back(Hex(loss.loss_sum / static_cast<double>(batch)));
      return step < steps;
    });
  }
  for (int epoch = 1; epoch <= config.epochs; ++epoch) {
    EpochProgress progress(epoch, config.epochs, trainer.steps_per_epoch(), false);
    const std::optional<EpochRecord> record = trainer.RunEpoch(epoch, progress);
    if (!record) break;  // the observer ended it
    numbers.epoch_losses.push_back(Hex(record->loss));
    numbers.epoch_accuracies.push_back(Hex(record->accuracy));
  }
  numbers.weights_sha256 = WeightsSha256(model);
  if (steps == 0) {
    const Evaluation test = trainer.Evaluate(data.test);
    numbers.test_loss = Hex(test.loss);
    numbers.test_accuracy = Hex(test.accuracy);
  }
  return numbers;
}

// The compiled targets the CPU supports, by numerics class, best first.
std::map<std::string, std::vector<std::string>> TargetsByClass() {
  std::map<std::string, std::vector<std::string>> classes;
  for (const std::string& target : CompiledTargetNames()) {
    if (!KernelTargetProblem(target).empty()) continue;  // not on this CPU
    PinKernelTarget(target);
    classes[NumericsClass()].push_back(target);
  }
  PinKernelTarget("auto");
  return classes;
}

json ToJson(const std::vector<std::string>& values) { return json(values); }

void WriteFixture() {
  json classes = json::object();
  for (const auto& [numerics, targets] : TargetsByClass()) {
    PinKernelTarget(targets.front());
    const Numbers steps = TrainBaseline(2, kCheckedSteps.at(numerics));
    json entry = {{"produced_on", {{"simd_target", targets.front()},
                                   {"machine", CollectMachineInfo(2)["cpu_model"]}}},
                  {"steps", kCheckedSteps.at(numerics)},
                  {"step_losses", steps.step_losses},
                  {"weights_sha256_after_steps", steps.weights_sha256}};
    if (numerics == "fma") {
      const Numbers full = TrainBaseline(2, 0);
      entry["full_run"] = {{"epoch_losses", full.epoch_losses},
                           {"epoch_accuracies", full.epoch_accuracies},
                           {"test_loss", full.test_loss},
                           {"test_accuracy", full.test_accuracy},
                           {"weights_sha256", full.weights_sha256}};
    }
    classes[numerics] = entry;
  }
  PinKernelTarget("auto");
  const json fixture = {
      {"about", "configs/baseline.json's exact numbers per numerics class (tests/golden_test.cc): "
                "the mean loss of each of the first steps and the SHA-256 of the float32 "
                "weights (each layer's kernel, then its bias) after them; for the fma class "
                "also the whole run's epoch losses and accuracies, test loss and accuracy "
                "and final weights. Doubles are C hex floats (printf %a)."},
      {"config", "configs/baseline.json"},
      {"classes", classes}};
  WriteFileAtomic(FixturePath(), fixture.dump(2) + "\n");
}

const json& Fixture() {
  static const json fixture = [] {
    std::ifstream in(FixturePath());
    REQUIRE(in.good());
    return json::parse(in);
  }();
  return fixture;
}

// Pins each target of the classes the fixture has, in turn, and calls
// body(class's fixture entry, target, whether it is the CPU's best target).
template <class Body>
void ForEachTargetWithFixture(const Body& body) {
  size_t checked = 0;
  PinKernelTarget("auto");
  const std::string best = KernelTargetName();
  for (const auto& [numerics, targets] : TargetsByClass()) {
    if (!Fixture()["classes"].contains(numerics)) continue;
    for (const std::string& target : targets) {
      INFO("target " << target << " (numerics class " << numerics << ")");
      PinKernelTarget(target);
      body(Fixture()["classes"][numerics], target == best);
      ++checked;
    }
  }
  PinKernelTarget("auto");
  ConfigureThreads(0);
  CHECK(checked > 0);
}

// Every target at 2 threads, and the best one at 1 and 4 threads as well
// (the thread count's independence of the target is the kernel tests'):
// the suite also runs under the sanitizers, where a step is ten times slower.
TEST_CASE("The baseline's first steps are bitwise the fixture's on every target", "[golden]") {
  if (std::getenv("MB_WRITE_GOLDEN")) {
    WriteFixture();
    FAIL("wrote " << FixturePath() << "; unset MB_WRITE_GOLDEN to check it");
  }
  ForEachTargetWithFixture([](const json& expected, bool best) {
    for (int threads : {1, 2, 4}) {
      if (threads != 2 && !best) continue;
      INFO(threads << " threads");
      const Numbers numbers = TrainBaseline(threads, expected["steps"].get<size_t>());
      REQUIRE(numbers.step_losses.size() == expected["step_losses"].size());
      for (size_t i = 0; i < numbers.step_losses.size(); ++i) {
        INFO("step " << i + 1);
        REQUIRE(numbers.step_losses[i] == expected["step_losses"][i].get<std::string>());
      }
      CHECK(numbers.weights_sha256 == expected["weights_sha256_after_steps"]);
    }
  });
}

// Tagged [whole-run]: the sanitized build leaves it out (tests/meson.build),
// the test above tying every target to the fixture step by step there.
TEST_CASE("The whole baseline run is bitwise the fixture's on every FMA target",
          "[golden][whole-run]") {
  if (std::getenv("MB_WRITE_GOLDEN")) return;  // written by the test case above
  ForEachTargetWithFixture([](const json& expected, bool) {
    if (!expected.contains("full_run")) return;
    const json& full = expected["full_run"];
    const Numbers numbers = TrainBaseline(2, 0);
    CHECK(ToJson(numbers.epoch_losses) == full["epoch_losses"]);
    CHECK(ToJson(numbers.epoch_accuracies) == full["epoch_accuracies"]);
    CHECK(numbers.test_loss == full["test_loss"]);
    CHECK(numbers.test_accuracy == full["test_accuracy"]);
    CHECK(numbers.weights_sha256 == full["weights_sha256"]);
  });
}

}  // namespace
}  // namespace mb
