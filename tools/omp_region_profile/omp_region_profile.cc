// An LD_PRELOAD library that times every OpenMP parallel region GCC's
// libgomp runs, per thread: how long each region took from fork to join,
// how long each thread worked in it, and so how long threads sat waiting
// for the slowest one. tools/omp_region_profile.py runs a command with it
// and prints the table; see docs/performance.md ("Where two threads wait").
//
// `#pragma omp parallel` compiles to GOMP_parallel(fn, data, threads,
// flags), fn being the region's body outlined; this library's
// GOMP_parallel hands libgomp a trampoline that times fn on each thread.
// Regions are told apart by fn, written out as its module and offset for
// addr2line. Worksharing barriers inside a region count as work (the
// trampoline sees only the whole body); the join barrier does not.
#include <dlfcn.h>
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <mutex>
#include <vector>

namespace {

using RegionBody = void (*)(void*);
using Clock = std::chrono::steady_clock;

struct RegionStats {
  long calls = 0;
  double wall = 0;     // fork to join, summed over calls
  double busy = 0;     // every thread's time in the body
  double waiting = 0;  // every thread's time short of the slowest one's
  double slowest = 0;  // the slowest thread's time in the body
  int most_threads = 0;
};

// One call's per-thread times, filled by the trampoline.
struct Call {
  RegionBody body;
  void* data;
  std::vector<double> seconds;
};

std::mutex stats_mutex;
std::map<void*, RegionStats>* stats = new std::map<void*, RegionStats>;  // never freed: read at exit

double Since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

void Trampoline(void* p) {
  Call& call = *static_cast<Call*>(p);
  const Clock::time_point start = Clock::now();
  call.body(call.data);
  call.seconds[static_cast<size_t>(omp_get_thread_num())] = Since(start);
}

void Record(void* body, double wall, const std::vector<double>& seconds, int threads) {
  const double slowest = *std::max_element(seconds.begin(), seconds.begin() + threads);
  std::lock_guard<std::mutex> lock(stats_mutex);
  RegionStats& s = (*stats)[body];
  ++s.calls;
  s.wall += wall;
  s.slowest += slowest;
  s.most_threads = std::max(s.most_threads, threads);
  for (int t = 0; t < threads; ++t) {
    s.busy += seconds[static_cast<size_t>(t)];
    s.waiting += slowest - seconds[static_cast<size_t>(t)];
  }
}

__attribute__((destructor)) void WriteStats() {
  const char* path = std::getenv("OMP_REGION_PROFILE_OUT");
  FILE* out = path ? std::fopen(path, "w") : stderr;
  if (!out) return;
  std::lock_guard<std::mutex> lock(stats_mutex);
  std::fprintf(out, "module\toffset\tcalls\tthreads\twall\tslowest\tbusy\twaiting\n");
  for (const auto& [body, s] : *stats) {
    Dl_info info{};
    const bool found = dladdr(body, &info) != 0 && info.dli_fname != nullptr;
    const unsigned long offset =
        found ? static_cast<unsigned long>(static_cast<char*>(body) -
                                           static_cast<char*>(info.dli_fbase))
              : reinterpret_cast<unsigned long>(body);
    std::fprintf(out, "%s\t0x%lx\t%ld\t%d\t%.6f\t%.6f\t%.6f\t%.6f\n",
                 found ? info.dli_fname : "?", offset, s.calls, s.most_threads, s.wall, s.slowest,
                 s.busy, s.waiting);
  }
  if (out != stderr) std::fclose(out);
}

}  // namespace

extern "C" void GOMP_parallel(RegionBody body, void* data, unsigned threads, unsigned flags) {
  using Real = void (*)(RegionBody, void*, unsigned, unsigned);
  static const Real real = reinterpret_cast<Real>(dlsym(RTLD_NEXT, "GOMP_parallel"));
  if (!real) {
    std::fprintf(stderr, "omp_region_profile: GOMP_parallel not found; is libgomp loaded?\n");
    std::abort();
  }
  // Room for any team libgomp may form: threads == 0 means its default.
  const int most = std::max({static_cast<int>(threads), omp_get_max_threads(), 1}) + 1;
  Call call{body, data, std::vector<double>(static_cast<size_t>(most), 0.0)};
  const Clock::time_point start = Clock::now();
  real(Trampoline, &call, threads, flags);
  const double wall = Since(start);
  // The team's size: the threads that ran the body (numbered from 0).
  const int team = static_cast<int>(std::count_if(call.seconds.begin(), call.seconds.end(),
                                                  [](double s) { return s > 0; }));
  Record(reinterpret_cast<void*>(body), wall, call.seconds, std::max(team, 1));
}
