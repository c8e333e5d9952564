// Loading, overriding and validating experiment configs (see config.h for the
// schema's types and HelpText() in cli/command_line.cc for its documentation).
#include "config/config.h"

#include <algorithm>
#include <array>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <limits>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "common/duplicate_json_keys.h"
#include "common/error.h"
#include "common/sha256.h"
#include "config/object_reader.h"
#include "config/suggest.h"
#include "data/pixel_scale.h"

namespace mb {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

using namespace schema;


constexpr Named<OptimizerKind> kOptimizers[] = {
    {"sgd", OptimizerKind::kSgd},
    {"rmsprop", OptimizerKind::kRmsprop},
    {"adam", OptimizerKind::kAdam},
    {"adamw", OptimizerKind::kAdamW},
    {"adagrad", OptimizerKind::kAdagrad},
    {"adadelta", OptimizerKind::kAdadelta},
    {"adamax", OptimizerKind::kAdamax},
    {"nadam", OptimizerKind::kNadam},
    {"lion", OptimizerKind::kLion},
};
enum class Loss { kSparseCategoricalCrossentropy };
constexpr Named<Loss> kLosses[] = {
    {"sparse_categorical_crossentropy", Loss::kSparseCategoricalCrossentropy},
};


// ---------------------------------------------------------------------------
// The sections of the schema

bool IsRunName(const std::string& name) {
  const auto allowed = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '-';
  };
  return !name.empty() && std::all_of(name.begin(), name.end(), allowed);
}

// One of the four IDX files of DataConfig, under its standard MNIST name.
struct DataFile {
  const char* key;
  const char* standard_name;
  std::string DataConfig::*path;
};
constexpr DataFile kDataFiles[] = {
    {"train_images", "train-images-idx3-ubyte", &DataConfig::train_images},
    {"train_labels", "train-labels-idx1-ubyte", &DataConfig::train_labels},
    {"test_images", "t10k-images-idx3-ubyte", &DataConfig::test_images},
    {"test_labels", "t10k-labels-idx1-ubyte", &DataConfig::test_labels},
};

// dir/name.gz when it exists (as downloaded), else dir/name (as gunzipped).
std::string DefaultDataPath(const std::string& dir, const char* standard_name) {
  const std::string raw = (fs::path(dir) / standard_name).string();
  std::error_code ignored;
  return fs::exists(raw + ".gz", ignored) ? raw + ".gz" : raw;
}

// null (none) or {"mean": m, "std": s}, both required, as torchvision's
// Normalize. The pixels are normalised in float32, where both must stay
// finite (std a normal float32), and so must every pixel's value.
std::optional<Normalization> ReadNormalize(ObjectReader& data) {
  const json* value = data.Find("normalize");
  if (!value || value->is_null()) {
    data.Record("normalize", nullptr);
    return std::nullopt;
  }
  ObjectReader reader(data.source(), Expect(data.source(), data.PathOf("normalize"), *value,
                                            JsonKind::kObject),
                      data.PathOf("normalize"));
  const Interval finite{-kInfinity, false, kInfinity, false};
  Normalization normalize;
  normalize.mean = reader.Number("mean", std::nullopt, finite);
  normalize.std = reader.Number("std", std::nullopt, kPositive);
  const std::array<float, 256> values = PixelValues(normalize);
  if (!std::isnormal(static_cast<float>(normalize.std)) ||
      !std::all_of(values.begin(), values.end(), [](float v) { return std::isfinite(v); })) {
    data.Fail("normalize", "mean and std must keep every pixel finite in float32 (std at least " +
                               FormatNumber(std::numeric_limits<float>::min()) + "), got " +
                               value->dump());
  }
  data.Record("normalize", reader.Finish());
  return normalize;
}

DataConfig ReadData(ObjectReader& top) {
  ObjectReader reader(top.source(), top.SubObject("data"), top.PathOf("data"));
  DataConfig data;
  data.dir = reader.String("dir", "data/mnist");
  for (const DataFile& file : kDataFiles) {
    data.*file.path = reader.String(file.key, DefaultDataPath(data.dir, file.standard_name));
  }
  data.verify_checksums = reader.Boolean("verify_checksums", true);
  data.normalize = ReadNormalize(reader);
  top.Record("data", reader.Finish());
  return data;
}

