// What a figure is and the settings every figure runs with.
#ifndef VIXBREAKER_TOOLS_VIXBENCH_FIGURES_H_
#define VIXBREAKER_TOOLS_VIXBENCH_FIGURES_H_

#include <string>
#include <vector>

#include "stats.h"
#include "tsc.h"

namespace vix::bench {

// Calls per timed window when one call is shorter than the timer itself:
// each sample is a batch, and per-call figures are batch time / kBatch.
inline constexpr int kBatch = 32;

struct Settings {
  double duration_scale = 1.0;  // multiplies every duration and round count
  int repetitions = 5;
  int processes = 0;       // deciders in the contended figure; 0: cores - 1
  std::vector<int> cpus;   // allowed CPUs, in order
  int main_cpu = -1;       // where the measuring thread is pinned; -1: not
  std::string redis_url;   // empty: Redis figures are skipped
  TscClock clock{1.0, 0};  // set by main from TscClock::Calibrate
};

// One measured distribution. Each percentile is the median, over the
// repetitions, of that repetition's percentile.
struct Figure {
  bool measured = false;
  Summary median;
  std::vector<double> p50_by_repetition;
  LogBuckets buckets;  // every sample of every repetition, for plots
  std::string note;    // how it was measured, or why it was not
};

// Per-field medians of per-repetition summaries.
Summary MedianSummary(const std::vector<Summary>& runs);
Figure NotMeasured(std::string why);
// A measured figure from per-repetition summaries.
Figure MakeFigure(const std::vector<Summary>& runs, LogBuckets buckets,
                  std::string note);
// Scales a count or duration by the settings, never below `floor`.
int Scaled(const Settings& settings, double base, int floor);

}  // namespace vix::bench

#endif  // VIXBREAKER_TOOLS_VIXBENCH_FIGURES_H_
