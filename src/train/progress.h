// Keras-like progress output: one line per epoch,
//   Epoch 3/5 - 469/469 - 0.8s - loss: 0.0687 - accuracy: 0.9795
// (plus val_loss / val_accuracy), and a live progress bar on the same line
// while the epoch runs, only on a terminal and only when lines are not
// prefixed with a launcher's rank.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdio>
#include <string>

#include "common/line_printer.h"
#include "report/run_report.h"

namespace mb {

// The finished epoch's line, without a newline: record.steps of `steps`.
std::string FormatEpochLine(const EpochRecord& record, int epochs, size_t steps);

class EpochProgress {
 public:
  // `terminal`: whether `out` goes to an interactive terminal. The live bar
  // is drawn only there, and only when `out` has no prefix: prefixed lines
  // come from one rank of several that share a stream (mpirun gives every
  // rank a terminal), whose bars would overwrite each other's.
  EpochProgress(int epoch, int epochs, size_t steps, bool terminal,
                LinePrinter out = LinePrinter(stdout));

  // After each step; redraws at most ten times a second.
  void Update(size_t step, double loss, double accuracy);
  // Prints the epoch's line, replacing the bar.
  void Finish(const EpochRecord& record);

 private:
  int epoch_, epochs_;
  size_t steps_;
  LinePrinter out_;
  bool live_;
  std::chrono::steady_clock::time_point start_, last_draw_;
};

// Whether stdout is an interactive terminal.
bool StdoutIsTerminal();

}  // namespace mb
