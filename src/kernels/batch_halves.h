// A convolution's weight gradient, summed over the batch in two fixed
// halves: each half's sums from zero, as the whole batch's would be, then
// the second half's added to the first's, one add an element. The halves
// are fixed by the batch alone (the first (batch + 1) / 2 samples, then the
// rest), so every thread count and target adds the same two sums.
//
// Why: two threads each take a half, and each reads only its half of the
// batch's inputs and gradients (which the layers above, split by samples,
// left in its own cache). Split by filters, as the kernels split a whole
// batch, each thread read all of them: on the Xeon VM two threads then did
// 1.47 times the work of one in the sparse weight gradient and 1.56 in the
// Winograd one (tools/omp_region_profile.py, docs/performance.md).
#pragma once

#include <omp.h>

#include <cstddef>
#include <vector>

#include "common/team.h"
#include "kernels/conv2d.h"

namespace mb {

// The samples of the first half of a batch.
inline size_t FirstHalfSamples(size_t batch) { return (batch + 1) / 2; }

// dW [weights] and db [filters] of convolution s, as
// half(part, first, dW_part, db_part) gives them for the part of the batch
// from sample `first` (part.batch samples), summed over the two halves. On
// the team when `team` and the thread count allows two (a thread a half;
// the kernels inside then stay on their thread), else on the calling
// thread, first half first. A batch of one sample has no second half: dW is
// the first's.
template <class Half>
void SumBatchHalves(const WindowShape& s, size_t weights, size_t filters, bool team, float* dW,
                    float* db, const Half& half) {
  WindowShape first = s, second = s;
  first.batch = FirstHalfSamples(s.batch);
  second.batch = s.batch - first.batch;
  if (second.batch == 0) return half(first, size_t{0}, dW, db);
  static thread_local std::vector<float> second_sums;
  second_sums.resize(weights + filters);
  float* dW2 = second_sums.data();
  float* db2 = dW2 + weights;
  // num_threads(2) asks for two whatever the thread count set: only when
  // it allows two.
#pragma omp parallel num_threads(2) if (UseTeam(team && omp_get_max_threads() >= 2))
  {
    const int threads = omp_get_num_threads(), thread = omp_get_thread_num();
    if (thread == 0) half(first, size_t{0}, dW, db);
    if (thread == 1 || threads == 1) half(second, first.batch, dW2, db2);
  }
  for (size_t i = 0; i < weights; ++i) dW[i] += dW2[i];
  for (size_t f = 0; f < filters; ++f) db[f] += db2[f];
}

// dW [patch(), filters] and db [filters] of convolution s from its input x
// and output gradient dY [rows(), filters], as
// of_batch(part, filters, x, dY, dW, db) gives them for a part of the
// batch, summed over the two halves (SumBatchHalves).
template <class OfBatch>
void SumConvolutionBatchHalves(const WindowShape& s, size_t filters, const float* x,
                               const float* dY, bool team, float* dW, float* db,
                               const OfBatch& of_batch) {
  const size_t image = s.height * s.width * s.channels, pixels = s.out_h * s.out_w;
  SumBatchHalves(s, s.patch() * filters, filters, team, dW, db,
                 [&](const WindowShape& part, size_t first, float* part_dW, float* part_db) {
                   of_batch(part, filters, x + first * image, dY + first * pixels * filters,
                            part_dW, part_db);
                 });
}

}  // namespace mb
