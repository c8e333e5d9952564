#include "report/run_results.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <utility>

#include "common/error.h"
#include "common/sha256.h"
#include "config/config.h"

namespace mb {
namespace {

using json = nlohmann::json;

constexpr double kNan = std::numeric_limits<double>::quiet_NaN();

// A JSON value in an error message: short, and on one line (dump() escapes
// newlines inside strings).
std::string Shown(const json& value) {
  constexpr size_t kLongest = 40;
  const std::string text = value.dump();
  return text.size() <= kLongest ? text : text.substr(0, kLongest) + "...";
}

// The typed fields of one JSON object of a report, each error naming the
// file and the field's path ("epochs.2.loss").
class Fields {
 public:
  Fields(const std::string& file, const json& object, std::string prefix)
      : file_(file), object_(object), prefix_(std::move(prefix)) {}

  // The value at `key`, or nullptr when it is missing or null.
  const json* Find(const char* key) const {
    const auto it = object_.find(key);
    return it == object_.end() || it->is_null() ? nullptr : &*it;
  }

  // NaN when missing or null (the runner writes NaN and infinity as null).
  double Number(const char* key) const { return OptionalNumber(key).value_or(kNan); }

  // Nothing when missing, NaN when null.
  std::optional<double> OptionalNumber(const char* key) const {
    const auto it = object_.find(key);
    if (it == object_.end()) return std::nullopt;
    if (it->is_null()) return kNan;
    if (!it->is_number()) WrongType(key, "a number", *it);
    return it->get<double>();
  }

  std::optional<int64_t> Integer(const char* key) const {
    const json* value = Find(key);
    if (!value) return std::nullopt;
    if (!value->is_number_integer() ||
        (value->is_number_unsigned() &&
         value->get<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))) {
      WrongType(key, "an integer", *value);
    }
    return value->get<int64_t>();
  }

  std::optional<uint64_t> Unsigned(const char* key) const {
    const json* value = Find(key);
    if (!value) return std::nullopt;
    // Parsed reports hold non-negative integers as unsigned; JSON built in
    // memory may hold them as signed.
    if (!value->is_number_integer() ||
        (!value->is_number_unsigned() && value->get<int64_t>() < 0)) {
      WrongType(key, "a non-negative integer", *value);
    }
    return value->get<uint64_t>();
  }

  std::optional<std::string> String(const char* key) const {
    const json* value = Find(key);
    if (!value) return std::nullopt;
    if (!value->is_string()) WrongType(key, "a string", *value);
    return value->get<std::string>();
  }

  std::optional<bool> Bool(const char* key) const {
    const json* value = Find(key);
    if (!value) return std::nullopt;
    if (!value->is_boolean()) WrongType(key, "true or false", *value);
    return value->get<bool>();
  }

  // The object at `key`, or nothing when it is missing or null.
  std::optional<Fields> Object(const char* key) const {
    const json* value = Find(key);
    if (!value) return std::nullopt;
    if (!value->is_object()) WrongType(key, "an object", *value);
    return Fields(file_, *value, prefix_ + key + ".");
  }

  // The fields every report has (ReadReport checks them too; reports built
  // in memory, as tests do, come here directly).
  const json& Required(const char* key, bool (json::*is_type)() const, const char* type) const {
    const auto it = object_.find(key);
    if (it == object_.end() || !((*it).*is_type)()) {
      throw InputError(file_ + ": " + prefix_ + key + ": missing or not " + type +
                       " (not a mnistbench report?)");
    }
    return *it;
  }

  Fields Element(const json& element, const char* array, size_t index) const {
    if (!element.is_object()) {
      WrongType((std::string(array) + "." + std::to_string(index)).c_str(), "an object", element);
    }
    return Fields(file_, element, prefix_ + array + "." + std::to_string(index) + ".");
  }

  const json& object() const { return object_; }

