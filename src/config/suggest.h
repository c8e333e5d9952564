// "Did you mean ...?" suggestions for misspelt config keys, enum values and
// command-line options.
#pragma once

#include <string>
#include <vector>

namespace mb {

// The candidate closest to `word` by optimal-string-alignment distance
// (Levenshtein plus transposition of adjacent characters, case-insensitive),
// or "" when none is close: a suggestion must be at most max(2, len/3) edits
// away and must not rewrite the whole word. Ties go to the earliest candidate.
std::string NearestName(const std::string& word, const std::vector<std::string>& candidates);

// " (did you mean 'x'?)" for the nearest candidate, or "" when none is close:
// ready to append to an error message.
std::string DidYouMean(const std::string& word, const std::vector<std::string>& candidates);

}  // namespace mb
