// The dense-layer products at the baseline's shapes, the evaluation batch and
// a large square shape, in GFLOP/s (2 * M * K * N flops per product) and as
// a fraction of this machine's FMA peak, which the binary measures first.
// OpenBLAS sgemm and oneDNN's sgemm run the same products as reference lines
// when the build found them (plain GEMMs: our epilogues come free on top).
//
//   build/bench/bench_kernels --benchmark_format=json > kernels.json
//   OMP_NUM_THREADS=1 build/bench/bench_kernels      # one core
//   build/bench/bench_kernels --target=AVX2          # pinned, as kernels.target
//   build/bench/bench_kernels --benchmark_repetitions=5
//       --benchmark_enable_random_interleaving=true  (docs/performance.md's table)
//
// Shapes are {M, K, N} of a dense layer: batch x inputs x units.
#include <benchmark/benchmark.h>
#include <omp.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#if MB_HAVE_OPENBLAS
#include <cblas.h>
#endif
#if MB_HAVE_DNNL
#include <oneapi/dnnl/dnnl.h>
#endif

#include "bench/fma_peak.h"
#include "bench/onednn_conv.h"
#include "common/aligned_vector.h"
#include "data/idx_reader.h"
#include "kernels/conv2d.h"
#include "kernels/conv2d_max_pooling2d.h"
#include "kernels/gemm.h"
#include "kernels/max_pooling2d.h"
#include "kernels/sparse_gemm.h"
#include "kernels/target.h"
#include "kernels/vector_math.h"

