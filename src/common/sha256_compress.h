// SHA-256's compression function (FIPS 180-4, 6.2.2) over whole 64-byte
// blocks, in a portable form and with the x86 SHA extensions. Sha256 picks
// the latter where the CPU has them; both are declared here so that tests
// can hold one against the other.
#pragma once

#include <cstddef>
#include <cstdint>

namespace mb {

// The round constants of 4.2.2, shared by both forms.
extern const uint32_t kSha256RoundConstants[64];

// Applies the compression function to `blocks` consecutive blocks at `data`,
// updating the eight words of `state` (H0..H7).
void Sha256CompressPortable(uint32_t state[8], const uint8_t* data, size_t blocks);

// Whether this CPU has the SHA extensions (x86 CPUID leaf 7, EBX bit 29);
// false on other architectures.
bool HaveShaExtensions();

// As Sha256CompressPortable, with the SHA extensions' instructions. On x86
// only where HaveShaExtensions() (without them an illegal instruction); on
// other architectures it is the portable form.
void Sha256CompressShaExtensions(uint32_t state[8], const uint8_t* data, size_t blocks);

}  // namespace mb
