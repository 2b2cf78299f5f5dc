// The pure TTL policy (SPEC 2): stakes classification, the tier table and the
// decision rules. No state, no I/O, no clock: callers pass the episode age.
//
//   absl::StatusOr<vix::Policy> policy = vix::Policy::Create({});
//   vix::Stakes stakes = policy->Classify("Premier League", "");  // per match
//   vix::Decision d = policy->DecideForAge(age_ns, base_ttl, stakes);
#ifndef VIXBREAKER_CORE_POLICY_H_
#define VIXBREAKER_CORE_POLICY_H_

#include <algorithm>
#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "vixbreaker/core/types.h"

namespace vix {

// One stakes row of the tier table (SPEC 2.2). Thresholds are episode ages in
// minutes at which tiers 2, 3 and 4 begin; TTLs are seconds for those tiers.
// Tier 1 always has TTL 0.
struct TierRow {
  std::array<double, 3> from_minutes;
  std::array<int64_t, 3> ttl_seconds;
};

// Everything the policy can be configured with; the defaults are SPEC 2.
struct PolicyConfig {
  // Indexed by Stakes.
  std::array<TierRow, kStakesCount> tiers = {{
      {{60, 180, 360}, {5, 30, 60}},  // high
      {{30, 90, 180}, {5, 30, 60}},   // medium
      {{15, 45, 90}, {5, 20, 45}},    // low
  }};
  // Substrings (lower case) that make a match high stakes when found in the
  // league or the competition.
  std::vector<std::string> high_keywords = {
      "champions league", "ucl",       "europa league", "uel", "final", "derby",
      "clasico",          "world cup", "euro"};
  // Substrings that make a match medium stakes when found in the league.
  std::vector<std::string> medium_keywords = {
      "ligue 1", "premier league", "la liga", "serie a", "bundesliga"};
  // Cap tier TTLs at the caller's base TTL (off, as in the predecessor).
  bool cap_at_base = false;
};

// A validated policy. Thresholds are kept in nanoseconds so the hot path
// compares integers and never divides.
class Policy {
 public:
  // Rejects thresholds that are not finite, not positive or not strictly
  // increasing, TTLs outside 0..2^31-1, and empty keywords; the message names
  // the stakes row and the value.
  static absl::StatusOr<Policy> Create(const PolicyConfig& config);

  // SPEC 2.1. Both strings are ASCII-lower-cased and matched by substring.
  Stakes Classify(absl::string_view league,
                  absl::string_view competition) const;

  // The decision for an active episode of the given age (SPEC 2.3). A
  // negative age is treated as 0 (clock skew: tier 1, never NORMAL); callers
  // count that as an anomaly. Reason is kTier; the engine may override it.
  Decision DecideForAge(int64_t age_ns, BaseTtl base_ttl,
                        Stakes stakes) const noexcept {
    return DecideForTier(TierForAge(age_ns, stakes), base_ttl, stakes);
  }
  // The tier (1..4) of an episode `age_ns` old.
  int TierForAge(int64_t age_ns, Stakes stakes) const noexcept {
    const StakesRow& row = rows_[static_cast<int>(stakes)];
    return 1 + (age_ns >= row.from_ns[0]) + (age_ns >= row.from_ns[1]) +
           (age_ns >= row.from_ns[2]);
  }
  // The decision of `tier` (1..4), whatever the age within it.
  Decision DecideForTier(int tier, BaseTtl base_ttl,
                         Stakes stakes) const noexcept {
    return DecideForTierTtl(tier, CapTtl(TierTtl(stakes, tier), base_ttl),
                            stakes);
  }
  // The TTL of `tier` (1..4) before the base TTL caps it.
  int32_t TierTtl(Stakes stakes, int tier) const noexcept {
    return rows_[static_cast<int>(stakes)].ttl_seconds[tier - 1];
  }
  // `tier_ttl` capped by the base TTL when cap_at_base is on. Branch-free:
  // base | kMax is kMax when capping is off.
  int32_t CapTtl(int32_t tier_ttl, BaseTtl base_ttl) const noexcept {
    return std::min(tier_ttl, base_ttl.seconds() | uncapped_mask_);
  }
  // The decision of `tier` (1..4) with its TTL already worked out.
  static Decision DecideForTierTtl(int tier, int32_t ttl,
                                   Stakes stakes) noexcept {
    Decision d;
    d.ttl_seconds = ttl;
    d.mode = ModeForTier(tier);
    d.tier = static_cast<uint8_t>(tier);
    d.stakes = stakes;
    d.reason = Reason::kTier;
    return d;
  }
  // The age at which `tier` (1..4) ends: INT64_MAX for tier 4.
  int64_t TierEndNs(Stakes stakes, int tier) const noexcept {
    return tier == 4 ? INT64_MAX : TierStartNs(stakes, tier + 1);
  }

  // The decision when no episode is active: the base TTL, NORMAL, tier 0.
  static Decision DecideNoEpisode(BaseTtl base_ttl, Stakes stakes) noexcept {
    Decision d;
    d.ttl_seconds = base_ttl.seconds();
    d.stakes = stakes;
    return d;
  }

  // The fail-safe answer (SPEC 2.3 reason `failsafe`): panic -> TTL 0
  // PANIC_FULL; any other status -> the base TTL, NORMAL.
  static Decision DecideFailsafe(Status status, BaseTtl base_ttl,
                                 Stakes stakes) noexcept {
    Decision d = DecideNoEpisode(base_ttl, stakes);
    if (status == Status::kPanic) {
      d.ttl_seconds = 0;
      d.mode = Mode::kPanicFull;
      d.tier = 1;
      d.reason = Reason::kFailsafe;
    }
    return d;
  }

  // Start of tier `tier` (1..4) for `stakes`, in nanoseconds of age.
  int64_t TierStartNs(Stakes stakes, int tier) const noexcept {
    return tier == 1 ? 0 : rows_[static_cast<int>(stakes)].from_ns[tier - 2];
  }
  const PolicyConfig& config() const { return config_; }

 private:
  struct StakesRow {
    std::array<int64_t, 3> from_ns;
    std::array<int32_t, 4> ttl_seconds;  // tiers 1..4
  };
  Policy() = default;

  PolicyConfig config_;
  std::array<StakesRow, kStakesCount> rows_{};
  int32_t uncapped_mask_ = static_cast<int32_t>(BaseTtl::kMax);
};

}  // namespace vix

#endif  // VIXBREAKER_CORE_POLICY_H_