namespace mb {
namespace {

double g_peak_gflops = 0;

// Every buffer starts on a cache line, as the trainer's do (see
// common/aligned_vector.h): otherwise the threads' column chunks share a line
// in every row and the benchmark measures false sharing.
AlignedVector<float> Filled(size_t n) {
  AlignedVector<float> v(n);
  uint32_t s = 12345;
  for (float& x : v) {
    s = s * 1664525u + 1013904223u;
    x = static_cast<float>(s >> 8) / 16777216.0f - 0.5f;
  }
  return v;
}

// GFLOP/s of the `flops` a call executes (2 per multiply-add), and that as a
// fraction of the measured FMA peak.
void SetRateCounters(benchmark::State& state, double flops) {
  const double gflop = flops * static_cast<double>(state.iterations()) * 1e-9;
  state.counters["GFLOP/s"] = benchmark::Counter(gflop, benchmark::Counter::kIsRate);
  state.counters["peak_fraction"] =
      benchmark::Counter(gflop / g_peak_gflops, benchmark::Counter::kIsRate);
}

void SetCounters(benchmark::State& state, size_t M, size_t K, size_t N) {
  SetRateCounters(state, 2.0 * M * K * N);
}

// The sparse kernels multiply each stored block's span of pixels (its first
// to its last non-zero, sparse_gemm.h) by a row of N: their GFLOP/s counts
// those multiply-adds, so it compares with the FMA peak.
// dense_GFLOP/s counts 2 * M * K * N, the dense product's work, to compare
// with the dense kernels' rate on the same shape.
void SetSparseCounters(benchmark::State& state, const SparseBatch& batch, size_t N) {
  SetRateCounters(state, 2.0 * batch.stored_span_features() * N);
  state.counters["dense_GFLOP/s"] = benchmark::Counter(
      2.0 * batch.rows * batch.cols * N * static_cast<double>(state.iterations()) * 1e-9,
      benchmark::Counter::kIsRate);
}

// The three products of a dense layer; `Impl` picks ours or a library's.
enum class Impl { kMnistbench, kOpenBlas, kDnnl };

// C[rows, cols] = op(A) op(B) in row-major storage, through a library.
void LibraryGemm(Impl impl, bool trans_a, bool trans_b, size_t m, size_t n, size_t k,
                 const float* A, size_t lda, const float* B, size_t ldb, float* C,
                 size_t ldc) {
#if MB_HAVE_OPENBLAS
  if (impl == Impl::kOpenBlas) {
    cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans,
                trans_b ? CblasTrans : CblasNoTrans, m, n, k, 1.0f, A, lda, B, ldb, 0.0f, C,
                ldc);
    return;
  }
#endif
#if MB_HAVE_DNNL
  if (impl == Impl::kDnnl) {
    dnnl_sgemm(trans_a ? 'T' : 'N', trans_b ? 'T' : 'N', m, n, k, 1.0f, A, lda, B, ldb, 0.0f,
               C, ldc);
    return;
  }
#endif
  (void)impl, (void)trans_a, (void)trans_b, (void)m, (void)n, (void)k, (void)A, (void)lda;
  (void)B, (void)ldb, (void)C, (void)ldc;
  std::abort();
}

template <Impl kImpl>
void BM_Forward(benchmark::State& state) {
  const size_t M = state.range(0), K = state.range(1), N = state.range(2);
  const auto X = Filled(M * K), W = Filled(K * N), b = Filled(N);
  AlignedVector<float> Y(M * N);
  for (auto _ : state) {
    if (kImpl == Impl::kMnistbench) {
      DenseForward(M, K, N, X.data(), W.data(), b.data(), Activation::kRelu, nullptr, Y.data());
    } else {
      LibraryGemm(kImpl, false, false, M, N, K, X.data(), K, W.data(), N, Y.data(), N);
    }
    benchmark::DoNotOptimize(Y.data());
  }
  SetCounters(state, M, K, N);
}

template <Impl kImpl>
void BM_BackwardInput(benchmark::State& state) {
  const size_t M = state.range(0), K = state.range(1), N = state.range(2);
  const auto dY = Filled(M * N), W = Filled(K * N), A = Filled(M * K);
  AlignedVector<float> dX(M * K);
  for (auto _ : state) {
    if (kImpl == Impl::kMnistbench) {
      DenseBackwardInput(M, K, N, dY.data(), W.data(), Activation::kRelu, nullptr, A.data(),
                         dX.data());
    } else {
      LibraryGemm(kImpl, false, true, M, K, N, dY.data(), N, W.data(), N, dX.data(), K);
    }
    benchmark::DoNotOptimize(dX.data());
  }
  SetCounters(state, M, K, N);
}

template <Impl kImpl>
void BM_BackwardWeights(benchmark::State& state) {
  const size_t M = state.range(0), K = state.range(1), N = state.range(2);
  const auto X = Filled(M * K), dY = Filled(M * N);
  AlignedVector<float> dW(K * N), db(N);
  for (auto _ : state) {
    if (kImpl == Impl::kMnistbench) {
      DenseBackwardWeights(M, K, N, X.data(), dY.data(), dW.data(), db.data());
    } else {
      LibraryGemm(kImpl, true, false, K, N, M, X.data(), K, dY.data(), N, dW.data(), N);
    }
    benchmark::DoNotOptimize(dW.data());
  }
  SetCounters(state, M, K, N);
}

// The first `count` images of the vendored MNIST training set, repeated if
// count is larger: the sparse kernels' speed depends on where the lit
// pixels are (strokes light neighbouring pixels together), not only on how
// many there are.
std::vector<uint8_t> MnistImages(size_t count, size_t features) {
  static const IdxImages mnist = ReadIdxImages(MB_MNIST_TRAIN_IMAGES);
  if (features != mnist.rows * mnist.cols) {
    std::fprintf(stderr, "bench_kernels: sparse shapes need K = %zu\n", mnist.rows * mnist.cols);
    std::exit(1);
  }
  std::vector<uint8_t> images(count * features);
  for (size_t i = 0; i < count; ++i) {
    std::memcpy(images.data() + i * features,
                mnist.pixels.data() + (i % mnist.count) * features, features);
  }
  return images;
}

void BM_SparseBuild(benchmark::State& state) {
  const size_t M = state.range(0), K = state.range(1);
  const auto images = MnistImages(M, K);
  SparseBatch batch;
  for (auto _ : state) {
    BuildSparseBatch(images.data(), K, nullptr, 0, M, batch);
    benchmark::DoNotOptimize(batch.block_value.data());
  }
  state.counters["nonzeros"] = static_cast<double>(
      std::count_if(images.begin(), images.end(), [](uint8_t p) { return p != 0; }));
  state.counters["stored_blocks"] = static_cast<double>(batch.stored_blocks());
}

// Sparse-input products (see SetSparseCounters for what their GFLOP/s count).
void BM_SparseForward(benchmark::State& state) {
  const size_t M = state.range(0), K = state.range(1), N = state.range(2);
  const auto images = MnistImages(M, K);
  const auto W = Filled(K * N), b = Filled(N);
  SparseBatch batch;
  BuildSparseBatch(images.data(), K, nullptr, 0, M, batch);
  AlignedVector<float> Y(M * N);
  for (auto _ : state) {
    SparseDenseForward(batch, W.data(), b.data(), N, Activation::kRelu, nullptr, Y.data());
    benchmark::DoNotOptimize(Y.data());
  }
  SetSparseCounters(state, batch, N);
}

void BM_SparseBackwardWeights(benchmark::State& state) {
  const size_t M = state.range(0), K = state.range(1), N = state.range(2);
  const auto images = MnistImages(M, K);
  const auto dY = Filled(M * N);
  SparseBatch batch;
  BuildSparseBatch(images.data(), K, nullptr, 0, M, batch);
  AlignedVector<float> dW(K * N), db(N);
  for (auto _ : state) {
    SparseDenseBackwardWeights(batch, dY.data(), N, dW.data(), db.data());
    benchmark::DoNotOptimize(dW.data());
  }
  SetSparseCounters(state, batch, N);
}

// The weight gradient as training runs it on the baseline: Keras' RMSprop
// applied to W inside the kernel, dW never stored. The update streams W and
// its velocity through memory; that, not its square roots and divisions,
// is what it adds (an approximate rsqrt measured no faster).
void BM_SparseBackwardWeightsRmsprop(benchmark::State& state) {
  const size_t M = state.range(0), K = state.range(1), N = state.range(2);
  const auto images = MnistImages(M, K);
  const auto dY = Filled(M * N), initial = Filled(K * N);
  AlignedVector<float> W = initial, velocity(K * N, 0.0f), dW(K * N), db(N);
  SparseBatch batch;
  BuildSparseBatch(images.data(), K, nullptr, 0, M, batch);
  const SparseRmspropUpdate update{W.data(), velocity.data(), 0.001f, 0.9f, 1e-7f};
  for (auto _ : state) {
    SparseDenseBackwardWeights(batch, dY.data(), N, dW.data(), db.data(), &update);
    benchmark::DoNotOptimize(W.data());
  }
  SetSparseCounters(state, batch, N);
}

void SparseShapes(benchmark::internal::Benchmark* b) {
  b->Args({128, 784, 512})->Args({96, 784, 512})->Args({2000, 784, 512})->UseRealTime();
}

// Conv2D through im2col and the dense products, args {batch, height, width,
// channels, filters, kernel} ("valid", stride 1): GFLOP/s counts the
// products' 2 * rows * patch * filters, the im2col copies as overhead.
struct ConvBuffers {
  WindowShape s;
  size_t filters;
  AlignedVector<float> x, W, b, dY, out, dW, db, dx;

