// The memory estimate against what the baseline really allocates, and the
// refusal's message.
#include "train/memory_budget.h"

#include <catch2/catch.hpp>

#include <omp.h>

#include <string>
#include <variant>
#include <vector>

#include "common/aligned_vector.h"
#include "common/error.h"
#include "config/config.h"
#include "data/dataset.h"
#include "nn/model.h"
#include "train/trainer.h"

namespace mb {
namespace {

template <class Vector>
uint64_t Bytes(const Vector& v) {
  return v.capacity() * sizeof(typename Vector::value_type);
}

// The bytes of ws's buffers; `rounded`: each as the allocator takes it
// (AlignedAllocationBytes), which is how WorkspaceBytes counts them.
uint64_t WorkspaceAllocated(const ModelWorkspace& ws, bool rounded = false) {
  const auto bytes = [rounded](const auto& v) -> uint64_t {
    return rounded ? AlignedAllocationBytes(Bytes(v)) : Bytes(v);
  };
  uint64_t total = bytes(ws.input);
  for (const LayerBuffers& layer : ws.layers) {
    total += bytes(layer.z) + bytes(layer.a) + bytes(layer.delta) + bytes(layer.scratch) +
             bytes(layer.index);
  }
  return total;
}

// At most this much more than `bytes` spread over `buffers` buffers: each
// large one is rounded up to whole huge pages (aligned_vector.h).
uint64_t RoundingSlack(size_t buffers) { return buffers * 2 * kHugePage; }

const Config& Baseline() {
  static const Config config = LoadConfig("configs/baseline.json", {});
  return config;
}

TEST_CASE("The baseline's memory estimate covers what it allocates", "[memory]") {
  const Config& config = Baseline();
  const DatasetShape shape = ReadDatasetShape(config.data);
  const MemoryEstimate estimate = EstimateMemory(config, shape, 0);
  const Dataset data = LoadDataset(config.data, config.validation_split);
  const Model model = BuildModel(data.image_shape(), config.model);

  // Values and gradients, and RMSprop's one slot: never below their bytes.
  const uint64_t tensor_bytes = model.ParameterCount() * sizeof(float);
  const size_t tensors = 2 * config.model.size();
  CHECK(estimate.parameters >= 2 * tensor_bytes);
  CHECK(estimate.parameters <= 2 * tensor_bytes + RoundingSlack(2 * tensors));
  CHECK(estimate.optimizer >= tensor_bytes);
  CHECK(estimate.optimizer <= tensor_bytes + RoundingSlack(tensors));

  // The data exactly as loaded.
  CHECK(estimate.data == Bytes(data.train_images) + Bytes(data.train_labels) +
                             Bytes(data.test_images) + Bytes(data.test_labels));

  // The trainer's buffers on the sparse first layer the baseline runs on:
  // its workspaces and the batches, built from real samples.
  const auto batch = static_cast<size_t>(config.batch_size);
  const ModelWorkspace train_ws = BuildWorkspace(model, batch, /*sparse_input=*/true);
  REQUIRE(EvalBatchSize(model) == kEvalBatch);
  const ModelWorkspace eval_ws = BuildWorkspace(model, kEvalBatch, true, /*backward=*/false);
  SparseBatch train_batch, eval_batch;
  BuildSparseBatch(data.train.images, data.features, nullptr, 0, batch, train_batch);
  BuildSparseBatch(data.test.images, data.features, nullptr, 0, kEvalBatch, eval_batch);
  const size_t threads = static_cast<size_t>(omp_get_max_threads());
  const uint64_t workspaces = WorkspaceAllocated(train_ws) + WorkspaceAllocated(eval_ws);
  CHECK(WorkspaceBytes(model, batch, true, true) +
            WorkspaceBytes(model, kEvalBatch, true, false) >=
        workspaces);
  const uint64_t allocated = workspaces + 2 * SparseBatchBytes(batch, data.features, threads) +
                             SparseBatchBytes(kEvalBatch, data.features, threads) +
                             data.train.count * sizeof(uint32_t);
  CHECK(estimate.activations >= allocated);
  CHECK(estimate.activations <= 2 * allocated);

  // The baseline's measured peak RSS is about 80 MB (report.json's
  // peak_rss_bytes), of which about 6 MB is the process before the run.
  CHECK(estimate.total() >= 60'000'000);
  CHECK(estimate.total() <= 120'000'000);
}

TEST_CASE("The convnet's memory estimate covers what it allocates", "[memory]") {
  const Config config = LoadConfig("configs/convnet.json", {});
  const DatasetShape shape = ReadDatasetShape(config.data);
  const MemoryEstimate estimate = EstimateMemory(config, shape, 0);
  const Model model = BuildModel(FeatureShape::Image(28, 28, 1), config.model);
  const uint64_t tensor_bytes = model.ParameterCount() * sizeof(float);
  CHECK(estimate.parameters >= 2 * tensor_bytes);
  CHECK(estimate.optimizer >= tensor_bytes);
  // Dense workspaces: the first layer is a convolution. The evaluation
  // batch shrinks to keep its im2col rows within kEvalWorkspaceBytes.
  const size_t eval_batch = EvalBatchSize(model);
  CHECK(eval_batch < kEvalBatch);
  const ModelWorkspace train_ws =
      BuildWorkspace(model, static_cast<size_t>(config.batch_size));
  const ModelWorkspace eval_ws = BuildWorkspace(model, eval_batch, false, /*backward=*/false);
  CHECK(WorkspaceAllocated(eval_ws) <= kEvalWorkspaceBytes + RoundingSlack(5 * 8));
  const uint64_t allocated = WorkspaceAllocated(train_ws) + WorkspaceAllocated(eval_ws) +
                             shape.train_images.count * sizeof(uint32_t);
  CHECK(estimate.activations >= allocated);
  CHECK(estimate.activations <= 2 * allocated);
}

// The convolutions' input gradient keeps its im2col rows in per-thread
// buffers of a few samples (kernels/conv2d.h), not in the workspace, and
// WorkspaceBytes, hence the estimate, counts exactly what is allocated.
TEST_CASE("Conv layers keep no im2col scratch in the workspace", "[memory]") {
  const Config config = LoadConfig("configs/convnet.json", {});
  const Model model = BuildModel(FeatureShape::Image(28, 28, 1), config.model);
  const auto batch = static_cast<size_t>(config.batch_size);
  const ModelWorkspace ws = BuildWorkspace(model, batch);
  CHECK(ws.layers[0].scratch.empty());
  CHECK(ws.layers[2].scratch.empty());
  CHECK(WorkspaceBytes(model, batch, false, true) == WorkspaceAllocated(ws, /*rounded=*/true));
  const size_t eval_batch = EvalBatchSize(model);
  const ModelWorkspace eval_ws = BuildWorkspace(model, eval_batch, false, /*backward=*/false);
  CHECK(WorkspaceBytes(model, eval_batch, false, false) == WorkspaceAllocated(eval_ws, true));
}

TEST_CASE("The estimate counts each optimizer's state slots", "[memory]") {
  const DatasetShape shape = ReadDatasetShape(Baseline().data);
  const auto optimizer_bytes = [&](const std::string& optimizer) {
    const Config config = LoadConfig("configs/baseline.json", {"optimizer=" + optimizer});
    return EstimateMemory(config, shape, 0).optimizer;
  };
  const uint64_t one_slot = optimizer_bytes(R"({"name": "rmsprop"})");
  CHECK(one_slot > 0);
  CHECK(optimizer_bytes(R"({"name": "sgd"})") == 0);
  CHECK(optimizer_bytes(R"({"name": "sgd", "momentum": 0.9})") == one_slot);
  CHECK(optimizer_bytes(R"({"name": "adam"})") == 2 * one_slot);
  CHECK(optimizer_bytes(R"({"name": "adamw"})") == 2 * one_slot);
}

TEST_CASE("Three 65536-unit layers need more than this machine has", "[memory]") {
  const Config config = LoadConfig(
      "configs/baseline.json",
      {R"(model=[{"units": 65536, "activation": "relu"}, {"units": 65536, "activation": "relu"},
                 {"units": 65536, "activation": "relu"}, {"units": 10, "activation": "softmax"}])"});
  const MemoryEstimate estimate = EstimateMemory(config, ReadDatasetShape(config.data), 0);
  const uint64_t parameters = 784ull * 65536 + 2 * 65536ull * 65536 + 65536 * 10 + 3 * 65536 + 10;
  CHECK(estimate.parameters >= 2 * 4 * parameters);  // 64.4 GiB
  CHECK(estimate.optimizer >= 4 * parameters);
  CHECK(estimate.total() > uint64_t{96} << 30);
}

TEST_CASE("CheckMemoryBudget refuses in one line naming every part", "[memory]") {
  Config config;
  config.source = "configs/big.json";
  MemoryEstimate estimate;
  estimate.parameters = uint64_t{64} << 30;
  estimate.optimizer = uint64_t{32} << 30;
  estimate.activations = uint64_t{900} << 20;
  estimate.data = 54'950'000;
  estimate.process = 6 << 20;
  AvailableMemory available{uint64_t{22} << 30, "MemAvailable in /proc/meminfo"};
  CHECK_THROWS_MATCHES(
      CheckMemoryBudget(config, estimate, available), InputError,
      Catch::Message("configs/big.json: model: needs an estimated 96.9 GiB (parameters and "
                     "gradients 64.0 GiB, optimizer 32.0 GiB, activations 900.0 MiB, data "
                     "52.4 MiB, process 6.0 MiB) but only 22.0 GiB is available (MemAvailable "
                     "in /proc/meminfo)"));
  available.bytes = estimate.total();
  CHECK_NOTHROW(CheckMemoryBudget(config, estimate, available));
}

TEST_CASE("MemoryJson records the estimate and what was available", "[memory]") {
  MemoryEstimate estimate;
  estimate.parameters = 4;
  estimate.optimizer = 2;
  estimate.activations = 3;
  estimate.data = 5;
  estimate.process = 6;
  const nlohmann::json json = MemoryJson(estimate, {1000, "MB_MEMORY_LIMIT_BYTES"});
  CHECK(json["estimated_bytes"] == 20);
  CHECK(json["estimate"] == nlohmann::json({{"parameters", 4},
                                            {"optimizer", 2},
                                            {"activations", 3},
                                            {"data", 5},
                                            {"process", 6}}));
  CHECK(json["available_bytes"] == 1000);
  CHECK(json["available_source"] == "MB_MEMORY_LIMIT_BYTES");
  CHECK(MemoryJson(estimate, AvailableMemory{})["available_bytes"].is_null());
}

TEST_CASE("BytesText", "[memory]") {
  CHECK(BytesText(0) == "0 bytes");
  CHECK(BytesText(1023) == "1023 bytes");
  CHECK(BytesText(1024) == "1.0 KiB");
  CHECK(BytesText(1536) == "1.5 KiB");
  CHECK(BytesText(uint64_t{80} << 20) == "80.0 MiB");
  CHECK(BytesText(uint64_t{3} << 40) == "3.0 TiB");
  CHECK(BytesText(UINT64_MAX) == "16.0 EiB");
}

}  // namespace
}  // namespace mb
