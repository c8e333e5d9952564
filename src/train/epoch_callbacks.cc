#include "train/epoch_callbacks.h"

#include <algorithm>
#include <limits>

#include "common/error.h"

namespace mb {

namespace {

constexpr double kInfinity = std::numeric_limits<double>::infinity();

// A best value as JSON: a number (which JSON round-trips exactly), or the
// infinity it starts at as a string.
nlohmann::json BestToJson(double value) {
  if (value == kInfinity) return "inf";
  if (value == -kInfinity) return "-inf";
  return value;
}

// Reads a checkpoint's callback state field by field.
class StateReader {
 public:
  StateReader(const nlohmann::json& state, std::string source, const char* callback)
      : state_(state), source_(std::move(source)), callback_(callback) {}

  int64_t Count(const char* field) const {
    const nlohmann::json& value = Field(field);
    if (!value.is_number_integer()) Fail(field, "is not an integer");
    return value.get<int64_t>();
  }
  bool Flag(const char* field) const {
    const nlohmann::json& value = Field(field);
    if (!value.is_boolean()) Fail(field, "is not true or false");
    return value.get<bool>();
  }
  double Best(const char* field) const {
    const nlohmann::json& value = Field(field);
    if (value == "inf") return kInfinity;
    if (value == "-inf") return -kInfinity;
    if (!value.is_number()) Fail(field, "is not a number");
    return value.get<double>();
  }

 private:
  const nlohmann::json& Field(const char* field) const {
    if (!state_.is_object() || !state_.contains(field)) Fail(field, "is missing");
    return state_[field];
  }
  [[noreturn]] void Fail(const char* field, const char* problem) const {
    throw InputError(source_ + ": " + callback_ + "." + field + " " + problem);
  }

  const nlohmann::json& state_;
  std::string source_;
  const char* callback_;
};

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

nlohmann::json EarlyStopping::State() const {
  return {{"best", BestToJson(best_)},           {"wait", wait_},
          {"stopped_epoch", stopped_epoch_},     {"best_epoch", best_epoch_},
          {"has_best_weights", has_best_weights_}, {"has_best", has_best_}};
}

void EarlyStopping::Restore(const nlohmann::json& state, const std::string& source) {
  const StateReader reader(state, source, "early_stopping");
  best_ = reader.Best("best");
  wait_ = reader.Count("wait");
  stopped_epoch_ = reader.Count("stopped_epoch");
  best_epoch_ = reader.Count("best_epoch");
  has_best_weights_ = reader.Flag("has_best_weights");
  has_best_ = reader.Flag("has_best");
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

nlohmann::json ReduceLrOnPlateau::State() const {
  return {{"best", BestToJson(best_)}, {"wait", wait_}, {"cooldown_counter", cooldown_counter_}};
}

void ReduceLrOnPlateau::Restore(const nlohmann::json& state, const std::string& source) {
  const StateReader reader(state, source, "reduce_lr_on_plateau");
  best_ = reader.Best("best");
  wait_ = reader.Count("wait");
  cooldown_counter_ = reader.Count("cooldown_counter");
}

}  // namespace mb
