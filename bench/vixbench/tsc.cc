#include "tsc.h"

#include <time.h>

#include <algorithm>
#include <vector>

namespace vix::bench {

int64_t MonotonicNs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}

namespace {

// A (tsc, monotonic) pair taken as close together as the two reads allow:
// the tightest of a few tries.
void PairedRead(uint64_t* tsc, int64_t* mono) {
  uint64_t best_width = UINT64_MAX;
  for (int i = 0; i < 16; ++i) {
    const uint64_t before = TscBegin();
    const int64_t m = MonotonicNs();
    const uint64_t after = TscEnd();
    if (after - before < best_width) {
      best_width = after - before;
      *tsc = before + (after - before) / 2;
      *mono = m;
    }
  }
}

uint64_t MedianEmptyWindow() {
  std::vector<uint64_t> widths(20'000);
  for (uint64_t& w : widths) {
    const uint64_t t0 = TscBegin();
    const uint64_t t1 = TscEnd();
    w = t1 - t0;
  }
  std::nth_element(widths.begin(), widths.begin() + widths.size() / 2,
                   widths.end());
  return widths[widths.size() / 2];
}

}  // namespace

TscClock TscClock::Calibrate(int window_ms) {
  uint64_t tsc0 = 0, tsc1 = 0;
  int64_t mono0 = 0, mono1 = 0;
  PairedRead(&tsc0, &mono0);
  timespec pause{window_ms / 1000, (window_ms % 1000) * 1'000'000L};
  nanosleep(&pause, nullptr);
  PairedRead(&tsc1, &mono1);
  const double per_ns =
      static_cast<double>(tsc1 - tsc0) / static_cast<double>(mono1 - mono0);
  return TscClock(per_ns, MedianEmptyWindow());
}

void SpinForNs(const TscClock& clock, double ns) {
  const uint64_t until = __rdtsc() + clock.FromNs(ns);
  while (__rdtsc() < until) _mm_pause();
}

}  // namespace vix::bench
