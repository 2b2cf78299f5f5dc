// The decision engine: the policy (core/) applied to episodes that live in
// the shared segment (SPEC 3).
//
//   auto engine = vix::shm::Engine::Open({});          // once per process
//   vix::shm::ScopeHandle scope = engine.value()->global_scope();
//   vix::Stakes stakes = (*engine)->policy().Classify(league, competition);
//   vix::Decision d = (*engine)->Decide(scope, vix::Status::kPanic,
//                                       base_ttl, stakes);  // ~ns, noexcept
//
// The hot path (a decision that changes no state) makes no system call,
// takes no lock, allocates nothing and does no I/O; it reads the scope's hot
// cache line and writes only the calling thread's own counters, plus the
// scope's `last_panic_ns` when a refresh is due (at most about once a
// second). Transitions (start, end) take an out-of-line slow path with one
// CAS; only the CAS winner logs, so each transition is logged once per host.
// Tier changes, which follow from time alone, are logged by the background
// thread the same way.
//
// If the segment cannot be attached, Open still returns an engine that
// answers fail-safe decisions (panic -> {0, PANIC_FULL, failsafe}, else
// {base, NORMAL}); segment_status() says why, and the error is logged once.
//
// Open the engine after fork(): its background thread does not survive one.
#ifndef VIXBREAKER_SHM_ENGINE_H_
#define VIXBREAKER_SHM_ENGINE_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "vixbreaker/core/config.h"
#include "vixbreaker/core/policy.h"
#include "vixbreaker/core/types.h"
#include "vixbreaker/shm/clock.h"
#include "vixbreaker/shm/event_log.h"
#include "vixbreaker/shm/layout.h"
#include "vixbreaker/shm/segment.h"

#define VIX_LIKELY(x) __builtin_expect(!!(x), 1)
#define VIX_UNLIKELY(x) __builtin_expect(!!(x), 0)

namespace vix::shm {

// How often a still-panicking scope's last_panic_ns is rewritten.
inline constexpr int64_t kRefreshIntervalNs = 1'000'000'000;

struct EngineOptions {
  SegmentOptions segment;
  Config config;
  // Null: the engine owns a clock refreshed every millisecond by its
  // background thread. Otherwise the caller sets the time (tests).
  CachedClock* clock = nullptr;
  // Where JSON log lines go; -1 disables logging.
  int log_fd = 2;
};

// A resolved scope. Cheap to copy; valid while the engine lives.
struct ScopeHandle {
  Scope* scope = nullptr;  // null when the engine has no segment
  uint32_t index = 0;
};

// What one scope's episode looks like right now (slow; for tools and tests).
struct EpisodeSnapshot {
  bool active = false;
  bool forced = false;
  int64_t start_ns = 0;
  int64_t last_panic_ns = 0;
  int64_t calm_since_ns = 0;
  int64_t remote_start_ns = 0;
  int64_t first_writer_pid = 0;
  uint64_t episodes_started = 0;
  uint64_t episodes_ended = 0;
};

class Engine {
 public:
  // Fails only on an invalid configuration; a segment that cannot be
  // attached yields a fail-safe engine (see segment_status()).
  static absl::StatusOr<std::unique_ptr<Engine>> Open(EngineOptions options);
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // The hot path: observe `status` on `scope`, update the episode, decide.
  Decision Decide(ScopeHandle scope, Status status, BaseTtl base_ttl,
                  Stakes stakes) noexcept;

  // Convenience for callers that have strings (parses strictly; classifies
  // league/competition unless `stakes` is given).
  absl::StatusOr<Decision> Decide(absl::string_view scope,
                                  absl::string_view status, int64_t base_ttl,
                                  absl::string_view league,
                                  absl::string_view competition,
                                  std::optional<Stakes> stakes = {});

  ScopeHandle global_scope() const { return global_; }
  // Finds or creates a named scope (slow). ResourceExhausted when the table
  // is full; InvalidArgument for a bad name.
  absl::StatusOr<ScopeHandle> FindOrCreateScope(absl::string_view name);
  // Finds a named scope without creating it; NotFound if absent.
  absl::StatusOr<ScopeHandle> FindScope(absl::string_view name) const;

