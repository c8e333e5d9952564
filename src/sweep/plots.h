// `runner plot DIR`: SVG charts of the runs under DIR, in DIR/plots/.
//
// Runs of one RunResults::config_id (that differ only in the seed and keys
// that cannot change a number) form one config, as in the summary, and
// only complete runs count (completed or diverged; a sweep point that ran
// twice counts once). The charts:
//
// learning_curves_loss.svg, learning_curves_accuracy.svg
//   Loss and accuracy per epoch: training solid (Keras's running mean over
//   the epoch), validation dashed when the runs had a validation split, one
//   colour per config, named by the sweep's varied values (or the run name).
//   Each config is drawn as the mean over its seeds, so a 5-width x 3-seed
//   sweep gives 5 curves rather than 15 tangled ones. Beyond 7 configs the
//   colours would repeat and the curves become unreadable, so only the 7
//   with the best mean test accuracy are drawn; the subtitle says so, and the
//   accuracy_vs_* charts show every config. Diverged runs are left out (their
//   last losses would squash every other curve flat), and the subtitle
//   counts them.
//
// For the sweep points among the reports (those with a "sweep" object), per
// sweep; with several sweeps under DIR the names get a "<sweep name>_" prefix:
//
// accuracy_vs_<key>.svg, for each varied key but the seed
//   Mean test accuracy over the seeds, with +-1 standard deviation error bars,
//   against the key's value: a log axis when the values are numbers spanning
//   two decades or more, a linear one for other numbers, categories in sweep
//   order for anything else (strings, objects). With other varied keys, one
//   series per combination of their values (at most 7; beyond that, one set
//   of points without lines).
// accuracy_vs_time.svg
//   Test accuracy against training time (RunResults::training_seconds: the
//   sum of the epochs' seconds, evaluations excluded) for every run,
//   coloured by config (when at most 7), with the Pareto front: the runs no
//   other run beats on both accuracy and time, joined by a step line
//   showing the best accuracy reached by each
//   time budget.
#pragma once

#include <cstdio>
#include <string>
#include <vector>

#include "report/report_reader.h"
#include "report/run_results.h"
#include "sweep/svg_chart.h"

namespace mb {

struct PlotFile {
  std::string name;  // file name inside DIR/plots/
  Chart chart;
};

// The charts for these reports, in the order above; empty when none of them
// is complete. A pure function, for tests.
std::vector<PlotFile> BuildPlots(const std::vector<RunResults>& reports);
// As above, for reports as read (ParseRunResults on each first).
std::vector<PlotFile> BuildPlots(const std::vector<LoadedReport>& reports);

// The indices of the points on the Pareto front of (seconds, accuracy), less
// time and more accuracy being better, sorted by time: the points that no
// other point matches or beats on both with at least one strictly better.
// Of identical points, the first is kept. Points with a NaN are skipped.
std::vector<size_t> ParetoFront(const std::vector<double>& seconds,
                                const std::vector<double>& accuracy);

// `runner plot DIR`: reads every report under DIR, writes the charts to
// DIR/plots/*.svg (atomically) and prints each file written to `out`.
// Returns kExitOk. Throws InputError when DIR holds no reports or no complete
// run, OutputError when the files cannot be written.
int RunPlotCommand(const std::string& dir, std::FILE* out);

}  // namespace mb
