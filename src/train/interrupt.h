// SIGINT and SIGTERM ("interrupts"), and what the runner does with one at
// each moment, so that the first always loses the least:
//
//  - where nothing is at stake (reading the config, loading the data before
//    the run directory exists, after a report is final, between the points
//    of a sweep), it prints the line the code set for that stretch and ends
//    the process at once: there is nothing to save or finish;
//  - while results are being made (training, writing them), it only asks
//    for a stop: it prints an acknowledgement and InterruptRequested()
//    turns true, for the code to stop at its next safe point (the trainer
//    after the current step, a sweep after the current point).
//
// A second interrupt always ends the process at once. Every interrupt ends
// the process with kExitInterrupted, sooner or later.
#pragma once

#include <string>

namespace mb {

// Installs the handlers (SA_RESTART, so that a write to a slow pipe is not
// cut short) with interrupts ending the process at once with `exit_line`.
void InstallInterruptHandlers(std::string exit_line);

// Starts every line the handler prints from now on: a sweep's launcher
// rank ("[SLURM_ARRAY_TASK_ID=3] "), so that its lines stay apart from other
// ranks' in a shared log. Set it before the lines (below) it should start.
void SetInterruptLinePrefix(std::string prefix);

// From now on an interrupt prints `line` (one line, no newline) and ends
// the process at once. Returns whether an interrupt had already asked for a
// stop; the caller then answers it as if it came now.
bool ExitAtOnceOnInterrupt(std::string line);

// From now on an interrupt asks for a stop, acknowledging with
// "interrupt: <what_happens> (interrupt again to exit at once)". A stop
// asked for before stands.
void StopCleanlyOnInterrupt(std::string what_happens);

// Whether an interrupt has asked for a stop.
bool InterruptRequested();

}  // namespace mb
