// The rolling-window breaker's state machine and TTL table (SPEC 6), as pure
// code: no state, no clock, no I/O. The window of samples that yields the
// panic ratio lives in the shared segment (vixbreaker/shm/window.h).
//
//   absl::StatusOr<vix::Breaker> breaker = vix::Breaker::Create({});
//   vix::BreakerMode next = breaker->Next(mode, panic_ratio);  // <= 1 step
//   vix::BreakerDecision d = vix::Breaker::Decide(next, status, base_ttl);
#ifndef VIXBREAKER_CORE_BREAKER_H_
#define VIXBREAKER_CORE_BREAKER_H_

#include <cstdint>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "vixbreaker/core/types.h"

namespace vix {

// Ordered by severity; a transition moves one step at a time.
enum class BreakerMode : uint8_t {
  kNormal = 0,
  kHighVolatility = 1,
  kCircuitOpen = 2,
};
inline constexpr int kBreakerModeCount = 3;

// What a cache front end does with the TTL (the predecessor's labels).
enum class CacheStrategy : uint8_t {
  kBypass = 0,    // do not cache
  kAdaptive = 1,  // a short TTL chosen by the breaker
  kNormal = 2,    // the caller's base TTL (or the open circuit's fixed TTL)
};

// `normal`, `high_volatility`, `circuit_open`.
absl::string_view BreakerModeName(BreakerMode mode);
// `bypass`, `adaptive`, `normal`.
absl::string_view CacheStrategyName(CacheStrategy strategy);

// Panic ratios (0..1) at which the mode moves; comparisons are strict, so a
// ratio exactly on a threshold does not move it. Defaults are SPEC 6.
struct BreakerThresholds {
  double high_enter = 0.50;  // normal -> high_volatility when ratio > this
  double high_exit = 0.30;   // high_volatility -> normal when ratio < this
  double open_enter = 0.80;  // high_volatility -> circuit_open when ratio >
  double open_exit = 0.60;   // circuit_open -> high_volatility when ratio <
};

// Rejects thresholds that are not finite, not inside (0, 1), or would let a
// constant ratio oscillate between two modes: requires
// high_exit < high_enter < open_enter and open_exit < open_enter. The
// message names the field and its value.
absl::Status ValidateBreakerThresholds(const BreakerThresholds& thresholds);

// The breaker's answer for one request.
struct BreakerDecision {
  int32_t ttl_seconds = 0;
  CacheStrategy strategy = CacheStrategy::kNormal;
  BreakerMode mode = BreakerMode::kNormal;
};

class Breaker {
 public:
  // Fails with ValidateBreakerThresholds' error.
  static absl::StatusOr<Breaker> Create(const BreakerThresholds& thresholds);

  // The mode after observing `panic_ratio` in `current`: at most one step, so
  // a jump from normal to a ratio of 1.0 gives high_volatility first.
  BreakerMode Next(BreakerMode current, double panic_ratio) const noexcept;

  // The TTL table of SPEC 6 (status across, mode down). In circuit_open a
  // `normal` status gets a fixed 60 s, whatever the base TTL.
  static BreakerDecision Decide(BreakerMode mode, Status status,
                                BaseTtl base_ttl) noexcept;

  const BreakerThresholds& thresholds() const { return thresholds_; }

 private:
  explicit Breaker(const BreakerThresholds& t) : thresholds_(t) {}
  BreakerThresholds thresholds_;
};

}  // namespace vix

#endif  // VIXBREAKER_CORE_BREAKER_H_
