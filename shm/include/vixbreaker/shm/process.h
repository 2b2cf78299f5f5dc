// Process identity helpers: is a process alive, and is it still the same
// process (pid plus start time, so a reused pid is not mistaken for its
// predecessor). Also the two clocks: wall time for what hosts compare,
// monotonic time for host-local deadlines.
#ifndef VIXBREAKER_SHM_PROCESS_H_
#define VIXBREAKER_SHM_PROCESS_H_

#include <sys/types.h>

#include <cstdint>

namespace vix::shm {

// Start time of `pid` in clock ticks since boot (/proc/PID/stat field 22),
// or 0 if it cannot be read (no such process, or /proc unreadable).
uint64_t ProcessStartTicks(pid_t pid);

// Start ticks of this process, read once per pid and cached (0, and read
// again next time, while /proc cannot be read).
uint64_t SelfStartTicks();

// Three-valued (SPEC 4): kDead only when the kernel says so: no such pid
// (ESRCH), a zombie, or a start time actually read that differs from
// `start_ticks` (0: any start time). kUnknown when /proc cannot tell (out of
// descriptors, /proc hidden or unreadable).
enum class Liveness { kAlive, kDead, kUnknown };
Liveness ProcessLiveness(pid_t pid, uint64_t start_ticks);

// For reclaimers of slots, leases and claims: true only for kDead, so a
// process that cannot be judged keeps what it holds.
inline bool ProcessGone(pid_t pid, uint64_t start_ticks) {
  return ProcessLiveness(pid, start_ticks) == Liveness::kDead;
}

// The calling thread's kernel thread id.
pid_t CurrentTid();

// CLOCK_REALTIME in nanoseconds (vDSO; not for hot paths). Episode starts
// only: hosts compare them.
int64_t RealtimeNowNs() noexcept;

// CLOCK_MONOTONIC in nanoseconds (vDSO): the same clock in every process of
// a host and never stepped, so host-local deadlines in the segment (the
// mirror lease, health) use it.
int64_t MonotonicNowNs() noexcept;

// CLOCK_MONOTONIC_COARSE: the same clock, up to one kernel tick (a few ms)
// behind, at a fraction of the cost; for checks on a decision's path.
int64_t MonotonicCoarseNowNs() noexcept;

}  // namespace vix::shm

#endif  // VIXBREAKER_SHM_PROCESS_H_
