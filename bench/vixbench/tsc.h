// The timer of vixbench: the x86 time-stamp counter, read with fences so
// the timed code cannot drift across the reads, and calibrated against
// CLOCK_MONOTONIC. Needs an invariant TSC (constant_tsc, nonstop_tsc), as
// every x86 server since about 2010 has; the same counter on every core is
// what lets two processes compare timestamps (propagation).
#ifndef VIXBREAKER_TOOLS_VIXBENCH_TSC_H_
#define VIXBREAKER_TOOLS_VIXBENCH_TSC_H_

#include <x86intrin.h>

#include <cstdint>

namespace vix::bench {

// Before the timed code: earlier instructions retire first, later ones wait.
inline uint64_t TscBegin() {
  _mm_lfence();
  const uint64_t t = __rdtsc();
  _mm_lfence();
  return t;
}

// After the timed code: rdtscp waits for it to finish; the fence keeps
// later code (recording the sample) out of the window.
inline uint64_t TscEnd() {
  unsigned aux;
  const uint64_t t = __rdtscp(&aux);
  _mm_lfence();
  return t;
}

class TscClock {
 public:
  // Measures ticks per nanosecond over `window_ms` of CLOCK_MONOTONIC.
  static TscClock Calibrate(int window_ms = 200);
  // A clock calibrated elsewhere (a worker gets its parent's).
  TscClock(double ticks_per_ns, uint64_t overhead_ticks)
      : ticks_per_ns_(ticks_per_ns), overhead_ticks_(overhead_ticks) {}

  double ticks_per_ns() const { return ticks_per_ns_; }
  double ToNs(double ticks) const { return ticks / ticks_per_ns_; }
  uint64_t FromNs(double ns) const {
    return static_cast<uint64_t>(ns * ticks_per_ns_);
  }
  // Median cost of an empty TscBegin()/TscEnd() pair, in ticks: what a
  // timed window adds to the code inside it.
  uint64_t overhead_ticks() const { return overhead_ticks_; }

 private:
  double ticks_per_ns_;
  uint64_t overhead_ticks_;
};

// CLOCK_MONOTONIC in nanoseconds.
int64_t MonotonicNs();

// Busy-waits (no system call) for about `ns`.
void SpinForNs(const TscClock& clock, double ns);

}  // namespace vix::bench

#endif  // VIXBREAKER_TOOLS_VIXBENCH_TSC_H_
