// docs/config.md's key tables agree with the schema the code uses: every key
// the resolver fills in has a row, every row names a key the resolver knows,
// and every default written as a JSON value in a row is the resolver's
// default. The reference was hand-kept and drifted once (config_hash's keys);
// this test makes a drift fail.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "layer_configs.h"
#include "common/error.h"
#include "config/config.h"

namespace mb {
namespace {

using nlohmann::json;

std::string ConfigDoc() {
  const char* root = std::getenv("MB_SOURCE_ROOT");
  const std::string path = std::string(root ? root : ".") + "/docs/config.md";
  std::ifstream in(path);
  REQUIRE(in);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// The cells of each markdown table row ("| a | b |" -> {"a", "b"}).
std::vector<std::vector<std::string>> TableRows(const std::string& doc) {
  std::vector<std::vector<std::string>> rows;
  std::istringstream lines(doc);
  for (std::string line; std::getline(lines, line);) {
    if (line.size() < 2 || line.front() != '|' || line.back() != '|') continue;
    std::vector<std::string> cells;
    size_t start = 1;
    for (size_t bar = line.find('|', start); bar != std::string::npos;
         start = bar + 1, bar = line.find('|', start)) {
      std::string cell = line.substr(start, bar - start);
      cell.erase(0, cell.find_first_not_of(' '));
      cell.erase(cell.find_last_not_of(' ') + 1);
      cells.push_back(cell);
    }
    rows.push_back(cells);
  }
  return rows;
}

// "`x`" -> "x"; anything else -> "".
std::string Code(const std::string& cell) {
  if (cell.size() < 2 || cell.front() != '`' || cell.back() != '`') return "";
  return cell.substr(1, cell.size() - 2);
}

// A model whose first layer, of a type that has `key`, gives only its
// required keys besides `key`, so that its other keys take the defaults.
json ModelWithLayerKey(const std::string& key, const json& value) {
  json layer = {{"units", 5}};
  json rest = json::array({{{"units", 10}, {"activation", "softmax"}}});
  const auto is = [&key](std::initializer_list<const char*> keys) {
    return std::find(keys.begin(), keys.end(), key) != keys.end();
  };
  if (is({"filters", "kernel_size", "strides", "padding"})) {
    layer = {{"type", "conv2d"}, {"filters", 2}, {"kernel_size", 3}};
    rest.insert(rest.begin(), json::object({{"type", "flatten"}}));
  } else if (is({"pool_size"})) {
    layer = {{"type", "max_pooling2d"}};
    rest.insert(rest.begin(), json::object({{"type", "flatten"}}));
  } else if (is({"rate"})) {
    layer = {{"type", "dropout"}};
  }
  if (!key.empty()) layer[key] = value;
  rest.insert(rest.begin(), layer);
  return rest;
}

bool IsCallback(const std::string& key) {
  return key == "early_stopping" || key == "reduce_lr_on_plateau";
}

// A config that sets one documented key path ("data.dir", "model.N.units")
// to `value`.
json ConfigWith(const std::string& key, const json& value) {
  const size_t dot = key.find('.');
  if (dot == std::string::npos) return {{key, value}};
  const std::string top = key.substr(0, dot), rest = key.substr(dot + 1);
  if (top == "model") return {{"model", ModelWithLayerKey(rest.substr(2), value)}};
  // The callbacks watch val_loss by default, which needs a validation set.
  if (IsCallback(top)) return {{top, {{rest, value}}}, {"validation_split", 0.1}};
  return {{top, {{rest, value}}}};
}

// The resolved value at a documented key path.
json ValueAt(const json& resolved, const std::string& key) {
  const size_t dot = key.find('.');
  if (dot == std::string::npos) return resolved.at(key);
  const std::string top = key.substr(0, dot), rest = key.substr(dot + 1);
  if (top == "model") return resolved.at("model").at(0).at(rest.substr(2));
  return resolved.at(top).at(rest);
}

// Every key path the resolver fills in, as the doc names them: top-level
// keys, object members as "data.dir", a layer's keys as "model.N.units".
// The optimizer's parameters have their own table.
std::vector<std::string> SchemaKeys() {
  const json resolved = ResolveConfig({{"model", test::EveryLayerTypeJson()},
                                       {"early_stopping", json::object()},
                                       {"reduce_lr_on_plateau", json::object()},
                                       {"validation_split", 0.1}},
                                      "x.json")
                            .resolved;
  std::vector<std::string> keys;
  for (const auto& item : resolved.items()) {
    keys.push_back(item.key());
    if (item.key() == "optimizer") {
      keys.push_back("optimizer.name");
    } else if (item.key() == "model") {
      for (const json& layer : item.value()) {
        for (const auto& member : layer.items()) {
          const std::string key = "model.N." + member.key();
          if (std::find(keys.begin(), keys.end(), key) == keys.end()) keys.push_back(key);
        }
      }
    } else if (item.value().is_object()) {
      for (const auto& member : item.value().items()) keys.push_back(item.key() + "." + member.key());
    }
  }
  return keys;
}

TEST_CASE("docs/config.md lists exactly the schema's keys, with its defaults", "[config]") {
  const std::vector<std::string> schema = SchemaKeys();
  std::map<std::string, std::string> documented;  // key -> default cell
  for (const auto& row : TableRows(ConfigDoc())) {
    if (row.size() != 5) continue;  // the key table has 5 columns
    const std::string key = Code(row[0]);
    if (key.empty() || key == "optimizer.<parameter>") continue;
    documented[key] = row[2];
  }
  for (const std::string& key : schema) {
    CAPTURE(key);
    CHECK(documented.count(key) == 1);
  }
  const json defaults = ResolveConfig(json::object(), "x.json").resolved;
  for (const auto& [key, default_cell] : documented) {
    CAPTURE(key, default_cell);
    REQUIRE(std::count(schema.begin(), schema.end(), key) == 1);
    // "from data.dir", "required", "see below": said in words, not checked.
    const std::string literal = Code(default_cell);
    if (literal.empty()) continue;
    const json written = json::parse(literal, nullptr, /*allow_exceptions=*/false);
    REQUIRE_FALSE(written.is_discarded());
    // The written default, resolved, is what the resolver fills in alone.
    // (A layer's default comes from a layer without the key.)
    json expected = defaults;
    if (key.rfind("model.", 0) == 0) {
      json without = ModelWithLayerKey(key.substr(8), nullptr);
      without[0].erase(key.substr(8));
      expected = ResolveConfig({{"model", without}}, "x.json").resolved;
    } else if (IsCallback(key.substr(0, key.find('.'))) && key.find('.') != std::string::npos) {
      expected = ResolveConfig({{key.substr(0, key.find('.')), json::object()},
                                {"validation_split", 0.1}},
                               "x.json")
                     .resolved;
    }
    CHECK(ValueAt(ResolveConfig(ConfigWith(key, written), "x.json").resolved, key) ==
          ValueAt(expected, key));
  }
}

TEST_CASE("docs/config.md lists every schedule's parameters, with their defaults", "[config]") {
  std::map<std::string, std::map<std::string, std::string>> documented;  // name -> key -> default
  std::string schedule;
  for (const auto& row : TableRows(ConfigDoc())) {
    if (row.size() != 6 || Code(row[1]).empty()) continue;  // the schedule table
    if (!row[0].empty()) schedule = Code(row[0]);
    documented[schedule][Code(row[1])] = row[3];
  }
  // Each schedule with its required parameters only.
  const json minimal = json::parse(R"({
    "cosine_decay": {"initial_learning_rate": 0.01, "decay_steps": 10},
    "exponential_decay": {"initial_learning_rate": 0.01, "decay_steps": 10, "decay_rate": 0.5},
    "inverse_time_decay": {"initial_learning_rate": 0.01, "decay_steps": 10, "decay_rate": 0.5},
    "polynomial_decay": {"initial_learning_rate": 0.01, "decay_steps": 10},
    "piecewise_constant_decay": {"boundaries": [10], "values": [0.01, 0.001]},
    "one_cycle": {"max_lr": 0.01}})");
  CHECK(documented.size() == minimal.size());
  for (const auto& [name, required] : minimal.items()) {
    CAPTURE(name);
    json schedule_json = required;
    schedule_json["name"] = name;
    json resolved = ResolveConfig({{"optimizer", {{"name", "rmsprop"}, {"learning_rate", schedule_json}}}},
                                  "x.json")
                        .resolved["optimizer"]["learning_rate"];
    resolved.erase("name");
    CHECK(documented[name].size() == resolved.size());
    for (const auto& item : resolved.items()) {
      CAPTURE(item.key());
      REQUIRE(documented[name].count(item.key()) == 1);
      const std::string cell = documented[name][item.key()];
      if (cell == "required") {
        CHECK(required.contains(item.key()));
        continue;
      }
      const json written = json::parse(cell);
      if (written.is_number()) {
        CHECK(written.get<double>() == Approx(item.value().get<double>()));
      } else {
        CHECK(written == item.value());
      }
    }
  }
}

// Every optimizer name the schema knows, from its message for an unknown
// one ("optimizer.name: '?' is not one of sgd, rmsprop, ...").
std::vector<std::string> OptimizerNames() {
  std::string message;
  try {
    ResolveConfig({{"optimizer", "?"}}, "x.json");
  } catch (const InputError& e) {
    message = e.what();
  }
  const std::string marker = "is not one of ";
  REQUIRE(message.find(marker) != std::string::npos);
  std::string rest = message.substr(message.find(marker) + marker.size());
  rest = rest.substr(0, rest.find(" ("));  // a "(did you mean ...)" suggestion
  std::istringstream list(rest);
  std::vector<std::string> names;
  for (std::string name; std::getline(list, name, ',');) {
    name.erase(0, name.find_first_not_of(' '));
    names.push_back(name);
  }
  return names;
}

TEST_CASE("docs/config.md lists every optimizer's parameters, with their defaults", "[config]") {
  std::map<std::string, std::map<std::string, std::string>> documented;
  std::string optimizer;
  for (const auto& row : TableRows(ConfigDoc())) {
    if (row.size() != 4 || Code(row[1]).empty()) continue;  // the optimizer table
    if (!row[0].empty()) optimizer = Code(row[0]).empty() ? row[0] : Code(row[0]);
    documented[optimizer][Code(row[1])] = row[2];
  }
  // The rows under "every optimizer" apply to each, unless it lists its own.
  const std::map<std::string, std::string> shared = documented["every optimizer"];
  REQUIRE_FALSE(shared.empty());
  std::string names_cell;  // optimizer.name's allowed values, in the key table
  for (const auto& row : TableRows(ConfigDoc())) {
    if (row.size() == 5 && Code(row[0]) == "optimizer.name") names_cell = row[3];
  }
  const std::vector<std::string> names = OptimizerNames();
  CHECK(names.size() == 9);
  for (const std::string& name : names) {
    CAPTURE(name);
    CHECK(names_cell.find("`" + name + "`") != std::string::npos);
    std::map<std::string, std::string> own = documented[name];
    for (const auto& [key, cell] : shared) own.emplace(key, cell);
    json parameters = ResolveConfig({{"optimizer", name}}, "x.json").resolved["optimizer"];
    parameters.erase("name");
    CHECK(own.size() == parameters.size());
    for (const auto& item : parameters.items()) {
      CAPTURE(item.key());
      REQUIRE(own.count(item.key()) == 1);
      // "0.0 (adamw: 0.004)": the general default first.
      const std::string cell = own[item.key()].substr(0, own[item.key()].find(" ("));
      const json written = json::parse(cell);
      if (written.is_number()) {
        CHECK(written.get<double>() == Approx(item.value().get<double>()));
      } else {
        CHECK(written == item.value());
      }
    }
  }
}

}  // namespace
}  // namespace mb