  explicit ConvBuffers(const benchmark::State& state)
      : s(MakeWindowShape(state.range(0), state.range(1), state.range(2), state.range(3),
                          state.range(5), state.range(5), 1, 1, Padding::kValid)),
        filters(state.range(4)),
        x(Filled(s.batch * s.height * s.width * s.channels)),
        W(Filled(s.patch() * filters)),
        b(Filled(filters)),
        dY(Filled(s.rows() * filters)),
        out(s.rows() * filters),
        dW(W.size()),
        db(filters),
        dx(x.size()) {}
  double flops() const { return 2.0 * s.rows() * s.patch() * filters; }
};

template <ConvPass kPass>
void BM_Conv2D(benchmark::State& state) {
  ConvBuffers c(state);
  for (auto _ : state) {
    switch (kPass) {
      case ConvPass::kForward:
        Conv2DForward(c.s, c.filters, c.x.data(), c.W.data(), c.b.data(), Activation::kRelu,
                      nullptr, c.out.data());
        break;
      case ConvPass::kBackwardInput:
        Conv2DBackwardInput(c.s, c.filters, c.dY.data(), c.W.data(), c.dx.data());
        break;
      case ConvPass::kBackwardWeights:
        Conv2DBackwardWeights(c.s, c.filters, c.x.data(), c.dY.data(), c.dW.data(),
                              c.db.data());
        break;
    }
    benchmark::ClobberMemory();
  }
  SetRateCounters(state, c.flops());
}

// The forward pass computing only the output rows and columns [0, 7th arg)
// that a max pooling reads (the book convnet's second convolution: 10 of
// 11), as the model runs it. GFLOP/s counts all the outputs' direct sums.
void BM_Conv2DForwardRead(benchmark::State& state) {
  ConvBuffers c(state);
  const size_t read = static_cast<size_t>(state.range(6));
  for (auto _ : state) {
    Conv2DForward(c.s, c.filters, c.x.data(), c.W.data(), c.b.data(), Activation::kRelu, nullptr,
                  c.out.data(), {read, read});
    benchmark::ClobberMemory();
  }
  SetRateCounters(state, c.flops());
}

// The backward products on a dY whose share of non-zeros is the 7th arg, in
// percent, as max pooling and ReLU leave it (8.5% on the speedrun's second
// convolution): the kernels then skip the zeros. Random positions, each
// non-zero with that probability.
template <ConvPass kPass>
void BM_Conv2DSparseGradient(benchmark::State& state) {
  ConvBuffers c(state);
  uint32_t seed = 2463534242u;
  for (float& v : c.dY) {
    seed ^= seed << 13;
    seed ^= seed >> 17;
    seed ^= seed << 5;
    if (seed % 1000 >= static_cast<uint32_t>(state.range(6) * 10)) v = 0.0f;
  }
  for (auto _ : state) {
    if (kPass == ConvPass::kBackwardInput) {
      Conv2DBackwardInput(c.s, c.filters, c.dY.data(), c.W.data(), c.dx.data());
    } else {
      Conv2DBackwardWeights(c.s, c.filters, c.x.data(), c.dY.data(), c.dW.data(), c.db.data());
    }
    benchmark::ClobberMemory();
  }
  SetRateCounters(state, c.flops());
}

// The convolution and a 2x2 max pooling of its output, args as for
// BM_Conv2D, then range(6) 1 for a ReLU convolution (the book convnet's
// first), 0 for a linear one: fused (kernels/conv2d_max_pooling2d.h), or
// the two passes one after the other. GFLOP/s counts the convolution's
// products. The 3x3 ones on 16 channels and more pool in Winograd's
// output transform when fused; as two passes, their convolution computes
// the row and column the pooling drops too.
template <bool kFused>
void BM_Conv2DMaxPooling2D(benchmark::State& state) {
  ConvBuffers c(state);
  const WindowShape pool = MakeWindowShape(c.s.batch, c.s.out_h, c.s.out_w, c.filters, 2, 2, 2,
                                           2, Padding::kValid);
  AlignedVector<float> y(pool.rows() * c.filters);
  std::vector<uint32_t> argmax(y.size());
  const Activation act = state.range(6) != 0 ? Activation::kRelu : Activation::kLinear;
  for (auto _ : state) {
    if (kFused) {
      Conv2DMaxPooling2DForward(c.s, c.filters, c.x.data(), c.W.data(), c.b.data(), act, pool,
                                y.data(), argmax.data());
    } else {
      Conv2DForward(c.s, c.filters, c.x.data(), c.W.data(), c.b.data(), act, nullptr,
                    c.out.data());
      MaxPooling2DForward(pool, c.out.data(), y.data(), argmax.data());
    }
    benchmark::ClobberMemory();
  }
  SetRateCounters(state, c.flops());
}

// A first layer's backward pass through the max pooling after it: the
// weight gradient from the pooled gradient directly (fused), or the
// pooling's backward pass spreading it into dY and Conv2DBackwardWeights
// reading that (two passes). Each pooled output's argmax is the top left
// of its window; range(6) is 1 for a ReLU convolution (the pooled outputs
// then mask the gradient), 0 for a linear one.
template <bool kFused>
void BM_Conv2DMaxPooling2DBackward(benchmark::State& state) {
  ConvBuffers c(state);
  const WindowShape pool = MakeWindowShape(c.s.batch, c.s.out_h, c.s.out_w, c.filters, 2, 2, 2,
                                           2, Padding::kValid);
  const bool relu = state.range(6) != 0;
  const AlignedVector<float> dy = Filled(pool.rows() * c.filters);
  const AlignedVector<float> y = Filled(dy.size());
  std::vector<uint32_t> argmax(dy.size());
  const AlignedVector<float> a = Filled(relu ? c.out.size() : 0);  // the layer's output
  for (size_t i = 0; i < argmax.size(); ++i) {
    const size_t pixel = i / c.filters % (pool.out_h * pool.out_w);
    const size_t py = pixel / pool.out_w, px = pixel % pool.out_w;
    argmax[i] = static_cast<uint32_t>((2 * py * c.s.out_w + 2 * px) * c.filters + i % c.filters);
  }
  for (auto _ : state) {
    if (kFused) {
      Conv2DMaxPooling2DBackwardWeights(c.s, c.filters, c.x.data(), pool, dy.data(),
                                        argmax.data(), relu ? y.data() : nullptr, c.dW.data(),
                                        c.db.data());
    } else {
      MaxPooling2DBackward(pool, dy.data(), argmax.data(), c.dY.data());
      if (relu) {
        ActivationGradientInPlace(Activation::kRelu, nullptr, a.data(), c.dY.data(),
                                  c.dY.size());
      }
      Conv2DBackwardWeights(c.s, c.filters, c.x.data(), c.dY.data(), c.dW.data(), c.db.data());
    }
    benchmark::ClobberMemory();
  }
  SetRateCounters(state, c.flops());
}

#if MB_HAVE_DNNL
template <ConvPass kPass>
void BM_Conv2DOneDnn(benchmark::State& state) {
  const ConvBuffers c(state);  // for the shape and the flop count only
  OneDnnConv conv(kPass, c.s.batch, c.s.height, c.s.width, c.s.channels, c.filters,
                  c.s.kernel_h);
  for (auto _ : state) conv.Run();
  SetRateCounters(state, c.flops());
}
#endif

// The book's convnet at batch 64 (28x28x1 -> 32, 13x13x32 -> 64, 5x5x64 ->
// 64, all 3x3), the speedrun reference's two convolutions at batch 256
// (28x28x1 -> 24 5x5, 12x12x24 -> 32 3x3), and configs/speedrun.json's (16
// filters in the first) at 256 and at its batch of 128.
const std::vector<std::vector<int64_t>> kConvShapes = {
    {64, 28, 28, 1, 32, 3},  {64, 13, 13, 32, 64, 3},  {64, 5, 5, 64, 64, 3},
    {256, 28, 28, 1, 24, 5}, {256, 12, 12, 24, 32, 3}, {256, 28, 28, 1, 16, 5},
    {256, 12, 12, 16, 32, 3}, {128, 28, 28, 1, 16, 5}, {128, 12, 12, 16, 32, 3}};

// Each shape's implementations one after another, as RegisterDense does.
template <ConvPass kPass>
void RegisterConv(const char* product) {
  for (const std::vector<int64_t>& shape : kConvShapes) {
    benchmark::RegisterBenchmark((std::string(product) + "/mnistbench").c_str(),
                                 BM_Conv2D<kPass>)
        ->Args(shape)
        ->UseRealTime();
#if MB_HAVE_DNNL
    benchmark::RegisterBenchmark((std::string(product) + "/onednn").c_str(),
                                 BM_Conv2DOneDnn<kPass>)
        ->Args(shape)
        ->UseRealTime();
#endif
  }
}

// Max pooling 2x2, stride 2, args {batch, height, width, channels}: GB/s of
// the input read (forward) or of the input gradient written (backward).
struct PoolBuffers {
  WindowShape s;
  AlignedVector<float> x, y, dx;
  std::vector<uint32_t> argmax;

