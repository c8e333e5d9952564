// The dense-layer products at the baseline's shapes and at a large square
// shape, in GFLOP/s (2 * M * K * N flops per product).
//
//   build/bench/bench_kernels --benchmark_format=json > kernels.json
//
// Each benchmark runs on the OpenMP team (set its size with
// OMP_NUM_THREADS) on the SIMD target Highway dispatches to; both are in the
// JSON context.
#include <benchmark/benchmark.h>

#include <omp.h>

#include <vector>

#include "kernels/gemm.h"

namespace mb {
namespace {

std::vector<float> Filled(size_t n, float density = 1.0f) {
  std::vector<float> v(n);
  uint32_t s = 12345;
  for (float& x : v) {
    s = s * 1664525u + 1013904223u;
    const float u = static_cast<float>(s >> 8) / 16777216.0f;
    x = u < density ? u - 0.5f : 0.0f;
  }
  return v;
}

void SetFlops(benchmark::State& state, size_t M, size_t K, size_t N) {
  state.counters["GFLOP/s"] = benchmark::Counter(
      2.0 * M * K * N * static_cast<double>(state.iterations()) * 1e-9,
      benchmark::Counter::kIsRate);
}

void BM_Forward(benchmark::State& state) {
  const size_t M = state.range(0), K = state.range(1), N = state.range(2);
  const auto X = Filled(M * K), W = Filled(K * N), b = Filled(N);
  std::vector<float> Y(M * N);
  for (auto _ : state) {
    DenseForward(M, K, N, X.data(), W.data(), b.data(), Activation::kRelu, nullptr, Y.data());
    benchmark::DoNotOptimize(Y.data());
  }
  SetFlops(state, M, K, N);
}

void BM_BackwardInput(benchmark::State& state) {
  const size_t M = state.range(0), K = state.range(1), N = state.range(2);
  const auto dY = Filled(M * N), W = Filled(K * N), A = Filled(M * K);
  std::vector<float> Wt(K * N), dX(M * K);
  for (auto _ : state) {
    DenseBackwardInput(M, K, N, dY.data(), W.data(), Activation::kRelu, nullptr, A.data(),
                       Wt.data(), dX.data());
    benchmark::DoNotOptimize(dX.data());
  }
  SetFlops(state, M, K, N);
}

void BM_BackwardWeights(benchmark::State& state) {
  const size_t M = state.range(0), K = state.range(1), N = state.range(2);
  const auto X = Filled(M * K), dY = Filled(M * N);
  std::vector<float> dW(K * N), db(N);
  for (auto _ : state) {
    DenseBackwardWeights(M, K, N, X.data(), dY.data(), dW.data(), db.data());
    benchmark::DoNotOptimize(dW.data());
  }
  SetFlops(state, M, K, N);
}

// {M, K, N} of a dense layer: batch x inputs x units.
void LayerShapes(benchmark::internal::Benchmark* b) {
  b->Args({128, 784, 512})   // first layer, full batch
      ->Args({96, 784, 512})  // first layer, the epoch's last batch
      ->Args({128, 512, 10})  // second layer
      ->Args({96, 512, 10})
      ->Args({2000, 784, 512})  // evaluation batch
      ->Args({2000, 512, 10})
      ->Args({1024, 1024, 1024});  // large square
  b->UseRealTime();
}

BENCHMARK(BM_Forward)->Apply(LayerShapes);
BENCHMARK(BM_BackwardInput)->Args({128, 512, 10})->Args({96, 512, 10})->Args({1024, 1024, 1024})->UseRealTime();
BENCHMARK(BM_BackwardWeights)->Apply(LayerShapes);

}  // namespace
}  // namespace mb

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  benchmark::AddCustomContext("simd_target", mb::KernelTargetName());
  benchmark::AddCustomContext("omp_threads", std::to_string(omp_get_max_threads()));
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
