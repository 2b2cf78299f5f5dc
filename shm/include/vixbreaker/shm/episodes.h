// The one owner of a scope's episode state (SPEC 3). Every transition of a
// scope — start, adopt a remote start, confirm it, end by calm, by expiry,
// from remote, force start, force end — is one function here, with its
// ordering rules and its log event. The engine (hot path and admin) and the
// mirror (persist/) call it; nothing else writes a Scope's episode words.
//
// Ordering rules, kept by every function below:
//  1. `last_panic_ns` is stored (release) before the CAS that publishes an
//     episode, so a reader that sees the episode never sees it expired.
//  2. An expired episode is ended (CAS to 0) before a new one is started on
//     the entry, so a reader that sees a fresh `last_panic_ns` (acquire)
//     and then reloads the word never pairs it with the expired episode.
//  3. A start is read from the precise clock at the moment of the
//     transition, never from the cached one (a stalled cache must not
//     backdate a start).
//  4. Only the CAS winner logs: each transition is logged once per host.
//  5. A start checks the entry's generation after its CAS (seq_cst; pairs
//     with ScopeTable::Remove), so a removed scope never gets an episode.
#ifndef VIXBREAKER_SHM_EPISODES_H_
#define VIXBREAKER_SHM_EPISODES_H_

#include <sys/types.h>

#include <cstdint>

#include "absl/status/statusor.h"
#include "vixbreaker/core/policy.h"
#include "vixbreaker/shm/clock.h"
#include "vixbreaker/shm/event_log.h"
#include "vixbreaker/shm/layout.h"
#include "vixbreaker/shm/process.h"  // MonotonicNowNs
#include "vixbreaker/shm/scope_table.h"

namespace vix::shm {

// How often a still-panicking scope's last_panic_ns is rewritten.
inline constexpr int64_t kRefreshIntervalNs = 1'000'000'000;
// A start further ahead of this host's clock is refused (admin) or
// rejected (Redis): the mirror's default allowed clock lead.
inline constexpr int64_t kMaxClockAheadNs = 3600'000'000'000;

// Where transitions' events go: the engine's queue, or nowhere when logging
// is off. Never blocks; an event a full queue refuses is counted in
// `dropped` (the segment's counter; null without a segment). A plain value,
// not an interface: the engine needs no vtable.
class EventSink {
 public:
  EventSink(EventQueue* queue, AtomicU64* dropped)
      : queue_(queue), dropped_(dropped) {}
  void Push(const Event& event) const noexcept {
    if (queue_ == nullptr || queue_->TryPush(event)) return;
    if (dropped_ != nullptr) dropped_->fetch_add(1, std::memory_order_relaxed);
  }

 private:
  EventQueue* queue_;
  AtomicU64* dropped_;
};

struct EpisodeRules {
  int64_t deadman_ns = 0;
  int64_t clear_after_ns = 0;
};

class EpisodeWriter {
 public:
  // `test_clock`: null in production (transitions read CLOCK_REALTIME);
  // tests pass their injected clock, which then is the precise clock too.
  EpisodeWriter(const Policy& policy, EpisodeRules rules, pid_t self,
                const CachedClock* test_clock, EventSink sink);

  const EpisodeRules& rules() const { return rules_; }
  int64_t PreciseNowNs() const noexcept;
  void AfterFork(pid_t self) { self_ = self; }

  // ---- observations (the engine's hot path calls these) ----------------
  // A panic's rare cases: starts, restarts an expired episode, refreshes
  // last_panic_ns, cancels a calm period. Returns the episode word in force,
  // never 0 (a panic never decides NORMAL). 0 with *stale set: the handle's
  // scope was removed.
  int64_t ObservePanic(ScopeHandle scope, int64_t word, int64_t now,
                       int64_t last_panic, bool* first_writer,
                       bool* stale) noexcept;
  // Returns `word` while the episode goes on, 0 once it should end. Writes
  // only the first time calm is seen (clear_after > 0).
  int64_t ObserveCalm(Scope& scope, int64_t word, int64_t now,
                      int64_t last_panic) const noexcept;
  // Ends `word` by CAS (retrying while this calm observation still ends
  // what replaced it). True if this call ended an episode.
  bool End(ScopeHandle scope, int64_t word, int64_t now,
           EndCause cause) noexcept;
  // Calm with no local episode while the mirror has a remote start cached:
  // ends that remote episode (the mirror deletes the key) once calm has
  // lasted clear_after, as for a local one. True if it did.
  bool ObserveCalmOfRemote(ScopeHandle scope) noexcept;

