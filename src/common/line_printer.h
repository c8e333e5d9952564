// Lines of text for a stream, each prefixed with a label that says whose they
// are. The ranks of one launcher (mpirun, srun, a job array writing to one
// file) print into one stream, where their lines interleave; a prefix such as
// "[OMPI_COMM_WORLD_RANK=1] " at the start of each line keeps them apart.
#pragma once

#include <cstdio>
#include <string>
#include <string_view>

namespace mb {

class LinePrinter {
 public:
  // Writes to `out`; `prefix` ("" for none) starts every line.
  explicit LinePrinter(std::FILE* out, std::string prefix = "");

  // printf-style; text may hold several lines or end mid-line, and the next
  // call goes on with that line.
  void Printf(const char* format, ...) __attribute__((format(printf, 2, 3)));
  void Write(std::string_view text);
  void Flush();

  const std::string& prefix() const { return prefix_; }
  std::FILE* stream() const { return out_; }

 private:
  std::FILE* out_;
  std::string prefix_;
  bool at_line_start_ = true;
};

}  // namespace mb