  [[noreturn]] void WrongType(const char* key, const char* expected, const json& value) const {
    throw InputError(file_ + ": " + prefix_ + key + ": expected " + expected + ", got " +
                     Shown(value));
  }

 private:
  const std::string& file_;
  const json& object_;
  std::string prefix_;
};

// A fingerprint field: where it is in a report, and where to look when an
// older report lacks it.
struct FingerprintPath {
  const char* label;
  const char* path;
  const char* fallback;
};

// In the order a reader checks them: hardware, build, run settings, data.
constexpr FingerprintPath kFingerprintFields[] = {
    {"cpu_model", "machine.cpu_model", nullptr},
    {"logical_cores", "machine.logical_cores", nullptr},
    {"simd_target", "machine.simd_target", "training.kernel_target"},
    {"numerics_class", "machine.numerics_class", nullptr},
    {"simd_targets_supported", "machine.simd_targets_supported", nullptr},
    {"simd_targets_compiled", "machine.simd_targets_compiled", nullptr},
    {"threads", "machine.threads", "config.threads"},
    {"compiler", "machine.compiler", nullptr},
    {"compiler_flags", "machine.compiler_flags", nullptr},
    {"highway_version", "machine.highway_version", nullptr},
    {"openmp_runtime", "machine.openmp_runtime", nullptr},
    {"openmp_version", "machine.openmp_version", nullptr},
    {"mnistbench_version", "machine.mnistbench_version", nullptr},
    {"git_commit", "machine.git_commit", nullptr},
    {"git_dirty", "machine.git_dirty", nullptr},
    {"hostname", "machine.hostname", nullptr},
    {"os", "machine.os", nullptr},
    {"ftz_daz", "machine.ftz_daz", nullptr},
    {"first_layer_kernel", "training.first_layer_kernel", nullptr},
    {"openmp_wait", "training.openmp_wait", nullptr},
    // config_hash covers the data paths but not the files' contents.
    {"train_images.sha256", "dataset.train_images.sha256", nullptr},
    {"train_labels.sha256", "dataset.train_labels.sha256", nullptr},
    {"test_images.sha256", "dataset.test_images.sha256", nullptr},
    {"test_labels.sha256", "dataset.test_labels.sha256", nullptr},
    {"name", "config.name", nullptr},
};

// The value at a dotted path of object keys ("machine.threads"), or nullptr
// when a step is missing.
const json* FindPath(const json& root, const std::string& dotted) {
  const json* node = &root;
  size_t start = 0;
  while (start <= dotted.size()) {
    const size_t dot = std::min(dotted.find('.', start), dotted.size());
    if (!node->is_object()) return nullptr;
    const auto it = node->find(dotted.substr(start, dot - start));
    if (it == node->end()) return nullptr;
    node = &*it;
    start = dot + 1;
  }
  return node;
}

std::vector<FingerprintField> ReadFingerprint(const json& report) {
  std::vector<FingerprintField> fields;
  for (const FingerprintPath& field : kFingerprintFields) {
    const json* value = FindPath(report, field.path);
    if (!value && field.fallback) value = FindPath(report, field.fallback);
    fields.push_back({field.label, value ? std::optional<json>(*value) : std::nullopt});
  }
  return fields;
}

EpochResults ReadEpoch(const Fields& epoch, size_t index) {
  EpochResults e;
  e.epoch = epoch.Integer("epoch").value_or(static_cast<int64_t>(index) + 1);
  e.loss = epoch.Number("loss");
  e.accuracy = epoch.Number("accuracy");
  e.val_loss = epoch.OptionalNumber("val_loss");
  e.val_accuracy = epoch.OptionalNumber("val_accuracy");
  e.learning_rate = epoch.Number("learning_rate");
  e.seconds = epoch.Number("seconds");
  return e;
}

SweepPointResults ReadSweep(const Fields& sweep) {
  SweepPointResults s;
  s.name = sweep.String("name").value_or("");
  s.spec = sweep.String("spec").value_or("");
  s.index = sweep.Unsigned("index");
  s.point_id = sweep.String("point_id").value_or("");
  if (const std::optional<Fields> varied = sweep.Object("varied")) s.varied = varied->object();
  return s;
}

TargetResults ReadTarget(const Fields& target) {
  TargetResults t;
  t.accuracy = target.Number("accuracy");
  t.set = target.String("set").value_or("");
  t.reached = target.Bool("reached").value_or(false);
  t.seconds = target.Number("seconds");
  t.epoch = target.Integer("epoch");
  t.step = target.Integer("step");
  return t;
}

}  // namespace