// The optimizers compute in float32, with subnormals flushed to zero (see
// train/threads.cc), so a parameter must still be in its range once rounded
// to a normal float32 (or zero): 1e-50 would be 0 and 0.99999999999 would
// be 1, which divides by zero in Adam's bias correction.
float Float32Parameter(const ObjectReader& reader, const std::string& key, double value,
                       const Interval& range) {
  const auto fail = [&](const std::string& becomes) {
    reader.Fail(key, RangeText(range) + " as a float32 too (the optimizers compute in float32), "
                     "got " + json(value).dump() + ", which " + becomes);
  };
  if (std::abs(value) > std::numeric_limits<float>::max()) fail("is too large for a float32");
  const float rounded = static_cast<float>(value);
  if (rounded != 0.0f && !std::isnormal(rounded)) {
    fail("is below the smallest normal float32, " +
         FormatNumber(std::numeric_limits<float>::min()) + ", and would be flushed to 0");
  }
  if (!range.Contains(rounded)) fail("is " + FormatNumber(rounded) + " as a float32");
  return rounded;
}

constexpr Interval kLionBeta1{0, false, 1, true};  // (0, 1]

// Reads the parameters of `config.kind` with Keras' defaults. This is the one
// list of each optimizer's parameters.
void ReadOptimizerParameters(ObjectReader& reader, OptimizerConfig& config) {
  const auto number = [&reader](const char* key, double fallback, const Interval& range) {
    return Float32Parameter(reader, key, reader.Number(key, fallback, range), range);
  };
  // A number, or a schedule object (config/schedule_config.h).
  const auto learning_rate = [&](double fallback) {
    const json* value = reader.Find("learning_rate");
    if (value && value->is_object()) {
      config.schedule = ReadSchedule(reader);
      return static_cast<float>(config.schedule.initial_learning_rate);
    }
    const float rate = number("learning_rate", fallback, kPositive);
    config.schedule = LearningRateSchedule{};
    config.schedule.initial_learning_rate = rate;
    return rate;
  };
  switch (config.kind) {
    case OptimizerKind::kSgd:
      config.learning_rate = learning_rate(0.01);
      config.momentum = number("momentum", 0.0, kFraction);
      config.nesterov = reader.Boolean("nesterov", false);
      break;
    case OptimizerKind::kRmsprop:
      config.learning_rate = learning_rate(0.001);
      config.rho = number("rho", 0.9, kFraction);
      config.momentum = number("momentum", 0.0, kFraction);
      config.epsilon = number("epsilon", 1e-7, kPositive);
      config.centered = reader.Boolean("centered", false);
      break;
    case OptimizerKind::kAdam:
    case OptimizerKind::kAdamW:
    case OptimizerKind::kAdamax:
    case OptimizerKind::kNadam:
      config.learning_rate = learning_rate(0.001);
      config.beta_1 = number("beta_1", 0.9, kFraction);
      config.beta_2 = number("beta_2", 0.999, kFraction);
      config.epsilon = number("epsilon", 1e-7, kPositive);
      if (config.kind == OptimizerKind::kAdam || config.kind == OptimizerKind::kAdamW) {
        config.amsgrad = reader.Boolean("amsgrad", false);
      }
      break;
    case OptimizerKind::kAdagrad:
      config.learning_rate = learning_rate(0.001);
      config.initial_accumulator_value = number("initial_accumulator_value", 0.1, kNonNegative);
      config.epsilon = number("epsilon", 1e-7, kPositive);
      break;
    case OptimizerKind::kAdadelta:
      config.learning_rate = learning_rate(0.001);
      config.rho = number("rho", 0.95, kFraction);
      config.epsilon = number("epsilon", 1e-7, kPositive);
      break;
    case OptimizerKind::kLion:
      config.learning_rate = learning_rate(0.001);
      // Keras refuses beta_1 outside (0, 1]: at 0 Lion is sign SGD.
      config.beta_1 = number("beta_1", 0.9, kLionBeta1);
      config.beta_2 = number("beta_2", 0.99, kFraction);
      break;
  }
  // Keras 3 gives every optimizer these (keras/src/optimizers/base_optimizer.py).
  config.weight_decay = number("weight_decay", config.kind == OptimizerKind::kAdamW ? 0.004 : 0.0,
                               kNonNegative);
  const auto clip = [&](const char* key) -> std::optional<float> {
    const json* value = reader.Find(key);
    if (!value || value->is_null()) {
      reader.Record(key, nullptr);
      return std::nullopt;
    }
    return number(key, 1.0, kPositive);
  };
  config.clipnorm = clip("clipnorm");
  config.clipvalue = clip("clipvalue");
  config.global_clipnorm = clip("global_clipnorm");
  if ((config.clipnorm.has_value() + config.clipvalue.has_value() +
       config.global_clipnorm.has_value()) > 1) {
    reader.Fail(config.clipnorm ? "clipnorm" : "clipvalue",
                "set only one of clipnorm, clipvalue and global_clipnorm (Keras applies only "
                "one of them)");
  }
}

