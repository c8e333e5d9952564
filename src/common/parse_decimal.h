// Parsing the small unsigned numbers of command-line options and launcher
// environment variables (thread counts, shard indices), strictly: digits
// only, no sign, no spaces, no exponent.
#pragma once

#include <cstddef>
#include <optional>
#include <string>

namespace mb {

// The value of `text` when it is 1 to max_digits decimal digits (at most 9,
// so it cannot overflow), else nothing.
inline std::optional<size_t> ParseDecimal(const std::string& text, size_t max_digits) {
  if (text.empty() || text.size() > max_digits || max_digits > 9) return std::nullopt;
  size_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + static_cast<size_t>(c - '0');
  }
  return value;
}

}  // namespace mb
