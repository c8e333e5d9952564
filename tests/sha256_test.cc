#include "common/sha256.h"

#include <filesystem>
#include <fstream>
#include <random>
#include <string>

#include <catch2/catch.hpp>

#include "common/error.h"

namespace mb {
namespace {

// The test vectors of FIPS 180-4's companion examples (SHA256.pdf) and the
// NIST "one million a" message.
TEST_CASE("sha256 matches the FIPS 180-4 test vectors", "[data]") {
  CHECK(Sha256Hex("") ==
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(Sha256Hex("abc") ==
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  CHECK(Sha256Hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq") ==
        "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  CHECK(Sha256Hex(std::string(1000000, 'a')) ==
        "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

// Lengths around the 55/56-byte point where the padding spills into a second
// block (expected values from Python's hashlib).
TEST_CASE("sha256 pads correctly at block boundaries", "[data]") {
  const std::pair<size_t, const char*> cases[] = {
      {55, "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318"},
      {56, "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a"},
      {63, "7d3e74a05d7db15bce4ad9ec0658ea98e3f06eeecf16b4c6fff2da457ddc2f34"},
      {64, "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb"},
      {119, "31eba51c313a5c08226adf18d4a359cfdfd8d2e816b13f4af952f7ea6584dcfb"},
      {120, "2f3d335432c70b580af0e8e1b3674a7c020d683aa5f73aaaedfdc55af904c21c"},
  };
  for (const auto& [length, expected] : cases) {
    INFO("length " << length);
    CHECK(Sha256Hex(std::string(length, 'a')) == expected);
  }
}

TEST_CASE("sha256 does not depend on how the input is split", "[data]") {
  std::string message;
  for (int i = 0; i < 1000; ++i) message.push_back(static_cast<char>(i * 31));
  const std::string whole = Sha256Hex(message);
  for (size_t piece : {1, 3, 63, 64, 65, 200}) {
    INFO("pieces of " << piece);
    Sha256 hash;
    for (size_t at = 0; at < message.size(); at += piece) {
      hash.Update(message.data() + at, std::min(piece, message.size() - at));
    }
    CHECK(hash.HexDigest() == whole);
  }
}

TEST_CASE("Sha256OfFile hashes a file larger than its read chunk", "[data]") {
  const std::filesystem::path path =
      std::filesystem::temp_directory_path() /
      ("mb_sha256_test_" + std::to_string(std::random_device{}()));
  std::string content;
  for (int i = 0; i < 256000; ++i) content.append(std::to_string(i));
  std::ofstream(path, std::ios::binary) << content;
  const std::string digest = Sha256OfFile(path.string());
  std::filesystem::remove(path);
  CHECK(digest == Sha256Hex(content));
}

TEST_CASE("Sha256OfFile names a missing file", "[data]") {
  const std::string path = "no/such/dir/file.gz";
  try {
    Sha256OfFile(path);
    FAIL("expected an InputError");
  } catch (const InputError& e) {
    CHECK(std::string(e.what()) ==
          path + ": cannot open (No such file or directory)");
  }
}

}  // namespace
}  // namespace mb
