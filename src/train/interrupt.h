// SIGINT / SIGTERM: the first asks the run to stop cleanly at the next
// training step (the report is written with status "interrupted"); a second
// exits at once with kExitInterrupted.
#pragma once

namespace mb {

void InstallInterruptHandlers();
bool InterruptRequested();

}  // namespace mb
