#include "train/memory_budget.h"

#include <cstdio>
#include <iterator>

#include "common/error.h"
#include "nn/model.h"
#include "optim/optimizer.h"
#include "train/threads.h"
#include "train/trainer.h"

namespace mb {

MemoryEstimate EstimateMemory(const Config& config, const DatasetShape& data,
                              uint64_t resident_bytes) {
  // The model as the data's shape makes it, described but not allocated
  // (a layer that cannot take its input is an error here, before anything
  // large is read).
  const Model model = BuildModel(
      FeatureShape::Image(data.train_images.rows, data.train_images.cols, 1), config.model,
      config.source, /*allocate=*/false);
  // Values, gradients and each optimizer slot are one copy of the tensors.
  const uint64_t tensors = TensorCopyBytes(model);
  MemoryEstimate estimate;
  estimate.parameters = 2 * tensors;
  estimate.optimizer = static_cast<uint64_t>(Optimizer::StateSlots(config.optimizer)) * tensors;
  // The whole training file's samples: the validation split only moves
  // some of them to another view.
  estimate.activations =
      TrainerBufferBytes(config, model, data.train_images.count,
                         static_cast<size_t>(ThreadCount(config.threads)));
  estimate.data = data.payload_bytes();
  estimate.process = resident_bytes;
  return estimate;
}

void CheckMemoryBudget(const Config& config, const MemoryEstimate& estimate,
                       const AvailableMemory& available) {
  if (estimate.total() <= available.bytes) return;
  throw InputError(config.source + ": model: needs an estimated " + BytesText(estimate.total()) +
                   " (parameters and gradients " + BytesText(estimate.parameters) +
                   ", optimizer " + BytesText(estimate.optimizer) + ", activations " +
                   BytesText(estimate.activations) + ", data " + BytesText(estimate.data) +
                   ", process " + BytesText(estimate.process) + ") but only " +
                   BytesText(available.bytes) + " is available (" + available.source + ")");
}

nlohmann::json MemoryJson(const MemoryEstimate& estimate, const AvailableMemory& available) {
  return {{"estimated_bytes", estimate.total()},
          {"estimate",
           {{"parameters", estimate.parameters},
            {"optimizer", estimate.optimizer},
            {"activations", estimate.activations},
            {"data", estimate.data},
            {"process", estimate.process}}},
          {"available_bytes", available.bytes == UINT64_MAX ? nlohmann::json(nullptr)
                                                            : nlohmann::json(available.bytes)},
          {"available_source", available.source}};
}

std::string BytesText(uint64_t bytes) {
  if (bytes < 1024) return std::to_string(bytes) + " bytes";
  static constexpr const char* kUnits[] = {"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  double value = static_cast<double>(bytes) / 1024;
  size_t unit = 0;
  for (; value >= 1024 && unit + 1 < std::size(kUnits); ++unit) value /= 1024;
  char text[32];
  std::snprintf(text, sizeof text, "%.1f %s", value, kUnits[unit]);
  return text;
}

}  // namespace mb