  explicit PoolBuffers(const benchmark::State& state)
      : s(MakeWindowShape(state.range(0), state.range(1), state.range(2), state.range(3), 2, 2,
                          2, 2, Padding::kValid)),
        x(Filled(s.batch * s.height * s.width * s.channels)),
        y(s.rows() * s.channels),
        dx(x.size()),
        argmax(y.size()) {
    MaxPooling2DForward(s, x.data(), y.data(), argmax.data());
  }
};

template <bool kBackward>
void BM_MaxPooling2D(benchmark::State& state) {
  PoolBuffers p(state);
  for (auto _ : state) {
    if (kBackward) {
      MaxPooling2DBackward(p.s, p.y.data(), p.argmax.data(), p.dx.data());
    } else {
      MaxPooling2DForward(p.s, p.x.data(), p.y.data(), p.argmax.data());
    }
    benchmark::ClobberMemory();
  }
  state.counters["GB/s"] = benchmark::Counter(
      p.x.size() * sizeof(float) * static_cast<double>(state.iterations()) * 1e-9,
      benchmark::Counter::kIsRate);
}

// Forward and weight-gradient shapes: both layers at the full batch and the
// epoch's last batch of 96, the 2,000-image evaluation batch (forward only
// matters there), configs/speedrun.json's two dense layers (800 -> 192 ->
// 10 at batch 128), and a large square.
using Shape = std::vector<int64_t>;  // {M, K, N}
const std::vector<Shape> kLayerShapes = {
    {128, 784, 512}, {96, 784, 512}, {128, 512, 10}, {96, 512, 10},       {2000, 784, 512},
    {2000, 512, 10}, {128, 800, 192}, {128, 192, 10}, {1024, 1024, 1024}};
// The input gradient is only needed above a first layer (and the square).
const std::vector<Shape> kInputGradShapes = {
    {128, 512, 10}, {96, 512, 10}, {128, 800, 192}, {128, 192, 10}, {1024, 1024, 1024}};

using BenchmarkFn = void (*)(benchmark::State&);
struct Implementation {
  const char* name;
  BenchmarkFn forward, backward_input, backward_weights;
};

template <Impl kImpl>
Implementation Functions(const char* name) {
  return {name, BM_Forward<kImpl>, BM_BackwardInput<kImpl>, BM_BackwardWeights<kImpl>};
}

// Each shape's implementations are registered one after another, so that
// the ratios the table reports are measured minutes apart at most: this
// shared machine's speed drifts by 10% and more over a run.
void RegisterDense(const char* product, BenchmarkFn Implementation::*fn,
                   const std::vector<Shape>& shapes, const std::vector<Implementation>& impls) {
  for (const Shape& shape : shapes) {
    for (const Implementation& impl : impls) {
      benchmark::RegisterBenchmark((std::string(product) + "/" + impl.name).c_str(), impl.*fn)
          ->Args(shape)
          ->UseRealTime();
    }
  }
}

void RegisterAll() {
  std::vector<Implementation> impls = {Functions<Impl::kMnistbench>("mnistbench")};
#if MB_HAVE_OPENBLAS
  openblas_set_num_threads(omp_get_max_threads());
  impls.push_back(Functions<Impl::kOpenBlas>("openblas"));
#endif
#if MB_HAVE_DNNL
  impls.push_back(Functions<Impl::kDnnl>("onednn"));
#endif
  RegisterDense("Forward", &Implementation::forward, kLayerShapes, impls);
  RegisterDense("BackwardInput", &Implementation::backward_input, kInputGradShapes, impls);
  RegisterDense("BackwardWeights", &Implementation::backward_weights, kLayerShapes, impls);
  benchmark::RegisterBenchmark("SparseBuild/mnistbench", BM_SparseBuild)
      ->Args({128, 784})->Args({2000, 784})->UseRealTime();
  benchmark::RegisterBenchmark("SparseForward/mnistbench", BM_SparseForward)->Apply(SparseShapes);
  benchmark::RegisterBenchmark("SparseBackwardWeights/mnistbench", BM_SparseBackwardWeights)
      ->Apply(SparseShapes);
  benchmark::RegisterBenchmark("SparseBackwardWeightsRmsprop/mnistbench",
                               BM_SparseBackwardWeightsRmsprop)
      ->Args({128, 784, 512})->Args({96, 784, 512})->UseRealTime();
  RegisterConv<ConvPass::kForward>("Conv2DForward");
  benchmark::RegisterBenchmark("Conv2DForward/read", BM_Conv2DForwardRead)
      ->Args({64, 13, 13, 32, 64, 3, 10})
      ->UseRealTime();
  RegisterConv<ConvPass::kBackwardInput>("Conv2DBackwardInput");
  RegisterConv<ConvPass::kBackwardWeights>("Conv2DBackwardWeights");
  for (const auto& [name, fn] :
       {std::pair{"Conv2DBackwardInput/sparse_dy",
                  BM_Conv2DSparseGradient<ConvPass::kBackwardInput>},
        std::pair{"Conv2DBackwardWeights/sparse_dy",
                  BM_Conv2DSparseGradient<ConvPass::kBackwardWeights>}}) {
    for (const int64_t percent : {9, 12, 25, 40, 60}) {
      benchmark::RegisterBenchmark(name, fn)
          ->Args({256, 12, 12, 16, 32, 3, percent})->Args({128, 12, 12, 16, 32, 3, percent})
          ->Args({64, 13, 13, 32, 64, 3, percent})->UseRealTime();
    }
  }
  for (const auto& [name, fn] :
       {std::pair{"Conv2DMaxPooling2D/fused", BM_Conv2DMaxPooling2D<true>},
        std::pair{"Conv2DMaxPooling2D/two_passes", BM_Conv2DMaxPooling2D<false>}}) {
    benchmark::RegisterBenchmark(name, fn)
        ->Args({256, 28, 28, 1, 16, 5, 0})->Args({128, 28, 28, 1, 16, 5, 0})
        ->Args({256, 28, 28, 1, 24, 5, 0})->Args({64, 28, 28, 1, 32, 3, 1})
        ->Args({64, 13, 13, 32, 64, 3, 1})->Args({128, 12, 12, 16, 32, 3, 0})
        ->Args({256, 12, 12, 24, 32, 3, 0})->UseRealTime();
  }
  for (const auto& [name, fn] :
       {std::pair{"Conv2DMaxPooling2DBackward/fused", BM_Conv2DMaxPooling2DBackward<true>},
        std::pair{"Conv2DMaxPooling2DBackward/two_passes", BM_Conv2DMaxPooling2DBackward<false>}}) {
    benchmark::RegisterBenchmark(name, fn)
        ->Args({256, 28, 28, 1, 16, 5, 0})->Args({128, 28, 28, 1, 16, 5, 0})
        ->Args({64, 28, 28, 1, 32, 3, 1})->UseRealTime();
  }
  for (const auto& [name, fn] : {std::pair{"MaxPooling2D/mnistbench", BM_MaxPooling2D<false>},
                                 std::pair{"MaxPooling2DBackward/mnistbench",
                                           BM_MaxPooling2D<true>}}) {
    benchmark::RegisterBenchmark(name, fn)
        ->Args({64, 26, 26, 32})->Args({64, 11, 11, 64})->Args({256, 24, 24, 24})
        ->Args({256, 24, 24, 16})->Args({256, 10, 10, 32})->Args({128, 10, 10, 32})
        ->UseRealTime();
  }
}

}  // namespace
}  // namespace mb

