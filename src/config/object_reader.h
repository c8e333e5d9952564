// Reading a JSON config object by object: each key checked for its type
// and range, its default filled in and its resolved value recorded, and
// every error a one-line message naming the file and the key path. Shared
// by the sections of the schema (config/config.cc, config/model_config.cc).
#pragma once

#include <algorithm>
#include <cstdint>
#include <limits>
#include <optional>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/error.h"
#include "config/suggest.h"

namespace mb::schema {

using nlohmann::json;

// ---------------------------------------------------------------------------
// Types, ranges and names

enum class JsonKind { kInteger, kNumber, kString, kBoolean, kObject, kArray };

inline bool IsKind(const json& value, JsonKind kind) {
  switch (kind) {
    case JsonKind::kInteger: return value.is_number_integer();  // not 5.0: keep strict
    case JsonKind::kNumber: return value.is_number();
    case JsonKind::kString: return value.is_string();
    case JsonKind::kBoolean: return value.is_boolean();
    case JsonKind::kObject: return value.is_object();
    case JsonKind::kArray: return value.is_array();
  }
  return false;
}

inline const char* KindName(JsonKind kind) {
  switch (kind) {
    case JsonKind::kInteger: return "an integer";
    case JsonKind::kNumber: return "a number";
    case JsonKind::kString: return "a string";
    case JsonKind::kBoolean: return "a boolean";
    case JsonKind::kObject: return "an object";
    case JsonKind::kArray: return "an array";
  }
  return "?";
}

// What the user wrote, for "got ..." in messages: `string "5"`, `number 5.0`,
// or just the type for containers, which could be long.
inline std::string DescribeValue(const json& value) {
  if (value.is_object() || value.is_array() || value.is_null()) return value.type_name();
  return std::string(value.type_name()) + " " + value.dump();
}

[[noreturn]] inline void ThrowAt(const std::string& source, const std::string& path,
                          const std::string& problem) {
  throw InputError(source + ": " + path + ": " + problem);
}

inline const json& Expect(const std::string& source, const std::string& path, const json& value,
                   JsonKind kind) {
  if (!IsKind(value, kind)) {
    ThrowAt(source, path,
            std::string("expected ") + KindName(kind) + ", got " + DescribeValue(value));
  }
  return value;
}

// An interval of the reals; `hi` may be infinite. NaN and infinities are in
// no interval used here, which is how they are rejected.
struct Interval {
  double lo;
  bool lo_closed;
  double hi;
  bool hi_closed;

  bool Contains(double v) const {
    return (lo_closed ? v >= lo : v > lo) && (hi_closed ? v <= hi : v < hi);
  }
};

inline constexpr double kInfinity = std::numeric_limits<double>::infinity();
inline constexpr Interval kPositive{0, false, kInfinity, false};
inline constexpr Interval kNonNegative{0, true, kInfinity, false};
inline constexpr Interval kFraction{0, true, 1, false};  // [0, 1)
inline constexpr Interval kAccuracy{0, false, 1, true};  // (0, 1]

inline std::string FormatNumber(double v) {
  std::ostringstream text;
  text << v;
  return text.str();
}

inline std::string RangeText(const Interval& range) {
  if (range.hi == kInfinity) {
    return (range.lo_closed ? "must be >= " : "must be > ") + FormatNumber(range.lo);
  }
  return std::string("must be in ") + (range.lo_closed ? "[" : "(") + FormatNumber(range.lo) +
         ", " + FormatNumber(range.hi) + (range.hi_closed ? "]" : ")");
}

inline std::string RangeText(uint64_t lo, uint64_t hi) {
  if (hi == std::numeric_limits<uint64_t>::max()) return "must be >= " + std::to_string(lo);
  return "must be between " + std::to_string(lo) + " and " + std::to_string(hi);
}

inline std::string Join(const std::vector<std::string>& words, const char* separator) {
  std::string joined;
  for (const std::string& word : words) joined += (joined.empty() ? "" : separator) + word;
  return joined;
}

// A spelling the config accepts for an enum value.
template <typename T>
struct Named {
  const char* name;
  T value;
};

// ---------------------------------------------------------------------------
// Reading one JSON object of the schema

// Reads the keys of one JSON object (the top level, "data", "optimizer" or a
// layer). Each getter validates one key, substitutes its default when it is
// absent and records the resolved value; the keys the getters asked for are
// the object's valid keys, so Finish() can reject (and correct) any other.
class ObjectReader {
 public:
  // `object` must be a JSON object and outlive the reader; `path` is its key
  // path in messages ("" for the top level).
  ObjectReader(std::string source, const json& object, std::string path)
      : source_(std::move(source)), object_(object), path_(std::move(path)) {}

