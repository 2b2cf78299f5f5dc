// The engine's clock: one relaxed load of a cached CLOCK_REALTIME value.
//
// Why cached: even the vDSO clock_gettime costs several nanoseconds, as much
// as the whole decision budget. Tiers are minutes, the refresh is one second
// and the dead-man's switch is hours, so a value refreshed every millisecond
// by a background thread (as Aeron's CachedEpochClock) is precise enough.
// Why real time: episode starts are compared across hosts through Redis.
//
// Tests replace the clock by passing their own CachedClock and calling
// SetNs(); the hot path is the same load either way, so replacing it costs
// nothing.
#ifndef VIXBREAKER_SHM_CLOCK_H_
#define VIXBREAKER_SHM_CLOCK_H_

#include <atomic>
#include <cstdint>

namespace vix::shm {

class CachedClock {
 public:
  explicit CachedClock(int64_t now_ns = 0) : now_ns_(now_ns) {}
  int64_t NowNs() const noexcept {
    return now_ns_.load(std::memory_order_relaxed);
  }
  void SetNs(int64_t now_ns) noexcept {
    now_ns_.store(now_ns, std::memory_order_relaxed);
  }
  void AdvanceNs(int64_t delta_ns) noexcept {
    now_ns_.fetch_add(delta_ns, std::memory_order_relaxed);
  }

 private:
  // Its own cache line: the ticker's store must not invalidate neighbours.
  alignas(64) std::atomic<int64_t> now_ns_;
};

}  // namespace vix::shm

#endif  // VIXBREAKER_SHM_CLOCK_H_
