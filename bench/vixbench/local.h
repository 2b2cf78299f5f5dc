// Figures measured on one host, through the shared segment only.
#ifndef VIXBREAKER_TOOLS_VIXBENCH_LOCAL_H_
#define VIXBREAKER_TOOLS_VIXBENCH_LOCAL_H_

#include "figures.h"
#include "flags.h"
#include "vixbreaker/core/types.h"

namespace vix::bench {

// One thread deciding `status` (high stakes) on a scope in steady state:
// for panic an episode runs, for normal there is none.
Figure MeasureDecide(const Settings& settings, Status status);

// The panic decision (episode running), its floor and a thread alternating
// between two engines, measured in one run with interleaved repetitions.
struct DecidePanel {
  Figure decide;
  Figure floor;
  Figure two_engines;
};
DecidePanel MeasureDecidePanel(const Settings& settings);

// Worker processes deciding panic on one scope while another process
// starts and ends its episode as fast as it can.
Figure MeasureContended(const Settings& settings);

// From just before this process's start CAS to another process, spinning
// on the scope's episode word, seeing the new episode (same TSC).
Figure MeasurePropagationLocal(const Settings& settings);

// The worker side: `vixbench --worker decide|churn|observe|idle ...`. Returns
// the process exit code.
int RunWorker(const Flags& flags);

}  // namespace vix::bench

#endif  // VIXBREAKER_TOOLS_VIXBENCH_LOCAL_H_
