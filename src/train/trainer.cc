#include "train/trainer.h"

#include <algorithm>
#include <chrono>
#include <numeric>

#include <omp.h>

#include "common/rng.h"
#include "nn/regularization.h"
#include "optim/learning_rate_schedule.h"
#include "train/interrupt.h"

namespace mb {

namespace {

// Below this fraction of non-zero inputs the first layer runs on the sparse
// kernels. Measured on this machine (bench_kernels): at MNIST's 0.19 they
// are ~4x faster than the dense ones; the dense kernels win above ~0.5.
constexpr double kSparseInputBelow = 0.5;

// A step builds the next sparse batch on a second thread while the first
// runs the layers above the first one, when those layers' products are at
// most this many multiply-adds: they are too small to gain from two threads
// (the baseline's 10-unit layer, 0.7 M per product, takes as long on one:
// about 60 us per step with the loss), so the build (about 90 us on one
// thread, mostly waiting for the shuffled images) runs beside them instead
// of after them. Larger layers keep the whole team, and each step builds
// its own batch first.
constexpr size_t kOverlapMaxUpperWork = size_t{1} << 22;

double Seconds(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count();
}

}  // namespace

size_t EvalBatchSize(const Model& model) {
  const size_t per_sample = WorkspaceBytes(model, 1, false, false);
  return std::clamp<size_t>(kEvalWorkspaceBytes / per_sample, 1, kEvalBatch);
}

size_t TrainerBufferBytes(const Config& config, const Model& model, size_t train_samples,
                          size_t threads) {
  const auto batch = static_cast<size_t>(config.batch_size);
  const size_t eval_batch = EvalBatchSize(model);
  const size_t features = model.inputs();
  const size_t dense = WorkspaceBytes(model, batch, false, true) +
                       WorkspaceBytes(model, eval_batch, false, false);
  // The step's batch, the next one (built during the step) and evaluation's.
  const size_t sparse = WorkspaceBytes(model, batch, true, true) +
                        WorkspaceBytes(model, eval_batch, true, false) +
                        2 * SparseBatchBytes(batch, features, threads) +
                        SparseBatchBytes(eval_batch, features, threads);
  const size_t classes = model.outputs();
  const size_t predictions = eval_batch * classes * sizeof(float) +
                             static_cast<size_t>(config.predict) *
                                 (sizeof(Prediction) + classes * sizeof(float));
  return std::max(dense, sparse) + train_samples * sizeof(uint32_t)  // order_
         + batch                                                     // batch_labels_
         + predictions;
}

// Reads the batch in compressed form when the first layer is dense and the
// data is sparse enough.
bool UseSparseInput(const Model& model, double input_density) {
  return std::holds_alternative<DenseLayer>(model.layers.front()) &&
         input_density < kSparseInputBelow;
}

Trainer::Trainer(const Config& config, const Dataset& data, Model& model)
    : config_(config),
      data_(data),
      model_(model),
      eval_batch_(EvalBatchSize(model)),
      regularized_(HasRegularization(model)),
      input_density_(NonZeroFraction(data.train.images, data.train.count * data.train.features,
                                     data.pixel_values)),
      // The sparse kernels scale the pixels as x / 255 themselves.
      sparse_input_(UseSparseInput(model, input_density_) && data.pixel_values == PixelScale()),
      train_ws_(BuildWorkspace(model, static_cast<size_t>(config.batch_size), sparse_input_)),
      eval_ws_(BuildWorkspace(model, eval_batch_, sparse_input_, /*backward=*/false)),
      optimizer_(config.optimizer, ParameterList(model)),
      order_(data.train.count),
      batch_labels_(static_cast<size_t>(config.batch_size)) {
  train_ws_.pixel_values = eval_ws_.pixel_values = data.pixel_values;
  const size_t upper_work = ForwardMultiplyAdds(model_, 1, model_.layers.size()) *
                            static_cast<size_t>(config.batch_size);
  overlap_next_batch_ =
      sparse_input_ && omp_get_max_threads() >= 2 && upper_work <= kOverlapMaxUpperWork;
}

nlohmann::json Trainer::Description() const {
  return {{"first_layer_kernel", sparse_input_ ? "sparse" : "dense"},
          {"first_kernel_update_fused",
           sparse_input_ && std::get<DenseLayer>(model_.layers[0]).kernel.fused_update != nullptr},
          {"next_batch_built_during_step", overlap_next_batch_},
          {"input_density", input_density_},
          {"sparse_input_below", kSparseInputBelow}};
}

float Trainer::ScheduledRate(size_t steps) const {
  return static_cast<float>(LearningRateAt(config_.optimizer.schedule,
                                           static_cast<int64_t>(steps),
                                           static_cast<int64_t>(run_steps())));
}

size_t Trainer::run_steps() const {
  const size_t all = steps_per_epoch() * static_cast<size_t>(config_.epochs);
  return config_.max_steps ? std::min<size_t>(all, *config_.max_steps) : all;
}

size_t Trainer::steps_in_epoch(int epoch) const {
  const size_t before = steps_per_epoch() * static_cast<size_t>(epoch - 1);
  return before >= run_steps() ? 0 : std::min(steps_per_epoch(), run_steps() - before);
}

size_t Trainer::steps_per_epoch() const {
  const size_t batch = static_cast<size_t>(config_.batch_size);
  return (data_.train.count + batch - 1) / batch;
}

void Trainer::Restore(const OptimizerState& state, size_t steps_taken,
                      const std::string& source) {
  optimizer_.Restore(state, source);
  steps_taken_ = steps_taken;
}

// Epoch e's order depends only on (seed, e): a Fisher-Yates shuffle of the
// identity with the generator of stream kShuffleStream + e.
void Trainer::ShuffleOrder(int epoch) {
  std::iota(order_.begin(), order_.end(), 0u);
  if (config_.shuffle == Shuffle::kNever) return;
  // "once": every epoch takes epoch 1's order.
  const int shuffled = config_.shuffle == Shuffle::kOnce ? 1 : epoch;
  Rng rng(config_.seed, kShuffleStream + static_cast<uint64_t>(shuffled));
  for (size_t i = order_.size() - 1; i > 0; --i) {
    std::swap(order_[i], order_[rng.UniformInt(i + 1)]);
  }
}

double Trainer::CheckTarget(int epoch, std::optional<double> known_accuracy) {
  const auto start = std::chrono::steady_clock::now();
  const double accuracy =
      known_accuracy ? *known_accuracy
                     : Evaluate(data_.validation).accuracy;
  const auto end = std::chrono::steady_clock::now();
  if (!target_hit_ && accuracy >= *config_.target_accuracy) {
    target_hit_ = TargetHit{epoch, steps_taken_, accuracy, end};
  }
  return std::chrono::duration<double>(end - start).count();
}

std::optional<EpochRecord> Trainer::RunEpoch(int epoch, EpochProgress& progress) {
  const auto start = std::chrono::steady_clock::now();
  const size_t check_every =
      config_.target_accuracy ? static_cast<size_t>(config_.target_every_steps) : 0;
  double evaluation_seconds = 0;
  size_t steps_done = 0;
  ShuffleOrder(epoch);
  const DataView& train = data_.train;
  const size_t batch_size = static_cast<size_t>(config_.batch_size);
  const size_t steps = steps_in_epoch(epoch);

  double loss_sum = 0;
  size_t correct = 0, seen = 0;
  for (size_t step = 0; step < steps; ++step) {
    if (InterruptRequested()) return std::nullopt;
    const size_t first = step * batch_size;
    const size_t batch = std::min(batch_size, train.count - first);
    // With overlap_next_batch_, this step's batch was built during the last.
    if (!overlap_next_batch_ || step == 0) {
      LoadBatch(train.images, train.features, order_.data(), first, batch, train_ws_);
    }
    for (size_t i = 0; i < batch; ++i) batch_labels_[i] = train.labels[order_[first + i]];
    const bool build_next = overlap_next_batch_ && step + 1 < steps;
    if (config_.optimizer.schedule.kind != ScheduleKind::kConstant) {
      optimizer_.set_learning_rate(ScheduledRate(steps_taken_));
    }
    const BatchLoss batch_loss =
        TrainStep(batch, build_next ? std::optional<size_t>(first + batch_size) : std::nullopt);

    loss_sum += batch_loss.loss_sum;
    correct += batch_loss.correct;
    seen += batch;
    ++steps_taken_;
    ++steps_done;
    progress.Update(step + 1, loss_sum / seen, static_cast<double>(correct) / seen);
    if (step_observer_ && !step_observer_(steps_taken_, batch_loss, batch)) return std::nullopt;
    if (check_every > 0 && steps_taken_ % check_every == 0) {
      evaluation_seconds += CheckTarget(epoch, std::nullopt);
      if (target_hit_) break;
    }
  }

  EpochRecord record;
  record.epoch = epoch;
  record.steps = steps_done;
  record.seconds = Seconds(start) - evaluation_seconds;
  record.loss = loss_sum / static_cast<double>(seen);
  record.accuracy = static_cast<double>(correct) / static_cast<double>(seen);
  record.samples_per_second = static_cast<double>(seen) / record.seconds;
  record.learning_rate = config_.optimizer.schedule.kind == ScheduleKind::kConstant
                             ? optimizer_.learning_rate()
                             : ScheduledRate(steps_taken_);
  if (data_.validation.count > 0) {
    const Evaluation val = Evaluate(data_.validation);
    record.val_loss = val.loss;
    record.val_accuracy = val.accuracy;
  }
  if (config_.target_accuracy && check_every == 0) CheckTarget(epoch, record.val_accuracy);
  return record;
}

BatchLoss Trainer::TrainStep(size_t batch, std::optional<size_t> next_first) {
  const size_t layers = model_.layers.size();
  // Counted from 1, as steps_taken_ will be once this step is done.
  const StepContext context{/*training=*/true, config_.seed, steps_taken_ + 1, 0};
  // With the next batch built alongside, the first layer reads the sparse
  // batch outside the region that builds the next one, before it forward
  // and after it backward; otherwise each pass is one range, where a first
  // convolution can fuse with its pooling.
  const size_t lower = next_first ? 1 : 0;
  ModelForwardLayers(model_, batch, train_ws_, 0, lower, context);
  BatchLoss loss;
  auto upper_layers = [&] {
    ModelForwardLayers(model_, batch, train_ws_, lower, layers, context);
    loss = SoftmaxCrossEntropy(train_ws_.logits(), batch_labels_.data(), batch,
                               model_.outputs(), 1.0f / static_cast<float>(batch),
                               train_ws_.logits_gradient());
    ModelBackwardLayers(model_, batch, train_ws_, lower, layers);
  };
  if (next_first) {
    // Thread 0 runs the upper layers (their kernels see the parallel region
    // and stay on it) while thread 1 builds the next batch.
    const DataView& train = data_.train;
    const size_t next_count = std::min(static_cast<size_t>(config_.batch_size),
                                       train.count - *next_first);
#pragma omp parallel num_threads(2)
    {
      const int thread = omp_get_thread_num();
      if (thread == 0) upper_layers();
      if (thread == 1 || omp_get_num_threads() == 1) {
        BuildSparseBatch(train.images, train.features, order_.data(), *next_first,
                         next_count, next_sparse_);
      }
    }
  } else {
    upper_layers();
  }
  ModelBackwardLayers(model_, batch, train_ws_, 0, lower);
  if (regularized_) {
    // Keras' loss includes the regularizers' terms, from the weights the
    // step started with (regularized tensors are never updated in backward).
    loss.loss_sum += static_cast<double>(batch) * RegularizationLoss(model_);
    AddRegularizationGradients(model_);
  }
  optimizer_.Step();
  if (next_first) std::swap(train_ws_.sparse, next_sparse_);
  return loss;
}

Evaluation Trainer::Evaluate(const DataView& view) {
  Evaluation result;
  result.classes = model_.outputs();
  result.confusion.assign(result.classes * result.classes, 0);
  std::vector<uint8_t> predicted(eval_batch_);
  double loss_sum = 0;
  for (size_t first = 0; first < view.count; first += eval_batch_) {
    const size_t batch = std::min(eval_batch_, view.count - first);
    LoadBatch(view.images, view.features, nullptr, first, batch, eval_ws_);
    ModelForward(model_, batch, eval_ws_);
    const uint8_t* labels = view.labels + first;
    const BatchLoss batch_loss =
        SoftmaxCrossEntropy(eval_ws_.logits(), labels, batch, result.classes, 0.0f, nullptr);
    PredictedClasses(eval_ws_.logits(), batch, result.classes, predicted.data());
    for (size_t i = 0; i < batch; ++i) {
      ++result.confusion[labels[i] * result.classes + predicted[i]];
    }
    loss_sum += batch_loss.loss_sum;
    result.correct += batch_loss.correct;
  }
  result.samples = view.count;
  if (view.count > 0) {
    result.loss = loss_sum / static_cast<double>(view.count);
    if (regularized_) result.loss += RegularizationLoss(model_);
    result.accuracy = static_cast<double>(result.correct) / static_cast<double>(view.count);
  }
  return result;
}

std::vector<Prediction> Trainer::Predict(const DataView& view, size_t count) {
  count = std::min(count, view.count);
  const size_t classes = model_.outputs();
  std::vector<Prediction> predictions;
  std::vector<float> probabilities(eval_batch_ * classes);
  for (size_t first = 0; first < count; first += eval_batch_) {
    const size_t batch = std::min(eval_batch_, count - first);
    LoadBatch(view.images, view.features, nullptr, first, batch, eval_ws_);
    ModelForward(model_, batch, eval_ws_);
    Softmax(eval_ws_.logits(), batch, classes, probabilities.data());
    for (size_t i = 0; i < batch; ++i) {
      Prediction p;
      p.index = static_cast<int>(first + i);
      p.label = view.labels[first + i];
      p.probabilities.assign(probabilities.begin() + i * classes,
                             probabilities.begin() + (i + 1) * classes);
      p.predicted = static_cast<int>(
          std::max_element(p.probabilities.begin(), p.probabilities.end()) -
          p.probabilities.begin());
      p.probability = p.probabilities[p.predicted];
      predictions.push_back(std::move(p));
    }
  }
  return predictions;
}

}  // namespace mb
