// Vocabulary types of vixbreaker (SPEC 1). Pure values: no I/O, no state.
//
// Every enum is one byte so a Decision stays within 24 bytes.
#ifndef VIXBREAKER_CORE_TYPES_H_
#define VIXBREAKER_CORE_TYPES_H_

#include <cstdint>
#include <type_traits>

#include "absl/strings/string_view.h"

namespace vix {

// The volatility signal a caller passes.
enum class Status : uint8_t { kNormal = 0, kWarning = 1, kPanic = 2 };
inline constexpr int kStatusCount = 3;

// How long a panic is tolerated for a match.
enum class Stakes : uint8_t { kHigh = 0, kMedium = 1, kLow = 2 };
inline constexpr int kStakesCount = 3;

// What the cache should do; tier 0 is NORMAL, tiers 1..4 follow in order.
enum class Mode : uint8_t {
  kNormal = 0,
  kPanicFull = 1,
  kPanicPartial = 2,
  kDegraded = 3,
  kNewNormal = 4,
};
inline constexpr int kModeCount = 5;

// Why a decision came out as it did (SPEC 2.3, difference 5).
enum class Reason : uint8_t {
  kTier = 0,       // an active episode's tier
  kNoEpisode = 1,  // no active episode: base TTL
  kFailsafe = 2,   // segment unavailable or mirror unhealthy under `strict`
  kForced = 3,     // an admin-forced episode is running
};
inline constexpr int kReasonCount = 4;

// A TTL in whole seconds, 0..2^31-1 (SPEC 2.3). Construct through
// ParseBaseTtl() or BaseTtl::FromSeconds() so the hot path never validates.
class BaseTtl {
 public:
  static constexpr int64_t kMax = 2147483647;
  // Returns false (and leaves *out alone) when seconds is out of range.
  static constexpr bool FromSeconds(int64_t seconds, BaseTtl* out) {
    if (seconds < 0 || seconds > kMax) return false;
    *out = BaseTtl(static_cast<int32_t>(seconds));
    return true;
  }
  constexpr BaseTtl() = default;
  constexpr int32_t seconds() const { return seconds_; }

 private:
  constexpr explicit BaseTtl(int32_t s) : seconds_(s) {}
  int32_t seconds_ = 0;
};

// The answer to "how long may I cache this right now?". Trivially copyable,
// 24 bytes: returning it costs three stores.
struct Decision {
  int32_t ttl_seconds = 0;
  Mode mode = Mode::kNormal;
  uint8_t tier = 0;  // 0 = no episode, 1..4 while one is active
  Stakes stakes = Stakes::kLow;
  Reason reason = Reason::kNoEpisode;
  // Set by the engine only: true for the one call whose compare-and-swap
  // started the episode.
  bool first_writer = false;
  // Set by the engine only: this calm observation ended an episode (a local
  // one, or a remote one the host knew from the mirror's cache).
  bool ended_episode = false;
  // Set by the engine only: the scope handle belongs to a removed scope;
  // the decision is fail-safe and the caller must resolve the name again.
  bool stale_scope = false;
  // Episode start in Unix nanoseconds, 0 when there is no episode.
  int64_t episode_start_ns = 0;
};
static_assert(sizeof(Decision) <= 24);
static_assert(std::is_trivially_copyable_v<Decision>);

// Names as in SPEC 1 and 2.3; these are the strings the CLI and logs print.
absl::string_view StatusName(Status s);
absl::string_view StakesName(Stakes s);
absl::string_view ModeName(Mode m);
absl::string_view ReasonName(Reason r);

// Tier 0..4 maps one-to-one onto a mode.
constexpr Mode ModeForTier(int tier) { return static_cast<Mode>(tier); }

inline constexpr int64_t kNanosPerSecond = 1'000'000'000;
inline constexpr int64_t kNanosPerMinute = 60 * kNanosPerSecond;

}  // namespace vix

#endif  // VIXBREAKER_CORE_TYPES_H_