// A parameter of another optimizer most likely survived a change of "name":
// say so rather than "unknown key". Which optimizers take a key is found by
// running their readers on an empty object, to keep one list of parameters.
void RejectOtherOptimizersParameters(const ObjectReader& reader, const char* optimizer_name) {
  const json no_parameters = json::object();
  for (const std::string& key : reader.UnknownKeys()) {
    std::vector<std::string> owners;
    for (const Named<OptimizerKind>& other : kOptimizers) {
      ObjectReader probe(reader.source(), no_parameters, "");
      OptimizerConfig scratch;
      scratch.kind = other.value;
      ReadOptimizerParameters(probe, scratch);
      if (probe.Knows(key)) owners.push_back(other.name);
    }
    if (!owners.empty()) {
      reader.Fail(key, std::string("not a parameter of ") + optimizer_name + " (it belongs to " +
                           Join(owners, ", ") + ")");
    }
  }
}

OptimizerConfig ReadOptimizer(ObjectReader& top) {
  const json* found = top.Find("optimizer");
  json object = json::object();
  if (found && found->is_string()) {
    object["name"] = *found;  // the shorthand "optimizer": "adam"
  } else if (found && found->is_object()) {
    object = *found;
  } else if (found) {
    top.Fail("optimizer", "expected an object or an optimizer name, got " + DescribeValue(*found));
  }
  ObjectReader reader(top.source(), object, top.PathOf("optimizer"));
  OptimizerConfig config;
  const Named<OptimizerKind>& kind = reader.Choice("name", "rmsprop", kOptimizers);
  config.kind = kind.value;
  ReadOptimizerParameters(reader, config);
  RejectOtherOptimizersParameters(reader, kind.name);
  top.Record("optimizer", reader.Finish());
  return config;
}

// null (the default) means "train for all the epochs".
// null (the default: every epoch whole) or a step count.
std::optional<uint64_t> ReadMaxSteps(ObjectReader& top) {
  const json* found = top.Find("max_steps");
  if (!found || found->is_null()) {
    top.Record("max_steps", nullptr);
    return std::nullopt;
  }
  return top.Integer("max_steps", std::nullopt, 1, uint64_t{1} << 40);
}

std::optional<double> ReadTargetAccuracy(ObjectReader& top) {
  const json* found = top.Find("target_accuracy");
  if (!found || found->is_null()) {
    top.Record("target_accuracy", nullptr);
    return std::nullopt;
  }
  return top.Number("target_accuracy", 0, kAccuracy);
}

// true, false or "once", resolved as written (a boolean keeps its hash).
Shuffle ReadShuffle(ObjectReader& top) {
  const json* found = top.Find("shuffle");
  if (found && *found == "once") {
    top.Record("shuffle", "once");
    return Shuffle::kOnce;
  }
  if (found && !found->is_boolean()) {
    top.Fail("shuffle", "expected a boolean or \"once\", got " + DescribeValue(*found));
  }
  return top.Boolean("shuffle", true) ? Shuffle::kEveryEpoch : Shuffle::kNever;
}

