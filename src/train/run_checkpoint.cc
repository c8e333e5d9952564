#include "train/run_checkpoint.h"

#include <charconv>
#include <utility>

#include "common/error.h"

namespace mb {

namespace {

// Bumped whenever the checkpoint's contents change meaning.
constexpr const char* kFormatKey = "mnistbench_checkpoint";
constexpr const char* kFormatVersion = "1";

constexpr const char* kModelPrefix = "model.";
constexpr const char* kOptimizerPrefix = "optimizer.";
constexpr const char* kBestWeightsPrefix = "best_weights.";

void AddWithPrefix(const TensorMap& tensors, const std::string& prefix, TensorMap& out) {
  for (const auto& [name, tensor] : tensors) out[prefix + name] = tensor;
}

class MetadataReader {
 public:
  MetadataReader(const SafetensorsMetadata& metadata, std::string path)
      : metadata_(metadata), path_(std::move(path)) {}

  const std::string& Text(const char* key) const {
    const auto found = metadata_.find(key);
    if (found == metadata_.end()) Fail(key, "is missing");
    return found->second;
  }
  uint64_t Count(const char* key) const {
    const std::string& text = Text(key);
    uint64_t value = 0;
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (error != std::errc() || end != text.data() + text.size()) {
      Fail(key, "is not a count: '" + text + "'");
    }
    return value;
  }
  bool Flag(const char* key) const {
    const std::string& text = Text(key);
    if (text != "true" && text != "false") Fail(key, "is not true or false: '" + text + "'");
    return text == "true";
  }
  nlohmann::json Json(const char* key) const {
    try {
      return nlohmann::json::parse(Text(key));
    } catch (const nlohmann::json::exception& e) {
      Fail(key, std::string("is not JSON: ") + e.what());
    }
  }
  [[noreturn]] void Fail(const char* key, const std::string& problem) const {
    throw InputError(path_ + ": metadata " + key + " " + problem);
  }

 private:
  const SafetensorsMetadata& metadata_;
  std::string path_;
};

}  // namespace

void WriteRunCheckpoint(const std::string& path, const RunCheckpoint& checkpoint) {
  TensorMap tensors;
  AddWithPrefix(checkpoint.model, kModelPrefix, tensors);
  AddWithPrefix(checkpoint.optimizer.tensors, kOptimizerPrefix, tensors);
  AddWithPrefix(checkpoint.best_weights, kBestWeightsPrefix, tensors);
  WriteSafetensors(path, tensors,
                   {{kFormatKey, kFormatVersion},
                    {"config_hash", checkpoint.config_hash},
                    {"epochs_done", std::to_string(checkpoint.epochs_done)},
                    {"training_done", checkpoint.training_done ? "true" : "false"},
                    {"steps_taken", std::to_string(checkpoint.steps_taken)},
                    {"optimizer", checkpoint.optimizer.scalars.dump()},
                    {"early_stopping", checkpoint.early_stopping.dump()},
                    {"reduce_lr_on_plateau", checkpoint.reduce_lr_on_plateau.dump()},
                    {"report", checkpoint.report.dump()}});
}

CheckpointWriter::~CheckpointWriter() {
  if (thread_.joinable()) thread_.join();
}

void CheckpointWriter::Write(std::string path, RunCheckpoint checkpoint) {
  Wait();
  thread_ = std::thread([this, path = std::move(path), checkpoint = std::move(checkpoint)] {
    try {
      WriteRunCheckpoint(path, checkpoint);
    } catch (...) {
      error_ = std::current_exception();
    }
  });
}

void CheckpointWriter::Wait() {
  if (thread_.joinable()) thread_.join();
  if (error_) std::rethrow_exception(std::exchange(error_, nullptr));
}

RunCheckpoint ReadRunCheckpoint(const std::string& path) {
  const SafetensorsFile file(path);
  const MetadataReader metadata(file.metadata(), path);
  if (!file.metadata().count(kFormatKey)) {
    throw InputError(path + ": not a mnistbench run checkpoint (no " + kFormatKey +
                     " in its metadata)");
  }
  if (metadata.Text(kFormatKey) != kFormatVersion) {
    throw InputError(path + ": checkpoint format " + metadata.Text(kFormatKey) +
                     ", this runner reads format " + kFormatVersion);
  }
  RunCheckpoint checkpoint;
  checkpoint.config_hash = metadata.Text("config_hash");
  const uint64_t epochs_done = metadata.Count("epochs_done");
  if (epochs_done > 100000) metadata.Fail("epochs_done", "is beyond the largest epochs");
  checkpoint.epochs_done = static_cast<int>(epochs_done);
  checkpoint.training_done = metadata.Flag("training_done");
  checkpoint.steps_taken = metadata.Count("steps_taken");
  checkpoint.optimizer.scalars = metadata.Json("optimizer");
  if (!checkpoint.optimizer.scalars.is_object()) {
    metadata.Fail("optimizer", "is not a JSON object");
  }
  checkpoint.early_stopping = metadata.Json("early_stopping");
  checkpoint.reduce_lr_on_plateau = metadata.Json("reduce_lr_on_plateau");
  checkpoint.report = metadata.Json("report");
  if (!checkpoint.report.is_object()) metadata.Fail("report", "is not a JSON object");

  for (const auto& [name, entry] : file.tensors()) {
    TensorMap* part = nullptr;
    std::string rest;
    for (const auto& [prefix, map] :
         {std::pair{kModelPrefix, &checkpoint.model},
          std::pair{kOptimizerPrefix, &checkpoint.optimizer.tensors},
          std::pair{kBestWeightsPrefix, &checkpoint.best_weights}}) {
      const std::string p = prefix;
      if (name.compare(0, p.size(), p) == 0) {
        part = map;
        rest = name.substr(p.size());
        break;
      }
    }
    if (!part) {
      throw InputError(path + ": tensor '" + name +
                       "' is none of model.*, optimizer.* or best_weights.*");
    }
    Tensor& tensor = (*part)[rest];
    tensor.shape = entry.shape;
    tensor.data.resize((entry.end - entry.begin) / sizeof(float));
    file.ReadTensor(name, tensor.data.data());
  }
  return checkpoint;
}

}  // namespace mb