  const std::string& source() const { return source_; }

  std::string PathOf(const std::string& key) const {
    return path_.empty() ? key : path_ + "." + key;
  }

  [[noreturn]] void Fail(const std::string& key, const std::string& problem) const {
    ThrowAt(source_, PathOf(key), problem);
  }

  bool Knows(const std::string& key) const {
    return std::find(known_.begin(), known_.end(), key) != known_.end();
  }

  // The value at `key`, or nullptr when absent; either way `key` becomes one
  // of this object's valid keys.
  const json* Find(const std::string& key) {
    if (!Knows(key)) known_.push_back(key);
    const auto it = object_.find(key);
    return it == object_.end() ? nullptr : &*it;
  }

  // The object at `key`, or an empty one when absent (all its keys default).
  const json& SubObject(const std::string& key) {
    static const json kEmpty = json::object();
    const json* value = Find(key);
    return value ? Expect(source_, PathOf(key), *value, JsonKind::kObject) : kEmpty;
  }

  // Every integer in the schema is non-negative, hence uint64_t (seeds need
  // all 64 bits). No fallback makes the key required.
  uint64_t Integer(const std::string& key, std::optional<uint64_t> fallback, uint64_t lo,
                   uint64_t hi) {
    const json* value = Find(key);
    if (!value && !fallback) Fail(key, "missing (this key is required)");
    uint64_t result = fallback.value_or(0);
    if (value) {
      Expect(source_, PathOf(key), *value, JsonKind::kInteger);
      const bool negative = !value->is_number_unsigned() && value->get<int64_t>() < 0;
      if (negative || value->get<uint64_t>() < lo || value->get<uint64_t>() > hi) {
        Fail(key, RangeText(lo, hi) + ", got " + value->dump());
      }
      result = value->get<uint64_t>();
    }
    Record(key, result);
    return result;
  }

  // Recorded as a double even when written as an integer, so that 1 and 1.0
  // resolve (and hash) the same.
  // No fallback makes the key required.
  double Number(const std::string& key, std::optional<double> fallback, const Interval& range) {
    const json* value = Find(key);
    if (!value && !fallback) Fail(key, "missing (this key is required)");
    double result = fallback.value_or(0.0);
    if (value) {
      result = Expect(source_, PathOf(key), *value, JsonKind::kNumber).get<double>();
      if (!range.Contains(result)) Fail(key, RangeText(range) + ", got " + value->dump());
    }
    Record(key, result);
    return result;
  }

  bool Boolean(const std::string& key, bool fallback) {
    const json* value = Find(key);
    const bool result =
        value ? Expect(source_, PathOf(key), *value, JsonKind::kBoolean).get<bool>() : fallback;
    Record(key, result);
    return result;
  }

  std::string String(const std::string& key, const std::string& fallback) {
    const json* value = Find(key);
    std::string result =
        value ? Expect(source_, PathOf(key), *value, JsonKind::kString).get<std::string>()
              : fallback;
    Record(key, result);
    return result;
  }

  // A string that must be one of `choices`' names.
  template <typename T, size_t N>
  const Named<T>& Choice(const std::string& key, const char* fallback,
                         const Named<T> (&choices)[N]) {
    const std::string name = String(key, fallback);
    std::vector<std::string> names;
    for (const Named<T>& choice : choices) {
      if (name == choice.name) return choice;
      names.push_back(choice.name);
    }
    Fail(key, "'" + name + "' is not one of " + Join(names, ", ") + DidYouMean(name, names));
  }

  void Record(const std::string& key, json value) { resolved_[key] = std::move(value); }

  // The keys of the object that no getter asked for, in key order.
  std::vector<std::string> UnknownKeys() const {
    std::vector<std::string> unknown;
    for (const auto& item : object_.items()) {
      if (!Knows(item.key())) unknown.push_back(item.key());
    }
    return unknown;
  }

  // Rejects the first unknown key and returns the resolved object. Call it
  // after every getter, so that all valid keys are known.
  json Finish() const {
    const std::vector<std::string> unknown = UnknownKeys();
    if (!unknown.empty())
      Fail(unknown.front(), "unknown key" + DidYouMean(unknown.front(), known_));
    return resolved_;
  }

 private:
  std::string source_;
  const json& object_;
  std::string path_;
  std::vector<std::string> known_;  // in the order asked, so ties suggest the earlier key
  json resolved_ = json::object();
};

}  // namespace mb::schema
