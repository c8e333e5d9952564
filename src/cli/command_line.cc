#include "cli/command_line.h"

#include <optional>
#include <string>
#include <vector>

#include "common/error.h"
#include "common/parse_decimal.h"
#include "config/suggest.h"

namespace mb {
namespace {

constexpr const char* kUsage =
    "usage: runner CONFIG|SWEEP [--set key.path=value]... [--threads N] [--out DIR] "
    "[--shard K/N]";

struct OptionSpec {
  const char* name;
  const char* value_name;  // nullptr for a flag
};

constexpr OptionSpec kOptions[] = {
    {"--set", "key.path=value"}, {"--threads", "N"}, {"--out", "DIR"}, {"--shard", "K/N"},
    {"--help", nullptr},         {"-h", nullptr},
};

const OptionSpec* FindOption(const std::string& name) {
  for (const OptionSpec& option : kOptions) {
    if (name == option.name) return &option;
  }
  return nullptr;
}

[[noreturn]] void ThrowUnknownOption(const std::string& name) {
  std::vector<std::string> names;
  for (const OptionSpec& option : kOptions) names.push_back(option.name);
  throw InputError("unknown option '" + name + "'" + DidYouMean(name, names));
}

int ParseThreads(const std::string& text) {
  const std::optional<size_t> threads = ParseDecimal(text, 4);
  if (!threads || *threads < 1 || *threads > 1024) {
    throw InputError("--threads: expected an integer between 1 and 1024, got '" + text + "'");
  }
  return static_cast<int>(*threads);
}

constexpr const char* kHelpIntro =
    "runner: trains an MNIST classifier (dense or convolutional layers) as a JSON\n"
    "config describes and "
    "writes a report of the run.\n\n";

// The config table must follow ResolveConfig (config/config.cc), which
// defines the schema; a test checks that every resolved key is listed.
constexpr const char* kHelpBody = R"(options:
  --set key.path=value  override one config key (repeatable; applied in order,
                        before validation). The value is parsed as JSON, or
                        taken as a string when it is not JSON: --set epochs=2,
                        --set name=foo, --set 'name="123"'. List elements are
                        numbered from 0: --set model.0.units=256.
  --threads N           worker threads, 1 to 1024 (overrides the config's threads)
  --out DIR             where run directories are created (default: results)
  --shard K/N           for a sweep: try only the points whose index mod N is K
                        (default: every point no other process has claimed, so
                        copies started by any launcher share the points)
  -h, --help            print this help and exit

sweeps: a JSON file with a "base" key is a sweep spec (see experiments/):
  {"name": "width_sweep", "base": "configs/baseline.json", "set": {"epochs": 3},
   "grid": {"model.0.units": [128, 256]}, "seeds": [1, 2, 3],
   "random": {"samples": 20, "seed": 1,
              "space": {"optimizer.learning_rate": {"log_uniform": [1e-4, 1e-2]}}},
   "metric": "test_accuracy"}
  Distributions: uniform, log_uniform, int_uniform [low, high]; choice [values].
  Metrics: test_accuracy, final_loss, seconds_per_epoch, time_to_target.
  Each point runs into <out>/<name>/<index>-<point id>/; a point whose report
  is complete is skipped when the sweep runs again, one cut off is run again.
  At the end <out>/<name>/summary.{csv,json} and a table are written.

commands on saved weights and finished runs:
  runner evaluate CONFIG --set init_from=MODEL
                              the test set's loss, accuracy (with its 95% interval),
                              per-class accuracy and confusion matrix of saved weights
                              (a model.safetensors), without training; written as a
                              run directory whose report has status "evaluated"
  runner resume RUN_DIR [--threads N]
                              continues a run that was killed or interrupted from the
                              checkpoint its directory holds after every epoch, in the
                              same directory: its losses, test results and weights are
                              bitwise those of the run never interrupted
  runner summarize [--all] DIR
                              the summary table of every run under DIR, and
                              DIR/summary.csv, DIR/summary.json; copies of one
                              run's report count once (the newest complete one),
                              and in a sweep's DIR only the points of its
                              current spec count (--all: every run under DIR)
  runner compare A B [C ...]  runs with the same config hash side by side (reports,
                              run directories or directories of runs, e.g. from
                              two machines): accuracy, time ratio, bitwise-equal
                              losses and the machine fields that differ
  runner plot DIR             SVG learning curves (and, for a sweep, accuracy
                              against each varied value and against time) in DIR/plots/

example:
  runner configs/baseline.json --set optimizer.learning_rate=0.01 --set epochs=1

config: a JSON object; unknown keys are errors. Relative paths are relative to
the current directory, not to the config file.
  key                         type     default           valid values
  name                        string   "run"             [A-Za-z0-9._-]+, names the run directory
  seed                        integer  1                 >= 0; seeds initialisation and shuffling
  threads                     integer  0                 0 to 1024; 0 = all logical cores
  data                        object   {}                the four MNIST IDX files:
  data.dir                    string   "data/mnist"      holds the standard MNIST file names
  data.train_images           string   from data.dir     data.dir/train-images-idx3-ubyte[.gz]
  data.train_labels           string   from data.dir     data.dir/train-labels-idx1-ubyte[.gz]
  data.test_images            string   from data.dir     data.dir/t10k-images-idx3-ubyte[.gz]
  data.test_labels            string   from data.dir     data.dir/t10k-labels-idx1-ubyte[.gz]
  data.verify_checksums       boolean  true              against data.dir/SHA256SUMS if present
  data.normalize              object   null              {"mean": m, "std": s}: every pixel becomes
                                                         (x / 255 - mean) / std (null: x / 255)
  model                       array    see below         the layers, input to output (Keras names);
                                                         default [512 relu, 10 softmax]; the last
                                                         is dense, 10 units, softmax
  model.N.type                string   "dense"           dense conv2d max_pooling2d flatten dropout
                                                         activation
  model.N.units               integer  (required)        dense: 1 to 65536; 10 on the last layer
  model.N.filters             integer  (required)        conv2d: 1 to 65536 output channels
  model.N.kernel_size         int|[h,w] (required)       conv2d: the window, 1 to 1024
  model.N.pool_size           int|[h,w] 2                max_pooling2d: the window
  model.N.strides             int|[h,w] 1 / pool_size    conv2d / max_pooling2d: the step
  model.N.padding             string   "valid"           conv2d, max_pooling2d: valid same
  model.N.activation          string   "linear"          dense, conv2d, activation (required there):
                                                         linear relu tanh sigmoid gelu softmax;
                                                         softmax last and only there
  model.N.kernel_initializer  string   "glorot_uniform"  glorot_uniform he_normal zeros
                                                         pytorch_default (U(+-1/sqrt(fan_in)))
  model.N.bias_initializer    string   "zeros"           the same; pytorch_default: the kernel's
                                                         fan_in, as PyTorch
  model.N.kernel_regularizer  object   null              dense, conv2d: {"l1": a, "l2": b} added
                                                         to the loss (Keras' L1L2)
  model.N.bias_regularizer    object   null              the same for the bias
  model.N.rate                number   0.0               dropout: [0, 1), zeroed in training
  loss                        string   "sparse_categorical_crossentropy" (the only one)
  optimizer                   object   {"name": "rmsprop"}  or just a name: "adam"
  optimizer.name              string   "rmsprop"         sgd rmsprop adam adamw adagrad adadelta
                                                         adamax nadam lion
  optimizer.<parameter>       number   that optimizer's own parameters only:
      sgd      learning_rate 0.01 (> 0), momentum 0.0 [0, 1), nesterov false (boolean)
      rmsprop  learning_rate 0.001 (> 0), rho 0.9 [0, 1), momentum 0.0 [0, 1),
               epsilon 1e-7 (> 0), centered false (boolean)
      adam     learning_rate 0.001 (> 0), beta_1 0.9 [0, 1), beta_2 0.999 [0, 1),
               epsilon 1e-7 (> 0), amsgrad false (boolean)
      adamw    as adam, with weight_decay 0.004
      adagrad  learning_rate 0.001 (> 0), initial_accumulator_value 0.1 (>= 0),
               epsilon 1e-7 (> 0)
      adadelta learning_rate 0.001 (> 0), rho 0.95 [0, 1), epsilon 1e-7 (> 0)
      adamax, nadam  learning_rate 0.001 (> 0), beta_1 0.9 [0, 1), beta_2 0.999 [0, 1),
               epsilon 1e-7 (> 0)
      lion     learning_rate 0.001 (> 0), beta_1 0.9 (0, 1], beta_2 0.99 [0, 1)
      every optimizer: weight_decay 0.0 (>= 0; w -= w * weight_decay * lr before the
               update), and at most one of clipnorm, global_clipnorm, clipvalue (> 0)
      learning_rate may be a schedule object instead of a number:
        {"name": "cosine_decay", "initial_learning_rate": 0.002, "decay_steps": 1000}
        also exponential_decay, inverse_time_decay, polynomial_decay,
        piecewise_constant_decay (Keras') and one_cycle (PyTorch's OneCycleLR);
        parameters and defaults in docs/config.md
  epochs                      integer  5                 1 to 100000
  max_steps                   integer  null              1 to 2^40: stop after this many steps in
                                                         all, the last epoch part-way; null: every
                                                         epoch whole
  batch_size                  integer  128               1 to 1048576
  shuffle                     boolean  true              shuffle the training samples every epoch;
                                                         "once": epoch 1's order for every epoch
  validation_split            number   0.0               [0, 1): the last fraction of the training
                                                         samples validates instead of training
  init_from                   string   null              a model.safetensors to start from:
                                                         weights only, a fresh start (epoch 1,
                                                         new optimizer state; to continue a
                                                         run use runner resume); null:
                                                         initialise from the seed
  save_model                  boolean  false             write model.safetensors
  predict                     integer  10                0 to 10000: first test images to predict
  target_accuracy             number   null              (0, 1]: stop once the validation accuracy
                                                         reaches it (needs validation_split > 0);
                                                         the report records the time to it
  target_every_steps          integer  0                 0 to 2^30: check the target every this
                                                         many steps (0: after every epoch)
  early_stopping              object   null              Keras' EarlyStopping, after every epoch:
  early_stopping.monitor      string   "val_loss"        val_loss val_accuracy loss accuracy
                                                         (val_* needs validation_split > 0)
  early_stopping.min_delta    number   0.0               a smaller change is no improvement
  early_stopping.patience     integer  0                 epochs without improvement
  early_stopping.mode         string   "auto"            auto min max
  early_stopping.baseline     number   null              the wait restarts only past it
  early_stopping.restore_best_weights  boolean  false    end with the best epoch's weights
  early_stopping.start_from_epoch  integer  0            epochs (from 0) not watched
  reduce_lr_on_plateau        object   null              Keras' ReduceLROnPlateau (constant rate only):
  reduce_lr_on_plateau.monitor  string "val_loss"        as early_stopping.monitor
  reduce_lr_on_plateau.factor   number 0.1               (0, 1): the rate is multiplied by it
  reduce_lr_on_plateau.patience integer 10               epochs without improvement
  reduce_lr_on_plateau.mode     string "auto"            auto min max
  reduce_lr_on_plateau.min_delta number 0.0001           a smaller change is no improvement
  reduce_lr_on_plateau.cooldown integer 0                epochs after a reduction not counted
  reduce_lr_on_plateau.min_lr   number 0.0               the rate's floor
  kernels                     object   {}                how the kernels run:
  kernels.target              string   "auto"            the SIMD target: auto (the best the CPU
                                                         supports) or a lower one (AVX2, SSE4, ...)
                                                         to reproduce a run of another machine;
                                                         results are the same within a numerics
                                                         class (report.json machine.numerics_class)

output: a run directory <out>/<name>-<timestamp>-<hash8>/ with
  report.json        status, resolved config and its hash, machine, data set,
                     per-epoch metrics, test results, predictions
  epochs.csv         one row per epoch: loss, accuracy, validation loss and
                     accuracy, seconds, samples per second
  model.safetensors  the trained weights (when save_model is true)
  checkpoint.safetensors  weights, optimizer state and counters after the last
                     epoch, for runner resume; removed when the run completes
hash8 starts the sha256 of the resolved config without the keys that cannot
change the numbers (name, threads, predict, save_model, data.verify_checksums,
kernels):
runs with the same hash should give the same numbers.

exit codes:
)";

struct ExitCode {
  int code;
  const char* meaning;
};

constexpr ExitCode kExitCodes[] = {
    {kExitOk, "success"},
    {kExitInternalError, "internal error (a bug: please report it)"},
    {kExitInputError, "bad input: config, data file or command line"},
    {kExitDiverged, "training diverged (NaN or Inf in the loss or weights)"},
    {kExitOutputError, "results could not be written"},
    {kExitInterrupted,
     "interrupted by SIGINT or SIGTERM, with a line on stderr saying where:\n"
     "       while the data loads: at once, nothing written;\n"
     "       during training: after the current step, report status \"interrupted\";\n"
     "       after the last training step: once the test results, predictions and model\n"
     "       are written, report status \"completed\";\n"
     "       in a sweep: no further point starts, and the points left are listed.\n"
     "       A second signal exits at once"},
};

// After the exit codes: what they do not cover.
constexpr const char* kHelpClosedStdout =
    "\nA closed stdout (runner ... | head -1) stops nothing: the run or sweep goes on,\n"
    "says so on stderr, writes its results, prints its last line (the report or\n"
    "summary path) on stderr too, and exits with the code above.\n";

struct NamedCommand {
  const char* name;
  Command command;
  const char* usage;
};

constexpr NamedCommand kCommands[] = {
    {"resume", Command::kResume, "runner resume RUN_DIR [--threads N]"},
    {"summarize", Command::kSummarize, "runner summarize [--all] DIR"},
    {"compare", Command::kCompare, "runner compare A B [C ...]"},
    {"plot", Command::kPlot, "runner plot DIR"},
};

// The arguments of resume, summarize, compare and plot: paths, --help,
// summarize's --all and resume's --threads.
void ParseCommandArguments(int argc, const char* const* argv, const NamedCommand& command,
                           CommandLine& command_line) {
  command_line.command = command.command;
  for (int i = 2; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      command_line.help = true;
    } else if (arg == "--all" && command.command == Command::kSummarize) {
      command_line.all = true;
    } else if (command.command == Command::kResume && arg.rfind("--threads", 0) == 0 &&
               (arg.size() == 9 || arg[9] == '=')) {
      std::string value = arg.size() > 9 ? arg.substr(10) : "";
      if (arg.size() == 9 && i + 1 < argc) value = argv[++i];
      if (value.empty()) throw InputError("--threads: missing value, expected --threads N");
      command_line.threads = ParseThreads(value);
    } else if (arg.size() >= 2 && arg[0] == '-') {
      throw InputError(std::string(command.name) + ": unknown option '" + arg + "' (usage: " +
                       command.usage + ")");
    } else {
      command_line.paths.push_back(arg);
    }
  }
  if (command_line.help) return;
  const size_t wanted = command.command == Command::kCompare ? 2 : 1;
  const bool ok = command.command == Command::kCompare ? command_line.paths.size() >= wanted
                                                       : command_line.paths.size() == wanted;
  if (!ok) {
    throw InputError(std::string(command.name) + ": expected " +
                     (wanted == 1 ? "one directory" : "at least two reports or directories") +
                     ", got " + std::to_string(command_line.paths.size()) + " (usage: " +
                     command.usage + ")");
  }
}

}  // namespace

CommandLine ParseCommandLine(int argc, const char* const* argv) {
  CommandLine command_line;
  int first = 1;
  if (argc >= 2) {
    for (const NamedCommand& command : kCommands) {
      if (std::string(argv[1]) == command.name) {
        ParseCommandArguments(argc, argv, command, command_line);
        return command_line;
      }
    }
    if (std::string(argv[1]) == "evaluate") {
      command_line.command = Command::kEvaluate;
      first = 2;
    }
  }
  for (int i = first; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg.size() < 2 || arg[0] != '-') {
      if (!command_line.config_path.empty()) {
        throw InputError("unexpected argument '" + arg + "': CONFIG was already given as '" +
                         command_line.config_path + "'");
      }
      command_line.config_path = arg;
      continue;
    }

    const size_t equals = arg.find('=');
    const std::string name = arg.substr(0, equals);
    const OptionSpec* option = FindOption(name);
    if (!option) ThrowUnknownOption(name);
    if (!option->value_name) {
      if (equals != std::string::npos) throw InputError(name + ": takes no value");
      command_line.help = true;
      continue;
    }

    // The value is inline (--out=DIR) or the next argument (--out DIR). A next
    // argument that is an option means the value was forgotten.
    std::string value;
    if (equals != std::string::npos) {
      value = arg.substr(equals + 1);
    } else if (i + 1 < argc && std::string(argv[i + 1]).rfind("--", 0) != 0) {
      value = argv[++i];
    }
    if (value.empty()) {
      throw InputError(name + ": missing value, expected " + name + " " + option->value_name);
    }

    if (name == "--set") {
      command_line.overrides.push_back(value);
    } else if (name == "--threads") {
      command_line.threads = ParseThreads(value);
    } else if (name == "--shard") {
      if (command_line.command == Command::kEvaluate) {
        throw InputError("evaluate: --shard is for sweeps; evaluate takes one config");
      }
      command_line.shard = value;
    } else {
      command_line.out_dir = value;
    }
  }
  if (!command_line.help && command_line.config_path.empty()) {
    throw InputError(std::string("missing CONFIG: ") + kUsage + " (see runner --help)");
  }
  return command_line;
}

std::string HelpText() {
  std::string text = std::string(kHelpIntro) + kUsage + "\n       runner --help\n\n" + kHelpBody;
  for (const ExitCode& exit_code : kExitCodes) {
    const std::string code = std::to_string(exit_code.code);
    text += "  " + code + std::string(5 - code.size(), ' ') + exit_code.meaning + "\n";
  }
  return text + kHelpClosedStdout;
}

}  // namespace mb
