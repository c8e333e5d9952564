// Epoch progress (train/progress.h): the live bar only on a terminal and only
// for unprefixed output; a rank's epoch lines are plain and prefixed.
#include <catch2/catch.hpp>

#include <cstdio>
#include <string>

#include "train/progress.h"

namespace mb {
namespace {

// What one 3-step epoch prints, drawn as if to a terminal or not.
std::string EpochOutput(bool terminal, const std::string& prefix) {
  std::FILE* file = std::tmpfile();
  REQUIRE(file != nullptr);
  {
    EpochProgress progress(1, 2, 3, terminal, LinePrinter(file, prefix));
    for (size_t step = 1; step <= 3; ++step) progress.Update(step, 0.5, 0.75);
    EpochRecord record;
    record.epoch = 1;
    record.steps = 3;
    record.seconds = 0.3;
    record.loss = 0.5;
    record.accuracy = 0.75;
    progress.Finish(record);
  }
  std::rewind(file);
  std::string text;
  for (int c; (c = std::fgetc(file)) != EOF;) text += static_cast<char>(c);
  std::fclose(file);
  return text;
}

const char* const kEpochLine = "Epoch 1/2 - 3/3 - 0.3s - loss: 0.5000 - accuracy: 0.7500\n";

TEST_CASE("A terminal gets a live bar that the epoch line replaces", "[train]") {
  const std::string text = EpochOutput(true, "");
  CHECK_THAT(text, Catch::StartsWith("\rEpoch 1/2 - 3/3 [==============================]"));
  CHECK_THAT(text, Catch::EndsWith(std::string("\r\033[K") + kEpochLine));
}

TEST_CASE("Piped output gets the epoch line alone", "[train]") {
  CHECK(EpochOutput(false, "") == kEpochLine);
}

// mpirun gives every rank a terminal: their bars would overwrite each other.
TEST_CASE("A rank's output gets plain prefixed lines, even on a terminal", "[train]") {
  CHECK(EpochOutput(true, "[OMPI_COMM_WORLD_RANK=1] ") ==
        std::string("[OMPI_COMM_WORLD_RANK=1] ") + kEpochLine);
  CHECK(EpochOutput(false, "[SLURM_PROCID=0] ") == std::string("[SLURM_PROCID=0] ") + kEpochLine);
}

}  // namespace
}  // namespace mb
