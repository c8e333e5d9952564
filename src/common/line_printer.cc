#include "common/line_printer.h"

#include <cstdarg>
#include <vector>

namespace mb {

LinePrinter::LinePrinter(std::FILE* out, std::string prefix)
    : out_(out), prefix_(std::move(prefix)) {}

void LinePrinter::Printf(const char* format, ...) {
  va_list args;
  va_start(args, format);
  va_list again;
  va_copy(again, args);
  const int size = std::vsnprintf(nullptr, 0, format, args);
  va_end(args);
  if (size > 0) {
    std::vector<char> text(static_cast<size_t>(size) + 1);
    std::vsnprintf(text.data(), text.size(), format, again);
    Write(std::string_view(text.data(), static_cast<size_t>(size)));
  }
  va_end(again);
}

void LinePrinter::Write(std::string_view text) {
  while (!text.empty()) {
    if (at_line_start_) std::fputs(prefix_.c_str(), out_);
    const size_t newline = text.find('\n');
    const size_t length = newline == std::string_view::npos ? text.size() : newline + 1;
    std::fwrite(text.data(), 1, length, out_);
    at_line_start_ = newline != std::string_view::npos;
    text.remove_prefix(length);
  }
}

void LinePrinter::Flush() { std::fflush(out_); }

}  // namespace mb
