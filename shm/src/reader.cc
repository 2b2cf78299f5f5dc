#include "vixbreaker/shm/reader.h"

#include <algorithm>
#include <atomic>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "vixbreaker/core/parse.h"
#include "vixbreaker/shm/layout.h"
#include "vixbreaker/shm/mirror_text.h"
#include "vixbreaker/shm/process.h"
#include "vixbreaker/shm/scope_name.h"

namespace vix::shm {
namespace {

constexpr auto kRelaxed = std::memory_order_relaxed;
constexpr auto kAcquire = std::memory_order_acquire;

// Short: a segment that is not ready within this is reported, not waited on.
constexpr absl::Duration kAttachTimeout = absl::Milliseconds(200);

HeaderView ReadHeader(const SegmentHeader& h, const std::string& name) {
  HeaderView view;
  view.segment = name;
  view.layout_major = h.layout_major.load(kRelaxed);
  view.layout_minor = h.layout_minor.load(kRelaxed);
  view.size_bytes = h.total_size.load(kRelaxed);
  view.created_ns = h.created_unix_ns.load(kRelaxed);
  view.creator_pid = h.creator_pid.load(kRelaxed);
  view.creator_alive = ProcessAlive(static_cast<pid_t>(view.creator_pid),
                                    h.creator_start_ticks.load(kRelaxed));
  view.generation = h.generation.load(kRelaxed);
  return view;
}

// Healthy means: connected, and a live holder whose lease has not expired.
void JudgeMirrorHealth(MirrorView& m) {
  if (!m.configured) return;
  if (!m.connected) {
    m.unhealthy_reason = "not connected to Redis";
  } else if (m.lease_holder_pid == 0) {
    m.unhealthy_reason = "no process holds the mirror lease";
  } else if (!m.lease_holder_alive) {
    m.unhealthy_reason = absl::StrCat("the lease holder (pid ",
                                      m.lease_holder_pid, ") is not running");
  } else if (m.lease_expired) {
    m.unhealthy_reason = "the mirror lease has expired";
  }
  m.healthy = m.unhealthy_reason.empty();
}

MirrorView ReadMirrorLines(const SegmentLayout& layout, int64_t now_ns) {
  MirrorView m;
  const MirrorHealth& h = layout.health;
  m.configured = h.configured.load(kAcquire) != 0;
  m.connected = h.connected.load(kRelaxed) != 0;
  m.strict = layout.mirror_hot.strict.load(kRelaxed) != 0;
  m.healthy_until_ns = layout.mirror_hot.healthy_until_ns.load(kRelaxed);

  const MirrorLease& lease = layout.lease;
  m.lease_holder_pid = lease.holder_pid.load(kAcquire);
  m.lease_holder_alive = m.lease_holder_pid > 0 &&
                         ProcessAlive(static_cast<pid_t>(m.lease_holder_pid),
                                      lease.holder_start_ticks.load(kRelaxed));
  m.lease_expiry_ns = lease.expiry_unix_ns.load(kRelaxed);
  m.lease_expired = m.lease_expiry_ns <= now_ns;
  m.lease_takeovers = lease.takeovers.load(kRelaxed);

  m.last_success_ns = h.last_success_ns.load(kRelaxed);
  m.last_error_ns = h.last_error_ns.load(kRelaxed);
  m.error_text_unstable = !ReadMirrorErrorText(h, &m.last_error_text);
  m.reconnects = h.reconnects.load(kRelaxed);
  m.publish_lag_ns = h.publish_lag_ns.load(kRelaxed);
  m.commands_sent = h.commands_sent.load(kRelaxed);
  m.redis_errors = h.redis_errors.load(kRelaxed);
  m.invalid_values = h.invalid_values.load(kRelaxed);
  JudgeMirrorHealth(m);
  return m;
}

Counters ReadSlotCounters(const ProcessSlot& slot) {
  Counters c;
  for (int m = 0; m < kModeCount; ++m) {
    c.decisions[m] = slot.decisions[m].load(kRelaxed);
  }
  c.failsafes = slot.failsafes.load(kRelaxed);
  c.errors = slot.errors.load(kRelaxed);
  c.anomalies = slot.anomalies.load(kRelaxed);
  return c;
}

// The counts of the slot's current owner: its counters minus what they
// were when it claimed the slot (counters are cumulative, layout.h).
Counters OwnerCounters(const ProcessSlot& slot, const Counters& all) {
  Counters base;
  for (int m = 0; m < kModeCount; ++m) {
    base.decisions[m] = slot.base[m].load(kRelaxed);
  }
  base.failsafes = slot.base[5].load(kRelaxed);
  base.errors = slot.base[6].load(kRelaxed);
  base.anomalies = slot.base[7].load(kRelaxed);
  Counters own;
  for (int m = 0; m < kModeCount; ++m) {
    own.decisions[m] =
        all.decisions[m] - std::min(all.decisions[m], base.decisions[m]);
  }
  own.failsafes = all.failsafes - std::min(all.failsafes, base.failsafes);
  own.errors = all.errors - std::min(all.errors, base.errors);
  own.anomalies = all.anomalies - std::min(all.anomalies, base.anomalies);
  return own;
}

// Fills processes and totals from the slot table. Totals are the sum over
// every slot, owned or not: no counter is ever moved or reset, so the sum
// never decreases whatever the order of reads (SPEC 4).
void ReadSlots(const SegmentLayout& layout, Snapshot& snapshot) {
  Totals& totals = snapshot.totals;
  totals.log_events_dropped = layout.counters.log_events_dropped.load(kRelaxed);
  for (uint32_t i = 0; i < kSlotCapacity; ++i) {
    const ProcessSlot& slot = layout.slots[i];
    const Counters counters = ReadSlotCounters(slot);
    totals.all.Add(counters);
    const uint64_t owner = slot.owner.load(kAcquire);
    if (owner == 0 || SlotBeingReclaimed(owner)) {
      totals.retired.Add(counters);
      continue;
    }
    ProcessView p;
    p.slot = i;
    p.pid = static_cast<int64_t>(owner >> 32);
    p.tid = static_cast<int64_t>(owner & 0xffffffffu);
    p.alive = ProcessAlive(static_cast<pid_t>(p.pid),
                           slot.start_ticks.load(kRelaxed));
    p.attached_ns = slot.attached_ns.load(kRelaxed);
    p.heartbeat_ns = slot.heartbeat_ns.load(kRelaxed);
    p.counters = OwnerCounters(slot, counters);
    totals.retired.Add(counters);
    totals.retired.Subtract(p.counters);
    ++totals.slots_in_use;
    totals.slots_alive += p.alive;
    snapshot.processes.push_back(std::move(p));
  }
}

}  // namespace

MirrorView ReadMirror(const SegmentLayout& layout, int64_t now_ns) {
  return ReadMirrorLines(layout, now_ns);
}

absl::string_view EpisodeStateName(EpisodeState state) {
  switch (state) {
    case EpisodeState::kNone:
      return "none";
    case EpisodeState::kActive:
      return "active";
    case EpisodeState::kForced:
      return "forced";
    case EpisodeState::kExpired:
      return "expired";
  }
  return "unknown";
}

uint64_t Counters::total_decisions() const {
  uint64_t sum = 0;
  for (uint64_t d : decisions) sum += d;
  return sum;
}

void Counters::Add(const Counters& other) {
  for (int m = 0; m < kModeCount; ++m) decisions[m] += other.decisions[m];
  failsafes += other.failsafes;
  errors += other.errors;
  anomalies += other.anomalies;
}

void Counters::Subtract(const Counters& other) {
  for (int m = 0; m < kModeCount; ++m) decisions[m] -= other.decisions[m];
  failsafes -= other.failsafes;
  errors -= other.errors;
  anomalies -= other.anomalies;
}

Health HealthOf(const Snapshot& snapshot) {
  return snapshot.mirror.healthy ? Health::kHealthy : Health::kMirrorUnhealthy;
}

absl::StatusOr<std::unique_ptr<Segment>> OpenForInspection(
    absl::string_view name) {
  SegmentOptions options;
  options.name = std::string(name);
  options.attach_timeout = kAttachTimeout;
  absl::StatusOr<std::unique_ptr<Segment>> segment =
      Segment::OpenReadOnly(options);
  if (absl::IsNotFound(segment.status())) {
    return absl::NotFoundError(absl::StrCat(
        "no segment ", name, " (", SegmentPath(name),
        "): no process has decided on this host yet, or the name is wrong; "
        "check --segment / VIX_SEGMENT"));
  }
  return segment;
}

absl::StatusOr<Inspector> Inspector::Create(const Config& config) {
  absl::StatusOr<Policy> policy = Policy::Create(config.policy);
  if (!policy.ok()) return policy.status();
  absl::Status episode = ValidateEpisodeConfig(config.episode);
  if (!episode.ok()) return episode;
  absl::StatusOr<int64_t> deadman =
      SecondsToNs(config.episode.deadman_s, "deadman_s");
  if (!deadman.ok()) return deadman.status();
  return Inspector(*std::move(policy), *deadman);
}

absl::StatusOr<Snapshot> Inspector::Inspect(absl::string_view segment_name,
                                            int64_t now_ns) const {
  absl::StatusOr<std::unique_ptr<Segment>> segment =
      OpenForInspection(segment_name);
  if (!segment.ok()) return segment.status();
  return Read(**segment, now_ns);
}

Snapshot Inspector::Read(const Segment& segment, int64_t now_ns) const {
  const SegmentLayout& layout = segment.layout();
  Snapshot snapshot;
  snapshot.now_ns = now_ns;
  snapshot.deadman_ns = deadman_ns_;
  snapshot.header = ReadHeader(layout.header, segment.name());
  const Scope* scopes = ScopesOf(layout);
  for (uint32_t i = 0; i < ScopeCapacityOf(layout); ++i) {
    const uint64_t state = scopes[i].state.load(kAcquire);
    if (ScopeStateWord::State(state) != kScopeUsed) continue;
    snapshot.scopes.push_back(ReadScope(scopes[i], i, now_ns));
    snapshot.totals.episodes_started += snapshot.scopes.back().episodes_started;
    snapshot.totals.episodes_ended += snapshot.scopes.back().episodes_ended;
  }
  snapshot.mirror = ReadMirrorLines(layout, now_ns);
  ReadSlots(layout, snapshot);
  return snapshot;
}

ScopeView Inspector::ReadScope(const Scope& scope, uint32_t index,
                               int64_t now_ns) const {
  ScopeView v;
  v.index = index;
  v.name = ReadScopeName(scope);
  const int64_t word = scope.episode.load(kAcquire);
  v.last_refresh_ns = scope.last_panic_ns.load(kRelaxed);
  v.calm_since_ns = scope.calm_since_ns.load(kRelaxed);
  v.remote_start_ns = scope.remote_start_ns.load(kAcquire);
  v.first_writer_pid = scope.first_writer_pid.load(kRelaxed);
  v.forced_by_pid = scope.forced_by_pid.load(kRelaxed);
  v.last_transition_ns = scope.last_transition_ns.load(kRelaxed);
  v.episodes_started = scope.episodes_started.load(kRelaxed);
  v.episodes_ended = scope.episodes_ended.load(kRelaxed);
  for (int s = 0; s < kStakesCount; ++s) {
    v.stakes[s].stakes = static_cast<Stakes>(s);
  }
  if (word == 0) return v;

  v.start_ns = EpisodeWord::StartNs(word);
  v.deadman_deadline_ns = v.last_refresh_ns + deadman_ns_;
  v.unconfirmed = EpisodeWord::Unconfirmed(word);
  // The engine's rule (it reads its snapshots here too): older than the
  // switch reads as no episode.
  if (now_ns - v.last_refresh_ns > deadman_ns_) {
    v.episode = EpisodeState::kExpired;
    return v;
  }
  v.episode =
      EpisodeWord::Forced(word) ? EpisodeState::kForced : EpisodeState::kActive;
  v.future_start = v.start_ns > now_ns;
  v.age_ns = v.future_start ? 0 : now_ns - v.start_ns;
  BaseTtl uncapped;
  BaseTtl::FromSeconds(BaseTtl::kMax, &uncapped);
  // An unconfirmed adopted start decides tier 1, as the engine does.
  const int64_t decided_age = v.unconfirmed ? 0 : v.age_ns;
  for (StakesView& s : v.stakes) {
    const Decision d = policy_.DecideForAge(decided_age, uncapped, s.stakes);
    s.tier = d.tier;
    s.mode = d.mode;
    s.ttl_seconds = d.ttl_seconds;
  }
  return v;
}

}  // namespace vix::shm
