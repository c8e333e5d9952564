// stdout only shows a run: its results are the files in its run directory.
// When stdout stops taking output (its reader went away, as with
// `runner ... | head -1`: main() ignores SIGPIPE; or a write failed), the
// runner carries on without it, says so once on stderr, and repeats there
// the closing lines that say where the results are.
#pragma once

#include <string>

namespace mb {

// Flushes stdout and tells whether writing to it has failed; the first time
// it has, says so on stderr, the line started with `prefix` (a launcher's
// rank, as every line of a sweep process under one).
bool StdoutLost(const std::string& prefix = "");

// Prints `prefix`, `line` and a newline to stdout, and to stderr as well
// when stdout is lost: for the last line of a run or a sweep.
void PrintClosingLine(const std::string& line, const std::string& prefix = "");

}  // namespace mb
