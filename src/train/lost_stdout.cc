#include "train/lost_stdout.h"

#include <cstdio>

namespace mb {

bool StdoutLost(const std::string& prefix) {
  if (std::fflush(stdout) == 0 && !std::ferror(stdout)) return false;
  static bool told = false;
  if (!told) {
    told = true;
    std::fputs(prefix.c_str(), stderr);
    std::fputs("stdout was closed (as by `| head`) or cannot be written: carrying on without it;"
               " the results are written as usual\n",
               stderr);
  }
  return true;
}

void PrintClosingLine(const std::string& line, const std::string& prefix) {
  std::printf("%s%s\n", prefix.c_str(), line.c_str());
  if (StdoutLost(prefix)) std::fprintf(stderr, "%s%s\n", prefix.c_str(), line.c_str());
}

}  // namespace mb