  // ---- admin --------------------------------------------------------
  absl::Status ForceStart(ScopeHandle scope, int64_t start_ns);
  absl::StatusOr<bool> ForceEnd(ScopeHandle scope);

  // ---- the mirror (persist/) -----------------------------------------
  // Replaces the start of `word` with Redis's, confirmed. False if the word
  // changed meanwhile.
  bool AdoptRedisStart(ScopeHandle scope, int64_t word,
                       int64_t start_ns) noexcept;
  // Redis holds the start of the unconfirmed `word`: it decides by its tiers
  // from now on.
  bool Confirm(ScopeHandle scope, int64_t word) noexcept;
  // Redis no longer holds the start that `word` adopted: the episode goes
  // on with this host's own start (when it first observed the panic).
  bool ReplaceWithOwnStart(ScopeHandle scope, int64_t word) noexcept;
  // The key disappeared: the episode ended elsewhere (or expired).
  bool EndFromRemote(ScopeHandle scope, int64_t word) noexcept;
  // The remote cache: another host's start, adoptable until the deadline
  // (CLOCK_MONOTONIC). Clear on stop, lease loss and disconnect.
  void CacheRemote(ScopeHandle scope, int64_t start_ns,
                   int64_t valid_until_mono_ns) noexcept;
  void ClearRemoteCache(ScopeHandle scope) noexcept;
  // The start this host published to Redis (0: none), for a later holder.
  void SetPublished(ScopeHandle scope, int64_t start_ns) noexcept;
  // A pending calm end of a cached remote episode (0 if none), taken once.
  int64_t TakeRemoteEndRequest(ScopeHandle scope) noexcept;

  // ---- logging that follows from time ---------------------------------
  // Tier changes are found by the engine's background thread: the CAS
  // winner on Scope::logged_tiers logs each change, once per host.
  void LogTierChanges(const ScopeTable& table, int64_t now) noexcept;
  // A start ahead of this host's clock (skew): logged once per start.
  void NoteFutureStart(ScopeHandle scope, int64_t start_ns,
                       int64_t now) noexcept;

 private:
  int64_t Start(ScopeHandle scope, int64_t observed, int64_t now,
                bool* first_writer, bool* stale) noexcept;
  void LogTierChangesOf(ScopeHandle scope, int64_t now) noexcept;
  void PushEnd(ScopeHandle scope, int64_t word, int64_t at, EndCause cause);

  const Policy& policy_;
  EpisodeRules rules_;
  pid_t self_;
  const CachedClock* test_clock_;
  const EventSink sink_;
};

inline int64_t EpisodeWriter::ObserveCalm(Scope& scope, int64_t word,
                                          int64_t now,
                                          int64_t last_panic) const noexcept {
  if (__builtin_expect(now - last_panic > rules_.deadman_ns, 0)) return 0;
  if (EpisodeWord::Forced(word)) return word;
  if (rules_.clear_after_ns == 0) return 0;
  int64_t calm_since = scope.calm_since_ns.load(std::memory_order_relaxed);
  if (calm_since == 0) {
    scope.calm_since_ns.compare_exchange_strong(calm_since, now,
                                                std::memory_order_relaxed);
    return word;
  }
  return now - calm_since >= rules_.clear_after_ns ? 0 : word;
}

}  // namespace vix::shm

#endif  // VIXBREAKER_SHM_EPISODES_H_
