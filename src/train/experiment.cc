#include "train/experiment.h"

#include <signal.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <optional>
#include <variant>
#include <vector>

#include "common/error.h"
#include "common/hostname.h"
#include "common/statistics.h"
#include "common/line_printer.h"
#include "data/dataset.h"
#include "kernels/target.h"
#include "nn/checkpoint.h"
#include "nn/init.h"
#include "report/machine_info.h"
#include "report/run_lock.h"
#include "report/run_report.h"
#include "report/safetensors.h"
#include "train/available_memory.h"
#include "train/epoch_callbacks.h"
#include "train/interrupt.h"
#include "train/lost_stdout.h"
#include "train/memory_budget.h"
#include "train/run_checkpoint.h"
#include "train/threads.h"
#include "train/trainer.h"

namespace mb {

namespace {

double SecondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// The environment that decides how OpenMP workers wait between regions.
nlohmann::json OpenMpWaitSettings() {
  nlohmann::json settings = nlohmann::json::object();
  for (const char* name : {"OMP_WAIT_POLICY", "GOMP_SPINCOUNT"}) {
    const char* value = std::getenv(name);
    settings[name] = value ? nlohmann::json(value) : nlohmann::json(nullptr);
  }
  return settings;
}

bool AllFinite(const Model& model) {
  bool finite = true;
  ForEachParameter(model, [&](const Parameter& p) {
    for (float w : p.value) finite = finite && std::isfinite(w);
  });
  return finite;
}

// Keras' model.summary() as JSON: each layer's type, output shape (per
// sample) and parameter count.
nlohmann::json LayerSummary(const Config& config, const Model& model) {
  nlohmann::json layers = nlohmann::json::array();
  for (size_t l = 0; l < model.layers.size(); ++l) {
    size_t parameters = 0;
    std::visit([&](const auto& layer) {
      layer.ForEachParameter([&](const Parameter& p) { parameters += p.size(); });
    }, model.layers[l]);
    const FeatureShape& shape = model.output_shapes[l];
    layers.push_back(
        {{"type", LayerTypeName(config.model[l].type)},
         {"output_shape", shape.flat ? nlohmann::json::array({shape.channels})
                                     : nlohmann::json::array({shape.height, shape.width,
                                                              shape.channels})},
         {"parameters", parameters}});
  }
  return layers;
}

// report.json's early_stopping, with Keras' 0-based epochs made 1-based.
nlohmann::json EarlyStoppingJson(const EarlyStopping& stopping, bool restored) {
  const auto epoch_or_null = [](int64_t epoch, bool set) {
    return set ? nlohmann::json(epoch + 1) : nlohmann::json(nullptr);
  };
  return {{"stopped_epoch", epoch_or_null(stopping.stopped_epoch(), stopping.stopped_epoch() > 0)},
          {"best_epoch", epoch_or_null(stopping.best_epoch(), stopping.has_best())},
          {"restored_best_weights", restored}};
}

// One line: each class's accuracy on the test set.
void PrintPerClassAccuracy(const Evaluation& test, LinePrinter& out) {
  std::string line = "  per class:";
  for (size_t label = 0; label < test.classes; ++label) {
    uint64_t total = 0;
    for (size_t p = 0; p < test.classes; ++p) total += test.confusion[label * test.classes + p];
    if (total == 0) continue;
    char cell[32];
    std::snprintf(cell, sizeof cell, " %zu:%.4f", label,
                  static_cast<double>(test.confusion[label * test.classes + label]) /
                      static_cast<double>(total));
    line += cell;
  }
  out.Printf("%s\n", line.c_str());
}

// For the resume tests (tests/resume_cli_test.sh): with
// MNISTBENCH_TEST_SIGKILL_AFTER_EPOCH=N in the environment, the run kills
// itself with SIGKILL as soon as epoch N's checkpoint is written, before its
// report is: the harshest moment a power cut could choose.
void KillIfTestAsks(int epoch, CheckpointWriter& writer) {
  const char* value = std::getenv("MNISTBENCH_TEST_SIGKILL_AFTER_EPOCH");
  if (value == nullptr || std::atoi(value) != epoch) return;
  writer.Wait();
  raise(SIGKILL);
}

void PrintPredictions(const std::vector<Prediction>& predictions, LinePrinter& out) {
  if (predictions.empty()) return;
  out.Printf("Predictions for the first %zu test images:\n", predictions.size());
  for (const Prediction& p : predictions) {
    out.Printf("  image %d: label %d, predicted %d (p=%.4f)%s\n", p.index, p.label, p.predicted,
               p.probability, p.label == p.predicted ? "" : "  <- wrong");
  }
  const Prediction& first = predictions.front();
  out.Printf("  probabilities of image %d:", first.index);
  for (size_t c = 0; c < first.probabilities.size(); ++c) {
    out.Printf(" %zu:%.4g", c, first.probabilities[c]);
  }
  out.Printf("\n");
}

}  // namespace

RunResult RunExperiment(const Config& config, const RunOptions& options) {
  // As MLPerf times it: from before the data is first read.
  const auto start = std::chrono::steady_clock::now();
  LinePrinter out(stdout, options.line_prefix);
  LinePrinter err(stderr, options.line_prefix);
  // Until the run directory exists there is nothing to save.
  const std::string interrupted_while_loading =
      options.interrupted_while_loading.empty()
          ? config.name + ": interrupted while loading data; nothing written"
          : options.interrupted_while_loading;
  if (ExitAtOnceOnInterrupt(interrupted_while_loading)) {
    err.Printf("%s\n", interrupted_while_loading.c_str());
    return {kExitInterrupted, false};
  }
  const bool resuming = !options.resume_dir.empty();
  const std::string checkpoint_path =
      (resuming ? options.resume_dir : std::string()) + "/" + kCheckpointFile;
  std::optional<RunCheckpoint> checkpoint;
  RunReport report;
  // Held while the run writes into its directory: a resume of a run still
  // running elsewhere is refused (set for a new run once its directory exists).
  std::optional<RunLock> lock;
  if (resuming) {
    lock.emplace(options.resume_dir);
    checkpoint = ReadRunCheckpoint(checkpoint_path);
    if (checkpoint->config_hash != config.hash) {
      throw InputError(checkpoint_path + ": config_hash: the checkpoint is of config " +
                       checkpoint->config_hash + ", the run's config is " + config.hash);
    }
    report = RunReportFromJson(checkpoint->report, checkpoint_path);
    report.status = "running";
    report.resumed.push_back({{"at", UtcTimestamp()},
                              {"after_epoch", checkpoint->epochs_done},
                              {"host", Hostname()}});
  } else {
    report.started_at = UtcTimestamp();
  }
  // The time spent before a resume counts in the run's total.
  const double seconds_before = report.total_seconds;
  report.config = config.resolved;
  report.config_hash = config.hash;
  if (!resuming || !options.sweep.is_null()) report.sweep = options.sweep;

  if (const std::string problem = KernelTargetProblem(config.kernel_target); !problem.empty()) {
    throw InputError(config.source + ": kernels.target: " + problem);
  }
  PinKernelTarget(config.kernel_target);
  // Every input is checked, and the run's memory budgeted from the config
  // and the headers, before anything large is allocated.
  const DatasetShape data_shape = ReadDatasetShape(config.data);
  std::unique_ptr<const SafetensorsFile> init_file;
  if (!config.init_from.empty() && !resuming) {
    init_file = std::make_unique<SafetensorsFile>(config.init_from);
  }
  const MemoryEstimate memory =
      EstimateMemory(config, data_shape, static_cast<uint64_t>(ResidentBytes().value_or(0)));
  const AvailableMemory available = FindAvailableMemory();
  CheckMemoryBudget(config, memory, available);
  report.memory = MemoryJson(memory, available);

  const auto load_start = std::chrono::steady_clock::now();
  const Dataset data = LoadDataset(config.data, config.validation_split);
  report.timing.load_seconds += SecondsSince(load_start);
  const auto setup_start = std::chrono::steady_clock::now();
  if (static_cast<size_t>(config.batch_size) > data.train.count) {
    throw InputError(config.source + ": batch_size: " + std::to_string(config.batch_size) +
                     " is larger than the " + std::to_string(data.train.count) +
                     " training samples");
  }
  Model model =
      BuildModel(data.image_shape(), config.model, config.source);
  if (checkpoint) {
    LoadModelFromTensors(checkpoint->model, checkpoint_path, model);
  } else if (init_file) {
    LoadModelFromSafetensors(*init_file, model);
  } else {
    InitializeModel(model, config.seed);
  }

  const int threads = ConfigureThreads(config.threads);
  report.machine = CollectMachineInfo(threads);
  report.dataset = data.description;
  report.training = {{"kernel_target", KernelTargetName()},
                     {"parameters", model.ParameterCount()},
                     {"layers", LayerSummary(config, model)},
                     {"flush_denormals", FlushDenormalsEnabled()},
                     {"init", resuming ? "checkpoint"
                              : config.init_from.empty() ? "seed" : "init_from"},
                     {"openmp_wait", OpenMpWaitSettings()}};

  Trainer trainer(config, data, model);
  if (checkpoint) trainer.Restore(checkpoint->optimizer, checkpoint->steps_taken, checkpoint_path);
  report.training.update(trainer.Description());
  // Before the run directory exists, so that no signal can end the process
  // between its creation and its first report.
  StopCleanlyOnInterrupt("stopping after this step");
  if (config.target_accuracy && !report.target) {
    TargetRecord target;
    target.accuracy = *config.target_accuracy;
    target.set = "validation";  // the only set a target may watch (config.cc)
    target.every_steps = config.target_every_steps;
    report.target = target;
  }
  std::string run_dir;
  if (resuming) {
    run_dir = options.resume_dir;
    WriteRunFiles(run_dir, report);
    out.Printf("Resuming %s after epoch %d of %d\n", run_dir.c_str(), checkpoint->epochs_done,
               config.epochs);
  } else {
    run_dir = StartRunDirectory(
        options.out_dir,
        options.run_dir_name.empty()
            ? RunDirectoryName(config.name, config.hash, report.started_at)
            : options.run_dir_name,
        report);
    lock.emplace(run_dir);
  }
  out.Printf("Run %s: %zu training samples, %zu validation, %zu test; %zu parameters; "
             "%d thread%s, %s kernels\n",
             run_dir.c_str(), data.train.count, data.validation.count, data.test.count,
             model.ParameterCount(), threads, threads == 1 ? "" : "s",
             KernelTargetName().c_str());

  const bool terminal = StdoutIsTerminal();
  int exit_code = kExitOk;
  std::optional<EarlyStopping> early_stopping;
  std::optional<ReduceLrOnPlateau> reduce_lr;
  TensorMap best_weights;  // early_stopping.restore_best_weights
  if (config.early_stopping) early_stopping.emplace(*config.early_stopping);
  if (config.reduce_lr_on_plateau) reduce_lr.emplace(*config.reduce_lr_on_plateau);
  if (checkpoint) {
    if (early_stopping) early_stopping->Restore(checkpoint->early_stopping, checkpoint_path);
    if (reduce_lr) reduce_lr->Restore(checkpoint->reduce_lr_on_plateau, checkpoint_path);
    best_weights = checkpoint->best_weights;
  }
  // A checkpoint of the last epoch leaves only the test evaluation.
  const int first_epoch = checkpoint ? checkpoint->epochs_done + 1 : 1;
  const int last_epoch =
      options.evaluate_only || (checkpoint && checkpoint->training_done) ? 0 : config.epochs;
  bool stopped_early = false;
  CheckpointWriter checkpoint_writer;
  report.timing.setup_seconds += SecondsSince(setup_start);
  const auto training_start = std::chrono::steady_clock::now();
  const double training_before = report.timing.training_seconds;
  // The last step's end: an epoch's report and checkpoint count as
  // training when more epochs follow them, not after the last.
  auto training_end = training_start;
  const auto training_seconds = [&] {
    return training_before +
           std::chrono::duration<double>(training_end - training_start).count();
  };
  for (int epoch = first_epoch; epoch <= last_epoch; ++epoch) {
    EpochProgress progress(epoch, config.epochs, trainer.steps_in_epoch(epoch), terminal, out);
    const std::optional<EpochRecord> finished = trainer.RunEpoch(epoch, progress);
    training_end = std::chrono::steady_clock::now();
    if (!finished) {
      err.Printf("%s: interrupted in epoch %d; %d epochs completed\n", config.name.c_str(), epoch,
                 epoch - 1);
      report.status = "interrupted";
      exit_code = kExitInterrupted;
      break;
    }
    const EpochRecord& record = *finished;
    progress.Finish(record);
    StdoutLost(options.line_prefix);  // says so on stderr as soon as it happens
    if (!std::isfinite(record.loss) || !AllFinite(model)) {
      // The epoch's metrics come from a broken model: the report keeps the
      // epochs before it and names this one as diverged_epoch.
      err.Printf("%s: training diverged in epoch %d (loss %g): stopping\n", config.name.c_str(),
                 epoch, record.loss);
      report.status = "diverged";
      report.diverged_epoch = epoch;
      exit_code = kExitDiverged;
      break;
    }
    report.epochs.push_back(record);
    report.total_seconds = seconds_before + SecondsSince(start);
    report.timing.training_seconds = training_seconds();
    if (const std::optional<TargetHit>& hit = trainer.target_hit()) {
      TargetRecord& target = *report.target;
      target.reached = true;
      target.seconds = seconds_before + std::chrono::duration<double>(hit->at - start).count();
      target.epoch = hit->epoch;
      target.step = hit->step;
      target.reached_accuracy = hit->accuracy;
      out.Printf("Target accuracy %.4g reached on the %s set in epoch %d, step %zu: %.4f "
                 "after %.2fs\n",
                 target.accuracy, target.set.c_str(), hit->epoch, hit->step, hit->accuracy,
                 *target.seconds);
    }
    if (early_stopping) {
      const EarlyStopping::Decision decision = early_stopping->OnEpochEnd(epoch - 1, record);
      if (decision.keep_weights) best_weights = ModelToTensors(model);
      stopped_early = decision.stop;
      report.early_stopping = EarlyStoppingJson(*early_stopping, false);
    }
    if (reduce_lr) {
      if (const std::optional<float> rate = reduce_lr->OnEpochEnd(record, trainer.learning_rate())) {
        out.Printf("Epoch %d: ReduceLROnPlateau reducing learning rate to %g\n", epoch, *rate);
        trainer.set_learning_rate(*rate);
      }
    }
    // max_steps may end the run before its last epoch.
    const bool steps_done = trainer.steps_in_epoch(epoch + 1) == 0;
    const bool training_done = trainer.target_hit() || stopped_early || steps_done;
    RunCheckpoint state;
    state.config_hash = config.hash;
    state.epochs_done = epoch;
    state.training_done = training_done;
    state.steps_taken = trainer.steps_taken();
    state.model = ModelToTensors(model);
    state.optimizer = trainer.optimizer_state();
    state.best_weights = best_weights;
    if (early_stopping) state.early_stopping = early_stopping->State();
    if (reduce_lr) state.reduce_lr_on_plateau = reduce_lr->State();
    state.report = report.ToJson();
    checkpoint_writer.Write(run_dir + "/" + kCheckpointFile, std::move(state));
    KillIfTestAsks(epoch, checkpoint_writer);
    WriteRunFiles(run_dir, report);
    if (trainer.target_hit() || (steps_done && !stopped_early)) break;
    if (stopped_early) {
      out.Printf("Epoch %d: early stopping\n", epoch);
      break;
    }
  }
  // As Keras' on_train_end: the best epoch's weights, whether or not the
  // patience ran out.
  if (exit_code == kExitOk && !best_weights.empty()) {
    LoadModelFromTensors(best_weights, "the best epoch's weights", model);
    out.Printf("Restoring model weights from the end of the best epoch: %lld\n",
               static_cast<long long>(early_stopping->best_epoch() + 1));
    report.early_stopping = EarlyStoppingJson(*early_stopping, true);
    training_end = std::chrono::steady_clock::now();
  }
  if (first_epoch <= last_epoch) report.timing.training_seconds = training_seconds();
  if (report.target && !report.target->reached && exit_code == kExitOk) {
    out.Printf("Target accuracy %.4g not reached on the %s set in %d epochs\n",
               report.target->accuracy, report.target->set.c_str(), config.epochs);
  }

  // Training has finished: what is left takes a moment, and without it the
  // run would have to be done again, so an interrupt now waits for it.
  StopCleanlyOnInterrupt("training has finished: stopping once its results are written");
  if (exit_code == kExitOk) {
    const auto test_start = std::chrono::steady_clock::now();
    const Evaluation test = trainer.Evaluate(data.test);
    report.test_loss = test.loss;
    report.test_accuracy = test.accuracy;
    report.test_correct = test.correct;
    report.test_samples = test.samples;
    report.classes = test.classes;
    report.test_confusion = test.confusion;
    const auto [low, high] = WilsonInterval95(test.correct, test.samples);
    out.Printf("Test: loss: %.4f - accuracy: %.4f (95%% interval %.4f-%.4f)\n", test.loss,
               test.accuracy, low, high);
    PrintPerClassAccuracy(test, out);
    report.predictions = trainer.Predict(data.test, static_cast<size_t>(config.predict));
    report.timing.test_seconds += SecondsSince(test_start);
    PrintPredictions(report.predictions, out);
    if (config.save_model && !options.evaluate_only) {
      WriteSafetensors(run_dir + "/model.safetensors", ModelToTensors(model));
    }
    report.status = options.evaluate_only ? "evaluated" : "completed";
  }
  // The last checkpoint reached the disk during the test evaluation; it
  // must have before the report is final.
  checkpoint_writer.Wait();
  report.total_seconds = seconds_before + SecondsSince(start);
  report.finished_at = UtcTimestamp();
  report.peak_rss_bytes = PeakRssBytes();
  WriteRunFiles(run_dir, report);
  if (report.status == "completed" || report.status == "diverged") {
    // Final: nothing is left to resume. A checkpoint that cannot be removed
    // costs disk, not results.
    std::error_code ignored;
    std::filesystem::remove(run_dir + "/" + kCheckpointFile, ignored);
  }
  char seconds[32];
  std::snprintf(seconds, sizeof seconds, "%.2f", report.total_seconds);
  PrintClosingLine("Report: " + run_dir + "/report.json (" + seconds + "s total)",
                   options.line_prefix);

  // The report is final: an interrupt from now on loses nothing. One that
  // came since training finished leaves a complete run, but the user asked
  // to stop, so the exit code says so (a script then stops too).
  if (ExitAtOnceOnInterrupt(config.name + ": interrupted after the run ended; " + run_dir +
                            "/report.json is final") &&
      exit_code == kExitOk) {
    err.Printf("%s: interrupted after training had finished: the run is complete\n",
               config.name.c_str());
    exit_code = kExitInterrupted;
  }
  return {exit_code, report.status != "interrupted"};
}

}  // namespace mb
