#include "sweep/run_differences.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <optional>

namespace mb {
namespace {

bool SameBits(double x, double y) {
  uint64_t x_bits, y_bits;
  std::memcpy(&x_bits, &x, sizeof x);
  std::memcpy(&y_bits, &y, sizeof y);
  return x_bits == y_bits;
}

// A missing validation loss differs from a present one.
bool SameBits(const std::optional<double>& x, const std::optional<double>& y) {
  if (!x || !y) return !x && !y;
  return SameBits(*x, *y);
}

std::string Text(const std::optional<nlohmann::json>& value) {
  if (!value) return "(missing)";
  return value->is_string() ? value->get<std::string>() : value->dump();
}

}  // namespace

std::string NumericsExplanation(const RunResults& base, const RunResults& other) {
  if (!base.numerics_class || !other.numerics_class) return "";
  if (*base.numerics_class != *other.numerics_class) {
    return "numerics " + *base.numerics_class + " vs " + *other.numerics_class;
  }
  const bool same_build = base.git_commit && other.git_commit &&
                          *base.git_commit == *other.git_commit &&
                          *base.git_commit != "unknown" && base.git_dirty == false &&
                          other.git_dirty == false;
  return same_build ? "same numerics and commit: unexpected" : "same numerics, other build";
}

LossComparison CompareEpochLosses(const RunResults& base, const RunResults& other) {
  using Verdict = LossComparison::Verdict;
  const std::vector<EpochResults>& a = base.epochs;
  const std::vector<EpochResults>& b = other.epochs;
  if (a.size() != b.size()) {
    return {Verdict::kNotComparable,
            std::to_string(a.size()) + " vs " + std::to_string(b.size()) + " epochs"};
  }
  if (a.empty()) return {Verdict::kNotComparable, "no epochs"};
  for (size_t i = 0; i < a.size(); ++i) {
    const bool loss_same = SameBits(a[i].loss, b[i].loss);
    if (loss_same && SameBits(a[i].val_loss, b[i].val_loss)) continue;
    const double p = loss_same ? a[i].val_loss.value_or(NAN) : a[i].loss;
    const double q = loss_same ? b[i].val_loss.value_or(NAN) : b[i].loss;
    const double rel = std::fabs(q - p) / std::max(std::fabs(p), std::fabs(q));
    std::string detail = "epoch " + std::to_string(a[i].epoch) + (loss_same ? " val_loss" : "");
    if (std::isfinite(rel)) {
      char text[32];
      std::snprintf(text, sizeof text, "%.1e", rel);
      detail += std::string(", rel ") + text;
    }
    const std::string why = NumericsExplanation(base, other);
    if (!why.empty()) detail += "; " + why;
    return {Verdict::kDifferent, detail};
  }
  return {Verdict::kIdentical, ""};
}

std::string LossText(const LossComparison& losses, const std::string& where) {
  switch (losses.verdict) {
    case LossComparison::Verdict::kIdentical: return "yes";
    case LossComparison::Verdict::kDifferent: return "no (" + where + losses.detail + ")";
    case LossComparison::Verdict::kNotComparable: break;
  }
  return "n/a (" + where + losses.detail + ")";
}

std::string CompareLosses(const RunResults& base, const RunResults& other) {
  return LossText(CompareEpochLosses(base, other));
}

std::vector<std::string> FingerprintDifferences(const RunResults& base, const RunResults& other) {
  std::vector<std::string> differences;
  for (size_t i = 0; i < base.fingerprint.size() && i < other.fingerprint.size(); ++i) {
    const std::optional<nlohmann::json>& a = base.fingerprint[i].value;
    const std::optional<nlohmann::json>& b = other.fingerprint[i].value;
    if (a == b) continue;
    differences.push_back(std::string(base.fingerprint[i].label) + ": " + Text(a) + " -> " +
                          Text(b));
  }
  return differences;
}

}  // namespace mb
