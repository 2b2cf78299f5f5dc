#include "vixbreaker/persist/lease.h"

#include "vixbreaker/shm/process.h"

namespace vix::persist {

LeaseAttempt TryAcquireLease(shm::MirrorLease& lease, pid_t self,
                             uint64_t self_start_ticks, int64_t mono_now_ns,
                             int64_t period_ns) {
  LeaseAttempt attempt;
  int64_t holder = lease.holder_pid.load(std::memory_order_acquire);
  int64_t expiry = lease.expiry_mono_ns.load(std::memory_order_acquire);
  attempt.previous_pid = holder;
  if (holder == 0) {
    attempt.why = "free";
  } else if (mono_now_ns > expiry) {
    attempt.why = "expired";
  } else if (holder != self &&
             shm::ProcessGone(static_cast<pid_t>(holder), 0)) {
    attempt.why = "holder_dead";
  } else {
    attempt.why = "busy";
    return attempt;
  }
  // Reserve the expiry first: a holder renewing meanwhile makes this fail.
  const int64_t reserved = mono_now_ns + period_ns;
  if (!lease.expiry_mono_ns.compare_exchange_strong(
          expiry, reserved, std::memory_order_acq_rel)) {
    attempt.why = "busy";
    return attempt;
  }
  if (!lease.holder_pid.compare_exchange_strong(holder, self,
                                                std::memory_order_acq_rel)) {
    attempt.why = "busy";
    return attempt;
  }
  lease.holder_start_ticks.store(self_start_ticks, std::memory_order_release);
  // Only the pid-CAS winner gets here, so a relaxed load+store would do;
  // the lease line is not on any decision's path either way.
  if (holder != 0) {
    lease.takeovers.store(lease.takeovers.load(std::memory_order_relaxed) + 1,
                          std::memory_order_relaxed);
  }
  attempt.acquired = true;
  return attempt;
}

bool RenewLease(shm::MirrorLease& lease, pid_t self, int64_t mono_now_ns,
                int64_t period_ns) {
  if (!HoldsLease(lease, self)) return false;
  lease.expiry_mono_ns.store(mono_now_ns + period_ns,
                             std::memory_order_release);
  return true;
}

void ShowLeaseExpiry(shm::MirrorLease& lease, int64_t wall_expiry_ns) {
  lease.shown_expiry_unix_ns.store(wall_expiry_ns, std::memory_order_relaxed);
}

bool HoldsLease(const shm::MirrorLease& lease, pid_t self) {
  return lease.holder_pid.load(std::memory_order_acquire) == self;
}

void ReleaseLease(shm::MirrorLease& lease, pid_t self) {
  if (!HoldsLease(lease, self)) return;
  // Expire first: clearing the pid first could let a taker's fresh expiry
  // be overwritten by ours.
  lease.expiry_mono_ns.store(0, std::memory_order_release);
  lease.shown_expiry_unix_ns.store(0, std::memory_order_relaxed);
  int64_t expected = self;
  lease.holder_pid.compare_exchange_strong(expected, 0,
                                           std::memory_order_acq_rel);
}

}  // namespace vix::persist
