#include "train/progress.h"

#include <unistd.h>

#include <cinttypes>
#include <utility>

namespace mb {

std::string FormatEpochLine(const EpochRecord& r, int epochs, size_t steps) {
  char line[512];
  int n = std::snprintf(line, sizeof line,
                        "Epoch %d/%d - %zu/%zu - %.1fs - loss: %.4f - accuracy: %.4f", r.epoch,
                        epochs, r.steps, steps, r.seconds, r.loss, r.accuracy);
  if (r.val_loss && r.val_accuracy && n > 0 && static_cast<size_t>(n) < sizeof line) {
    std::snprintf(line + n, sizeof line - n, " - val_loss: %.4f - val_accuracy: %.4f",
                  *r.val_loss, *r.val_accuracy);
  }
  return line;
}

EpochProgress::EpochProgress(int epoch, int epochs, size_t steps, bool terminal, LinePrinter out)
    : epoch_(epoch),
      epochs_(epochs),
      steps_(steps),
      out_(std::move(out)),
      live_(terminal && out_.prefix().empty()),
      start_(std::chrono::steady_clock::now()),
      last_draw_(start_) {}

void EpochProgress::Update(size_t step, double loss, double accuracy) {
  if (!live_) return;
  const auto now = std::chrono::steady_clock::now();
  if (step != steps_ && now - last_draw_ < std::chrono::milliseconds(100)) return;
  last_draw_ = now;
  constexpr int kWidth = 30;
  const int filled = static_cast<int>(kWidth * step / steps_);
  char bar[kWidth + 1];
  for (int i = 0; i < kWidth; ++i) bar[i] = i < filled ? '=' : (i == filled ? '>' : '.');
  bar[kWidth] = '\0';
  const double seconds = std::chrono::duration<double>(now - start_).count();
  out_.Printf("\rEpoch %d/%d - %zu/%zu [%s] - %.1fs - loss: %.4f - accuracy: %.4f\033[K", epoch_,
              epochs_, step, steps_, bar, seconds, loss, accuracy);
  out_.Flush();
}

void EpochProgress::Finish(const EpochRecord& record) {
  out_.Printf("%s%s\n", live_ ? "\r\033[K" : "",
              FormatEpochLine(record, epochs_, steps_).c_str());
  out_.Flush();
}

bool StdoutIsTerminal() { return isatty(STDOUT_FILENO) == 1; }

}  // namespace mb
