#include "train/epoch_callbacks.h"

#include <algorithm>
#include <limits>

namespace mb {

namespace {

constexpr double kInfinity = std::numeric_limits<double>::infinity();

}  // namespace

std::optional<double> MonitorValue(Monitor monitor, const EpochRecord& epoch) {
  switch (monitor) {
    case Monitor::kLoss: return epoch.loss;
    case Monitor::kAccuracy: return epoch.accuracy;
    case Monitor::kValLoss: return epoch.val_loss;
    case Monitor::kValAccuracy: return epoch.val_accuracy;
  }
  return std::nullopt;
}

EarlyStopping::EarlyStopping(const EarlyStoppingConfig& config)
    : config_(config), best_(config.maximize ? -kInfinity : kInfinity) {}

// Keras: monitor_op(value - min_delta, reference), with min_delta negated
// when minimising.
bool EarlyStopping::IsImprovement(double value, double reference) const {
  if (config_.maximize) return value - config_.min_delta > reference;
  return value + config_.min_delta < reference;
}

EarlyStopping::Decision EarlyStopping::OnEpochEnd(int64_t epoch, const EpochRecord& logs) {
  Decision decision;
  const std::optional<double> current = MonitorValue(config_.monitor, logs);
  if (!current || epoch < config_.start_from_epoch) return decision;
  if (config_.restore_best_weights && !has_best_weights_) {
    // Before any improvement the current weights count as the best.
    has_best_weights_ = true;
    decision.keep_weights = true;
    best_epoch_ = epoch;
  }
  ++wait_;
  if (IsImprovement(*current, best_)) {
    has_best_ = true;
    best_ = *current;
    best_epoch_ = epoch;
    decision.keep_weights = config_.restore_best_weights;
    // The wait restarts only when the baseline is beaten too.
    if (!config_.baseline || IsImprovement(*current, *config_.baseline)) wait_ = 0;
    return decision;
  }
  if (wait_ >= config_.patience && epoch > 0) {
    stopped_epoch_ = epoch;
    decision.stop = true;
  }
  return decision;
}

ReduceLrOnPlateau::ReduceLrOnPlateau(const ReduceLrOnPlateauConfig& config)
    : config_(config), best_(config.maximize ? -kInfinity : kInfinity) {}

std::optional<float> ReduceLrOnPlateau::OnEpochEnd(const EpochRecord& logs, float learning_rate) {
  const std::optional<double> current = MonitorValue(config_.monitor, logs);
  if (!current) return std::nullopt;
  if (cooldown_counter_ > 0) {
    --cooldown_counter_;
    wait_ = 0;
  }
  const bool better = config_.maximize ? *current > best_ + config_.min_delta
                                       : *current < best_ - config_.min_delta;
  if (better) {
    best_ = *current;
    wait_ = 0;
    return std::nullopt;
  }
  if (cooldown_counter_ > 0) return std::nullopt;
  if (++wait_ < config_.patience) return std::nullopt;
  // Keras compares with min_lr as a float32 and computes the new rate in
  // double before the optimizer's float32 variable takes it.
  if (!(learning_rate > static_cast<float>(config_.min_lr))) return std::nullopt;
  const double reduced = std::max(double{learning_rate} * config_.factor, config_.min_lr);
  cooldown_counter_ = config_.cooldown;
  wait_ = 0;
  return static_cast<float>(reduced);
}

}  // namespace mb
