// The SIMD dense-layer products against the plain-loop reference, on every
// SIMD target this binary was built for and this CPU supports, on odd shapes
// that exercise the row and column tails of the register tiles.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include <omp.h>

#include "common/team.h"
#include "kernel_test_support.h"
#include "kernels/gemm.h"

namespace mb {
namespace {

struct Shape {
  size_t M, K, N;
};
// {300, 600, 10}: an X too large for the 10-unit forward pass to order its
// tiles by unit block (kNarrowSharedInputBytes), so the threads split rows.
// N = 64, 80, 112 and 200: panels of unequal vector counts (2 + 2, 3 + 2,
// 3 + 2 + 2 on AVX-512; 25 vectors on AVX2) and a partial last vector.
const Shape kShapes[] = {{1, 1, 1},     {3, 5, 7},       {17, 3, 1},     {1, 785, 10},
                         {127, 17, 33}, {128, 784, 512}, {96, 512, 10},  {9, 127, 785},
                         {33, 64, 48},  {16, 10, 512},   {300, 600, 10}, {40, 70, 64},
                         {21, 30, 80},  {19, 33, 112},   {23, 9, 199}};
const Activation kActivations[] = {Activation::kLinear, Activation::kRelu, Activation::kTanh,
                                   Activation::kSigmoid, Activation::kGelu,
                                   Activation::kSoftmax};

TEST_CASE("DenseForward matches the reference on every target", "[kernels]") {
  ForEachTarget([](const std::string&) {
    for (const Shape& s : kShapes) {
      for (Activation act : kActivations) {
        INFO("M=" << s.M << " K=" << s.K << " N=" << s.N << " act=" << int(act));
        const auto X = RandomMatrix(s.M * s.K, 1, 0.3f);
        const auto W = RandomMatrix(s.K * s.N, 2);
        const auto b = RandomMatrix(s.N, 3);
        std::vector<float> Z(s.M * s.N), Y(s.M * s.N), Zr(s.M * s.N), Yr(s.M * s.N);
        DenseForward(s.M, s.K, s.N, X.data(), W.data(), b.data(), act, Z.data(), Y.data());
        reference::DenseForward(s.M, s.K, s.N, X.data(), W.data(), b.data(), act, Zr.data(),
                                Yr.data());
        RequireClose(Z, Zr, 1e-4f, "Z");
        RequireClose(Y, Yr, 1e-4f, "Y");
      }
    }
  });
}

TEST_CASE("DenseForward without Z or bias", "[kernels]") {
  const Shape s{19, 31, 70};
  const auto X = RandomMatrix(s.M * s.K, 4);
  const auto W = RandomMatrix(s.K * s.N, 5);
  std::vector<float> Y(s.M * s.N), Yr(s.M * s.N);
  DenseForward(s.M, s.K, s.N, X.data(), W.data(), nullptr, Activation::kRelu, nullptr, Y.data());
  reference::DenseForward(s.M, s.K, s.N, X.data(), W.data(), nullptr, Activation::kRelu,
                          nullptr, Yr.data());
  RequireClose(Y, Yr, 1e-4f, "Y");
}

TEST_CASE("DenseBackwardInput matches the reference on every target", "[kernels]") {
  ForEachTarget([](const std::string&) {
    for (const Shape& s : kShapes) {
      for (Activation act : kActivations) {
        INFO("M=" << s.M << " K=" << s.K << " N=" << s.N << " act=" << int(act));
        const auto dY = RandomMatrix(s.M * s.N, 6);
        const auto W = RandomMatrix(s.K * s.N, 7);
        auto Zp = RandomMatrix(s.M * s.K, 8);
        std::vector<float> Ap(Zp.size());
        for (size_t i = 0; i < Zp.size(); ++i) Ap[i] = ActivationForward(act, Zp[i]);
        std::vector<float> dX(s.M * s.K), dXr(s.M * s.K);
        DenseBackwardInput(s.M, s.K, s.N, dY.data(), W.data(), act, Zp.data(), Ap.data(),
                           dX.data());
        reference::DenseBackwardInput(s.M, s.K, s.N, dY.data(), W.data(), act, Zp.data(),
                                      Ap.data(), dXr.data());
        RequireClose(dX, dXr, 1e-4f, "dX");
      }
    }
  });
}

TEST_CASE("DenseBackwardWeights matches the reference on every target", "[kernels]") {
  ForEachTarget([](const std::string&) {
    for (const Shape& s : kShapes) {
      INFO("M=" << s.M << " K=" << s.K << " N=" << s.N);
      const auto X = RandomMatrix(s.M * s.K, 9, 0.2f);
      const auto dY = RandomMatrix(s.M * s.N, 10);
      std::vector<float> dW(s.K * s.N), db(s.N), dWr(s.K * s.N), dbr(s.N);
      DenseBackwardWeights(s.M, s.K, s.N, X.data(), dY.data(), dW.data(), db.data());
      reference::DenseBackwardWeights(s.M, s.K, s.N, X.data(), dY.data(), dWr.data(),
                                      dbr.data());
      RequireClose(dW, dWr, 1e-4f, "dW");
      RequireClose(db, dbr, 1e-4f, "db");
    }
  });
}

// Over a batch longer than the chunk the weight gradient sums in (the
// product continues each chunk's sums from the last's, stored in dW), every
// element must still be one chain of fused multiply-adds from the first
// sample up, and the bias gradient one chain of adds: on every FMA target.
TEST_CASE("DenseBackwardWeights over a long batch is one fused-multiply-add chain",
          "[kernels]") {
  const size_t M = 1100, K = 37, N = 40;
  const auto X = RandomMatrix(M * K, 15, 0.5f);
  const auto dY = RandomMatrix(M * N, 16);
  std::vector<float> expected(K * N), expected_db(N, 0.0f);
  for (size_t k = 0; k < K; ++k) {
    for (size_t n = 0; n < N; ++n) {
      float sum = 0.0f;
      for (size_t m = 0; m < M; ++m) sum = std::fma(X[m * K + k], dY[m * N + n], sum);
      expected[k * N + n] = sum;
    }
  }
  for (size_t m = 0; m < M; ++m) {
    for (size_t n = 0; n < N; ++n) expected_db[n] += dY[m * N + n];
  }
  ForEachTarget([&](const std::string&) {
    if (NumericsClass() != "fma") return;
    std::vector<float> dW(K * N), db(N);
    DenseBackwardWeights(M, K, N, X.data(), dY.data(), dW.data(), db.data());
    CHECK(dW == expected);
    CHECK(db == expected_db);
  });
}

TEST_CASE("Products are bitwise identical at 1, 2 and 4 threads", "[kernels]") {
  for (const Shape& s : {Shape{128, 784, 512}, Shape{128, 512, 10}, Shape{300, 600, 10},
                         Shape{200, 64, 80}, Shape{64, 576, 64}}) {
    INFO("M=" << s.M << " K=" << s.K << " N=" << s.N);
    const auto X = RandomMatrix(s.M * s.K, 11, 0.2f);
    const auto W = RandomMatrix(s.K * s.N, 12);
    const auto b = RandomMatrix(s.N, 13);
    const auto dY = RandomMatrix(s.M * s.N, 14);
    auto run = [&](int threads) {
      omp_set_num_threads(threads);
      std::vector<float> Y(s.M * s.N), dX(s.M * s.K), dW(s.K * s.N), db(s.N);
      DenseForward(s.M, s.K, s.N, X.data(), W.data(), b.data(), Activation::kRelu, nullptr,
                   Y.data());
      DenseBackwardInput(s.M, s.K, s.N, dY.data(), W.data(), Activation::kRelu, nullptr,
                         X.data(), dX.data());
      DenseBackwardWeights(s.M, s.K, s.N, X.data(), dY.data(), dW.data(), db.data());
      std::vector<float> all = Y;
      all.insert(all.end(), dX.begin(), dX.end());
      all.insert(all.end(), dW.begin(), dW.end());
      all.insert(all.end(), db.begin(), db.end());
      return all;
    };
    const auto one = run(1);
    const auto two = run(2);
    const auto four = run(4);
    omp_set_num_threads(omp_get_num_procs());
    REQUIRE(one == two);
    REQUIRE(one == four);
  }
}

// The trainer runs the 10-unit layer on one thread of a parallel region
// while the other builds the next batch: kernels called there must stay on
// the calling thread even when nesting is enabled (no oversubscription), and
// give the same results.
TEST_CASE("Kernels called inside a parallel region run on the calling thread", "[kernels]") {
  CHECK(UseTeam(true));
  CHECK_FALSE(UseTeam(false));
  const size_t M = 128, K = 512, N = 10;
  const auto X = RandomMatrix(M * K, 21), W = RandomMatrix(K * N, 22), b = RandomMatrix(N, 23);
  std::vector<float> outside(M * N), inside(M * N);
  DenseForward(M, K, N, X.data(), W.data(), b.data(), Activation::kLinear, nullptr,
               outside.data());
  const int levels = omp_get_max_active_levels();
  omp_set_max_active_levels(2);
  bool team_inside = true;
#pragma omp parallel num_threads(2)
  {
    if (omp_get_thread_num() == 0) {
      team_inside = UseTeam(true);
      DenseForward(M, K, N, X.data(), W.data(), b.data(), Activation::kLinear, nullptr,
                   inside.data());
    }
  }
  omp_set_max_active_levels(levels);
  CHECK_FALSE(team_inside);
  CHECK(inside == outside);
}

}  // namespace
}  // namespace mb
