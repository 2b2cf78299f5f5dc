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
// second). Transitions go through the scope's one writer (episodes.h); only
// the CAS winner logs, so each transition is logged once per host.
//
// The cached clock is refreshed by the engine's background thread: every
// millisecond while the process decides, every 200 ms when it has been idle
// for 100 ms (an idle engine costs next to nothing, SPEC 15). Transitions
// read the precise clock, so a stale cache never backdates a start.
//
// If the segment cannot be attached, Open still returns an engine that
// answers fail-safe decisions (panic -> {0, PANIC_FULL, failsafe}, else
// {base, NORMAL}); segment_status() says why, and the error is logged once.
//
// fork(): an engine opened before fork() keeps working in the child with no
// call from user code: the child gets its own slots and background thread
// (started on its first decision, so a child that only execs starts none) and
// never touches the parent's slots.
#ifndef VIXBREAKER_SHM_ENGINE_H_
#define VIXBREAKER_SHM_ENGINE_H_

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "vixbreaker/core/config.h"
#include "vixbreaker/core/policy.h"
#include "vixbreaker/core/types.h"
#include "vixbreaker/shm/clock.h"
#include "vixbreaker/shm/episodes.h"
#include "vixbreaker/shm/event_log.h"
#include "vixbreaker/shm/layout.h"
#include "vixbreaker/shm/scope_table.h"
#include "vixbreaker/shm/segment.h"
#include "vixbreaker/shm/slots.h"

#define VIX_LIKELY(x) __builtin_expect(!!(x), 1)
#define VIX_UNLIKELY(x) __builtin_expect(!!(x), 0)

namespace vix::shm {

class Inspector;  // reader.h

struct EngineOptions {
  SegmentOptions segment;
  Config config;
  // Null: the engine owns a clock refreshed by its background thread.
  // Otherwise the caller sets the time (tests); it is then the precise
  // clock of transitions too.
  CachedClock* clock = nullptr;
  // Where JSON log lines go; -1 disables logging. Written without blocking:
  // lines a stalled reader cannot take are dropped and counted (SPEC 9).
  int log_fd = 2;
};

// What one scope's episode looks like right now (slow; for tools and tests),
// decoded by the segment's read model (reader.h) as the inspector does. An
// expired episode (dead-man's switch) is not active.
struct EpisodeSnapshot {
  bool active = false;
  bool expired = false;
  bool forced = false;
  bool unconfirmed = false;
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
  // league/competition unless `stakes` is given). A calm observation on a
  // scope that does not exist decides without creating it.
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
  // Removes a named scope with no episode; its entry is reused. Handles to
  // it then decide fail-safe with `stale_scope` set. NotFound if absent,
  // FailedPrecondition while an episode runs.
  absl::Status RemoveScope(absl::string_view name);

  // Admin (SPEC 3): start (or replace the start of) an episode at start_ns;
  // decisions then carry reason `forced` until it ends. Non-panic
  // observations do not end a forced episode; ForceEnd or the dead-man's
  // switch do. InvalidArgument for a start <= 0 or over an hour ahead;
  // NotFound (no change) for a handle to a removed scope.
  absl::Status ForceStart(ScopeHandle scope, int64_t start_ns);
  // Ends the episode; returns whether one was running. NotFound (no
  // change) for a handle to a removed scope.
  absl::StatusOr<bool> ForceEnd(ScopeHandle scope);

  EpisodeSnapshot Snapshot(ScopeHandle scope) const;

  const absl::Status& segment_status() const { return segment_status_; }
  // Read-only: writes go through the scope writer and the mirror region.
  const Segment* segment() const { return segment_.get(); }
  const Policy& policy() const { return policy_; }
  const CachedClock& clock() const { return *clock_; }
  const EpisodeRules& rules() const { return episodes_->rules(); }

  // For the mirror (persist/): the one writer of scope transitions, the
  // scope table, and the segment's mirror lines (lease, health, hot line).
  // Null without a segment.
  EpisodeWriter* episodes() { return layout_ ? episodes_.get() : nullptr; }
  const ScopeTable* scope_table() const { return scopes_.get(); }
  struct MirrorRegion {
    MirrorHot& hot;
    MirrorLease& lease;
    MirrorHealth& health;
  };
  std::optional<MirrorRegion> mirror_region();
  // For the mirror and the rolling window: their log on `fd`, never
  // blocking, its drops counted in this engine's segment (SPEC 9, 15).
  LogWriter LogWriterFor(int fd) noexcept;
  // For the rolling window (window.h), the one writer of its region.
  Window* window_region() { return layout_ ? &layout_->window : nullptr; }
  // For the rolling window: in a forked child that has not decided yet,
  // starts the background thread that keeps clock() fresh (see fork()).
  void EnsureBackground() noexcept;

  // Writes queued log events now, waiting at most `max_wait` for a stalled
  // log reader. For short-lived tools before they exit.
  void FlushLogs(absl::Duration max_wait = absl::Milliseconds(100));

