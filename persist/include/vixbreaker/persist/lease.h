// The mirror lease in the segment (SPEC 5): exactly one active mirror per
// segment. The holder renews the expiry; any configured process takes over
// a lease that is free, expired, or whose holder process no longer exists.
//
// Taking over is two CASes: first on the expiry (a holder that renews in the
// meantime wins, so a slow but live holder keeps its lease), then on
// holder_pid (only one taker wins). Liveness is checked by pid existence
// only, because holder_pid and holder_start_ticks cannot be read as one
// value; a reused pid just means waiting for the expiry. A holder that
// cannot be judged (this process cannot read /proc) counts as alive.
//
// Times are CLOCK_MONOTONIC (shm::MonotonicNowNs), the same in every process
// of the host and never stepped: a wall-clock step (NTP, an operator) can
// neither keep a dead holder's lease nor hand a live holder's away.
#ifndef VIXBREAKER_PERSIST_LEASE_H_
#define VIXBREAKER_PERSIST_LEASE_H_

#include <sys/types.h>

#include <cstdint>

#include "absl/strings/string_view.h"
#include "vixbreaker/shm/layout.h"

namespace vix::persist {

struct LeaseAttempt {
  bool acquired = false;
  int64_t previous_pid = 0;  // 0: the lease was free
  absl::string_view why;     // "free", "expired", "holder_dead" or "busy"
};

// For a process that does not hold the lease.
LeaseAttempt TryAcquireLease(shm::MirrorLease& lease, pid_t self,
                             uint64_t self_start_ticks, int64_t mono_now_ns,
                             int64_t period_ns);

// For the holder: extends the expiry. False when the lease is no longer
// ours (taken over): the caller must stop acting as the mirror.
bool RenewLease(shm::MirrorLease& lease, pid_t self, int64_t mono_now_ns,
                int64_t period_ns);

// For the holder, after taking or renewing: the expiry in its wall time, so
// the inspector can show it. Nothing judges by it.
void ShowLeaseExpiry(shm::MirrorLease& lease, int64_t wall_expiry_ns);

bool HoldsLease(const shm::MirrorLease& lease, pid_t self);

// Gives the lease up at once so a standby takes over without waiting.
void ReleaseLease(shm::MirrorLease& lease, pid_t self);

}  // namespace vix::persist

#endif  // VIXBREAKER_PERSIST_LEASE_H_
