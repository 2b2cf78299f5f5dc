// The segment's one read model (SPEC 9): a point-in-time view of a live
// segment, read without disturbing writers. The inspector (tools/), the
// engine's EpisodeSnapshot and persist's health all decode the segment here
// and nowhere else, so they agree (expiry and tiers included).
//
//   absl::StatusOr<vix::Inspector> inspector =
//       vix::Inspector::Create(config);
//   absl::StatusOr<vix::Snapshot> snapshot =
//       inspector->Inspect("vixbreaker", vix::RealtimeNowNs());
//
// The segment is mapped read-only (PROT_READ): a stray write faults instead
// of corrupting the writers' state. Its header is validated before anything
// else is read. Every field is read with one atomic load, so a snapshot
// taken while processes decide is a set of individually consistent values,
// not one atomic picture (a counter may be a few decisions ahead of another).
//
// `now` is a parameter so output can be reproduced (tests, post-mortems).
#ifndef VIXBREAKER_SHM_READER_H_
#define VIXBREAKER_SHM_READER_H_

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "vixbreaker/core/config.h"
#include "vixbreaker/core/policy.h"
#include "vixbreaker/core/types.h"
#include "vixbreaker/shm/segment.h"

namespace vix::shm {

// Bumped whenever a field of `vixctl status --json` is renamed, removed or
// changes meaning; adding a field keeps the version.
inline constexpr int kStatusSchemaVersion = 1;

struct HeaderView {
  std::string segment;  // the name, not the path
  uint32_t layout_major = 0;
  uint32_t layout_minor = 0;
  uint64_t size_bytes = 0;
  int64_t created_ns = 0;
  int64_t creator_pid = 0;
  bool creator_alive = false;
  uint64_t generation = 0;
};

// One stakes' view of a scope's episode: what a decision would say now.
struct StakesView {
  Stakes stakes = Stakes::kLow;
  int tier = 0;  // 0 when no episode is active
  Mode mode = Mode::kNormal;
  // The tier's TTL before any cap_at_base; meaningless at tier 0, where a
  // decision returns the caller's base TTL.
  int32_t ttl_seconds = 0;
};

enum class EpisodeState {
  kNone,     // no episode
  kActive,   // started by a panic observation
  kForced,   // started by an admin (`vixctl panic start`)
  kExpired,  // the dead-man's switch passed: reads as no episode
};
absl::string_view EpisodeStateName(EpisodeState state);

struct ScopeView {
  uint32_t index = 0;
  std::string name;
  EpisodeState episode = EpisodeState::kNone;
  int64_t start_ns = 0;  // 0 when there is no episode word
  // now - start, clamped to 0; 0 unless active or forced.
  int64_t age_ns = 0;
  bool future_start = false;  // start after now (clock skew; tier 1)
  // Adopted from the mirror's cache, not yet confirmed in Redis: tier 1.
  bool unconfirmed = false;
  std::array<StakesView, kStakesCount> stakes{};
  int64_t first_writer_pid = 0;
  int64_t forced_by_pid = 0;
  int64_t last_refresh_ns = 0;      // last panic observation (last_panic_ns)
  int64_t deadman_deadline_ns = 0;  // last refresh + dead-man's switch
  int64_t calm_since_ns = 0;
  int64_t remote_start_ns = 0;  // another host's start cached by the mirror
  int64_t last_transition_ns = 0;
  uint64_t episodes_started = 0;
  uint64_t episodes_ended = 0;

  bool running() const {
    return episode == EpisodeState::kActive || episode == EpisodeState::kForced;
  }
};

struct MirrorView {
  bool configured = false;  // a mirror ran on this segment at least once
  bool connected = false;
  bool strict = false;  // policy `strict`: fail safe while unhealthy
  int64_t healthy_until_ns = 0;