 private:
  explicit Engine(EngineOptions options, Policy policy);

  // To the event queue (see EventSink): never blocks.
  void Push(const Event& event) noexcept { sink().Push(event); }
  EventSink sink() noexcept;

  Decision DecideWithoutSegment(Status status, BaseTtl base_ttl,
                                Stakes stakes) noexcept;
  Decision StrictFailsafe(Decision d, BaseTtl base_ttl, int64_t now) noexcept;
  Decision StaleScope(Status status, BaseTtl base_ttl, Stakes stakes) noexcept;
  // The rare cases of a decision's episode word: flags (forced,
  // unconfirmed) and a start ahead of the clock.
  Decision FinishUnusual(ScopeHandle scope, int64_t word, int64_t now,
                         BaseTtl base_ttl, Stakes stakes) noexcept;
  int64_t ReloadTorn(ScopeHandle scope, int64_t* last_panic) noexcept;

  // background.cc
  void StartBackground();
  void BackgroundLoop();
  // Writes queued events while the log fd takes them; false if some wait.
  bool DrainLogs() noexcept;
  static void ChildAfterFork(void* engine);

  Decision DecidePanic(ScopeHandle scope, int64_t word, int64_t now,
                       BaseTtl base_ttl, Stakes stakes) noexcept;
  Decision DecideCalm(ScopeHandle scope, int64_t word, int64_t now,
                      BaseTtl base_ttl, Stakes stakes) noexcept;
  Decision Finish(ScopeHandle scope, int64_t word, int64_t now,
                  BaseTtl base_ttl, Stakes stakes) noexcept;
  // Fills this thread's memo (slots.h) for a plain episode word observed at
  // `now` with `last_panic`: valid within its tier until a refresh is due.
  void Remember(const Scope* scope, int64_t word, int64_t now,
                int64_t last_panic, Stakes stakes) noexcept;
  // This thread's slot: one thread-local load in the engine's cache way.
  ProcessSlot* ThisThreadSlot() noexcept {
    internal::CacheWay& way = internal::ThisThreadWayAt(way_offset_);
    if (VIX_LIKELY(way.engine_id == id_)) return way.slot;
    return ClaimSlot();
  }
  // The cache missed: claims a slot, first starting the background thread
  // if this is a forked child's first decision.
  ProcessSlot* ClaimSlot() noexcept;
  static void Bump(AtomicU64& counter) noexcept {
    // Single writer: a relaxed load and store, never a locked RMW.
    counter.store(counter.load(std::memory_order_relaxed) + 1,
                  std::memory_order_relaxed);
  }

  EngineOptions options_;
  Policy policy_;
  const uint64_t id_;          // distinguishes engines in thread-local caches
  const uint64_t way_offset_;  // its way: internal::CacheWayOffsetFor(id_)
  CachedClock own_clock_;
  CachedClock* clock_;
  std::unique_ptr<Segment> segment_;
  absl::Status segment_status_;
  SegmentLayout* layout_ = nullptr;
  const MirrorHot* mirror_hot_ = nullptr;  // read by panic decisions
  ScopeHandle global_;
  int64_t deadman_ns_;
  int64_t slow_after_ns_;  // min(refresh interval, dead-man's switch)
  pid_t pid_;

  std::unique_ptr<ScopeTable> scopes_;
  std::unique_ptr<Inspector> reader_;  // Snapshot() reads through it
  std::unique_ptr<EpisodeWriter> episodes_;
  std::unique_ptr<SlotRegistry> slots_;
  std::atomic<bool> failsafe_logged_{false};