  // Admin (SPEC 3): start (or replace the start of) an episode at start_ns;
  // decisions then carry reason `forced` until it ends. Non-panic
  // observations do not end a forced episode; ForceEnd or the dead-man's
  // switch do.
  absl::Status ForceStart(ScopeHandle scope, int64_t start_ns);
  // Ends the episode; returns whether one was running.
  absl::StatusOr<bool> ForceEnd(ScopeHandle scope);

  EpisodeSnapshot Snapshot(ScopeHandle scope) const;

  const absl::Status& segment_status() const { return segment_status_; }
  // Counters kept in process memory, not in the segment: a fail-safe
  // engine's decisions and its attach error. (A thread that finds the slot
  // table full counts in a private slot of its own.)
  const ProcessSlot& unshared_counters() const { return *overflow_slot_; }
  Segment* segment() { return segment_.get(); }
  const Policy& policy() const { return policy_; }
  const CachedClock& clock() const { return *clock_; }
  int64_t deadman_ns() const { return deadman_ns_; }

  // Writes queued log events now (the background thread does it every
  // millisecond). For short-lived tools before they exit.
  void FlushLogs();

 private:
  struct LocalCounters;
  explicit Engine(EngineOptions options, Policy policy);

  // Slow paths, out of line so the hot path stays small.
  // The panic observation's rare cases: starts or restarts the episode,
  // refreshes last_panic_ns, cancels a calm period. Returns the episode word.
  int64_t ObservePanic(ScopeHandle scope, int64_t word, int64_t now,
                       int64_t last_panic, bool* first_writer) noexcept;
  // Starts (or restarts an expired) episode by CAS from `observed`; returns
  // the episode word now in force and whether this call's CAS won.
  int64_t StartEpisode(ScopeHandle scope, int64_t observed, int64_t now,
                       bool* first_writer) noexcept;
  int64_t ObserveCalm(Scope& scope, int64_t word, int64_t now,
                      int64_t last_panic) noexcept;
  bool EndEpisode(ScopeHandle scope, int64_t word, int64_t now,
                  EndCause cause) noexcept;
  // Tiers move with time, not with calls, so tier changes are found by the
  // background thread (and FlushLogs), never on the hot path: for every used
  // scope and stakes, the CAS winner on Scope::logged_tiers logs the change.
  void LogTierChanges(int64_t now) noexcept;
  void LogTierChangesOf(uint32_t index, int64_t now) noexcept;
  void NoteFutureStart(ScopeHandle scope, int64_t start_ns,
                       int64_t now) noexcept;
  Decision DecideWithoutSegment(Status status, BaseTtl base_ttl,
                                Stakes stakes) noexcept;
  Decision StrictFailsafe(Decision d, BaseTtl base_ttl, int64_t now) noexcept;
  ProcessSlot* ClaimSlotForThisThread() noexcept;
  void ReleaseSlots();
  void Push(const Event& event) noexcept;
  void BackgroundLoop();
  void DrainLogs();

  Decision Finish(ScopeHandle scope, int64_t word, int64_t now,
                  BaseTtl base_ttl, Stakes stakes) noexcept;
  ProcessSlot* ThisThreadSlot() noexcept;
  static void Bump(AtomicU64& counter) noexcept {
    // Single writer: a relaxed load and store, never a locked RMW.
    counter.store(counter.load(std::memory_order_relaxed) + 1,
                  std::memory_order_relaxed);
  }

  EngineOptions options_;
  Policy policy_;
  const uint64_t id_;  // distinguishes engines in thread-local caches
  CachedClock own_clock_;
  CachedClock* clock_;
  std::unique_ptr<Segment> segment_;
  absl::Status segment_status_;
  SegmentLayout* layout_ = nullptr;
  const MirrorHot* mirror_hot_ = nullptr;  // read by panic decisions
  ScopeHandle global_;
  int64_t deadman_ns_;
  int64_t clear_after_ns_;
  int64_t slow_after_ns_;  // min(refresh interval, dead-man's switch)
  const pid_t pid_;

  // Counters when there is no segment or the slot table is full.
  std::unique_ptr<ProcessSlot> overflow_slot_;
  std::atomic<bool> failsafe_logged_{false};