double RunResults::SecondsPerEpoch() const {
  return epochs.empty() ? kNan : training_seconds / static_cast<double>(epochs.size());
}

double RunResults::TestAccuracy() const { return test ? test->accuracy : kNan; }

std::string ConfigId(const json& config) {
  json without_seed = config;
  without_seed.erase("seed");
  return Sha256Hex(HashedPart(without_seed).dump());
}

RunResults ParseRunResults(const LoadedReport& report) {
  if (!report.json.is_object()) throw InputError(report.path + ": report is not a JSON object");
  const Fields fields(report.path, report.json, "");
  RunResults run;
  run.path = report.path;
  run.status = fields.Required("status", &json::is_string, "a string").get<std::string>();
  run.config_hash =
      fields.Required("config_hash", &json::is_string, "a string").get<std::string>();
  const json& config_json = fields.Required("config", &json::is_object, "an object");
  const Fields config(report.path, config_json, "config.");
  run.config_name = config.String("name");
  run.seed = config.Unsigned("seed");
  try {
    run.config_id = ConfigId(config_json);
  } catch (const json::exception& e) {
    throw InputError(report.path + ": config: not a config this build can read (" + e.what() +
                     ")");
  }

  const json& epochs = fields.Required("epochs", &json::is_array, "an array");
  for (size_t i = 0; i < epochs.size(); ++i) {
    run.epochs.push_back(ReadEpoch(fields.Element(epochs[i], "epochs", i), i));
    if (std::isfinite(run.epochs.back().seconds)) run.training_seconds += run.epochs.back().seconds;
  }
  if (const std::optional<Fields> test = fields.Object("test")) {
    run.test = TestResults{test->Number("loss"), test->Number("accuracy"),
                           test->Unsigned("samples"), test->Unsigned("correct")};
  }
  if (const std::optional<Fields> sweep = fields.Object("sweep")) run.sweep = ReadSweep(*sweep);
  if (const std::optional<Fields> target = fields.Object("target")) {
    run.target = ReadTarget(*target);
  }
  if (const std::optional<Fields> stopping = fields.Object("early_stopping")) {
    run.early_stopping =
        EarlyStoppingResults{stopping->Integer("stopped_epoch"), stopping->Integer("best_epoch"),
                             stopping->Bool("restored_best_weights").value_or(false)};
  }
  // Reports of older builds have no timing: their epochs' sum stands in.
  if (const std::optional<Fields> timing = fields.Object("timing")) {
    run.training_seconds = timing->Number("training_seconds");
  }
  run.total_seconds = fields.Number("total_seconds");
  run.finished_at = fields.String("finished_at").value_or("");
  if (const std::optional<Fields> machine = fields.Object("machine")) {
    run.numerics_class = machine->String("numerics_class");
    run.git_commit = machine->String("git_commit");
    run.git_dirty = machine->Bool("git_dirty");
  }
  run.fingerprint = ReadFingerprint(report.json);
  return run;
}

std::vector<RunResults> ParseRunResults(const std::vector<LoadedReport>& reports) {
  std::vector<RunResults> runs;
  runs.reserve(reports.size());
  for (const LoadedReport& report : reports) runs.push_back(ParseRunResults(report));
  return runs;
}

}  // namespace mb
