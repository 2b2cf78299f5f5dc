// Engine lifecycle, the decision's rare cases, admin and lookups. The
// background thread is in background.cc, transitions in episodes.cc, slots
// in slots.cc, the scope table in scope_table.cc.
#include "vixbreaker/shm/engine.h"

#include <unistd.h>

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "vixbreaker/core/json.h"
#include "vixbreaker/core/parse.h"
#include "vixbreaker/shm/process.h"
#include "vixbreaker/shm/reader.h"
#include "vixbreaker/shm/scope_name.h"

namespace vix::shm {
namespace {

std::atomic<uint64_t> g_next_engine_id{1};

// Each process's cached clock lags real time by up to a tick (the idle one
// is 200 ms; more when the machine is loaded): a start that recent is not
// clock skew.
constexpr int64_t kCachedClockToleranceNs = 500'000'000;

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
      way_offset_(internal::CacheWayOffsetFor(id_)),
      own_clock_(RealtimeNowNs()),
      clock_(options_.clock != nullptr ? options_.clock : &own_clock_),
      deadman_ns_(*SecondsToNs(options_.config.episode.deadman_s, "deadman")),
      slow_after_ns_(std::min(kRefreshIntervalNs, deadman_ns_)),
      pid_(getpid()) {
  const EpisodeRules rules{
      deadman_ns_,
      *SecondsToNs(options_.config.episode.clear_after_s, "clear_after")};
  absl::StatusOr<std::unique_ptr<Segment>> segment =
      Segment::OpenOrCreate(options_.segment);
  if (segment.ok()) {
    segment_ = *std::move(segment);
    layout_ = segment_->mutable_layout();
    mirror_hot_ = &layout_->mirror_hot;
    scopes_ = std::make_unique<ScopeTable>(*layout_, pid_, SelfStartTicks());
    reader_ = std::make_unique<Inspector>(*Inspector::Create(options_.config));
    global_ = scopes_->global();
  } else {
    segment_status_ = segment.status();
    TryWriteLogLine(
        options_.log_fd,
        LogLine(RealtimeNowNs(), "SEGMENT_UNAVAILABLE", options_.segment.name)
            .Int("pid", pid_)
            .Bool("failsafe", true)
            .Str("error", segment_status_.ToString())
            .Done());
  }
  episodes_ = std::make_unique<EpisodeWriter>(policy_, rules, pid_,
                                              options_.clock, sink());
  slots_ = std::make_unique<SlotRegistry>(layout_, id_, &Engine::ChildAfterFork,
                                          this);
  // Opening may have waited for a creator: start from a fresh time.
  own_clock_.SetNs(RealtimeNowNs());
  StartBackground();
}

Engine::~Engine() {
  {
    std::lock_guard<std::mutex> lock(stop_mu_);
    stop_ = true;
  }
  stop_cv_.notify_all();
  if (background_.joinable()) background_.join();
  FlushLogs();
  // What a stalled log reader never took is dropped, and counted.
  Event lost;
  while (events_.TryPop(&lost)) {
    if (layout_ != nullptr) {
      layout_->counters.log_events_dropped.fetch_add(1,
                                                     std::memory_order_relaxed);
    }
  }
  slots_.reset();  // returns this process's slots
}

LogWriter Engine::LogWriterFor(int fd) noexcept {
  return LogWriter(fd,
                   layout_ ? &layout_->counters.log_events_dropped : nullptr);
}

EventSink Engine::sink() noexcept {
  return EventSink(options_.log_fd < 0 ? nullptr : &events_,
                   layout_ ? &layout_->counters.log_events_dropped : nullptr);
}

std::optional<Engine::MirrorRegion> Engine::mirror_region() {
  if (layout_ == nullptr) return std::nullopt;
  return MirrorRegion{layout_->mirror_hot, layout_->lease, layout_->health};
}

// ---- the decision's rare cases ------------------------------------------

Decision Engine::FinishUnusual(ScopeHandle handle, int64_t word, int64_t now,
                               BaseTtl base_ttl, Stakes stakes) noexcept {
  const int64_t start = EpisodeWord::StartNs(word);
  int64_t age = now - start;
  if (age < 0) {
    if (start - now > kCachedClockToleranceNs) {
      Bump(ThisThreadSlot()->anomalies);
      episodes_->NoteFutureStart(handle, start, now);
    }
    age = 0;
  }
  // An adopted start the mirror has not confirmed decides tier 1 (SPEC 3).
  if (EpisodeWord::Unconfirmed(word)) age = 0;
  Decision d = policy_.DecideForAge(age, base_ttl, stakes);
  d.episode_start_ns = start;
  if (EpisodeWord::Forced(word)) d.reason = Reason::kForced;
  Bump(ThisThreadSlot()->decisions[static_cast<int>(d.mode)]);
  return d;
}

void Engine::Remember(const Scope* scope, int64_t word, int64_t now,
                      int64_t last_panic, Stakes stakes) noexcept {
  internal::CacheWay& way = internal::ThisThreadWayAt(way_offset_);
  if (way.engine_id != id_) return;  // claimed by this decision
  const int64_t start = EpisodeWord::StartNs(word);
  if (now < start) return;
  const int tier = policy_.TierForAge(now - start, stakes);
  const int64_t from = start + policy_.TierStartNs(stakes, tier);
  const int64_t tier_end = policy_.TierEndNs(stakes, tier);
  const int64_t tier_until =
      tier_end > INT64_MAX - start ? INT64_MAX : start + tier_end;
  const int64_t until = std::min(tier_until, last_panic + slow_after_ns_);
  if (until <= now) return;
  way.memo[static_cast<int>(stakes)] = {
      scope,
      word,
      from,
      static_cast<uint64_t>(until - from),
      &way.slot->decisions[static_cast<int>(ModeForTier(tier))],
      policy_.TierTtl(stakes, tier),
      tier};
}

int64_t Engine::ReloadTorn(ScopeHandle handle, int64_t* last_panic) noexcept {
  const Scope& s = *handle.scope;
  int64_t word = s.episode.load(std::memory_order_acquire);
  while (true) {
    *last_panic = s.last_panic_ns.load(std::memory_order_acquire);
    const int64_t again = s.episode.load(std::memory_order_acquire);
    if (again == word) return word;
    word = again;
  }
}

Decision Engine::StaleScope(Status status, BaseTtl base_ttl,
                            Stakes stakes) noexcept {
  Decision d = Policy::DecideFailsafe(status, base_ttl, stakes);
  d.stale_scope = true;
  ProcessSlot* slot = ThisThreadSlot();
  Bump(slot->decisions[static_cast<int>(d.mode)]);
  Bump(slot->errors);
  return d;
}

Decision Engine::DecideWithoutSegment(Status status, BaseTtl base_ttl,
                                      Stakes stakes) noexcept {
  Decision d = Policy::DecideFailsafe(status, base_ttl, stakes);
  ProcessSlot* slot = ThisThreadSlot();
  Bump(slot->decisions[static_cast<int>(d.mode)]);
  if (d.reason == Reason::kFailsafe) {
    Bump(slot->failsafes);
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
  Bump(ThisThreadSlot()->failsafes);
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
  return episodes_->ForceStart(handle, start_ns);
}

absl::StatusOr<bool> Engine::ForceEnd(ScopeHandle handle) {
  if (handle.scope == nullptr) {
    return absl::FailedPreconditionError(absl::StrCat(
        "no segment to end an episode in: ", segment_status_.message()));
  }
  return episodes_->ForceEnd(handle);
}

EpisodeSnapshot Engine::Snapshot(ScopeHandle handle) const {
  EpisodeSnapshot snap;
  if (handle.scope == nullptr) return snap;
  const ScopeView v = reader_->ReadScope(*handle.scope, handle.index,
                                         episodes_->PreciseNowNs());
  snap.expired = v.episode == EpisodeState::kExpired;
  snap.active = v.running();
  snap.forced = v.episode == EpisodeState::kForced;
  snap.unconfirmed = v.unconfirmed;
  snap.start_ns = v.start_ns;
  snap.last_panic_ns = v.last_refresh_ns;
  snap.calm_since_ns = v.calm_since_ns;
  snap.remote_start_ns = v.remote_start_ns;
  snap.first_writer_pid = v.first_writer_pid;
  snap.episodes_started = v.episodes_started;
  snap.episodes_ended = v.episodes_ended;
  return snap;
}

absl::StatusOr<ScopeHandle> Engine::FindScope(absl::string_view name) const {
  if (scopes_ == nullptr) {
    absl::Status valid = ValidateScopeName(name);
    if (!valid.ok()) return valid;
    return ScopeHandle{};
  }
  return scopes_->Find(name);
}

absl::StatusOr<ScopeHandle> Engine::FindOrCreateScope(absl::string_view name) {
  if (scopes_ == nullptr) return FindScope(name);
  absl::StatusOr<ScopeHandle> scope =
      scopes_->FindOrCreate(name, options_.segment.attach_timeout);
  if (absl::IsResourceExhausted(scope.status())) {
    Event e{EventKind::kScopeTableFull};
    e.at_ns = clock_->NowNs();
    e.SetScopeName(name);
    Push(e);
    return absl::ResourceExhaustedError(absl::StrCat(
        "segment ", options_.segment.name, ": ", scope.status().message()));
  }
  return scope;
}

absl::Status Engine::RemoveScope(absl::string_view name) {
  if (scopes_ == nullptr) {
    return absl::FailedPreconditionError(absl::StrCat(
        "no segment to remove a scope from: ", segment_status_.message()));
  }
  return scopes_->Remove(name);
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
  const Stakes resolved =
      stakes.has_value() ? *stakes : policy_.Classify(league, competition);
  // Reading or ending never creates a scope (SPEC 3).
  absl::StatusOr<ScopeHandle> scope = *status == Status::kPanic
                                          ? FindOrCreateScope(scope_name)
                                          : FindScope(scope_name);
  if (absl::IsNotFound(scope.status())) {
    return Policy::DecideNoEpisode(base_ttl, resolved);
  }
  if (!scope.ok()) return scope.status();
  return Decide(*scope, *status, base_ttl, resolved);
}

}  // namespace vix::shm