std::string ReadKernelTarget(ObjectReader& top) {
  ObjectReader reader(top.source(), top.SubObject("kernels"), top.PathOf("kernels"));
  const std::string target = reader.String("target", "auto");
  if (target.empty()) reader.Fail("target", "must name a SIMD target or be \"auto\"");
  top.Record("kernels", reader.Finish());
  return target;
}

// null (the default) means "initialise from the seed", stored as "".
std::string ReadInitFrom(ObjectReader& top) {
  const json* found = top.Find("init_from");
  if (!found || found->is_null()) {
    top.Record("init_from", nullptr);
    return "";
  }
  const std::string path =
      Expect(top.source(), top.PathOf("init_from"), *found, JsonKind::kString).get<std::string>();
  if (path.empty()) top.Fail("init_from", "must be a file path or null, got \"\"");
  top.Record("init_from", path);
  return path;
}

void RequireRegularFile(const std::string& source, const std::string& path,
                        const std::string& file) {
  std::error_code error;
  const fs::file_status status = fs::status(file, error);
  // Only a missing file is "no such file": a symlink loop (ELOOP), a name
  // too long or a directory that cannot be searched is another fault.
  if (error && error != std::errc::no_such_file_or_directory &&
      error != std::errc::not_a_directory) {
    ThrowAt(source, path, "cannot access '" + file + "' (" + error.message() + ")");
  }
  if (!fs::exists(status)) ThrowAt(source, path, "no such file '" + file + "'");
  if (fs::is_directory(status)) ThrowAt(source, path, "'" + file + "' is a directory, not a file");
  if (!fs::is_regular_file(status)) ThrowAt(source, path, "'" + file + "' is not a regular file");
}

void CheckInputFilesExist(const Config& config, const std::string& source) {
  for (const DataFile& file : kDataFiles) {
    RequireRegularFile(source, std::string("data.") + file.key, config.data.*file.path);
  }
  if (!config.init_from.empty()) RequireRegularFile(source, "init_from", config.init_from);
}

void RequireObjectDocument(const json& document, const std::string& source) {
  if (!document.is_object()) {
    throw InputError(source + ": the top level must be a JSON object, got " +
                     DescribeValue(document));
  }
}

// No config needs more than three levels (model, a layer, its keys), but an
// unknown key or a --set value can hold anything, and copying a JSON value
// recurses once per level: a file of 100000 '[' would overflow the stack.
constexpr int kMaxNesting = 32;

// Whether `value` holds arrays or objects nested more than `levels` deep
// (a scalar is 0 deep, [] is 1). It stops at the limit, so it cannot
// overflow the stack itself.
bool NestsDeeperThan(const json& value, int levels) {
  if (!value.is_structured()) return false;
  if (levels == 0) return true;
  return std::any_of(value.begin(), value.end(),
                     [levels](const json& item) { return NestsDeeperThan(item, levels - 1); });
}

void RejectDeepNesting(const json& document, const std::string& source) {
  for (const auto& item : document.items()) {
    if (NestsDeeperThan(item.value(), kMaxNesting)) {
      ThrowAt(source, item.key(),
              "nests arrays or objects more than " + std::to_string(kMaxNesting) + " levels deep");
    }
  }
}

// ---------------------------------------------------------------------------
// Reading the file

std::string ReadConfigFile(const std::string& path) {
  const auto cannot_read = [&path]() {
    return InputError(path + ": cannot read config (" + std::strerror(errno) + ")");
  };
  const std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(std::fopen(path.c_str(), "rb"),
                                                             &std::fclose);
  if (!file) throw cannot_read();
  std::string text;
  char buffer[4096];
  size_t count;
  while ((count = std::fread(buffer, 1, sizeof buffer, file.get())) > 0) text.append(buffer, count);
  if (std::ferror(file.get())) throw cannot_read();  // e.g. EISDIR: fopen accepts directories
  return text;
}

struct TextPosition {
  size_t line = 1;
  size_t column = 1;
};

// nlohmann reports the 1-based byte index of the character it stopped at.
TextPosition PositionOf(const std::string& text, size_t byte) {
  const size_t offset = std::min(byte == 0 ? 0 : byte - 1, text.size());
  TextPosition position;
  for (size_t i = 0; i < offset; ++i) {
    if (text[i] == '\n') {
      ++position.line;
      position.column = 1;
    } else {
      ++position.column;
    }
  }
  return position;
}

