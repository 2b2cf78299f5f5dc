// The mirror thread's state and steps (internal to persist/).
//   mirror_loop.cc     options, Start, the thread, the lease, logging
//   mirror_connect.cc  connections, Sentinel resolution and switches, Exec
//   mirror_sync.cc     the per-scope protocol of SPEC 5
//
// Clocks (SPEC 4): every `now` and every *_ns schedule below is
// CLOCK_MONOTONIC (shm::MonotonicNowNs), so a wall-clock step neither stalls
// nor hurries polls, refreshes, reconnects or the lease. The wall clock
// (WallNow, injectable) is read only for what other hosts or people read:
// a Redis value's plausibility, health and log timestamps.
#ifndef VIXBREAKER_PERSIST_SRC_MIRROR_LOOP_H_
#define VIXBREAKER_PERSIST_SRC_MIRROR_LOOP_H_

#include <sys/types.h>

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "redis_connection.h"
#include "sentinel.h"
#include "vixbreaker/core/json.h"
#include "vixbreaker/persist/health.h"
#include "vixbreaker/persist/mirror.h"
#include "vixbreaker/persist/wire.h"
#include "vixbreaker/shm/layout.h"

namespace vix::persist {

// What the holder knows about one scope's key.
struct ScopeSync {
  bool known = false;
  uint32_t index = 0;
  std::string name, key, channel;
  // The local episode as last reconciled with Redis.
  int64_t synced_word = 0;
  uint64_t synced_started = 0;
  // The Redis value the local episode mirrors (0: none known).
  int64_t published_ns = 0;
  // Connection generation in which the key was last seen holding it.
  uint64_t confirmed_generation = 0;
  // The remote start this mirror cached in the segment (0: none).
  int64_t cached_remote_ns = 0;
  // What this holder last read from Redis for that cache (0: no key), and
  // in which connection generation; kept when the cache is cleared.
  int64_t seen_remote_ns = 0;
  uint64_t seen_generation = 0;
  uint64_t generation = 0;     // the entry's, when discovered
  int64_t last_expire_ns = 0;  // monotonic
  int64_t refreshed_panic_ns = 0;
  int64_t retry_after_ns = 0;  // monotonic: after an error reply, no hammering
  bool poll_now = false;
};

// A value read from the key.
struct KeyRead {
  enum class Kind { kMissing, kValid, kInvalid };
  Kind kind = Kind::kInvalid;
  int64_t start_ns = 0;  // kValid, normalised to an episode start
};

class Mirror::Loop {
 public:
  Loop(shm::Engine& engine, MirrorOptions options, RedisEndpoint endpoint,
       std::atomic<bool>* holds_lease);
  ~Loop();
  void Start();
  void Stop();
  const RedisEndpoint& endpoint() const { return endpoint_; }

 private:
  // ---- mirror_loop.cc
  void Run();
  void Iterate(int64_t now);
  void StepLease(int64_t now);
  void AcquireLease(int64_t now);
  void LoseLease();
  void ResetScopesForNewHolder();

  // ---- mirror_connect.cc
  void Connect(int64_t now);
  // The main connection: direct, or to the master the sentinels name.
  bool ConnectMain(const internal::ConnectionOptions& co);
  // Sentinel only: keeps a +switch-master subscription open and acts on it.
  void WatchSwitches(int64_t now);
  void DropSwitches(const absl::Status& status);
  void OnSwitch(const internal::MasterSwitch& change);
  void FailConnection(const absl::Status& status,
                      absl::string_view otherwise_kind);
  void Disconnect();
  void WaitForWork();
  void CheckRunId(int64_t now);
  absl::StatusOr<std::string> ReadRunId();
  // One command on the main connection; nullopt when the transport failed
  // (the connection is then dropped). Error replies other than WRONGTYPE
  // are reported here; callers still see them.
  std::optional<internal::Reply> Exec(const std::vector<std::string>& argv);
  void MarkSuccess();
  void FlushCommandCount();
  int64_t WallNow() const;  // never for a schedule (see top)
  bool connected() const { return conn_ != nullptr; }

  // Logging (SPEC 8): Line(event) starts a JSON log line (ts, event,
  // segment, pid) for the caller's fields; Log writes it. Errors are logged
  // once per kind until they clear.
  JsonObject Line(absl::string_view event) const;
  void Log(const JsonObject& line);
  void LogErrorOnce(absl::string_view kind, absl::string_view key,
                    absl::string_view text);
  void ClearLoggedErrors(bool connection_kinds, absl::string_view key);

