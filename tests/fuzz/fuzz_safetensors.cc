// libFuzzer target: ReadSafetensors on arbitrary bytes. InputError is the
// only acceptable failure; a successful read must give tensors whose data
// matches their shapes.
#include <cstdint>
#include <string>

#include "common/error.h"
#include "fuzz_support.h"
#include "report/safetensors.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using mb::fuzz::Require;
  mb::fuzz::ReadInput(data, size, [size](const std::string& path) {
    const mb::TensorMap tensors = mb::ReadSafetensors(path);
    uint64_t total_bytes = 0;
    for (const auto& [name, tensor] : tensors) {
      Require(name != "__metadata__", "__metadata__ read as a tensor");
      uint64_t count = 1;
      for (const int64_t dim : tensor.shape) {
        Require(dim >= 0, "negative dimension accepted");
        // Overflow is only possible with a zero dimension elsewhere, and
        // then the tensor is empty anyway.
        if (__builtin_mul_overflow(count, static_cast<uint64_t>(dim), &count)) count = 0;
      }
      for (const int64_t dim : tensor.shape) {
        if (dim == 0) count = 0;
      }
      Require(tensor.data.size() == count, "data size does not match the shape");
      total_bytes += tensor.data.size() * sizeof(float);
    }
    // Tensors do not overlap, so together they fit in the file.
    Require(total_bytes <= size, "tensors hold more bytes than the file");
  });
  return 0;
}
