// SHA-256 as specified in FIPS 180-4 (section numbers below refer to it).
#include "common/sha256.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <vector>

#include "common/error.h"
#include "common/sha256_compress.h"

namespace mb {

// 4.2.2: the first 32 bits of the fractional parts of the cube roots of the
// first 64 primes.
const uint32_t kSha256RoundConstants[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1,
    0x923f82a4, 0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3,
    0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786,
    0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147,
    0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
    0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
    0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a,
    0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208,
    0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};

namespace {

constexpr size_t kBlockBytes = 64;

// 5.3.3: the first 32 bits of the fractional parts of the square roots of
// the first 8 primes.
constexpr uint32_t kInitialHash[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372,
                                      0xa54ff53a, 0x510e527f, 0x9b05688c,
                                      0x1f83d9ab, 0x5be0cd19};

// The padding (5.1.1) ends each message with its length in bits as a 64-bit
// big-endian integer.
constexpr size_t kLengthBytes = 8;

inline uint32_t RotateRight(uint32_t x, int n) {
  return (x >> n) | (x << (32 - n));
}

// 4.1.2: the six logical functions.
inline uint32_t Choose(uint32_t x, uint32_t y, uint32_t z) {
  return (x & y) ^ (~x & z);
}
inline uint32_t Majority(uint32_t x, uint32_t y, uint32_t z) {
  return (x & y) ^ (x & z) ^ (y & z);
}
inline uint32_t BigSigma0(uint32_t x) {
  return RotateRight(x, 2) ^ RotateRight(x, 13) ^ RotateRight(x, 22);
}
inline uint32_t BigSigma1(uint32_t x) {
  return RotateRight(x, 6) ^ RotateRight(x, 11) ^ RotateRight(x, 25);
}
inline uint32_t SmallSigma0(uint32_t x) {
  return RotateRight(x, 7) ^ RotateRight(x, 18) ^ (x >> 3);
}
inline uint32_t SmallSigma1(uint32_t x) {
  return RotateRight(x, 17) ^ RotateRight(x, 19) ^ (x >> 10);
}

inline uint32_t LoadBigEndian32(const uint8_t* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) |
         (uint32_t{p[2]} << 8) | uint32_t{p[3]};
}

}  // namespace

Sha256::Sha256() { std::memcpy(h_, kInitialHash, sizeof(h_)); }

void Sha256::Update(const void* data, size_t size) {
  const auto* p = static_cast<const uint8_t*>(data);
  total_bytes_ += size;
  if (buffered_ > 0) {
    const size_t take = std::min(size, kBlockBytes - buffered_);
    std::memcpy(buffer_ + buffered_, p, take);
    buffered_ += take;
    p += take;
    size -= take;
    if (buffered_ < kBlockBytes) return;
    Compress(buffer_, 1);
    buffered_ = 0;
  }
  // Whole blocks are hashed in place, without copying through buffer_.
  const size_t blocks = size / kBlockBytes;
  if (blocks > 0) Compress(p, blocks);
  p += blocks * kBlockBytes;
  size -= blocks * kBlockBytes;
  std::memcpy(buffer_, p, size);
  buffered_ = size;
}

std::string Sha256::HexDigest() {
  // 5.1.1: a 1 bit, zeros up to 8 bytes short of a block boundary, then the
  // message length in bits.
  const uint64_t total_bits = total_bytes_ * 8;
  uint8_t padding[kBlockBytes + kLengthBytes] = {0x80};
  const size_t zero_fill =
      (kBlockBytes + kBlockBytes - kLengthBytes - 1 - buffered_) % kBlockBytes;
  uint8_t* length = padding + 1 + zero_fill;
  for (size_t i = 0; i < kLengthBytes; ++i) {
    length[i] = static_cast<uint8_t>(total_bits >> (56 - 8 * i));
  }
  Update(padding, 1 + zero_fill + kLengthBytes);

  static constexpr char kHexDigits[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(64);
  for (uint32_t word : h_) {
    for (int shift = 28; shift >= 0; shift -= 4) {
      hex.push_back(kHexDigits[(word >> shift) & 0xf]);
    }
  }
  return hex;
}

// 6.2.2: the compression function, one 512-bit block at a time.
void Sha256CompressPortable(uint32_t state[8], const uint8_t* data, size_t blocks) {
  for (size_t block = 0; block < blocks; ++block) {
    const uint8_t* p = data + block * kBlockBytes;
    uint32_t schedule[64];
    for (int t = 0; t < 16; ++t) schedule[t] = LoadBigEndian32(p + 4 * t);
    for (int t = 16; t < 64; ++t) {
      schedule[t] = SmallSigma1(schedule[t - 2]) + schedule[t - 7] +
                    SmallSigma0(schedule[t - 15]) + schedule[t - 16];
    }

    uint32_t a = state[0], b = state[1], c = state[2], d = state[3];
    uint32_t e = state[4], f = state[5], g = state[6], h = state[7];
    for (int t = 0; t < 64; ++t) {
      const uint32_t t1 =
          h + BigSigma1(e) + Choose(e, f, g) + kSha256RoundConstants[t] + schedule[t];
      const uint32_t t2 = BigSigma0(a) + Majority(a, b, c);
      h = g;
      g = f;
      f = e;
      e = d + t1;
      d = c;
      c = b;
      b = a;
      a = t1 + t2;
    }
    state[0] += a;
    state[1] += b;
    state[2] += c;
    state[3] += d;
    state[4] += e;
    state[5] += f;
    state[6] += g;
    state[7] += h;
  }
}

void Sha256::Compress(const uint8_t* data, size_t blocks) {
  static const bool have_extensions = HaveShaExtensions();
  if (have_extensions) {
    Sha256CompressShaExtensions(h_, data, blocks);
  } else {
    Sha256CompressPortable(h_, data, blocks);
  }
}

std::string Sha256Hex(std::string_view data) {
  Sha256 hash;
  hash.Update(data.data(), data.size());
  return hash.HexDigest();
}

std::string Sha256OfFile(const std::string& path) {
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(
      std::fopen(path.c_str(), "rb"), &std::fclose);
  if (!file) {
    throw InputError(path + ": cannot open (" + std::strerror(errno) + ")");
  }
  // Streamed in chunks so that hashing a large file needs little memory.
  std::vector<uint8_t> chunk(1 << 20);
  Sha256 hash;
  size_t got;
  while ((got = std::fread(chunk.data(), 1, chunk.size(), file.get())) > 0) {
    hash.Update(chunk.data(), got);
  }
  if (std::ferror(file.get())) {
    throw InputError(path + ": cannot read (" + std::strerror(errno) + ")");
  }
  return hash.HexDigest();
}

}  // namespace mb
