// A program whose OpenMP regions wait by known amounts, for
// tests/omp_region_profile_test.sh: three calls of a region in which
// thread 0 sleeps 30 ms and the others return at once, then five of a
// region in which no thread does anything. Needs a team of two. With any
// argument it exits with status 3 at once, a failing command built alike.
#include <omp.h>

#include <chrono>
#include <cstdio>
#include <thread>

namespace {

void Uneven() {
#pragma omp parallel num_threads(2)
  {
    if (omp_get_thread_num() == 0) std::this_thread::sleep_for(std::chrono::milliseconds(30));
  }
}

int Empty() {
  int threads = 0;
#pragma omp parallel num_threads(2)
  {
#pragma omp single
    threads = omp_get_num_threads();
  }
  return threads;
}

}  // namespace

int main(int argc, char**) {
  if (argc > 1) return 3;
  for (int i = 0; i < 3; ++i) Uneven();
  int threads = 0;
  for (int i = 0; i < 5; ++i) threads = Empty();
  if (threads != 2) {
    std::fprintf(stderr, "omp_imbalance: a team of %d threads, not 2\n", threads);
    return 1;
  }
  return 0;
}
