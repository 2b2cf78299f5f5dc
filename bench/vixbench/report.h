// vixbench's output: one JSON object (--json) or a readable table. Each
// figure carries its note (how it was measured, or why not) and its bar.
#ifndef VIXBREAKER_TOOLS_VIXBENCH_REPORT_H_
#define VIXBREAKER_TOOLS_VIXBENCH_REPORT_H_

#include <string>

#include "figures.h"
#include "idle.h"
#include "machine.h"
#include "redis_figures.h"

namespace vix::bench {

inline constexpr int kJsonSchemaVersion = 1;

struct Results {
  MachineInfo machine;
  Settings settings;
  int64_t timestamp_unix_ns = 0;
  std::string pinning;  // what pinning achieved
  Figure decide;        // panic, steady episode
  Figure decide_calm;   // normal, no episode
  Figure floor;         // same run as `decide`
  Figure two_engines;   // same run as `decide`
  IdleCost idle;
  Figure contended;
  Figure propagation_local;
  Figure redis_per_call;
  Figure propagation_remote;       // channel
  Figure propagation_remote_poll;  // poll alone
  CommandRate command_rate;
  std::string redis_skipped;  // why the Redis figures are null, if they are
};

std::string ToJson(const Results& results);
std::string ToTable(const Results& results);

}  // namespace vix::bench

#endif  // VIXBREAKER_TOOLS_VIXBENCH_REPORT_H_
