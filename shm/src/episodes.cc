// Episode transitions: the one place that CASes a scope's episode word (see
// episodes.h for the ordering rules every function keeps).
#include "vixbreaker/shm/episodes.h"

#include <time.h>

#include <algorithm>
#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "vixbreaker/shm/process.h"

namespace vix::shm {
namespace {

constexpr auto kRelaxed = std::memory_order_relaxed;
constexpr auto kAcquire = std::memory_order_acquire;
constexpr auto kRelease = std::memory_order_release;
constexpr auto kAcqRel = std::memory_order_acq_rel;
constexpr auto kSeqCst = std::memory_order_seq_cst;

void Bump(AtomicU64& counter) { counter.fetch_add(1, kRelaxed); }

}  // namespace

EpisodeWriter::EpisodeWriter(const Policy& policy, EpisodeRules rules,
                             pid_t self, const CachedClock* test_clock,
                             EventSink sink)
    : policy_(policy),
      rules_(rules),
      self_(self),
      test_clock_(test_clock),
      sink_(sink) {}

int64_t EpisodeWriter::PreciseNowNs() const noexcept {
  return test_clock_ != nullptr ? test_clock_->NowNs() : RealtimeNowNs();
}

int64_t EpisodeWriter::ObservePanic(ScopeHandle handle, int64_t word,
                                    int64_t now, int64_t last_panic,
                                    bool* first_writer, bool* stale) noexcept {
  Scope& s = *handle.scope;
  if (word == 0 || now - last_panic > rules_.deadman_ns) {
    word = Start(handle, word, now, first_writer, stale);
  } else if (now - last_panic >= kRefreshIntervalNs) {
    s.last_panic_ns.store(now, kRelaxed);
  }
  if (s.calm_since_ns.load(kRelaxed) != 0) s.calm_since_ns.store(0, kRelaxed);
  return word;
}

int64_t EpisodeWriter::Start(ScopeHandle handle, int64_t observed, int64_t now,
                             bool* first_writer, bool* stale) noexcept {
  Scope& s = *handle.scope;
  int64_t word = observed;
  for (int attempt = 0; attempt < 8; ++attempt) {
    if (word != 0) {
      // Rule 1: a fresh last_panic (acquire) shows the episode it was
      // stored for on the reload.
      const int64_t last_panic = s.last_panic_ns.load(kAcquire);
      const int64_t now_word = s.episode.load(kAcquire);
      if (now_word != word) {
        word = now_word;
        continue;
      }
      if (now - last_panic <= rules_.deadman_ns) return word;  // join it
      End(handle, word, now, EndCause::kExpired);              // rule 2
      word = s.episode.load(kAcquire);
      continue;
    }
    const int64_t at = PreciseNowNs();  // rule 3
    const int64_t remote = s.remote_start_ns.load(kAcquire);
    const bool adopt =
        remote > 0 && at - remote <= rules_.deadman_ns &&
        MonotonicNowNs() < s.remote_valid_until_mono_ns.load(kAcquire);
    // An adopted start is unconfirmed until the mirror has seen it in
    // Redis: it decides tier 1 meanwhile (SPEC 3).
    const int64_t desired =
        EpisodeWord::Make(adopt ? remote : at, false, /*unconfirmed=*/adopt);
    s.last_panic_ns.store(at, kRelease);  // rule 1
    s.calm_since_ns.store(0, kRelaxed);
    int64_t expected = 0;
    if (!s.episode.compare_exchange_strong(expected, desired, kSeqCst,
                                           kAcquire)) {
      word = expected;
      continue;
    }
    if (GenerationOf(s, kSeqCst) != handle.generation) {  // rule 5
      int64_t mine = desired;
      s.episode.compare_exchange_strong(mine, 0, kAcqRel, kAcquire);
      *stale = true;
      return 0;
    }
    s.first_writer_pid.store(self_, kRelaxed);
    s.forced_by_pid.store(0, kRelaxed);
    Bump(s.episodes_started);
    s.last_transition_ns.store(at, kRelaxed);
    Event started{EventKind::kPanicTimestampInitialized};
    started.scope_index = handle.index;
    started.at_ns = at;
    started.start_ns = EpisodeWord::StartNs(desired);
    started.value = adopt;
    sink_.Push(started);
    *first_writer = true;
    return desired;
  }
  // Contention this long is a storm of starts and ends: decide tier 1 (the
  // cautious answer) for this call rather than NORMAL.
  return word != 0 ? word : EpisodeWord::Make(now, false);
}

void EpisodeWriter::PushEnd(ScopeHandle handle, int64_t word, int64_t at,
                            EndCause cause) {
  Scope& s = *handle.scope;
  s.calm_since_ns.store(0, kRelaxed);
  Bump(s.episodes_ended);
  s.last_transition_ns.store(at, kRelaxed);
  Event e{EventKind::kPanicTimestampCleared};
  e.scope_index = handle.index;
  e.at_ns = at;
  e.start_ns = EpisodeWord::StartNs(word);
  e.value = static_cast<int64_t>(cause);
  sink_.Push(e);
}

bool EpisodeWriter::End(ScopeHandle handle, int64_t word, int64_t now,
                        EndCause cause) noexcept {
  Scope& s = *handle.scope;
  // Retry when the word changed under us (the mirror adopting another
  // host's start, a restart): the observation still ends the episode,
  // except an expired one that was replaced, or a forced one for calm.
  while (!s.episode.compare_exchange_weak(word, 0, kAcqRel, kAcquire)) {
    if (word == 0 || cause == EndCause::kExpired) return false;
    if (cause == EndCause::kCalm &&
        ObserveCalm(s, word, now, s.last_panic_ns.load(kAcquire)) != 0) {
      return false;
    }
  }
  PushEnd(handle, word, PreciseNowNs(), cause);
  return true;
}

bool EpisodeWriter::ObserveCalmOfRemote(ScopeHandle handle) noexcept {
  Scope& s = *handle.scope;
  int64_t remote = s.remote_start_ns.load(kAcquire);
  if (remote == 0) return false;
  // clear_after holds for a remote episode too (SPEC 3): not calm that
  // long yet, it goes on (the first call starts the calm period).
  if (rules_.clear_after_ns > 0) {
    const int64_t now = PreciseNowNs();
    if (ObserveCalm(s, remote, now, /*last_panic=*/now) != 0) return false;
  }
  const bool valid =
      MonotonicNowNs() < s.remote_valid_until_mono_ns.load(kAcquire);
  if (!s.remote_start_ns.compare_exchange_strong(remote, 0, kAcqRel)) {
    return false;  // another observation took it
  }
  if (!valid) return false;  // a stale cache is forgotten, not ended
  s.remote_end_request_ns.store(remote, kRelease);
  PushEnd(handle, remote, PreciseNowNs(), EndCause::kRemoteCalm);
  return true;
}

absl::Status EpisodeWriter::ForceStart(ScopeHandle handle, int64_t start_ns) {
  const int64_t now = PreciseNowNs();
  if (start_ns <= 0 || start_ns > now + kMaxClockAheadNs) {
    return absl::InvalidArgumentError(absl::StrCat(
        "bad forced start ", start_ns,
        " ns: must be > 0 and at most 3600 s ahead of this host's clock"));
  }
  Scope& s = *handle.scope;
  // Checked again after the exchange (removal may race it); checked first
  // so a stale handle never shows the next owner a forced episode at all.
  if (GenerationOf(s, kSeqCst) != handle.generation) {
    return absl::NotFoundError("the scope was removed; resolve its name again");
  }
  const int64_t current = s.episode.load(kAcquire);
  if (current != 0 &&
      now - s.last_panic_ns.load(kAcquire) > rules_.deadman_ns) {
    End(handle, current, now, EndCause::kExpired);  // rule 2
  }
  s.last_panic_ns.store(now, kRelease);
  s.calm_since_ns.store(0, kRelaxed);
  const int64_t desired = EpisodeWord::Make(start_ns, true);
  const int64_t previous = s.episode.exchange(desired, kSeqCst);
  if (GenerationOf(s, kSeqCst) != handle.generation) {
    int64_t mine = desired;
    s.episode.compare_exchange_strong(mine, previous, kAcqRel, kAcquire);
    return absl::NotFoundError(
        "the scope was removed meanwhile; resolve its name again");
  }
  s.first_writer_pid.store(self_, kRelaxed);
  s.forced_by_pid.store(self_, kRelaxed);
  if (previous == 0) Bump(s.episodes_started);
  s.last_transition_ns.store(now, kRelaxed);
  Event e{EventKind::kForcedStart};
  e.scope_index = handle.index;
  e.at_ns = now;
  e.start_ns = EpisodeWord::StartNs(desired);
  e.value = previous == 0 ? 0 : EpisodeWord::StartNs(previous);
  sink_.Push(e);
  return absl::OkStatus();
}

absl::StatusOr<bool> EpisodeWriter::ForceEnd(ScopeHandle handle) {
  // A removed scope's handle must not end the entry's next owner's episode.
  if (GenerationOf(*handle.scope, kSeqCst) != handle.generation) {
    return absl::NotFoundError("the scope was removed; resolve its name again");
  }
  const int64_t word = handle.scope->episode.load(kAcquire);
  if (word == 0) return false;
  return End(handle, word, PreciseNowNs(), EndCause::kForcedEnd);
}

// ---- the mirror -------------------------------------------------------------

bool EpisodeWriter::AdoptRedisStart(ScopeHandle handle, int64_t word,
                                    int64_t start_ns) noexcept {
  const int64_t desired =
      EpisodeWord::Make(start_ns, EpisodeWord::Forced(word));
  int64_t expected = word;
  if (!handle.scope->episode.compare_exchange_strong(expected, desired, kAcqRel,
                                                     kAcquire)) {
    return false;
  }
  // Differences under a microsecond are Redis's rounding of our own value.
  if (std::llabs(EpisodeWord::StartNs(word) - EpisodeWord::StartNs(desired)) >=
      1000) {
    Event e{EventKind::kPanicTimestampAdopted};
    e.scope_index = handle.index;
    e.at_ns = PreciseNowNs();
    e.start_ns = EpisodeWord::StartNs(desired);
    e.value = EpisodeWord::StartNs(word);
    sink_.Push(e);
  }
  return true;
}

bool EpisodeWriter::Confirm(ScopeHandle handle, int64_t word) noexcept {
  int64_t expected = word;
  return handle.scope->episode.compare_exchange_strong(
      expected, word & ~EpisodeWord::kUnconfirmedBit, kAcqRel, kAcquire);
}

bool EpisodeWriter::ReplaceWithOwnStart(ScopeHandle handle,
                                        int64_t word) noexcept {
  Scope& s = *handle.scope;
  const int64_t own = s.last_transition_ns.load(kRelaxed);
  return AdoptRedisStart(handle, word, own > 0 ? own : PreciseNowNs());
}

bool EpisodeWriter::EndFromRemote(ScopeHandle handle, int64_t word) noexcept {
  int64_t expected = word;
  if (!handle.scope->episode.compare_exchange_strong(expected, 0, kAcqRel,
                                                     kAcquire)) {
    return false;
  }
  PushEnd(handle, word, PreciseNowNs(), EndCause::kRemote);
  return true;
}

void EpisodeWriter::CacheRemote(ScopeHandle handle, int64_t start_ns,
                                int64_t valid_until_mono_ns) noexcept {
  Scope& s = *handle.scope;
  // The deadline first: a start is never visible with an older deadline.
  s.remote_valid_until_mono_ns.store(valid_until_mono_ns, kRelease);
  if (s.remote_start_ns.load(kRelaxed) != start_ns) {
    // Another remote episode: calm seen before it does not count for it.
    if (s.episode.load(kAcquire) == 0) s.calm_since_ns.store(0, kRelaxed);
    s.remote_start_ns.store(start_ns, kRelease);
  }
}

void EpisodeWriter::ClearRemoteCache(ScopeHandle handle) noexcept {
  Scope& s = *handle.scope;
  s.remote_valid_until_mono_ns.store(0, kRelease);
  if (s.remote_start_ns.load(kRelaxed) != 0) {
    s.remote_start_ns.store(0, kRelease);
  }
}

void EpisodeWriter::SetPublished(ScopeHandle handle,
                                 int64_t start_ns) noexcept {
  handle.scope->mirror_published_ns.store(start_ns, kRelaxed);
}

int64_t EpisodeWriter::TakeRemoteEndRequest(ScopeHandle handle) noexcept {
  AtomicI64& request = handle.scope->remote_end_request_ns;
  if (request.load(kRelaxed) == 0) return 0;
  return request.exchange(0, kAcqRel);
}

// ---- logging that follows from time -----------------------------------------

void EpisodeWriter::NoteFutureStart(ScopeHandle handle, int64_t start_ns,
                                    int64_t now) noexcept {
  AtomicI64& logged = handle.scope->anomaly_logged_start;
  int64_t previous = logged.load(kRelaxed);
  if (previous != start_ns &&
      logged.compare_exchange_strong(previous, start_ns, kRelaxed)) {
    Event e{EventKind::kNegativePanicDuration};
    e.scope_index = handle.index;
    e.at_ns = now;
    e.start_ns = start_ns;
    sink_.Push(e);
  }
}

// ---- tier changes ----------------------------------------------------------
// They follow from time rather than from a call: every engine's background
// thread looks, the CAS winner on the scope's logged-tier word logs.

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
