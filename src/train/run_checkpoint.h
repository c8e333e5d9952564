// The run checkpoint, <run dir>/checkpoint.safetensors: everything a run
// cut off after an epoch needs to continue bit for bit (`runner resume`),
// in one file written atomically after every epoch, so it always describes
// one moment of the run. Its tensors are the model's ("model.layers.0.kernel"),
// the optimizer's slots ("optimizer.layers.0.kernel.velocity") and the
// weights early stopping may restore ("best_weights.layers.0.kernel"); its
// metadata the counters, the callbacks' states and the report so far. The
// data order and dropout masks need no state: they are drawn from streams
// keyed by the seed, the epoch and the step (common/rng.h).
#pragma once

#include <cstdint>
#include <exception>
#include <string>
#include <thread>

#include <nlohmann/json.hpp>

#include "optim/optimizer.h"
#include "report/safetensors.h"

namespace mb {

inline constexpr const char* kCheckpointFile = "checkpoint.safetensors";

struct RunCheckpoint {
  std::string config_hash;     // of the config the run trains
  int epochs_done = 0;         // epochs completed
  bool training_done = false;  // no epoch is left: the test evaluation is next
  uint64_t steps_taken = 0;    // training steps over all epochs
  TensorMap model;
  OptimizerState optimizer;
  TensorMap best_weights;  // early_stopping.restore_best_weights; empty otherwise
  // Each callback's State(), or null without that callback.
  nlohmann::json early_stopping, reduce_lr_on_plateau;
  // report.json's contents as of the checkpoint (RunReport::ToJson).
  nlohmann::json report;
};

// Writes atomically. Throws OutputError.
void WriteRunCheckpoint(const std::string& path, const RunCheckpoint& checkpoint);

// Writes checkpoints on a thread of their own, so that training goes on
// while one reaches the disk (most of the 10 ms the baseline's 3 MB take
// is the wait for fsync). One write at a time: Write waits for the last.
// A kill while a write is under way leaves the checkpoint before it, and a
// resume from there is as exact, just further back.
class CheckpointWriter {
 public:
  CheckpointWriter() = default;
  CheckpointWriter(const CheckpointWriter&) = delete;
  CheckpointWriter& operator=(const CheckpointWriter&) = delete;
  // Waits for the write under way, dropping its error: the destructor only
  // runs unwinding from another error, or after Wait().
  ~CheckpointWriter();

  // Waits for the last write (throwing its error), then starts this one.
  void Write(std::string path, RunCheckpoint checkpoint);
  // Waits for the last write; throws its OutputError.
  void Wait();

 private:
  std::thread thread_;
  std::exception_ptr error_;
};

// Reads and checks a checkpoint's structure. Throws InputError with a
// one-line message naming the file and the field when it cannot be read,
// is not a mnistbench checkpoint, or a field is missing or malformed.
RunCheckpoint ReadRunCheckpoint(const std::string& path);

}  // namespace mb
