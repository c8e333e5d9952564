// Writing result files so that a reader never sees a partial one: the
// contents go to a temporary file in the same directory, are flushed to disk,
// and the temporary is renamed over the target. A temporary left by a killed
// process is removed later by report/atomic_temporaries.h.
#pragma once

#include <string>
#include <string_view>

namespace mb {

// Throws OutputError naming the path on any failure (the temporary is
// removed, the target is left as it was).
void WriteFileAtomic(const std::string& path, std::string_view contents);

}  // namespace mb
