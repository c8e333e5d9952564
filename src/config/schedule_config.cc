// The schema of learning-rate schedules: Keras' names, parameters and
// defaults (keras/src/optimizers/schedules/learning_rate_schedule.py), and
// PyTorch's for one_cycle (torch.optim.lr_scheduler.OneCycleLR).
#include "config/schedule_config.h"

#include <string>

#include "config/object_reader.h"

namespace mb {

using namespace schema;

namespace {

constexpr Named<ScheduleKind> kSchedules[] = {
    {"cosine_decay", ScheduleKind::kCosineDecay},
    {"exponential_decay", ScheduleKind::kExponentialDecay},
    {"piecewise_constant_decay", ScheduleKind::kPiecewiseConstantDecay},
    {"polynomial_decay", ScheduleKind::kPolynomialDecay},
    {"inverse_time_decay", ScheduleKind::kInverseTimeDecay},
    {"one_cycle", ScheduleKind::kOneCycle},
};
constexpr Named<bool> kAnnealStrategies[] = {{"cos", false}, {"linear", true}};

// Steps are counted in int64, learning rates are positive doubles.
constexpr uint64_t kMaxSteps = uint64_t{1} << 40;

// A list of numbers at `key` (required), each in `range`.
std::vector<double> NumberList(ObjectReader& reader, const std::string& key,
                               const Interval& range) {
  const json* value = reader.Find(key);
  if (!value) reader.Fail(key, "missing (this key is required)");
  if (!value->is_array() || value->empty()) {
    reader.Fail(key, "expected a non-empty array of numbers, got " + DescribeValue(*value));
  }
  std::vector<double> numbers;
  for (const json& item : *value) {
    if (!item.is_number() || !range.Contains(item.get<double>())) {
      reader.Fail(key, "expected numbers that " + RangeText(range) + ", got " + value->dump());
    }
    numbers.push_back(item.get<double>());
  }
  reader.Record(key, numbers);
  return numbers;
}

void ReadKerasDecay(ObjectReader& reader, LearningRateSchedule& s) {
  s.initial_learning_rate = reader.Number("initial_learning_rate", std::nullopt, kPositive);
  s.decay_steps = static_cast<double>(reader.Integer("decay_steps", std::nullopt, 1, kMaxSteps));
}

void ReadParameters(ObjectReader& reader, LearningRateSchedule& s) {
  switch (s.kind) {
    case ScheduleKind::kConstant: return;
    case ScheduleKind::kCosineDecay: {
      ReadKerasDecay(reader, s);
      s.alpha = reader.Number("alpha", 0.0, kNonNegative);
      const json* target = reader.Find("warmup_target");
      if (target && !target->is_null()) {
        s.warmup_target = reader.Number("warmup_target", std::nullopt, kPositive);
      } else {
        reader.Record("warmup_target", nullptr);
      }
      s.warmup_steps = static_cast<double>(reader.Integer("warmup_steps", 0, 0, kMaxSteps));
      return;
    }
    case ScheduleKind::kExponentialDecay:
    case ScheduleKind::kInverseTimeDecay:
      ReadKerasDecay(reader, s);
      s.decay_rate = reader.Number("decay_rate", std::nullopt, kNonNegative);
      s.staircase = reader.Boolean("staircase", false);
      return;
    case ScheduleKind::kPiecewiseConstantDecay: {
      s.boundaries = NumberList(reader, "boundaries", kNonNegative);
      for (size_t i = 1; i < s.boundaries.size(); ++i) {
        if (s.boundaries[i] <= s.boundaries[i - 1]) {
          reader.Fail("boundaries", "must increase strictly, got " +
                                        json(s.boundaries).dump());
        }
      }
      s.values = NumberList(reader, "values", kPositive);
      if (s.values.size() != s.boundaries.size() + 1) {
        reader.Fail("values", "needs one more value than boundaries (" +
                                  std::to_string(s.boundaries.size() + 1) + "), got " +
                                  std::to_string(s.values.size()));
      }
      s.initial_learning_rate = s.values.front();
      return;
    }
    case ScheduleKind::kPolynomialDecay:
      ReadKerasDecay(reader, s);
      s.end_learning_rate = reader.Number("end_learning_rate", 1e-4, kNonNegative);
      s.power = reader.Number("power", 1.0, kNonNegative);
      s.cycle = reader.Boolean("cycle", false);
      return;
    case ScheduleKind::kOneCycle: {
      s.max_lr = reader.Number("max_lr", std::nullopt, kPositive);
      const json* total = reader.Find("total_steps");
      if (total && !total->is_null()) {
        s.total_steps = static_cast<int64_t>(reader.Integer("total_steps", std::nullopt, 2, kMaxSteps));
      } else {
        reader.Record("total_steps", nullptr);
      }
      s.pct_start = reader.Number("pct_start", 0.3, Interval{0, false, 1, false});
      s.anneal_linear = reader.Choice("anneal_strategy", "cos", kAnnealStrategies).value;
      s.div_factor = reader.Number("div_factor", 25.0, kPositive);
      s.final_div_factor = reader.Number("final_div_factor", 1e4, kPositive);
      s.three_phase = reader.Boolean("three_phase", false);
      s.initial_learning_rate = s.max_lr / s.div_factor;
      return;
    }
  }
}

}  // namespace

LearningRateSchedule ReadSchedule(ObjectReader& optimizer) {
  const json& object = optimizer.SubObject("learning_rate");
  ObjectReader reader(optimizer.source(), object, optimizer.PathOf("learning_rate"));
  if (object.find("name") == object.end()) {
    reader.Fail("name", "missing (a schedule needs its name: cosine_decay, exponential_decay, "
                        "piecewise_constant_decay, polynomial_decay, inverse_time_decay or "
                        "one_cycle)");
  }
  LearningRateSchedule schedule;
  schedule.kind = reader.Choice("name", "cosine_decay", kSchedules).value;
  ReadParameters(reader, schedule);
  optimizer.Record("learning_rate", reader.Finish());
  return schedule;
}

}  // namespace mb
