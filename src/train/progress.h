// Keras-like progress output: one line per epoch,
//   Epoch 3/5 - 469/469 - 0.8s - loss: 0.0687 - accuracy: 0.9795
// (plus val_loss / val_accuracy), and a live progress bar on the same line
// while the epoch runs, only when stdout is a terminal.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdio>
#include <string>

#include "report/run_report.h"

namespace mb {

// The finished epoch's line, without a newline: record.steps of `steps`.
std::string FormatEpochLine(const EpochRecord& record, int epochs, size_t steps);

class EpochProgress {
 public:
  // `live`: redraw a progress bar while the epoch runs (a terminal).
  EpochProgress(int epoch, int epochs, size_t steps, bool live, std::FILE* out = stdout);

  // After each step; redraws at most ten times a second.
  void Update(size_t step, double loss, double accuracy);
  // Prints the epoch's line, replacing the bar.
  void Finish(const EpochRecord& record);

 private:
  int epoch_, epochs_;
  size_t steps_;
  bool live_;
  std::FILE* out_;
  std::chrono::steady_clock::time_point start_, last_draw_;
};

// Whether stdout is an interactive terminal.
bool StdoutIsTerminal();

}  // namespace mb
