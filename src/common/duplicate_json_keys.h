// Finding duplicate keys while nlohmann::json parses. nlohmann keeps the
// last of duplicated keys without a word; a strict reader (a config, a
// safetensors header) rejects them, since nobody can tell which value was
// meant to win.
#pragma once

#include <optional>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace mb {

// Feed it every event of a parser callback (nlohmann::json::parser_callback_t).
class DuplicateJsonKeys {
 public:
  // The key, when `event` is a key already seen in the object being parsed.
  std::optional<std::string> Check(nlohmann::json::parse_event_t event,
                                   const nlohmann::json& parsed) {
    using Event = nlohmann::json::parse_event_t;
    if (event == Event::object_start) keys_of_open_objects_.emplace_back();
    if (event == Event::object_end) keys_of_open_objects_.pop_back();
    if (event == Event::key) {
      const std::string& key = parsed.get_ref<const std::string&>();
      if (!keys_of_open_objects_.back().insert(key).second) return key;
    }
    return std::nullopt;
  }

 private:
  std::vector<std::set<std::string>> keys_of_open_objects_;
};

}  // namespace mb