  std::mutex slots_mu_;
  std::vector<uint32_t> owned_slots_;
  std::vector<std::unique_ptr<ProcessSlot>> private_slots_;  // table full

  EventQueue events_;
  std::mutex drain_mu_;
  std::atomic<bool> stop_{false};
  std::thread background_;
};

// ---- hot path ---------------------------------------------------------

namespace internal {
struct ThreadSlotCache {
  uint64_t engine_id = 0;
  ProcessSlot* slot = nullptr;
};
inline thread_local ThreadSlotCache t_slot_cache;
}  // namespace internal

inline ProcessSlot* Engine::ThisThreadSlot() noexcept {
  internal::ThreadSlotCache& cache = internal::t_slot_cache;
  if (VIX_LIKELY(cache.engine_id == id_)) return cache.slot;
  return ClaimSlotForThisThread();
}

inline Decision Engine::Decide(ScopeHandle handle, Status status,
                               BaseTtl base_ttl, Stakes stakes) noexcept {
  Scope* scope = handle.scope;
  if (VIX_UNLIKELY(scope == nullptr)) {
    return DecideWithoutSegment(status, base_ttl, stakes);
  }
  const int64_t now = clock_->NowNs();
  int64_t word = scope->episode.load(std::memory_order_acquire);
  const int64_t last_panic =
      scope->last_panic_ns.load(std::memory_order_relaxed);
  if (status == Status::kPanic) {
    // One branch for the rare cases: no episode, a refresh (or expiry) due,
    // a calm period to cancel.
    bool first_writer = false;
    const int64_t calm_since =
        scope->calm_since_ns.load(std::memory_order_relaxed);
    if (VIX_UNLIKELY((word == 0) | (now - last_panic >= slow_after_ns_) |
                     (calm_since != 0))) {
      word = ObservePanic(handle, word, now, last_panic, &first_writer);
    }
    Decision d = Finish(handle, word, now, base_ttl, stakes);
    d.first_writer = first_writer;
    if (VIX_UNLIKELY(mirror_hot_->strict.load(std::memory_order_relaxed) !=
                     0)) {
      d = StrictFailsafe(d, base_ttl, now);
    }
    return d;
  }
  if (word != 0 &&
      VIX_UNLIKELY(ObserveCalm(*scope, word, now, last_panic) == 0)) {
    EndEpisode(
        handle, word, now,
        now - last_panic > deadman_ns_ ? EndCause::kExpired : EndCause::kCalm);
    word = 0;
  }
  return Finish(handle, word, now, base_ttl, stakes);
}

// Returns `word` while the episode goes on, 0 once it should end. Writes
// only the first time calm is seen (clear_after > 0).
inline int64_t Engine::ObserveCalm(Scope& scope, int64_t word, int64_t now,
                                   int64_t last_panic) noexcept {
  if (VIX_UNLIKELY(now - last_panic > deadman_ns_)) return 0;
  if (EpisodeWord::Forced(word)) return word;
  if (clear_after_ns_ == 0) return 0;
  int64_t calm_since = scope.calm_since_ns.load(std::memory_order_relaxed);
  if (calm_since == 0) {
    scope.calm_since_ns.compare_exchange_strong(calm_since, now,
                                                std::memory_order_relaxed);
    return word;
  }
  return now - calm_since >= clear_after_ns_ ? 0 : word;
}

// The decision for the episode `word` (0: none), then counting.
inline Decision Engine::Finish(ScopeHandle handle, int64_t word, int64_t now,
                               BaseTtl base_ttl, Stakes stakes) noexcept {
  Decision d;
  int64_t start = 0;
  if (word == 0) {
    d = Policy::DecideNoEpisode(base_ttl, stakes);
  } else {
    start = EpisodeWord::StartNs(word);
    int64_t age = now - start;
    if (VIX_UNLIKELY(age < 0)) {
      NoteFutureStart(handle, start, now);
      age = 0;
    }
    d = policy_.DecideForAge(age, base_ttl, stakes);
    d.episode_start_ns = start;
    if (EpisodeWord::Forced(word)) d.reason = Reason::kForced;
  }
  Bump(ThisThreadSlot()->decisions[static_cast<int>(d.mode)]);
  return d;
}

}  // namespace vix::shm

#endif  // VIXBREAKER_SHM_ENGINE_H_