int main(int argc, char** argv) {
#if MB_HAVE_OPENBLAS
  // Debian's OpenBLAS 0.3.21 does not recognise recent AVX-512 CPUs and
  // falls back to SSE3 kernels; it reads the override when it loads, so set
  // it and start again.
  if (std::getenv("OPENBLAS_CORETYPE") == nullptr && __builtin_cpu_supports("avx512f")) {
    setenv("OPENBLAS_CORETYPE", "SkylakeX", 1);
    execv("/proc/self/exe", argv);
  }
#endif
  // --target=NAME pins the kernels (and the FMA probe) to a lower SIMD
  // target, as the config key kernels.target does for a run.
  for (int i = 1; i < argc; ++i) {
    if (std::strncmp(argv[i], "--target=", 9) != 0) continue;
    if (const std::string problem = mb::KernelTargetProblem(argv[i] + 9); !problem.empty()) {
      std::fprintf(stderr, "bench_kernels: --target: %s\n", problem.c_str());
      return 2;
    }
    mb::PinKernelTarget(argv[i] + 9);
    std::copy(argv + i + 1, argv + argc, argv + i);
    --argc;
    break;
  }
  benchmark::Initialize(&argc, argv);
  mb::g_peak_gflops = mb::MeasureFmaPeakGflops();
  benchmark::AddCustomContext("fma_peak_gflops", std::to_string(mb::g_peak_gflops));
  benchmark::AddCustomContext("simd_target", mb::KernelTargetName());
  benchmark::AddCustomContext("omp_threads", std::to_string(omp_get_max_threads()));
  if (const char* core = std::getenv("OPENBLAS_CORETYPE")) {
    benchmark::AddCustomContext("openblas_coretype", core);
  }
  mb::RegisterAll();
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
