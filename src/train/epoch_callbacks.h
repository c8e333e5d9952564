// Keras' EarlyStopping and ReduceLROnPlateau (keras/src/callbacks/), step for
// step: each sees the logs of every finished epoch and says what to do.
// They keep no weights and set no rates themselves; train/experiment.cc
// acts on their answers.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "config/callback_config.h"
#include "report/run_report.h"

namespace mb {

// The monitored log of an epoch; nothing when the epoch has none (no
// validation set).
std::optional<double> MonitorValue(Monitor monitor, const EpochRecord& epoch);

class EarlyStopping {
 public:
  explicit EarlyStopping(const EarlyStoppingConfig& config);

  struct Decision {
    bool keep_weights = false;  // restore_best_weights: these are the best so far
    bool stop = false;          // patience exceeded: training ends here
  };
  // After epoch `epoch` (0-based, as Keras counts on_epoch_end).
  Decision OnEpochEnd(int64_t epoch, const EpochRecord& logs);

  // 0-based, as Keras keeps them; 0 while nothing happened.
  int64_t stopped_epoch() const { return stopped_epoch_; }
  int64_t best_epoch() const { return best_epoch_; }
  // Whether an epoch has counted yet (the first one always improves).
  bool has_best() const { return has_best_; }

  // Its counters, for a checkpoint; Restore throws InputError naming
  // `source` and the field when one is missing or of the wrong type.
  nlohmann::json State() const;
  void Restore(const nlohmann::json& state, const std::string& source);

 private:
  bool IsImprovement(double value, double reference) const;

  EarlyStoppingConfig config_;
  double best_;
  int64_t wait_ = 0, stopped_epoch_ = 0, best_epoch_ = 0;
  bool has_best_weights_ = false;
  bool has_best_ = false;
};

class ReduceLrOnPlateau {
 public:
  explicit ReduceLrOnPlateau(const ReduceLrOnPlateauConfig& config);

  // After an epoch whose logs are `logs`, trained at `learning_rate` (the
  // optimizer's float32 rate): the rate to continue with, when it changes.
  std::optional<float> OnEpochEnd(const EpochRecord& logs, float learning_rate);

  // As EarlyStopping's.
  nlohmann::json State() const;
  void Restore(const nlohmann::json& state, const std::string& source);

 private:
  ReduceLrOnPlateauConfig config_;
  double best_;
  int64_t wait_ = 0, cooldown_counter_ = 0;
};

}  // namespace mb