  EventQueue events_;
  std::mutex drain_mu_;
  std::mutex stop_mu_;
  std::condition_variable stop_cv_;
  bool stop_ = false;  // guarded by stop_mu_
  std::atomic<bool> background_running_{false};
  std::thread background_;
};

// ---- hot path ---------------------------------------------------------

inline Decision Engine::Decide(ScopeHandle handle, Status status,
                               BaseTtl base_ttl, Stakes stakes) noexcept {
  Scope* scope = handle.scope;
  if (VIX_UNLIKELY(scope == nullptr)) {
    return DecideWithoutSegment(status, base_ttl, stakes);
  }
  const int64_t now = clock_->NowNs();
  const int64_t word = scope->episode.load(std::memory_order_acquire);
  // A removed scope's handle: the line is already in cache (an L1 hit).
  if (VIX_UNLIKELY(GenerationOf(*scope, std::memory_order_relaxed) !=
                   handle.generation)) {
    return StaleScope(status, base_ttl, stakes);
  }
  if (status != Status::kPanic)
    return DecideCalm(handle, word, now, base_ttl, stakes);
  // Members the hit needs, held in locals: read as members, each would be
  // read again after every atomic access below.
  internal::CacheWay& way = internal::ThisThreadWayAt(way_offset_);
  const uint64_t id = id_;
  const MirrorHot* mirror_hot = mirror_hot_;
  // The steady state: the thread's last decision for this engine and stakes
  // still holds (same episode word, same tier, no refresh due, no calm
  // period to cancel).
  const internal::DecisionMemo& memo = way.memo[static_cast<int>(stakes)];
  if (VIX_LIKELY(way.engine_id == id && memo.scope == scope &&
                 memo.word == word &&
                 static_cast<uint64_t>(now - memo.from_ns) < memo.span_ns &&
                 scope->calm_since_ns.load(std::memory_order_relaxed) == 0)) {
    Bump(*memo.counter);
    Decision d = Policy::DecideForTierTtl(
        memo.tier, policy_.CapTtl(memo.tier_ttl_seconds, base_ttl), stakes);
    d.episode_start_ns = EpisodeWord::StartNs(word);
    if (VIX_UNLIKELY(mirror_hot->strict.load(std::memory_order_relaxed) != 0)) {
      d = StrictFailsafe(d, base_ttl, now);
    }
    return d;
  }
  return DecidePanic(handle, word, now, base_ttl, stakes);
}

inline Decision Engine::DecidePanic(ScopeHandle handle, int64_t word,
                                    int64_t now, BaseTtl base_ttl,
                                    Stakes stakes) noexcept {
  Scope* scope = handle.scope;
  int64_t last_panic = scope->last_panic_ns.load(std::memory_order_acquire);
  // A word torn from the last_panic_ns of the process restarting it
  // (episodes.h, rule 2): an L1 hit.
  if (VIX_UNLIKELY(scope->episode.load(std::memory_order_acquire) != word)) {
    word = ReloadTorn(handle, &last_panic);
  }
  // One branch for the rare cases: no episode, a refresh (or expiry) due, a
  // calm period to cancel.
  bool first_writer = false;
  const int64_t calm_since =
      scope->calm_since_ns.load(std::memory_order_relaxed);
  if (VIX_UNLIKELY((word == 0) | (now - last_panic >= slow_after_ns_) |
                   (calm_since != 0))) {
    bool stale = false;
    word = episodes_->ObservePanic(handle, word, now, last_panic, &first_writer,
                                   &stale);
    if (VIX_UNLIKELY(stale))
      return StaleScope(Status::kPanic, base_ttl, stakes);
  } else if ((word & EpisodeWord::kFlagBits) == 0) {
    Remember(scope, word, now, last_panic, stakes);
  }
  Decision d = Finish(handle, word, now, base_ttl, stakes);
  d.first_writer = first_writer;
  if (VIX_UNLIKELY(mirror_hot_->strict.load(std::memory_order_relaxed) != 0)) {
    d = StrictFailsafe(d, base_ttl, now);
  }
  return d;
}

inline Decision Engine::DecideCalm(ScopeHandle handle, int64_t word,
                                   int64_t now, BaseTtl base_ttl,
                                   Stakes stakes) noexcept {
  Scope* scope = handle.scope;
  if (word != 0) {
    int64_t last_panic = scope->last_panic_ns.load(std::memory_order_acquire);
    if (VIX_UNLIKELY(scope->episode.load(std::memory_order_acquire) != word)) {
      word = ReloadTorn(handle, &last_panic);
    }
    if (VIX_UNLIKELY(word != 0 && episodes_->ObserveCalm(*scope, word, now,
                                                         last_panic) == 0)) {
      Decision d = Finish(handle, 0, now, base_ttl, stakes);
      d.ended_episode =
          episodes_->End(handle, word, now,
                         now - last_panic > deadman_ns_ ? EndCause::kExpired
                                                        : EndCause::kCalm);
      return d;
    }
  } else if (VIX_UNLIKELY(
                 scope->remote_start_ns.load(std::memory_order_relaxed) != 0)) {
    // Calm ends a remote episode known only from the mirror's cache too.
    Decision d = Finish(handle, 0, now, base_ttl, stakes);
    d.ended_episode = episodes_->ObserveCalmOfRemote(handle);
    return d;
  }
  return Finish(handle, word, now, base_ttl, stakes);
}

// The decision for the episode `word` (0: none), then counting.
inline Decision Engine::Finish(ScopeHandle handle, int64_t word, int64_t now,
                               BaseTtl base_ttl, Stakes stakes) noexcept {
  Decision d;
  if (word == 0) {
    d = Policy::DecideNoEpisode(base_ttl, stakes);
  } else {
    const int64_t start = EpisodeWord::StartNs(word);
    if (VIX_UNLIKELY(((word & EpisodeWord::kFlagBits) != 0) | (now < start))) {
      return FinishUnusual(handle, word, now, base_ttl, stakes);
    }
    d = policy_.DecideForAge(now - start, base_ttl, stakes);
    d.episode_start_ns = start;
  }
  Bump(ThisThreadSlot()->decisions[static_cast<int>(d.mode)]);
  return d;
}

}  // namespace vix::shm

#endif  // VIXBREAKER_SHM_ENGINE_H_
