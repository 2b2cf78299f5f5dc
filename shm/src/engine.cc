#include "vixbreaker/shm/engine.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>

#include "absl/strings/str_cat.h"
#include "vixbreaker/core/parse.h"
#include "vixbreaker/shm/process.h"
#include "vixbreaker/shm/scope_name.h"

namespace vix::shm {
namespace {

std::atomic<uint64_t> g_next_engine_id{1};

constexpr int64_t kHeartbeatIntervalNs = 1'000'000'000;
// Dead processes' slots are reclaimed off the hot path, at open and then
// every few seconds (and on demand when the table is full).
constexpr int64_t kReclaimIntervalNs = 5'000'000'000;
constexpr auto kBackgroundTick = std::chrono::milliseconds(1);
constexpr int64_t kTierScanIntervalNs = 10'000'000;
constexpr int64_t kCachedClockToleranceNs = 250'000'000;

pid_t OwnerPid(uint64_t owner) { return static_cast<pid_t>(owner >> 32); }

uint64_t ScopeHash(absl::string_view name) {
  uint64_t h = 1469598103934665603ull;  // FNV-1a
  for (unsigned char c : name) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

// Moves a dead slot's counts into the segment totals and frees it.
void RetireSlot(SegmentLayout& layout, ProcessSlot& slot) {
  auto move = [](AtomicU64& from, AtomicU64& to) {
    to.fetch_add(from.exchange(0, std::memory_order_relaxed),
                 std::memory_order_relaxed);
  };
  for (int m = 0; m < kModeCount; ++m) {
    move(slot.decisions[m], layout.totals.retired_decisions[m]);
  }
  move(slot.failsafes, layout.totals.retired_failsafes);
  move(slot.errors, layout.totals.retired_errors);
  move(slot.anomalies, layout.totals.retired_anomalies);
  slot.start_ticks.store(0, std::memory_order_relaxed);
  slot.owner.store(0, std::memory_order_release);
}

void ReclaimDeadSlots(SegmentLayout& layout, pid_t self) {
  // The owner word names the reclaimer, so a reclaimer killed half-way
  // leaves a slot the next reclaimer can take.
  const uint64_t reclaiming =
      (static_cast<uint64_t>(self) << 32) | kSlotReclaimTid;
  for (ProcessSlot& slot : layout.slots) {
    uint64_t owner = slot.owner.load(std::memory_order_acquire);
    if (owner == 0) continue;
    const bool being_reclaimed = SlotBeingReclaimed(owner);
    const uint64_t start_ticks =
        being_reclaimed ? 0 : slot.start_ticks.load(std::memory_order_relaxed);
    if (!ProcessGone(OwnerPid(owner), start_ticks)) continue;
    // RetireSlot moves counts with exchange(0): retiring twice adds nothing.
    if (!slot.owner.compare_exchange_strong(owner, reclaiming,
                                            std::memory_order_acq_rel)) {
      continue;
    }
    // A new process that reused the dead pid may have claimed the slot
    // between our check and the CAS (its main thread's token is the same):
    // look again with the start time now stored, and hand it back if alive.
    if (!being_reclaimed &&
        !ProcessGone(OwnerPid(owner),
                     slot.start_ticks.load(std::memory_order_acquire))) {
      slot.owner.store(owner, std::memory_order_release);
      continue;
    }
    RetireSlot(layout, slot);
  }
}

}  // namespace

absl::StatusOr<std::unique_ptr<Engine>> Engine::Open(EngineOptions options) {
  absl::StatusOr<Policy> policy = Policy::Create(options.config.policy);
  if (!policy.ok()) return policy.status();
  absl::Status episode = ValidateEpisodeConfig(options.config.episode);
  if (!episode.ok()) return episode;
  return std::unique_ptr<Engine>(
      new Engine(std::move(options), *std::move(policy)));
}

Engine::Engine(EngineOptions options, Policy policy)
    : options_(std::move(options)),
      policy_(std::move(policy)),
      id_(g_next_engine_id.fetch_add(1, std::memory_order_relaxed)),
      own_clock_(RealtimeNowNs()),
      clock_(options_.clock != nullptr ? options_.clock : &own_clock_),
      deadman_ns_(*SecondsToNs(options_.config.episode.deadman_s, "deadman")),
      clear_after_ns_(
          *SecondsToNs(options_.config.episode.clear_after_s, "clear_after")),
      slow_after_ns_(std::min(kRefreshIntervalNs, deadman_ns_)),
      pid_(getpid()),
      overflow_slot_(std::make_unique<ProcessSlot>()) {
  absl::StatusOr<std::unique_ptr<Segment>> segment =
      Segment::OpenOrCreate(options_.segment);
  if (segment.ok()) {
    segment_ = *std::move(segment);
    layout_ = segment_->mutable_layout();
    mirror_hot_ = &layout_->mirror_hot;
    global_ = {&layout_->scopes[kGlobalScopeIndex], kGlobalScopeIndex};
  } else {
    segment_status_ = segment.status();
    Bump(overflow_slot_->errors);
    std::string line =
        absl::StrCat("{\"ts\":\"", FormatTimestamp(clock_->NowNs()),
                     "\",\"event\":\"SEGMENT_UNAVAILABLE\",\"pid\":", pid_,
                     ",\"failsafe\":true,\"error\":");
    AppendJsonString(segment_status_.ToString(), &line);
    line.push_back('}');
    WriteLogLine(options_.log_fd, line);
  }
  // Opening may have waited for a creator: start from a fresh time.
  own_clock_.SetNs(RealtimeNowNs());
  background_ = std::thread(&Engine::BackgroundLoop, this);
}

Engine::~Engine() {
  stop_.store(true, std::memory_order_relaxed);
  background_.join();
  DrainLogs();
  ReleaseSlots();
}

void Engine::BackgroundLoop() {
  int64_t last_heartbeat = 0;
  int64_t last_tier_scan = 0;
  int64_t last_reclaim = 0;  // the first pass runs at open
  while (!stop_.load(std::memory_order_relaxed)) {
    if (options_.clock == nullptr) own_clock_.SetNs(RealtimeNowNs());
    if (clock_->NowNs() - last_tier_scan >= kTierScanIntervalNs ||
        clock_->NowNs() < last_tier_scan) {
      last_tier_scan = clock_->NowNs();
      LogTierChanges(last_tier_scan);
    }
    DrainLogs();
    const int64_t now = RealtimeNowNs();
    if (layout_ != nullptr && now - last_reclaim >= kReclaimIntervalNs) {
      last_reclaim = now;
      ReclaimDeadSlots(*layout_, pid_);
    }
    if (layout_ != nullptr && now - last_heartbeat >= kHeartbeatIntervalNs) {
      last_heartbeat = now;
      std::lock_guard<std::mutex> lock(slots_mu_);
      for (uint32_t index : owned_slots_) {
        layout_->slots[index].heartbeat_ns.store(now,
                                                 std::memory_order_relaxed);
      }
    }
    std::this_thread::sleep_for(kBackgroundTick);
  }
}

void Engine::Push(const Event& event) noexcept {
  if (options_.log_fd >= 0) events_.TryPush(event);
}

void Engine::DrainLogs() {
  std::lock_guard<std::mutex> lock(drain_mu_);
  Event event;
  std::string line;
  while (events_.TryPop(&event)) {
    line.clear();
    std::string scope = layout_ != nullptr
                            ? ReadScopeName(layout_->scopes[event.scope_index])
                            : std::string(kGlobalScopeName);
    AppendEventJson(event, options_.segment.name, scope, pid_, &line);
    WriteLogLine(options_.log_fd, line);
  }
}

void Engine::FlushLogs() {
  LogTierChanges(clock_->NowNs());
  DrainLogs();
}

// ---- slots --------------------------------------------------------------

ProcessSlot* Engine::ClaimSlotForThisThread() noexcept {
  internal::ThreadSlotCache& cache = internal::t_slot_cache;
  ProcessSlot* slot = overflow_slot_.get();
  if (layout_ != nullptr) {
    const uint64_t token = (static_cast<uint64_t>(pid_) << 32) |
                           static_cast<uint32_t>(CurrentTid());
    std::lock_guard<std::mutex> lock(slots_mu_);
    ProcessSlot* found = nullptr;
    for (uint32_t index : owned_slots_) {
      if (layout_->slots[index].owner.load(std::memory_order_relaxed) ==
          token) {
        found = &layout_->slots[index];
      }
    }
    for (int round = 0; found == nullptr && round < 2; ++round) {
      if (round == 1) ReclaimDeadSlots(*layout_, pid_);
      for (uint32_t i = 0; i < kSlotCapacity && found == nullptr; ++i) {
        ProcessSlot& candidate = layout_->slots[i];
        uint64_t expected = 0;
        if (candidate.owner.compare_exchange_strong(
                expected, token, std::memory_order_acq_rel)) {
          const int64_t now = RealtimeNowNs();
          candidate.start_ticks.store(SelfStartTicks(),
                                      std::memory_order_relaxed);
          candidate.attached_ns.store(now, std::memory_order_relaxed);
          candidate.heartbeat_ns.store(now, std::memory_order_relaxed);
          owned_slots_.push_back(i);
          found = &candidate;
        }
      }
    }
    if (found != nullptr) {
      slot = found;
    } else {
      // Table full: a private slot in process memory keeps this thread's
      // counters single-writer (not visible to the inspector).
      private_slots_.push_back(std::make_unique<ProcessSlot>());
      slot = private_slots_.back().get();
      Event e{EventKind::kSlotTableFull};
      e.at_ns = clock_->NowNs();
      Push(e);
    }
  }
  cache.engine_id = id_;
  cache.slot = slot;
  return slot;
}

void Engine::ReleaseSlots() {
  if (layout_ == nullptr) return;
  std::lock_guard<std::mutex> lock(slots_mu_);
  for (uint32_t index : owned_slots_) {
    RetireSlot(*layout_, layout_->slots[index]);
  }
  owned_slots_.clear();
}

// ---- episodes -------------------------------------------------------------

int64_t Engine::ObservePanic(ScopeHandle handle, int64_t word, int64_t now,
                             int64_t last_panic, bool* first_writer) noexcept {
  Scope& s = *handle.scope;
  if (word == 0 || now - last_panic > deadman_ns_) {
    word = StartEpisode(handle, word, now, first_writer);
  } else if (now - last_panic >= kRefreshIntervalNs) {
    s.last_panic_ns.store(now, std::memory_order_relaxed);
  }
  if (s.calm_since_ns.load(std::memory_order_relaxed) != 0) {
    s.calm_since_ns.store(0, std::memory_order_relaxed);
  }
  return word;
}

int64_t Engine::StartEpisode(ScopeHandle handle, int64_t observed, int64_t now,
                             bool* first_writer) noexcept {
  Scope& s = *handle.scope;
  int64_t word = observed;
  for (int attempt = 0; attempt < 8; ++attempt) {
    if (word != 0) {
      // The acquire pairs with the release store below: if we see a fresh
      // last_panic, the reload shows the episode it was written for.
      const int64_t last_panic =
          s.last_panic_ns.load(std::memory_order_acquire);
      const int64_t now_word = s.episode.load(std::memory_order_acquire);
      if (now_word != word) {
        word = now_word;
        continue;
      }
      if (now - last_panic <= deadman_ns_) return word;  // live: join it
      // Expired: end it on its own first, so that a process killed before
      // the start below leaves no episode rather than reviving this one.
      EndEpisode(handle, word, now, EndCause::kExpired);
      word = s.episode.load(std::memory_order_acquire);
      continue;
    }
    const int64_t remote = s.remote_start_ns.load(std::memory_order_acquire);
    const bool adopt = remote > 0 && now - remote <= deadman_ns_;
    const int64_t desired = EpisodeWord::Make(adopt ? remote : now, false);
    // Stored before the CAS publishes the episode, so a process that sees
    // the new episode never sees it as expired.
    s.last_panic_ns.store(now, std::memory_order_release);
    s.calm_since_ns.store(0, std::memory_order_relaxed);
    int64_t expected = 0;
    if (s.episode.compare_exchange_strong(expected, desired,
                                          std::memory_order_acq_rel,
                                          std::memory_order_acquire)) {
      s.first_writer_pid.store(pid_, std::memory_order_relaxed);
      s.forced_by_pid.store(0, std::memory_order_relaxed);
      s.episodes_started.fetch_add(1, std::memory_order_relaxed);
      s.last_transition_ns.store(now, std::memory_order_relaxed);
      Event started{EventKind::kPanicTimestampInitialized};
      started.scope_index = handle.index;
      started.at_ns = now;
      started.start_ns = EpisodeWord::StartNs(desired);
      started.value = adopt;
      Push(started);
      *first_writer = true;
      return desired;
    }
    word = expected;
  }
  return word;
}

bool Engine::EndEpisode(ScopeHandle handle, int64_t word, int64_t now,
                        EndCause cause) noexcept {
  Scope& s = *handle.scope;
  // Retry when the word changed under us (the mirror adopting another
  // host's start, a restart): the observation still ends the episode,
  // except an expired one that was replaced, or a forced one for calm.
  while (!s.episode.compare_exchange_weak(word, 0, std::memory_order_acq_rel,
                                          std::memory_order_acquire)) {
    if (word == 0 || cause == EndCause::kExpired) return false;
    // A new episode may have started: end it only if this calm observation
    // ends it too (clear_after, forced).
    if (cause == EndCause::kCalm &&
        ObserveCalm(s, word, now,
                    s.last_panic_ns.load(std::memory_order_acquire)) != 0) {
      return false;
    }
  }
  s.calm_since_ns.store(0, std::memory_order_relaxed);
  s.episodes_ended.fetch_add(1, std::memory_order_relaxed);
  s.last_transition_ns.store(now, std::memory_order_relaxed);
  Event e{EventKind::kPanicTimestampCleared};
  e.scope_index = handle.index;
  e.at_ns = now;
  e.start_ns = EpisodeWord::StartNs(word);
  e.value = static_cast<int64_t>(cause);
  Push(e);
  return true;
}

namespace {

// Scope::logged_tiers packs an episode tag with the last tier logged per
// stakes: (tag << 12) | tier_low << 8 | tier_medium << 4 | tier_high. The tag
// (the start in 4 µs units, never 0 for an episode; 0 for none) lets a
// scanner raise tiers within one episode only, so a process whose cached
// clock lags a little never logs a tier going back down.
constexpr int kTierBits = 4 * kStakesCount;
constexpr uint64_t kTierMask = (uint64_t{1} << kTierBits) - 1;

uint64_t EpisodeTag(int64_t word) {
  return word == 0 ? 0
                   : ((static_cast<uint64_t>(word) >> 12) | 1) &
                         (~uint64_t{0} >> kTierBits);
}
int LoggedTier(uint64_t logged, int stakes) {
  return static_cast<int>((logged >> (4 * stakes)) & 0xf);
}

}  // namespace

void Engine::LogTierChanges(int64_t now) noexcept {
  if (layout_ == nullptr) return;
  for (uint32_t index = 0; index < kScopeCapacity; ++index) {
    const Scope& scope = layout_->scopes[index];
    if ((scope.state.load(std::memory_order_acquire) & 0xff) == kScopeUsed) {
      LogTierChangesOf(index, now);
    }
  }
}

void Engine::LogTierChangesOf(uint32_t index, int64_t now) noexcept {
  Scope& scope = layout_->scopes[index];
  // Read the logged word before the episode: whoever logged it had seen an
  // episode at least as new, so a stale read cannot win the CAS below.
  uint64_t logged = scope.logged_tiers.load(std::memory_order_acquire);
  for (int attempt = 0; attempt < 8; ++attempt) {
    const int64_t word = scope.episode.load(std::memory_order_acquire);
    const int64_t last_panic =
        scope.last_panic_ns.load(std::memory_order_relaxed);
    const bool active = word != 0 && now - last_panic <= deadman_ns_;
    const uint64_t tag = active ? EpisodeTag(word) : 0;
    const int64_t start = active ? EpisodeWord::StartNs(word) : 0;
    const bool same_episode = (logged >> kTierBits) == tag;
    uint64_t desired = tag << kTierBits;
    for (int s = 0; s < kStakesCount; ++s) {
      int tier = active ? policy_
                              .DecideForAge(std::max<int64_t>(now - start, 0),
                                            BaseTtl(), static_cast<Stakes>(s))
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
        e.scope_index = index;
        e.stakes = static_cast<uint8_t>(s);
        e.from_tier = static_cast<uint8_t>(LoggedTier(logged, s));
        e.to_tier = static_cast<uint8_t>(LoggedTier(desired, s));
        e.at_ns = now;
        e.start_ns = start;
        Push(e);
      }
      return;
    }
  }
}

void Engine::NoteFutureStart(ScopeHandle handle, int64_t start_ns,
                             int64_t now) noexcept {
  // Each process's cached clock lags real time by up to a tick (more when
  // the machine is loaded): a start that recent is not clock skew.
  if (start_ns - now <= kCachedClockToleranceNs) return;
  Bump(ThisThreadSlot()->anomalies);
  AtomicI64& logged = handle.scope->anomaly_logged_start;
  int64_t previous = logged.load(std::memory_order_relaxed);
  if (previous != start_ns &&
      logged.compare_exchange_strong(previous, start_ns,
                                     std::memory_order_relaxed)) {
    Event e{EventKind::kNegativePanicDuration};
    e.scope_index = handle.index;
    e.at_ns = now;
    e.start_ns = start_ns;
    Push(e);
  }
}

Decision Engine::DecideWithoutSegment(Status status, BaseTtl base_ttl,
                                      Stakes stakes) noexcept {
  Decision d = Policy::DecideFailsafe(status, base_ttl, stakes);
  // Several threads may share the overflow slot: here a locked add is fine.
  overflow_slot_->decisions[static_cast<int>(d.mode)].fetch_add(
      1, std::memory_order_relaxed);
  if (d.reason == Reason::kFailsafe) {
    overflow_slot_->failsafes.fetch_add(1, std::memory_order_relaxed);
    if (!failsafe_logged_.exchange(true, std::memory_order_relaxed)) {
      Event e{EventKind::kPanicWithoutReliableTimestamp};
      e.at_ns = clock_->NowNs();
      Push(e);
    }
  }
  return d;
}

Decision Engine::StrictFailsafe(Decision d, BaseTtl base_ttl,
                                int64_t now) noexcept {
  MirrorHot& mirror = layout_->mirror_hot;
  if (MonotonicCoarseNowNs() <=
      mirror.healthy_until_mono_ns.load(std::memory_order_relaxed)) {
    return d;
  }
  Decision failsafe =
      Policy::DecideFailsafe(Status::kPanic, base_ttl, d.stakes);
  failsafe.episode_start_ns = d.episode_start_ns;
  failsafe.first_writer = d.first_writer;
  ProcessSlot* slot = ThisThreadSlot();
  Bump(slot->failsafes);
  uint64_t expected = 0;
  if (mirror.failsafe_logged.compare_exchange_strong(
          expected, 1, std::memory_order_relaxed)) {
    Event e{EventKind::kPanicWithoutReliableTimestamp};
    e.at_ns = now;
    Push(e);
  }
  return failsafe;
}

// ---- admin and lookups ------------------------------------------------------

absl::Status Engine::ForceStart(ScopeHandle handle, int64_t start_ns) {
  if (handle.scope == nullptr) {
    return absl::FailedPreconditionError(absl::StrCat(
        "no segment to force an episode in: ", segment_status_.message()));
  }
  if (start_ns <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("bad forced start ", start_ns, ": must be > 0"));
  }
  Scope& s = *handle.scope;
  const int64_t now = clock_->NowNs();
  // As in StartEpisode: an expired episode ends first, so the refresh below
  // can never revive it if this process dies before the exchange.
  const int64_t current = s.episode.load(std::memory_order_acquire);
  if (current != 0 &&
      now - s.last_panic_ns.load(std::memory_order_acquire) > deadman_ns_) {
    EndEpisode(handle, current, now, EndCause::kExpired);
  }
  s.last_panic_ns.store(now, std::memory_order_release);
  s.calm_since_ns.store(0, std::memory_order_relaxed);
  const int64_t previous = s.episode.exchange(EpisodeWord::Make(start_ns, true),
                                              std::memory_order_acq_rel);
  s.first_writer_pid.store(pid_, std::memory_order_relaxed);
  s.forced_by_pid.store(pid_, std::memory_order_relaxed);
  if (previous == 0) s.episodes_started.fetch_add(1, std::memory_order_relaxed);
  s.last_transition_ns.store(now, std::memory_order_relaxed);
  Event e{EventKind::kForcedStart};
  e.scope_index = handle.index;
  e.at_ns = now;
  e.start_ns = EpisodeWord::StartNs(EpisodeWord::Make(start_ns, true));
  e.value = previous == 0 ? 0 : EpisodeWord::StartNs(previous);
  Push(e);
  return absl::OkStatus();
}

