// What Keras' EarlyStopping and ReduceLROnPlateau callbacks take
// (keras/src/callbacks/), by their names and defaults, as the config's
// "early_stopping" and "reduce_lr_on_plateau" objects. Both watch one of
// an epoch's logs; the test set is never among them.
#pragma once

#include <cstdint>
#include <optional>

namespace mb {

namespace schema {
class ObjectReader;
}

enum class Monitor : uint8_t { kLoss, kAccuracy, kValLoss, kValAccuracy };

// "loss", "accuracy", "val_loss", "val_accuracy".
const char* MonitorName(Monitor monitor);
inline bool IsValidationMonitor(Monitor m) {
  return m == Monitor::kValLoss || m == Monitor::kValAccuracy;
}

struct EarlyStoppingConfig {
  Monitor monitor = Monitor::kValLoss;
  double min_delta = 0;
  int64_t patience = 0;
  bool maximize = false;  // mode "max", or "auto" on an accuracy
  std::optional<double> baseline;
  bool restore_best_weights = false;
  int64_t start_from_epoch = 0;
};

struct ReduceLrOnPlateauConfig {
  Monitor monitor = Monitor::kValLoss;
  double factor = 0.1;
  int64_t patience = 10;
  bool maximize = false;
  double min_delta = 1e-4;
  int64_t cooldown = 0;
  double min_lr = 0;
};

// Each reads its key of the top level: null (the default) or an object.
std::optional<EarlyStoppingConfig> ReadEarlyStopping(schema::ObjectReader& top);
std::optional<ReduceLrOnPlateauConfig> ReadReduceLrOnPlateau(schema::ObjectReader& top);

}  // namespace mb
