// SIGINT / SIGTERM: the first asks the run to stop cleanly at the next
// training step (the report is written with status "interrupted"); a second
// exits at once with kExitInterrupted.
#pragma once

#include <string_view>

namespace mb {

// `line_prefix` starts the line the first signal prints (a sweep's rank
// label, as RunOptions::line_prefix); at most 127 bytes of it are kept.
void InstallInterruptHandlers(std::string_view line_prefix = "");
bool InterruptRequested();

}  // namespace mb
