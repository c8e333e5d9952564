// How two runs of one config differ: their per-epoch losses bit for bit,
// why they may differ (numerics class, build), and the machine, build and
// data fields that differ. `runner compare` states these per pair.
#pragma once

#include <string>
#include <vector>

#include "report/run_results.h"

namespace mb {

// Whether two runs' per-epoch losses (`loss`, and `val_loss` where present)
// are bitwise identical.
struct LossComparison {
  enum class Verdict { kIdentical, kDifferent, kNotComparable };
  Verdict verdict = Verdict::kIdentical;
  // For kDifferent "epoch N[ val_loss][, rel X][; why]": the first epoch
  // that differs, the relative difference of its loss there and
  // NumericsExplanation's reason; for kNotComparable why ("3 vs 2 epochs",
  // "no epochs").
  std::string detail;
};
LossComparison CompareEpochLosses(const RunResults& base, const RunResults& other);

// A LossComparison as text: "yes", "no (<where><detail>)" or
// "n/a (<where><detail>)", `where` saying which runs of a group differ
// ("seed 3, ").
std::string LossText(const LossComparison& losses, const std::string& where = "");

// LossText(CompareEpochLosses(base, other)).
std::string CompareLosses(const RunResults& base, const RunResults& other);

// Why two runs of one config may differ, from their numerics classes
// (kernels/target.h): "numerics fma vs no-fma" when the classes differ (the
// promise holds within a class only), "same numerics, other build" when the
// commits differ or either is dirty or unknown (the code may have changed),
// "same numerics and commit: unexpected" otherwise; "" when either report
// lacks the class (reports from builds before it was recorded).
std::string NumericsExplanation(const RunResults& base, const RunResults& other);

// The fingerprint fields (RunResults::fingerprint) whose values differ
// between two runs, in their fixed order, each as "field: base value ->
// other value" (strings bare, other values as JSON, "(missing)" for a field
// a report lacks). Empty when none differ.
std::vector<std::string> FingerprintDifferences(const RunResults& base, const RunResults& other);

}  // namespace mb
