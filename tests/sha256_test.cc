#include "common/sha256.h"

#include <filesystem>
#include <fstream>
#include <random>
#include <vector>
#include <string>

#include <catch2/catch.hpp>

#include "common/error.h"
#include "common/sha256_compress.h"

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

// "abc" padded by hand to one block (5.1.1): the portable compression alone,
// whichever form Sha256 uses on this machine.
TEST_CASE("the portable compression gives FIPS 180-4's digest of abc", "[data]") {
  uint8_t block[64] = {'a', 'b', 'c', 0x80};
  block[63] = 24;  // the message length in bits
  uint32_t state[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                       0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
  Sha256CompressPortable(state, block, 1);
  const uint32_t expected[8] = {0xba7816bf, 0x8f01cfea, 0x414140de, 0x5dae2223,
                                0xb00361a3, 0x96177a9c, 0xb410ff61, 0xf20015ad};
  for (int i = 0; i < 8; ++i) CHECK(state[i] == expected[i]);
}

TEST_CASE("the SHA extensions compress as the portable form does", "[data]") {
  if (!HaveShaExtensions()) {
    WARN("this CPU has no SHA extensions: only the portable form is used and tested");
    return;
  }
  std::mt19937 random(7);
  for (size_t blocks : {1, 2, 3, 17, 40}) {
    INFO(blocks << " blocks");
    std::vector<uint8_t> data(64 * blocks);
    for (uint8_t& byte : data) byte = static_cast<uint8_t>(random());
    uint32_t portable[8], extensions[8];
    for (int i = 0; i < 8; ++i) portable[i] = extensions[i] = static_cast<uint32_t>(random());
    Sha256CompressPortable(portable, data.data(), blocks);
    Sha256CompressShaExtensions(extensions, data.data(), blocks);
    for (int i = 0; i < 8; ++i) CHECK(extensions[i] == portable[i]);
  }
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
