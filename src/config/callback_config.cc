// The schema of "early_stopping" and "reduce_lr_on_plateau": Keras' keys and
// defaults (keras/src/callbacks/early_stopping.py, reduce_lr_on_plateau.py).
#include "config/callback_config.h"

#include <string>

#include "config/object_reader.h"

namespace mb {

using namespace schema;

namespace {

constexpr Named<Monitor> kMonitors[] = {
    {"val_loss", Monitor::kValLoss},
    {"val_accuracy", Monitor::kValAccuracy},
    {"loss", Monitor::kLoss},
    {"accuracy", Monitor::kAccuracy},
};
enum class Mode : uint8_t { kAuto, kMin, kMax };
constexpr Named<Mode> kModes[] = {{"auto", Mode::kAuto}, {"min", Mode::kMin}, {"max", Mode::kMax}};

constexpr uint64_t kMaxEpochs = 100000;

// Keras' "auto": accuracies are maximised, losses minimised.
bool Maximize(Mode mode, Monitor monitor) {
  if (mode != Mode::kAuto) return mode == Mode::kMax;
  return monitor == Monitor::kAccuracy || monitor == Monitor::kValAccuracy;
}

// The object at `key` when it is one; nothing (recorded as null) when it is
// absent or null.
const json* ObjectOrNull(ObjectReader& top, const std::string& key) {
  const json* value = top.Find(key);
  if (!value || value->is_null()) {
    top.Record(key, nullptr);
    return nullptr;
  }
  return &Expect(top.source(), top.PathOf(key), *value, JsonKind::kObject);
}

// The keys both callbacks share, with their own defaults: the log watched,
// whether it should grow, the change that counts, and the epochs to wait.
template <class Config>
void ReadWatch(ObjectReader& reader, double min_delta, uint64_t patience, Config& c) {
  c.monitor = reader.Choice("monitor", "val_loss", kMonitors).value;
  c.maximize = Maximize(reader.Choice("mode", "auto", kModes).value, c.monitor);
  c.min_delta = reader.Number("min_delta", min_delta, kNonNegative);
  c.patience = static_cast<int64_t>(reader.Integer("patience", patience, 0, kMaxEpochs));
}

}  // namespace

const char* MonitorName(Monitor monitor) {
  for (const Named<Monitor>& named : kMonitors) {
    if (named.value == monitor) return named.name;
  }
  return "?";
}

std::optional<EarlyStoppingConfig> ReadEarlyStopping(ObjectReader& top) {
  const json* object = ObjectOrNull(top, "early_stopping");
  if (!object) return std::nullopt;
  ObjectReader reader(top.source(), *object, top.PathOf("early_stopping"));
  EarlyStoppingConfig c;
  ReadWatch(reader, 0.0, 0, c);
  const json* baseline = reader.Find("baseline");
  if (baseline && !baseline->is_null()) {
    c.baseline = reader.Number("baseline", std::nullopt, Interval{-kInfinity, false, kInfinity, false});
  } else {
    reader.Record("baseline", nullptr);
  }
  c.restore_best_weights = reader.Boolean("restore_best_weights", false);
  c.start_from_epoch = static_cast<int64_t>(reader.Integer("start_from_epoch", 0, 0, kMaxEpochs));
  top.Record("early_stopping", reader.Finish());
  return c;
}

std::optional<ReduceLrOnPlateauConfig> ReadReduceLrOnPlateau(ObjectReader& top) {
  const json* object = ObjectOrNull(top, "reduce_lr_on_plateau");
  if (!object) return std::nullopt;
  ObjectReader reader(top.source(), *object, top.PathOf("reduce_lr_on_plateau"));
  ReduceLrOnPlateauConfig c;
  ReadWatch(reader, 1e-4, 10, c);
  c.factor = reader.Number("factor", 0.1, Interval{0, false, 1, false});
  c.cooldown = static_cast<int64_t>(reader.Integer("cooldown", 0, 0, kMaxEpochs));
  c.min_lr = reader.Number("min_lr", 0.0, kNonNegative);
  top.Record("reduce_lr_on_plateau", reader.Finish());
  return c;
}

}  // namespace mb