absl::StatusOr<bool> Engine::ForceEnd(ScopeHandle handle) {
  if (handle.scope == nullptr) {
    return absl::FailedPreconditionError(absl::StrCat(
        "no segment to end an episode in: ", segment_status_.message()));
  }
  const int64_t word = handle.scope->episode.load(std::memory_order_acquire);
  if (word == 0) return false;
  return EndEpisode(handle, word, clock_->NowNs(), EndCause::kForcedEnd);
}

EpisodeSnapshot Engine::Snapshot(ScopeHandle handle) const {
  EpisodeSnapshot snap;
  if (handle.scope == nullptr) return snap;
  const Scope& s = *handle.scope;
  const int64_t word = s.episode.load(std::memory_order_acquire);
  snap.active = word != 0;
  snap.forced = EpisodeWord::Forced(word);
  snap.start_ns = word == 0 ? 0 : EpisodeWord::StartNs(word);
  snap.last_panic_ns = s.last_panic_ns.load(std::memory_order_relaxed);
  snap.calm_since_ns = s.calm_since_ns.load(std::memory_order_relaxed);
  snap.remote_start_ns = s.remote_start_ns.load(std::memory_order_relaxed);
  snap.first_writer_pid = s.first_writer_pid.load(std::memory_order_relaxed);
  snap.episodes_started = s.episodes_started.load(std::memory_order_relaxed);
  snap.episodes_ended = s.episodes_ended.load(std::memory_order_relaxed);
  return snap;
}