  int64_t lease_holder_pid = 0;  // 0: nobody holds the lease
  bool lease_holder_alive = false;
  int64_t lease_expiry_ns = 0;
  bool lease_expired = true;
  uint64_t lease_takeovers = 0;

  int64_t last_success_ns = 0;
  int64_t last_error_ns = 0;
  std::string last_error_text;
  bool error_text_unstable = false;  // being rewritten on every read attempt
  uint64_t reconnects = 0;
  int64_t publish_lag_ns = 0;
  uint64_t commands_sent = 0;
  uint64_t redis_errors = 0;
  uint64_t invalid_values = 0;

  // Configured and connected, with a live holder whose lease has not
  // expired. Always true when not configured (nothing to be unhealthy).
  bool healthy = true;
  std::string unhealthy_reason;  // empty when healthy
};

struct Counters {
  std::array<uint64_t, kModeCount> decisions{};  // by Mode
  uint64_t failsafes = 0;
  uint64_t errors = 0;
  uint64_t anomalies = 0;

  uint64_t total_decisions() const;
  void Add(const Counters& other);
  void Subtract(const Counters& other);  // other <= this, field by field
};

// One deciding thread's slot.
struct ProcessView {
  uint32_t slot = 0;
  int64_t pid = 0;
  int64_t tid = 0;
  bool alive = false;  // same pid and start time, not a zombie
  int64_t attached_ns = 0;
  int64_t heartbeat_ns = 0;
  Counters counters;
};

struct Totals {
  uint32_t slots_in_use = 0;
  uint32_t slots_alive = 0;
  // Counts left in slots by owners that are gone (thread exit, reclaim):
  // counters stay in their slot, so all = retired + every live owner's.
  Counters retired;
  Counters all;  // the sum over every slot: never decreases
  // Log events dropped because a log writer could not keep up (SPEC 9).
  uint64_t log_events_dropped = 0;
  uint64_t episodes_started = 0;  // over every scope
  uint64_t episodes_ended = 0;
};

// The mirror's lines of the segment (lease, health), judged at `now_ns`.
MirrorView ReadMirror(const SegmentLayout& layout, int64_t now_ns);

struct Snapshot {
  int64_t now_ns = 0;
  int64_t deadman_ns = 0;
  HeaderView header;
  std::vector<ScopeView> scopes;  // used scopes, by table index
  MirrorView mirror;
  std::vector<ProcessView> processes;  // slots in use, by index
  Totals totals;
};

// What `vixctl status` reports through its exit code (SPEC 9).
enum class Health { kHealthy, kMirrorUnhealthy };
Health HealthOf(const Snapshot& snapshot);

// Opens `name` read-only, validating the header first. NotFound if it does
// not exist; DataLoss / FailedPrecondition / PermissionDenied /
// DeadlineExceeded for a corrupt, foreign-version, foreign-owner or
// never-published segment (see Segment).
absl::StatusOr<std::unique_ptr<Segment>> OpenForInspection(
    absl::string_view name);

class Inspector {
 public:
  // Fails on an invalid configuration (naming the bad value).
  static absl::StatusOr<Inspector> Create(const Config& config);

  // Opens the segment read-only and reads it.
  absl::StatusOr<Snapshot> Inspect(absl::string_view segment_name,
                                   int64_t now_ns) const;
  // Reads an already open segment (read-only or not; never writes).
  Snapshot Read(const Segment& segment, int64_t now_ns) const;

  const Policy& policy() const { return policy_; }
  int64_t deadman_ns() const { return deadman_ns_; }

 private:
  Inspector(Policy policy, int64_t deadman_ns)
      : policy_(std::move(policy)), deadman_ns_(deadman_ns) {}

  ScopeView ReadScope(const Scope& scope, uint32_t index, int64_t now_ns) const;
  friend class Engine;  // its EpisodeSnapshot is built on ReadScope

  Policy policy_;
  int64_t deadman_ns_;
};

}  // namespace vix::shm

#endif  // VIXBREAKER_SHM_READER_H_
