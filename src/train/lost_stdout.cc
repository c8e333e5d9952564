#include "train/lost_stdout.h"

#include <cstdio>

namespace mb {

bool StdoutLost() {
  if (std::fflush(stdout) == 0 && !std::ferror(stdout)) return false;
  static bool told = false;
  if (!told) {
    told = true;
    std::fputs("stdout was closed (as by `| head`) or cannot be written: carrying on without it;"
               " the results are written as usual\n",
               stderr);
  }
  return true;
}

void PrintClosingLine(const std::string& line) {
  std::printf("%s\n", line.c_str());
  if (StdoutLost()) std::fprintf(stderr, "%s\n", line.c_str());
}

}  // namespace mb
