// LinePrinter (common/line_printer.h): the prefix starts every line, also
// lines built over several calls and lines inside one call's text.
#include <catch2/catch.hpp>

#include <cstdio>
#include <string>

#include "common/line_printer.h"

namespace mb {
namespace {

// What `print` writes through a LinePrinter with `prefix`.
template <typename Print>
std::string Printed(const std::string& prefix, Print print) {
  std::FILE* file = std::tmpfile();
  REQUIRE(file != nullptr);
  {
    LinePrinter out(file, prefix);
    print(out);
    out.Flush();
  }
  std::rewind(file);
  std::string text;
  for (int c; (c = std::fgetc(file)) != EOF;) text += static_cast<char>(c);
  std::fclose(file);
  return text;
}

TEST_CASE("LinePrinter starts every line with its prefix", "[config]") {
  const auto print = [](LinePrinter& out) {
    out.Printf("Sweep %s: %d points", "s", 4);
    out.Printf(", into %s\n", "out/s");
    out.Write("| a |\n|---|\n\n");
    out.Printf("Epoch %d/%d\n", 1, 1);
  };
  CHECK(Printed("[PMI_RANK=1] ", print) ==
        "[PMI_RANK=1] Sweep s: 4 points, into out/s\n"
        "[PMI_RANK=1] | a |\n"
        "[PMI_RANK=1] |---|\n"
        "[PMI_RANK=1] \n"
        "[PMI_RANK=1] Epoch 1/1\n");
  CHECK(Printed("", print) == "Sweep s: 4 points, into out/s\n| a |\n|---|\n\nEpoch 1/1\n");
}

TEST_CASE("LinePrinter prints long lines whole", "[config]") {
  const std::string long_text(5000, 'x');
  CHECK(Printed("[r] ", [&](LinePrinter& out) { out.Printf("%s\n", long_text.c_str()); }) ==
        "[r] " + long_text + "\n");
}

}  // namespace
}  // namespace mb
