// The one random number generator of mnistbench, so that a config and its
// seed fully determine a run on any machine and compiler.
//
// SplitMix64 (Steele, Lea, Flood 2014): a 64-bit counter advanced by the
// golden-ratio increment, then mixed by two xor-shift-multiply rounds. It
// passes BigCrush, is trivially seekable and is fully specified here, unlike
// std::uniform_real_distribution whose output differs between standard
// libraries.
//
// Streams: each consumer derives its own generator with Rng(seed, stream),
// e.g. layer i's kernel initialiser uses stream kInitStream + 2i (its bias
// kInitStream + 2i + 1), epoch e's shuffle uses stream kShuffleStream + e
// and layer i's dropout mask at training step t DropoutStream(i, t), so
// adding a layer never changes the shuffle order and epochs and steps are
// independent of each other.
#pragma once

#include <cmath>
#include <cstdint>

#include "common/portable_log.h"

namespace mb {

inline constexpr uint64_t kInitStream = 0x1000;
inline constexpr uint64_t kShuffleStream = 0x2000;
// Far above every other stream: layer indices stay below 2^16 and steps
// below 2^40.
inline constexpr uint64_t DropoutStream(uint64_t layer, uint64_t step) {
  return (uint64_t{1} << 60) + (layer << 40) + step;
}

class Rng {
 public:
  explicit Rng(uint64_t seed, uint64_t stream = 0)
      : state_(Mix(seed ^ Mix(stream + 0x632BE59BD9B4E019ull))) {}

  uint64_t NextU64() {
    state_ += 0x9E3779B97F4A7C15ull;
    return Mix(state_);
  }

  // Uniform in [0, 1) with 24 random bits: every value is an exact float.
  float UniformFloat() {
    return static_cast<float>(NextU64() >> 40) * (1.0f / 16777216.0f);
  }

  // Uniform in [0, 1) with 53 random bits.
  double UniformDouble() {
    return static_cast<double>(NextU64() >> 11) * (1.0 / 9007199254740992.0);
  }

  // Uniform integer in [0, n) without modulo bias (Lemire's method).
  uint64_t UniformInt(uint64_t n) {
    unsigned __int128 m = static_cast<unsigned __int128>(NextU64()) * n;
    uint64_t low = static_cast<uint64_t>(m);
    if (low < n) {
      const uint64_t threshold = (0 - n) % n;
      while (low < threshold) {
        m = static_cast<unsigned __int128>(NextU64()) * n;
        low = static_cast<uint64_t>(m);
      }
    }
    return static_cast<uint64_t>(m >> 64);
  }

  // Standard normal by Marsaglia's polar method (one value per call: the
  // pair's second value is dropped to keep the state simple). It needs a log
  // but no cosine, and the log is PortableLog, so the values are the same
  // on every machine.
  double Normal() {
    for (;;) {
      const double u = 2.0 * UniformDouble() - 1.0;
      const double v = 2.0 * UniformDouble() - 1.0;
      const double s = u * u + v * v;
      if (s > 0.0 && s < 1.0) return u * std::sqrt(-2.0 * PortableLog(s) / s);
    }
  }

 private:
  static uint64_t Mix(uint64_t z) {
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }

  uint64_t state_;
};

}  // namespace mb
