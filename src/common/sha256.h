// SHA-256 (FIPS 180-4), for verifying data files and hashing configs.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace mb {

class Sha256 {
 public:
  Sha256();
  void Update(const void* data, size_t size);
  // Lower-case hex digest; the object must not be updated afterwards.
  std::string HexDigest();

 private:
  // The compression function over whole blocks (sha256_compress.h): with
  // the x86 SHA extensions where the CPU has them.
  void Compress(const uint8_t* data, size_t blocks);
  uint32_t h_[8];
  uint8_t buffer_[64];
  size_t buffered_ = 0;
  uint64_t total_bytes_ = 0;
};

std::string Sha256Hex(std::string_view data);
// Streams the file in chunks, so large files need little memory. Throws
// InputError("<path>: cannot open (...)") when the file cannot be read.
std::string Sha256OfFile(const std::string& path);

}  // namespace mb