// nlohmann's what() reads "[json.exception.parse_error.101] parse error at
// line 3, column 8: syntax error ..."; keep what follows the location.
std::string Explanation(const json::exception& error) {
  std::string message = error.what();
  const size_t id_end = message.find("] ");
  if (id_end != std::string::npos) message.erase(0, id_end + 2);
  if (message.rfind("parse error", 0) == 0) {
    const size_t colon = message.find(": ");
    if (colon != std::string::npos) message.erase(0, colon + 2);
  }
  return message;
}

// Where the number token `token` starts in the JSON `text`: its first
// occurrence outside a string that does not continue another token. Used for
// a number too large for a double, which nlohmann reports without a
// position; parsing stops at the first such number, so an earlier
// occurrence of the same text would have been reported instead.
std::optional<size_t> FindNumberToken(const std::string& text, const std::string& token) {
  const auto continues_token = [](char c) {
    return (c >= '0' && c <= '9') || c == '.' || c == 'e' || c == 'E' || c == '+' || c == '-';
  };
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    if (in_string) {
      if (text[i] == '\\') {
        ++i;  // the escaped character cannot end the string
      } else if (text[i] == '"') {
        in_string = false;
      }
    } else if (text[i] == '"') {
      in_string = true;
    } else if (text.compare(i, token.size(), token) == 0 &&
               (i == 0 || !continues_token(text[i - 1]))) {
      return i;
    }
  }
  return std::nullopt;
}

std::string LineAndColumn(const TextPosition& at) {
  return "line " + std::to_string(at.line) + ", column " + std::to_string(at.column);
}

json ParseDocument(const std::string& text, const std::string& source) {
  DuplicateJsonKeys duplicates;
  const json::parser_callback_t reject_duplicate_keys =
      [&](int /*depth*/, json::parse_event_t event, json& parsed) {
        if (const auto key = duplicates.Check(event, parsed)) {
          throw InputError(source + ": duplicate key '" + *key + "'");
        }
        return true;
      };
  try {
    return json::parse(text, reject_duplicate_keys);
  } catch (const json::parse_error& error) {
    throw InputError(source + ": invalid JSON at " + LineAndColumn(PositionOf(text, error.byte)) +
                     ": " + Explanation(error));
  } catch (const json::exception& error) {
    // "number overflow parsing '1e400'" (a double cannot hold it) is the one
    // other error parsing throws; it carries the number but no position.
    const std::string explanation = Explanation(error);
    const size_t open = explanation.find('\'');
    const size_t close = explanation.rfind('\'');
    const std::optional<size_t> offset =
        open < close ? FindNumberToken(text, explanation.substr(open + 1, close - open - 1))
                     : std::nullopt;
    const std::string where = offset ? " at " + LineAndColumn(PositionOf(text, *offset + 1)) : "";
    throw InputError(source + ": invalid JSON" + where + ": " + explanation);
  }
}

// ---------------------------------------------------------------------------
// Overrides

std::vector<std::string> SplitKeyPath(const std::string& key_path) {
  std::vector<std::string> keys;
  size_t start = 0;
  for (size_t dot; (dot = key_path.find('.', start)) != std::string::npos; start = dot + 1) {
    keys.push_back(key_path.substr(start, dot - start));
  }
  keys.push_back(key_path.substr(start));
  return keys;
}

