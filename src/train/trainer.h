// The training loop: one epoch of shuffled mini-batch steps, evaluation in
// large batches, and predictions. It owns the optimizer state and every
// buffer the loop touches, allocated once in the constructor; the model
// owns its parameters and their gradients.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "config/config.h"
#include "data/dataset.h"
#include "nn/model.h"
#include "nn/softmax_cross_entropy.h"
#include "optim/optimizer.h"
#include "report/run_report.h"
#include "train/progress.h"

namespace mb {

// Evaluation and prediction run in batches of up to this many samples: big
// enough that each product is efficient ...
inline constexpr size_t kEvalBatch = 1000;
// ... and small enough that the evaluation workspace stays below this (a
// convnet's layers take 70-150 KB per sample). Every page of it is touched
// when the trainer is built: 64 MiB took 0.07-0.13 s of the convnets'
// set-up on the Zen 5 VM, 16 MiB 0.01 s, and evaluation was no slower in
// batches a quarter the size.
inline constexpr size_t kEvalWorkspaceBytes = size_t{16} << 20;

// The evaluation batch of `model`: kEvalBatch, or fewer so that its
// workspace fits kEvalWorkspaceBytes (at least 1). It depends on the model
// alone, so evaluations are the same at any thread count.
size_t EvalBatchSize(const Model& model);

// For budgeting memory before anything is allocated: the bytes a Trainer
// for `config` allocates besides the model and the optimizer's state, for
// `model` (built without allocating) on `train_samples` samples, with
// `threads` threads. Its workspaces and batches are counted for the larger
// of a dense and a sparse first layer, since the choice waits for the
// data's density.
size_t TrainerBufferBytes(const Config& config, const Model& model, size_t train_samples,
                          size_t threads);

struct Evaluation {
  double loss = 0;
  double accuracy = 0;
  size_t correct = 0, samples = 0;
  // confusion[true_label * classes + predicted]: how often each class was
  // taken for each.
  size_t classes = 0;
  std::vector<uint64_t> confusion;
};

// When and where training reached config.target_accuracy.
struct TargetHit {
  int epoch = 0;        // 1-based
  size_t step = 0;      // training steps taken in all, counting from 1
  double accuracy = 0;  // on the target set, at that point
  std::chrono::steady_clock::time_point at;  // when the evaluation that saw it ended
};

class Trainer {
 public:
  // `model` must outlive the trainer; it is updated in place.
  Trainer(const Config& config, const Dataset& data, Model& model);

  // Trains epoch `epoch` (1-based) over data.train and, when there is a
  // validation set, evaluates it. Loss and accuracy are Keras' running
  // means over the epoch's samples, measured before each step's update.
  // Returns nothing when an interrupt (train/interrupt.h) stopped the epoch
  // part-way. With config.target_accuracy, the accuracy on the target set
  // is checked after the epoch or every config.target_every_steps steps;
  // once it is reached the epoch ends there (its record covers the steps
  // taken) and target_hit() says when. The evaluations are not counted in
  // the epoch's seconds.
  std::optional<EpochRecord> RunEpoch(int epoch, EpochProgress& progress);

  // The first time training reached config.target_accuracy, if it did.
  const std::optional<TargetHit>& target_hit() const { return target_hit_; }

  Evaluation Evaluate(const DataView& view);
  std::vector<Prediction> Predict(const DataView& view, size_t count);

  // Steps per epoch (the last batch may be smaller).
  size_t steps_per_epoch() const;
  // The run's training steps: every epoch's, or config.max_steps when fewer.
  size_t run_steps() const;
  // Epoch `epoch`'s steps (1-based): steps_per_epoch(), fewer in the epoch
  // max_steps ends, 0 after it.
  size_t steps_in_epoch(int epoch) const;

  // What a checkpoint keeps of the training loop (train/run_checkpoint.h):
  // the optimizer's state and the steps taken over all epochs, which key
  // the schedule and the dropout masks. Restore throws InputError naming
  // `source` when the state does not fit this model and optimizer.
  OptimizerState optimizer_state() const { return optimizer_.State(); }
  size_t steps_taken() const { return steps_taken_; }
  void Restore(const OptimizerState& state, size_t steps_taken, const std::string& source);

  // The optimizer's constant learning rate, changed between epochs
  // (reduce_lr_on_plateau); a schedule sets its own at every step.
  float learning_rate() const { return optimizer_.learning_rate(); }
  void set_learning_rate(float learning_rate) { optimizer_.set_learning_rate(learning_rate); }

  // Called after every training step with the steps taken in all (from 1),
  // the step's batch loss (summed over its `batch` samples, measured before
  // the update) and the batch size. Returning false ends the epoch there:
  // RunEpoch then returns nothing, as after an interrupt.
  using StepObserver = std::function<bool(size_t step, const BatchLoss& loss, size_t batch)>;
  void set_step_observer(StepObserver observer) { step_observer_ = std::move(observer); }

  // For report.json["training"]: the measured input density and whether the
  // first layer runs on the sparse kernels.
  nlohmann::json Description() const;

 private:
  void ShuffleOrder(int epoch);
  // Evaluates the validation set; records a hit in epoch `epoch` when the
  // accuracy reaches the target. Returns the seconds it took.
  double CheckTarget(int epoch, std::optional<double> known_accuracy);
  // One training step on the loaded batch of `batch` samples: forward,
  // loss, backward, the optimizer's step. With next_first, a second thread
  // builds the batch of the samples from next_first on (the order's) while
  // the first runs the layers above the first one, and it becomes the
  // loaded batch. Returns the batch's loss, measured before the update.
  BatchLoss TrainStep(size_t batch, std::optional<size_t> next_first);
  // The schedule's rate after `steps` updates, as the optimizer takes it.
  float ScheduledRate(size_t steps) const;

  const Config& config_;
  const Dataset& data_;
  Model& model_;
  size_t eval_batch_;
  bool regularized_;  // any kernel_regularizer or bias_regularizer
  double input_density_;  // fraction of non-zero training inputs (after normalisation)
  bool sparse_input_;
  ModelWorkspace train_ws_;
  ModelWorkspace eval_ws_;
  Optimizer optimizer_;
  // Whether each step builds the next batch on a second thread while the
  // first runs the layers above the first (see RunEpoch), and that batch.
  bool overlap_next_batch_ = false;
  SparseBatch next_sparse_;
  std::vector<uint32_t> order_;        // sample order of the current epoch
  std::vector<uint8_t> batch_labels_;  // labels of the current batch
  size_t steps_taken_ = 0;             // over all epochs
  StepObserver step_observer_;
  std::optional<TargetHit> target_hit_;
};

}  // namespace mb