  // ---- mirror_sync.cc
  void DiscoverScopes();
  void DrainSubscription();
  void ReconcileLocal(ScopeSync& s, int64_t now);
  void PublishLocal(ScopeSync& s, int64_t word, uint64_t started, int64_t now,
                    bool republish);
  bool EndInRedis(ScopeSync& s);
  void Poll(int64_t now);
  void HandleRead(ScopeSync& s, const internal::Reply& reply, int64_t now,
                  bool from_get);
  KeyRead Classify(ScopeSync& s, const internal::Reply& reply);
  bool AdoptIntoLocal(ScopeSync& s, int64_t word, uint64_t started,
                      int64_t start_ns);
  void EndLocalFromRemote(ScopeSync& s, int64_t word);
  void CacheRemote(ScopeSync& s, int64_t start_ns);
  // Whether this holder read `start_ns` for its cache before a reconnect
  // or a new run id: if the key is gone now, Redis may have lost it.
  bool SeenBeforeThisConnection(const ScopeSync& s, int64_t start_ns) const;
  void RefreshExpiry(ScopeSync& s, int64_t now);
  void Announce(const ScopeSync& s, absl::string_view op,
                absl::string_view value);
  void MarkSynced(ScopeSync& s, int64_t word, uint64_t started,
                  int64_t published_ns);
  bool Settled(const ScopeSync& s) const;
  // The scope's entry, read-only: every write goes through episodes_.
  const shm::Scope& scope(const ScopeSync& s) const {
    return *table_.At(s.index).scope;
  }
  shm::ScopeHandle handle(const ScopeSync& s) const {
    return table_.At(s.index);
  }
  // The remote cache is only as good as this holder's last look at Redis
  // (SPEC 3): renewed by each successful read, cleared when the mirror
  // stops, loses its lease or loses Redis.
  int64_t CacheDeadline() const;
  void ClearRemoteCaches();
  void EndRemoteOnRequest(ScopeSync& s);

  shm::Engine::MirrorRegion region_;
  shm::EpisodeWriter& episodes_;
  const shm::ScopeTable& table_;
  std::string segment_name_;
  const MirrorOptions options_;
  const shm::LogWriter log_;  // options_.log_fd; drops counted in the segment
  const RedisEndpoint endpoint_;
  std::atomic<bool>* holds_lease_;
  HealthWriter health_;
  const pid_t pid_;
  const uint64_t start_ticks_;
  std::string mirror_id_;  // tells our own announcements apart
  std::mt19937_64 random_;

  // Durations in ns, from options_.
  int64_t poll_ns_, refresh_ns_, lease_ns_, scan_ns_, ahead_ns_;
  int64_t health_window_ns_, run_id_check_ns_;
  int64_t healthy_renewed_ns_ = 0;  // CLOCK_MONOTONIC

  std::atomic<bool> stop_{false};
  int stop_fd_ = -1;  // eventfd: wakes the thread to stop
  std::thread thread_;

  bool holder_ = false;
  int64_t last_renew_ns_ = 0;  // CLOCK_MONOTONIC
  std::unique_ptr<internal::RedisConnection> conn_;
  std::unique_ptr<internal::RedisConnection> sub_;
  // Sentinel (SPEC 14): the resolver, the master it found, the
  // +switch-master subscription on a sentinel (kept across reconnects).
  std::unique_ptr<internal::SentinelResolver> resolver_;
  RedisEndpoint master_;  // what conn_ and sub_ talk to
  std::unique_ptr<internal::RedisConnection> switches_;
  int64_t next_switches_ns_ = 0;
  uint64_t generation_ = 0;  // +1 per connection or detected restart
  std::string run_id_;
  bool ever_connected_ = false;
  int64_t backoff_ns_;
  int64_t next_connect_ns_ = 0;
  int64_t next_poll_ns_ = 0;
  int64_t next_run_id_check_ns_ = 0;
  uint64_t commands_ = 0;
  uint64_t commands_flushed_ = 0;
  std::set<std::string> logged_errors_;
  std::vector<ScopeSync> scopes_;  // one per scope table entry
};

}  // namespace vix::persist

#endif  // VIXBREAKER_PERSIST_SRC_MIRROR_LOOP_H_