bool IsIndex(const std::string& key) {
  return !key.empty() &&
         std::all_of(key.begin(), key.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// JSON when the text parses as JSON ("2", "true", "[1,2]", "\"2\""), else the
// text itself as a string, so that --set name=foo needs no quotes. "nan" and
// "inf" are not JSON, so they become strings and fail validation as such.
json ParseOverrideValue(const std::string& text) {
  json value = json::parse(text, nullptr, /*allow_exceptions=*/false);
  // Not `discarded ? json(text) : value`, which copies the value, and
  // copying recurses once per level of nesting (see kMaxNesting).
  if (value.is_discarded()) return json(text);
  return value;
}

// Why `text` is not UTF-8, or "" when it is. The parser rejects a file that
// is not UTF-8, but an override's key and plain-string value go into the
// document as given, and dumping it (for a message or the config hash) would
// then throw.
std::string Utf8Problem(const std::string& text) {
  try {
    json(text).dump();
  } catch (const json::type_error& error) {  // "invalid UTF-8 byte at index 1: 0xFB"
    return Explanation(error);
  }
  return "";
}

}  // namespace

void ApplyOverride(json& document, const std::string& override_text) {
  const size_t equals = override_text.find('=');
  const std::vector<std::string> keys = SplitKeyPath(override_text.substr(0, equals));
  const bool malformed =
      equals == std::string::npos ||
      std::any_of(keys.begin(), keys.end(), [](const std::string& key) { return key.empty(); });
  if (malformed) throw InputError("--set '" + override_text + "': expected key.path=value");
  const auto fail = [&override_text](const std::string& problem) {
    throw InputError("--set " + override_text + ": " + problem);
  };
  if (const std::string problem = Utf8Problem(override_text); !problem.empty()) {
    fail("not UTF-8 (" + problem + ")");
  }
  if (!document.is_object() && !document.is_null()) fail("the config is not a JSON object");

  // The shorthand "optimizer": "adam" has no keys to set: expand it first.
  if (keys.size() > 1 && keys[0] == "optimizer" && document.contains("optimizer") &&
      document["optimizer"].is_string()) {
    document["optimizer"] = json{{"name", document["optimizer"]}};
  }

  json* node = &document;
  std::string walked;  // the key path of *node
  for (const std::string& key : keys) {
    if (node->is_array()) {
      if (!IsIndex(key)) fail(walked + " is a list, expected an index instead of '" + key + "'");
      // Digit strings too long for size_t are out of range anyway.
      if (key.size() > 9 || std::stoul(key) >= node->size()) {
        fail(walked + " has " + std::to_string(node->size()) +
             (walked == "model" ? " layers" : " elements"));
      }
      node = &(*node)[std::stoul(key)];
    } else if (node->is_object() || node->is_null()) {
      node = &(*node)[key];  // creates a missing key (and turns null into an object)
    } else {
      fail(walked + " is " + DescribeValue(*node) + ", not an object");
    }
    walked = walked.empty() ? key : walked + "." + key;
  }
  *node = ParseOverrideValue(override_text.substr(equals + 1));
}

Config ResolveConfig(const json& document, const std::string& source) {
  RequireObjectDocument(document, source);
  RejectDeepNesting(document, source);
  ObjectReader top(source, document, "");
  Config config;
  config.name = top.String("name", "run");
  if (!IsRunName(config.name)) {
    top.Fail("name",
             "must be non-empty and use only letters, digits, '.', '_' and '-' "
             "(it names the run directory), got \"" +
                 config.name + "\"");
  }
  config.seed = top.Integer("seed", 1, 0, std::numeric_limits<uint64_t>::max());
  config.threads = static_cast<int>(top.Integer("threads", 0, 0, 1024));
  config.data = ReadData(top);
  config.model = ReadModel(top);
  config.loss = top.Choice("loss", "sparse_categorical_crossentropy", kLosses).name;
  config.optimizer = ReadOptimizer(top);
  config.epochs = static_cast<int>(top.Integer("epochs", 5, 1, 100000));
  config.max_steps = ReadMaxSteps(top);
  config.batch_size = static_cast<int>(top.Integer("batch_size", 128, 1, 1 << 20));
  config.shuffle = ReadShuffle(top);
  config.validation_split = top.Number("validation_split", 0.0, kFraction);
  config.init_from = ReadInitFrom(top);
  config.save_model = top.Boolean("save_model", false);
  config.predict = static_cast<int>(top.Integer("predict", 10, 0, 10000));
  config.target_accuracy = ReadTargetAccuracy(top);
  config.target_every_steps = top.Integer("target_every_steps", 0, 0, 1u << 30);
  config.early_stopping = ReadEarlyStopping(top);
  config.reduce_lr_on_plateau = ReadReduceLrOnPlateau(top);
  // A validation log needs a validation set: the test set never stops or
  // steers a run.
  const auto require_validation = [&](const char* key, Monitor monitor) {
    if (IsValidationMonitor(monitor) && config.validation_split == 0.0) {
      top.Fail(std::string(key) + ".monitor",
               std::string("'") + MonitorName(monitor) +
                   "' needs a validation set: set validation_split > 0, or monitor 'loss' or "
                   "'accuracy' (the test set never stops or steers a run)");
    }
  };
  if (config.target_accuracy && config.validation_split == 0.0) {
    top.Fail("target_accuracy",
             "stops on the validation accuracy and needs a validation set: set "
             "validation_split > 0 (the test set never stops or steers a run)");
  }
  if (config.early_stopping) require_validation("early_stopping", config.early_stopping->monitor);
  if (config.reduce_lr_on_plateau) {
    require_validation("reduce_lr_on_plateau", config.reduce_lr_on_plateau->monitor);
  }
  if (config.reduce_lr_on_plateau && config.optimizer.schedule.kind != ScheduleKind::kConstant) {
    top.Fail("reduce_lr_on_plateau",
             "needs a constant optimizer.learning_rate: it cannot change a schedule (as in Keras)");
  }
  config.kernel_target = ReadKernelTarget(top);
  config.resolved = top.Finish();
  config.hash = Sha256Hex(HashedPart(config.resolved).dump());
  config.source = source;
  // Last, so that a misspelt key is reported as such rather than as a
  // missing file that a default it left in place points to.
  CheckInputFilesExist(config, source);
  return config;
}

json ReadJsonFile(const std::string& path) {
  return ParseDocument(ReadConfigFile(path), path);
}

Config LoadConfig(const std::string& path, const std::vector<std::string>& overrides) {
  json document = ParseDocument(ReadConfigFile(path), path);
  RequireObjectDocument(document, path);  // before overrides, which need an object
  for (const std::string& override_text : overrides) ApplyOverride(document, override_text);
  return ResolveConfig(document, path);
}

json HashedPart(const json& resolved) {
  json part = resolved;
  // Keys that label, parallelise or report a run without changing a number
  // (kernels.target picks a SIMD target, which cannot within its numerics
  // class: kernels/target.h).
  for (const char* key : {"name", "threads", "predict", "save_model", "kernels"}) part.erase(key);
  if (part.contains("data")) part["data"].erase("verify_checksums");
  // Keys added after the first reports are hashed only when set, so that
  // configs without them keep their hashes.
  for (const char* key : {"early_stopping", "reduce_lr_on_plateau", "max_steps"}) {
    if (part.contains(key) && part[key].is_null()) part.erase(key);
  }
  if (part.contains("data") && part["data"].contains("normalize") &&
      part["data"]["normalize"].is_null()) {
    part["data"].erase("normalize");
  }
  if (part.contains("optimizer") && part["optimizer"].is_object()) {
    json& optimizer = part["optimizer"];
    for (const char* key : {"clipnorm", "clipvalue", "global_clipnorm"}) {
      if (optimizer.contains(key) && optimizer[key].is_null()) optimizer.erase(key);
    }
    const std::string name = optimizer.value("name", "");
    if (name == "rmsprop") {
      if (optimizer.value("momentum", 1.0) == 0.0) optimizer.erase("momentum");
      if (optimizer.value("centered", true) == false) optimizer.erase("centered");
    }
    if ((name == "adam" || name == "adamw") && optimizer.value("amsgrad", true) == false) {
      optimizer.erase("amsgrad");
    }
    // adamw had weight_decay from the start; the others have 0 by default.
    if (optimizer.value("name", "") != "adamw" && optimizer.value("weight_decay", 1.0) == 0.0) {
      optimizer.erase("weight_decay");
    }
  }
  // A dense layer was the only kind before layer types: its type is left
  // out, so those configs keep their hash; so are unset regularizers.
  if (part.contains("model") && part["model"].is_array()) {
    for (json& layer : part["model"]) {
      if (!layer.is_object()) continue;
      if (layer.value("type", "") == "dense") layer.erase("type");
      for (const char* key : {"kernel_regularizer", "bias_regularizer"}) {
        if (layer.contains(key) && layer[key].is_null()) layer.erase(key);
      }
    }
  }
  return part;
}

}  // namespace mb
