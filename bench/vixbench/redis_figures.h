// Figures that need a real Redis: the predecessor's per-call protocol, and
// what the mirror costs and achieves (propagation across hosts, commands
// per second).
#ifndef VIXBREAKER_TOOLS_VIXBENCH_REDIS_FIGURES_H_
#define VIXBREAKER_TOOLS_VIXBENCH_REDIS_FIGURES_H_

#include <map>
#include <optional>
#include <string>

#include "figures.h"

namespace vix::bench {

// The predecessor's three round trips per decision (SET key ts NX EX 86400,
// GET key, EXPIRE key 86400) with a synchronous hiredis client; one sample
// per decision.
Figure MeasurePredecessorProtocol(const Settings& settings);

// Two segments in this process, each with its own Mirror (two "hosts"),
// one Redis: from a panic decision starting an episode on one to the other
// segment caching that start. `announce` false leaves only the GET poll.
// Samples in ns (reported in ms).
Figure MeasurePropagationRemote(const Settings& settings, bool announce);

struct CommandRate {
  std::optional<double> per_s;         // INFO commandstats delta, all but INFO
  std::optional<double> mirror_per_s;  // the mirror's own counter (segment)
  std::map<std::string, double> by_command;  // per second
  double decisions_per_s = 0;  // panic decisions during the window
  std::string note;
};

// One host in a long episode, deciding panic as fast as one thread can,
// while Redis counts the commands it receives.
CommandRate MeasureCommandRate(const Settings& settings);

// The mirror's default poll interval, for the bar "poll interval + 50 ms".
double PollIntervalMs();

}  // namespace vix::bench

#endif  // VIXBREAKER_TOOLS_VIXBENCH_REDIS_FIGURES_H_
