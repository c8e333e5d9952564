// The experiment configuration: what a JSON config file may say, with every
// default filled in. A resolved Config (and its `resolved` JSON, written into
// each report) alone reproduces a run.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/activation.h"
#include "config/callback_config.h"
#include "config/model_config.h"
#include "config/schedule_config.h"
#include "data/data_config.h"

namespace mb {

enum class OptimizerKind : uint8_t {
  kSgd, kRmsprop, kAdam, kAdamW, kAdagrad, kAdadelta, kAdamax, kNadam, kLion
};

// Defaults are Keras' for each optimizer (see config.cc); the ones here are
// RMSprop's, or the most common.
struct OptimizerConfig {
  OptimizerKind kind = OptimizerKind::kRmsprop;
  float learning_rate = 0.001f;  // the constant rate, or the schedule's initial one
  LearningRateSchedule schedule;  // kConstant unless learning_rate is an object
  float momentum = 0.0f;      // sgd, rmsprop
  bool nesterov = false;      // sgd
  float rho = 0.9f;           // rmsprop; adadelta (0.95)
  bool centered = false;      // rmsprop
  bool amsgrad = false;       // adam, adamw
  float initial_accumulator_value = 0.1f;  // adagrad
  float epsilon = 1e-7f;      // all but sgd and lion
  float beta_1 = 0.9f;        // adam, adamw, adamax, nadam, lion
  float beta_2 = 0.999f;      // adam, adamw, adamax, nadam; lion (0.99)
  float weight_decay = 0.0f;  // every optimizer (Keras 3); adamw's default 0.004
  // Gradient clipping, Keras' optimizer options; at most one is set.
  std::optional<float> clipnorm, clipvalue, global_clipnorm;
};

// The training order: shuffled every epoch (true, Keras' fit), never
// (false), or once, epoch 1's order kept for every epoch ("once").
enum class Shuffle : uint8_t { kNever, kEveryEpoch, kOnce };

struct Config {
  std::string name;  // default "run"
  uint64_t seed = 1;
  int threads = 0;  // 0: all logical cores
  DataConfig data;
  std::vector<LayerConfig> model;
  std::string loss = "sparse_categorical_crossentropy";
  OptimizerConfig optimizer;
  int epochs = 5;
  // With a value: training stops after this many steps in all, the last
  // epoch part-way (a fraction of an epoch, as in a speedrun). Schedules
  // over the whole run (one_cycle without total_steps) span these steps.
  std::optional<uint64_t> max_steps;
  int batch_size = 128;
  Shuffle shuffle = Shuffle::kEveryEpoch;
  double validation_split = 0.0;
  std::string init_from;  // "" = initialise from the seed
  bool save_model = false;
  int predict = 10;  // how many of the first test images to show
  // Time to accuracy, as MLPerf measures it: training stops once the
  // accuracy on the validation set (the test set when there is none)
  // reaches target_accuracy, checked after every epoch or, when
  // target_every_steps > 0, after every that many training steps.
  std::optional<double> target_accuracy;
  uint64_t target_every_steps = 0;
  // Keras' callbacks, each watching one of the epoch's logs (never the test
  // set): nothing unless the config sets them.
  std::optional<EarlyStoppingConfig> early_stopping;
  std::optional<ReduceLrOnPlateauConfig> reduce_lr_on_plateau;
  // The SIMD target the kernels are pinned to ("auto": the best the CPU
  // supports). Within a numerics class (kernels/target.h) it cannot change
  // a result, so it is not hashed.
  std::string kernel_target = "auto";

  // The whole config as JSON with every default filled in, as written into
  // report.json["config"].
  nlohmann::json resolved;
  // Hex sha256 of HashedPart(resolved).dump(): runs with the same hash must
  // give the same results.
  std::string hash;
  // Where the config came from (its file path), for error messages.
  std::string source;
};

// Reads `path`, applies `overrides` ("key.path=value", value parsed as JSON,
// falling back to a plain string) in order, validates and resolves. Throws
// InputError with a one-line message "<file>: <key.path>: <problem>".
Config LoadConfig(const std::string& path, const std::vector<std::string>& overrides);

// Reads and parses a JSON file as strictly as a config: duplicate keys are
// errors, and a parse error names the line and column. Throws InputError.
nlohmann::json ReadJsonFile(const std::string& path);

// Validates and resolves an already parsed document; `source` names it in
// error messages. Checks that the data files (and init_from) exist, so it
// depends on the working directory.
Config ResolveConfig(const nlohmann::json& document, const std::string& source);

// Applies one "key.path=value" override to `document` (list indices are
// numbers: "model.0.units=256"). A missing object key is created, so a
// misspelt key is reported by the validation that follows. Throws InputError
// on a malformed override or an out-of-range list index.
void ApplyOverride(nlohmann::json& document, const std::string& override_text);

// The part of a resolved config that determines the results: all of it but
// the keys that only label, parallelise or report a run (name, threads,
// predict, save_model, data.verify_checksums, kernels). nlohmann::json objects keep
// their keys sorted, so its dump() is canonical and can be hashed.
nlohmann::json HashedPart(const nlohmann::json& resolved);

}  // namespace mb
