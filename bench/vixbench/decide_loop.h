// Pieces shared by the parent and the worker processes: an engine on a
// private segment, and the timed decision loop.
#ifndef VIXBREAKER_TOOLS_VIXBENCH_DECIDE_LOOP_H_
#define VIXBREAKER_TOOLS_VIXBENCH_DECIDE_LOOP_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "stats.h"
#include "vixbreaker/shm/engine.h"

namespace vix::bench {

// Keeps the compiler from dropping a decision whose result is otherwise
// unused. Fields go in registers: forcing the 24-byte struct to memory
// costs store-forwarding stalls that would be charged to the decision.
inline void KeepDecision(const Decision& d) {
  asm volatile(""
               :
               : "r"(d.ttl_seconds), "r"(d.mode), "r"(d.tier), "r"(d.reason),
                 "r"(d.episode_start_ns));
}

BaseTtl Ttl60();

// "vixbench-<pid>-<tag>": unique per run, so runs never share a segment.
std::string BenchSegmentName(const std::string& tag);

// Opens an engine (logging off) on `segment`. The calling thread is
// unpinned meanwhile so the engine's clock thread may run on any of `cpus`
// rather than on the measuring CPU; `pin_back` (>= 0) then pins it again.
absl::StatusOr<std::unique_ptr<shm::Engine>> OpenBenchEngine(
    const std::string& segment, const std::vector<int>& cpus, int pin_back);

// Starts an episode in `scope` with one panic decision, then waits (at most
// 10 s) until the engine's cached clock has passed its start: the start is
// stamped with the precise clock, and until the cached one catches up,
// decisions take the unusual path, which is not the steady state.
absl::Status StartSteadyEpisode(shm::Engine& engine, shm::ScopeHandle scope);

// Times batches of `calls` decisions until the TSC passes `until`; one
// histogram sample (ticks) per batch, recorded outside the timed window.
void TimeDecisions(shm::Engine& engine, shm::ScopeHandle scope, Status status,
                   Stakes stakes, int calls, uint64_t until,
                   TickHistogram* histogram);

// The floor of a decision (SPEC 10), timed as TimeDecisions times
// decisions: per call one acquire load of the scope's episode word, one load
// of the engine's cached clock and one relaxed load+store bump of a counter
// only this thread writes (`counter`, on its own cache line).
void TimeFloor(const shm::Engine& engine, shm::ScopeHandle scope,
               shm::AtomicU64* counter, int calls, uint64_t until,
               TickHistogram* histogram);

// As TimeDecisions, alternating calls between two engines (two segments):
// `calls` decisions per batch, half on each.
void TimeTwoEngines(shm::Engine& a, shm::ScopeHandle scope_a, shm::Engine& b,
                    shm::ScopeHandle scope_b, Status status, int calls,
                    uint64_t until, TickHistogram* histogram);

}  // namespace vix::bench

#endif  // VIXBREAKER_TOOLS_VIXBENCH_DECIDE_LOOP_H_
