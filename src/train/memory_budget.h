// The memory a run needs, estimated from its config and its data files'
// headers before anything large is allocated, and the check that refuses a
// run the machine cannot hold. Without it a model too large for memory
// passed validation, and the kernel's OOM killer ended the run without a
// word (exit 137) once the model was allocated.
#pragma once

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "config/config.h"
#include "data/dataset.h"
#include "train/available_memory.h"

namespace mb {

// Each part is what the run will allocate for it, counted the way the
// allocator takes it (large buffers in whole huge pages: aligned_vector.h).
struct MemoryEstimate {
  uint64_t parameters = 0;   // the model's values and gradients
  uint64_t optimizer = 0;    // the optimizer's state slots
  uint64_t activations = 0;  // the trainer's workspaces, batches, sample order, predictions
  uint64_t data = 0;         // the four data files' payloads, as their headers declare them
  uint64_t process = 0;      // resident before the run: code, libraries, the config

  uint64_t total() const { return parameters + optimizer + activations + data + process; }
};

// `resident_bytes`: what the process holds already (run_report.h's
// ResidentBytes()).
MemoryEstimate EstimateMemory(const Config& config, const DatasetShape& data,
                              uint64_t resident_bytes);

// Throws InputError, one line naming the config file, when the estimate is
// more than is available: "<config>: model: needs an estimated 104.5 GiB
// (parameters and gradients 69.6 GiB, ...) but only 21.0 GiB is available
// (MemAvailable in /proc/meminfo)".
void CheckMemoryBudget(const Config& config, const MemoryEstimate& estimate,
                       const AvailableMemory& available);

// report.json's "memory": estimated_bytes and its parts, available_bytes
// (null when nothing limits it) and available_source.
nlohmann::json MemoryJson(const MemoryEstimate& estimate, const AvailableMemory& available);

// Bytes for a person: "512 bytes", "12.0 KiB", "80.3 MiB", "104.5 GiB".
std::string BytesText(uint64_t bytes);

}  // namespace mb
