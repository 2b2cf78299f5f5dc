// The cost of an idle engine (SPEC 10): a worker process opens an engine
// and makes no decisions; the kernel's per-thread accounting of that
// process says how often its threads woke and how much CPU they used.
#ifndef VIXBREAKER_TOOLS_VIXBENCH_IDLE_H_
#define VIXBREAKER_TOOLS_VIXBENCH_IDLE_H_

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "figures.h"

namespace vix::bench {

struct IdleCost {
  std::optional<double> wakeups_per_s;  // median over repetitions
  std::optional<double> cpu_pct;        // of one core, median
  std::vector<double> wakeups_by_repetition;
  std::vector<double> cpu_pct_by_repetition;
  int threads = 0;   // the idle process's threads
  std::string note;  // how it was measured, or why not
};

// Sums over every thread of `pid` (/proc/PID/task/*): run time and
// timeslices from schedstat, context switches from status.
struct ThreadTotals {
  int threads = 0;
  uint64_t run_ns = 0;
  uint64_t timeslices = 0;
  uint64_t voluntary_switches = 0;
  uint64_t involuntary_switches = 0;
};
std::optional<ThreadTotals> ReadThreadTotals(pid_t pid);

IdleCost MeasureIdleEngine(const Settings& settings);

}  // namespace vix::bench

#endif  // VIXBREAKER_TOOLS_VIXBENCH_IDLE_H_
