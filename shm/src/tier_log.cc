// Tier changes, which follow from time rather than from a call: found by
// every engine's background thread, logged by the CAS winner on the scope's
// logged-tier word, so each change is logged once per host.
#include <algorithm>

#include "vixbreaker/shm/episodes.h"

namespace vix::shm {
namespace {

// Scope::logged_tiers packs an episode tag with the last tier logged per
// stakes: (tag << 12) | tier_low << 8 | tier_medium << 4 | tier_high. The tag
// (the start in 4 µs units, never 0 for an episode; 0 for none) lets a
// scanner raise tiers within one episode only, so a process whose cached
// clock lags a little never logs a tier going back down.
constexpr int kTierBits = 4 * kStakesCount;

uint64_t EpisodeTag(int64_t word) {
  return word == 0 ? 0
                   : ((static_cast<uint64_t>(word) >> 12) | 1) &
                         (~uint64_t{0} >> kTierBits);
}
int LoggedTier(uint64_t logged, int stakes) {
  return static_cast<int>((logged >> (4 * stakes)) & 0xf);
}

}  // namespace

void EpisodeWriter::LogTierChanges(const ScopeTable& table,
                                   int64_t now) noexcept {
  table.ForEachUsed([&](ScopeHandle h) { LogTierChangesOf(h, now); });
}

void EpisodeWriter::LogTierChangesOf(ScopeHandle handle, int64_t now) noexcept {
  Scope& scope = *handle.scope;
  // Read the logged word before the episode: whoever logged it had seen an
  // episode at least as new, so a stale read cannot win the CAS below.
  uint64_t logged = scope.logged_tiers.load(std::memory_order_acquire);
  for (int attempt = 0; attempt < 8; ++attempt) {
    const int64_t word = scope.episode.load(std::memory_order_acquire);
    const int64_t last_panic =
        scope.last_panic_ns.load(std::memory_order_relaxed);
    const bool active = word != 0 && now - last_panic <= rules_.deadman_ns;
    const uint64_t tag = active ? EpisodeTag(word) : 0;
    const int64_t start = active ? EpisodeWord::StartNs(word) : 0;
    // An unconfirmed start decides tier 1 (SPEC 3), and is logged so.
    const int64_t age = active && !EpisodeWord::Unconfirmed(word)
                            ? std::max<int64_t>(now - start, 0)
                            : 0;
    const bool same_episode = (logged >> kTierBits) == tag;
    uint64_t desired = tag << kTierBits;
    for (int s = 0; s < kStakesCount; ++s) {
      int tier =
          active ? policy_.DecideForAge(age, BaseTtl(), static_cast<Stakes>(s))
                       .tier
                 : 0;
      if (same_episode) tier = std::max(tier, LoggedTier(logged, s));
      desired |= static_cast<uint64_t>(tier) << (4 * s);
    }
    if (desired == logged) return;
    if (scope.logged_tiers.compare_exchange_weak(logged, desired,
                                                 std::memory_order_acq_rel,
                                                 std::memory_order_acquire)) {
      for (int s = 0; s < kStakesCount; ++s) {
        if (LoggedTier(logged, s) == LoggedTier(desired, s)) continue;
        Event e{EventKind::kTtlStateChange};
        e.scope_index = handle.index;
        e.stakes = static_cast<uint8_t>(s);
        e.from_tier = static_cast<uint8_t>(LoggedTier(logged, s));
        e.to_tier = static_cast<uint8_t>(LoggedTier(desired, s));
        e.at_ns = now;
        e.start_ns = start;
        sink_.Push(e);
      }
      return;
    }
  }
}

}  // namespace vix::shm
