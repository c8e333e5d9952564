// EarlyStopping and ReduceLROnPlateau against Keras' logic
// (keras/src/callbacks/early_stopping.py, reduce_lr_on_plateau.py), on
// hand-made sequences of epoch logs.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "common/error.h"
#include "train/epoch_callbacks.h"

namespace mb {
namespace {

EpochRecord Logs(double loss, double accuracy = 0.5) {
  EpochRecord record;
  record.loss = loss;
  record.accuracy = accuracy;
  return record;
}

// The 1-based epoch after which training stops, or 0 if it runs all of
// `losses`.
int StopsAfter(const EarlyStoppingConfig& config, const std::vector<double>& losses) {
  EarlyStopping stopping(config);
  for (size_t e = 0; e < losses.size(); ++e) {
    if (stopping.OnEpochEnd(static_cast<int64_t>(e), Logs(losses[e])).stop) {
      return static_cast<int>(e) + 1;
    }
  }
  return 0;
}

EarlyStoppingConfig OnLoss(int64_t patience, double min_delta = 0) {
  EarlyStoppingConfig c;
  c.monitor = Monitor::kLoss;
  c.patience = patience;
  c.min_delta = min_delta;
  return c;
}

TEST_CASE("EarlyStopping stops as Keras does", "[callbacks]") {
  // The check: improvements smaller than min_delta 1.0 do not
  // count, and patience 1 ends the run after epoch 2.
  CHECK(StopsAfter(OnLoss(1, 1.0), {0.39, 0.20, 0.15, 0.12, 0.10}) == 2);
  // Patience 0 still never stops after the first epoch (epoch > 0).
  CHECK(StopsAfter(OnLoss(0), {0.3, 0.3, 0.3}) == 2);
  // Keras' docstring example: a loss that never improves, patience 3, runs
  // 4 epochs.
  CHECK(StopsAfter(OnLoss(3), {1, 1, 1, 1, 1, 1, 1, 1, 1, 1}) == 4);
  // Improving keeps it going; min_delta is on the absolute change.
  CHECK(StopsAfter(OnLoss(1), {0.5, 0.4, 0.3, 0.2}) == 0);
  CHECK(StopsAfter(OnLoss(1, 0.05), {0.5, 0.46, 0.45, 0.2}) == 2);
  // start_from_epoch: epochs before it are not counted.
  EarlyStoppingConfig late = OnLoss(0);
  late.start_from_epoch = 2;
  CHECK(StopsAfter(late, {1, 1, 1, 1}) == 4);
  // A baseline that is never beaten: improvements do not restart the wait
  // (but, as in Keras, an improving epoch never stops the run).
  EarlyStoppingConfig base = OnLoss(2);
  CHECK(StopsAfter(base, {0.5, 0.4, 0.4, 0.4}) == 4);
  base.baseline = 0.1;
  CHECK(StopsAfter(base, {0.5, 0.4, 0.4, 0.4}) == 3);
  CHECK(StopsAfter(base, {0.5, 0.4, 0.3, 0.2}) == 0);
}

TEST_CASE("EarlyStopping on accuracy maximises it and keeps the best epoch", "[callbacks]") {
  EarlyStoppingConfig c;
  c.monitor = Monitor::kAccuracy;
  c.maximize = true;
  c.patience = 1;
  c.restore_best_weights = true;
  EarlyStopping stopping(c);
  const std::vector<double> accuracy = {0.90, 0.95, 0.94, 0.96};
  std::vector<bool> kept;
  int stopped = 0;
  for (size_t e = 0; e < accuracy.size() && stopped == 0; ++e) {
    const auto decision = stopping.OnEpochEnd(static_cast<int64_t>(e), Logs(1.0, accuracy[e]));
    kept.push_back(decision.keep_weights);
    if (decision.stop) stopped = static_cast<int>(e) + 1;
  }
  CHECK(stopped == 3);
  CHECK(kept == std::vector<bool>{true, true, false});
  CHECK(stopping.best_epoch() == 1);  // 0-based: the second epoch
  CHECK(stopping.stopped_epoch() == 2);
}

TEST_CASE("EarlyStopping does nothing without its log", "[callbacks]") {
  EarlyStoppingConfig c;  // val_loss, absent from these logs
  EarlyStopping stopping(c);
  for (int64_t e = 0; e < 5; ++e) CHECK_FALSE(stopping.OnEpochEnd(e, Logs(1.0)).stop);
  CHECK_FALSE(stopping.has_best());
}

TEST_CASE("ReduceLROnPlateau reduces after patience, then cools down", "[callbacks]") {
  ReduceLrOnPlateauConfig c;
  c.monitor = Monitor::kLoss;
  c.patience = 2;
  c.factor = 0.5;
  c.cooldown = 1;
  c.min_lr = 0.0003;
  ReduceLrOnPlateau reduce(c);
  float rate = 0.001f;
  std::vector<float> rates;
  for (double loss : {1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0}) {
    if (const auto next = reduce.OnEpochEnd(Logs(loss), rate)) rate = *next;
    rates.push_back(rate);
  }
  // Epoch 1 sets the best; 2 and 3 wait, and 3 reduces; 4 ends the
  // cooldown and, in Keras' order, already waits again; 5 reduces, to
  // min_lr (a quarter would be below it); after that nothing is above it.
  const float half = static_cast<float>(double{0.001f} * 0.5);
  CHECK(rates == std::vector<float>{0.001f, 0.001f, half, half, 0.0003f, 0.0003f, 0.0003f,
                                    0.0003f, 0.0003f});
}

TEST_CASE("ReduceLROnPlateau counts an improvement only beyond min_delta", "[callbacks]") {
  ReduceLrOnPlateauConfig c;
  c.monitor = Monitor::kLoss;
  c.patience = 1;
  c.min_delta = 0.1;
  ReduceLrOnPlateau reduce(c);
  CHECK_FALSE(reduce.OnEpochEnd(Logs(1.0), 0.01f));
  CHECK_FALSE(reduce.OnEpochEnd(Logs(0.85), 0.01f));  // better by 0.15
  const auto reduced = reduce.OnEpochEnd(Logs(0.80), 0.01f);  // by 0.05 only
  REQUIRE(reduced);
  CHECK(*reduced == static_cast<float>(double{0.01f} * 0.1));
}

TEST_CASE("A restored EarlyStopping decides as the one it was saved from", "[callbacks][resume]") {
  const std::vector<double> losses = {1.0, 0.9, 0.95, 0.97, 0.96, 0.99};
  EarlyStoppingConfig c = OnLoss(3);
  c.restore_best_weights = true;
  for (size_t cut = 0; cut <= losses.size(); ++cut) {
    INFO("saved after " << cut << " epochs");
    EarlyStopping uninterrupted(c), first(c);
    for (size_t e = 0; e < cut; ++e) first.OnEpochEnd(static_cast<int64_t>(e), Logs(losses[e]));
    // Through text, as a checkpoint keeps it: the infinity before the
    // first epoch included.
    EarlyStopping resumed(c);
    resumed.Restore(nlohmann::json::parse(first.State().dump()), "checkpoint");
    for (size_t e = 0; e < losses.size(); ++e) {
      const auto expected = uninterrupted.OnEpochEnd(static_cast<int64_t>(e), Logs(losses[e]));
      if (e < cut) continue;
      const auto got = resumed.OnEpochEnd(static_cast<int64_t>(e), Logs(losses[e]));
      CHECK(got.stop == expected.stop);
      CHECK(got.keep_weights == expected.keep_weights);
    }
    CHECK(resumed.State() == uninterrupted.State());
  }
}

TEST_CASE("A restored ReduceLROnPlateau reduces as the one it was saved from",
          "[callbacks][resume]") {
  ReduceLrOnPlateauConfig c;
  c.monitor = Monitor::kLoss;
  c.patience = 2;
  c.cooldown = 1;
  ReduceLrOnPlateau first(c);
  for (int e = 0; e < 3; ++e) first.OnEpochEnd(Logs(1.0), 0.001f);  // reduces at the third
  ReduceLrOnPlateau resumed(c);
  resumed.Restore(nlohmann::json::parse(first.State().dump()), "checkpoint");
  CHECK(resumed.State() == first.State());
  CHECK(resumed.State()["cooldown_counter"] == 1);
}

TEST_CASE("A callback state with a missing or wrong field is refused by name",
          "[callbacks][resume]") {
  EarlyStopping stopping(OnLoss(1));
  nlohmann::json state = stopping.State();
  state.erase("wait");
  CHECK_THROWS_WITH(stopping.Restore(state, "run/checkpoint.safetensors"),
                    "run/checkpoint.safetensors: early_stopping.wait is missing");
  state = stopping.State();
  state["best"] = "lots";
  CHECK_THROWS_WITH(stopping.Restore(state, "run/checkpoint.safetensors"),
                    "run/checkpoint.safetensors: early_stopping.best is not a number");
  ReduceLrOnPlateau reduce(ReduceLrOnPlateauConfig{});
  state = reduce.State();
  state["cooldown_counter"] = 1.5;
  CHECK_THROWS_WITH(reduce.Restore(state, "ckpt"),
                    "ckpt: reduce_lr_on_plateau.cooldown_counter is not an integer");
}

}  // namespace
}  // namespace mb