absl::StatusOr<ScopeHandle> Engine::FindScope(absl::string_view name) const {
  absl::Status valid = ValidateScopeName(name);
  if (!valid.ok()) return valid;
  if (name == kGlobalScopeName) return global_;
  if (layout_ == nullptr) return ScopeHandle{};
  const uint64_t hash = ScopeHash(name);
  for (uint32_t probe = 0; probe < kScopeCapacity - 1; ++probe) {
    const uint32_t index = 1 + (hash + probe) % (kScopeCapacity - 1);
    Scope& s = layout_->scopes[index];
    const uint64_t state = s.state.load(std::memory_order_acquire);
    if ((state & 0xff) == kScopeFree) break;
    if ((state & 0xff) == kScopeUsed && ReadScopeName(s) == name) {
      return ScopeHandle{&s, index};
    }
  }
  return absl::NotFoundError(absl::StrCat("no scope \"", name, "\""));
}

absl::StatusOr<ScopeHandle> Engine::FindOrCreateScope(absl::string_view name) {
  absl::Status valid = ValidateScopeName(name);
  if (!valid.ok()) return valid;
  if (name == kGlobalScopeName) return global_;
  if (layout_ == nullptr) return ScopeHandle{};
  const uint64_t hash = ScopeHash(name);
  const uint64_t claiming = (static_cast<uint64_t>(pid_) << 8) | kScopeClaiming;
  for (uint32_t probe = 0; probe < kScopeCapacity - 1; ++probe) {
    const uint32_t index = 1 + (hash + probe) % (kScopeCapacity - 1);
    Scope& s = layout_->scopes[index];
    const absl::Time deadline = absl::Now() + options_.segment.attach_timeout;
    while (true) {
      uint64_t state = s.state.load(std::memory_order_acquire);
      if ((state & 0xff) == kScopeFree) {
        if (s.state.compare_exchange_strong(state, claiming,
                                            std::memory_order_acq_rel)) {
          WriteScopeName(s, name);
          s.state.store(kScopeUsed, std::memory_order_release);
          return ScopeHandle{&s, index};
        }
        continue;
      }
      if ((state & 0xff) == kScopeUsed) {
        if (ReadScopeName(s) == name) return ScopeHandle{&s, index};
        break;  // next probe
      }
      // Claiming: the claimer publishes within microseconds unless it died.
      const pid_t claimer = static_cast<pid_t>(state >> 8);
      if (ProcessGone(claimer, 0)) {
        s.state.compare_exchange_strong(state, kScopeFree,
                                        std::memory_order_acq_rel);
        continue;
      }
      if (absl::Now() >= deadline) {
        return absl::DeadlineExceededError(absl::StrCat(
            "scope table entry ", index, " is being claimed by pid ", claimer,
            " for too long"));
      }
      std::this_thread::sleep_for(std::chrono::microseconds(100));
    }
  }
  Event e{EventKind::kScopeTableFull};
  e.at_ns = clock_->NowNs();
  Push(e);
  return absl::ResourceExhaustedError(absl::StrCat(
      "scope table of segment ", options_.segment.name, " is full: all ",
      kScopeCapacity - 1, " named scopes are in use; cannot add \"", name,
      "\" (destroy and re-create the segment to clear it)"));
}

absl::StatusOr<Decision> Engine::Decide(absl::string_view scope_name,
                                        absl::string_view status_text,
                                        int64_t base_ttl_seconds,
                                        absl::string_view league,
                                        absl::string_view competition,
                                        std::optional<Stakes> stakes) {
  absl::StatusOr<Status> status = ParseStatus(status_text);
  if (!status.ok()) return status.status();
  BaseTtl base_ttl;
  if (!BaseTtl::FromSeconds(base_ttl_seconds, &base_ttl)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "bad base TTL ", base_ttl_seconds, ": expected 0..", BaseTtl::kMax));
  }
  absl::StatusOr<ScopeHandle> scope = FindOrCreateScope(scope_name);
  if (!scope.ok()) return scope.status();
  return Decide(
      *scope, *status, base_ttl,
      stakes.has_value() ? *stakes : policy_.Classify(league, competition));
}

}  // namespace vix::shm
