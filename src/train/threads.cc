#include "train/threads.h"

#include <omp.h>

#if defined(__x86_64__) || defined(__i386__)
#include <xmmintrin.h>
#endif

namespace mb {

namespace {
#if defined(__x86_64__) || defined(__i386__)
constexpr unsigned kFtzDaz = 0x8040;  // MXCSR bits 15 (FTZ) and 6 (DAZ)
#endif

void EnableFlushDenormals() {
#if defined(__x86_64__) || defined(__i386__)
  _mm_setcsr(_mm_getcsr() | kFtzDaz);
#endif
}
}  // namespace

int ThreadCount(int requested) { return requested > 0 ? requested : omp_get_num_procs(); }

int ConfigureThreads(int requested) {
  const int threads = ThreadCount(requested);
  omp_set_num_threads(threads);
  EnableFlushDenormals();
  // libgomp keeps its worker threads alive between parallel regions, so
  // setting the mode once in each of them holds for the whole run.
#pragma omp parallel num_threads(threads)
  EnableFlushDenormals();
  return threads;
}

bool FlushDenormalsEnabled() {
#if defined(__x86_64__) || defined(__i386__)
  return (_mm_getcsr() & kFtzDaz) == kFtzDaz;
#else
  return false;
#endif
}

}  // namespace mb
