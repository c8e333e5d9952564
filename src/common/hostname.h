// This machine's host name, as reports, claims and temporary file names
// record it. Header-only, so that every layer (and each fuzz target, which
// compiles only the sources it fuzzes) can use it.
#pragma once

#include <limits.h>
#include <unistd.h>

#include <string>

namespace mb {

// gethostname, or "unknown".
inline std::string Hostname() {
  char name[HOST_NAME_MAX + 1] = {};
  // gethostname may truncate without terminating: the last byte stays '\0'.
  if (gethostname(name, sizeof name - 1) != 0) return "unknown";
  return name;
}

}  // namespace mb
