// Process identity helpers: who is alive, and is it still the same process
// (pid plus start time, so a reused pid is not mistaken for its predecessor).
#ifndef VIXBREAKER_SHM_PROCESS_H_
#define VIXBREAKER_SHM_PROCESS_H_

#include <sys/types.h>

#include <cstdint>

namespace vix::shm {

// Start time of `pid` in clock ticks since boot (/proc/PID/stat field 22),
// or 0 if the process does not exist.
uint64_t ProcessStartTicks(pid_t pid);

// Start ticks of this process, read once and cached.
uint64_t SelfStartTicks();

// True if `pid` runs and (when start_ticks != 0) started at start_ticks.
bool ProcessAlive(pid_t pid, uint64_t start_ticks);

// The calling thread's kernel thread id.
pid_t CurrentTid();

// CLOCK_REALTIME in nanoseconds (a system call or vDSO; not for hot paths).
int64_t RealtimeNowNs();

}  // namespace vix::shm

#endif  // VIXBREAKER_SHM_PROCESS_H_
