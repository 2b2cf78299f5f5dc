// The Redis mirror (SPEC 5): one thread per host that keeps the segment's
// episodes and a Redis key in agreement, so every host sees the same panic
// start and the key carries the predecessor's 24 h dead-man's switch.
//
//   auto engine = vix::shm::Engine::Open({});
//   vix::persist::MirrorOptions options;
//   options.redis_url = "redis://:secret@10.0.0.5:6379/0";
//   auto mirror = vix::persist::Mirror::Start(**engine, options);
//   ... decide as usual: deciding threads never wait for Redis ...
//   mirror->reset();  // before the engine goes away
//
// Every process that configures Redis may start a Mirror; a lease in the
// segment lets exactly one of them (per segment) talk to Redis. The others
// stand by without a connection and take over when the holder stops, dies
// or stalls past its lease. Protocol, per scope, by the holder:
//   - a local episode not yet in Redis: SET key start NX EX 86400, then GET;
//     the Redis value wins and the segment adopts it;
//   - a running episode: EXPIRE at most once per refresh interval while
//     panic is still observed; a different value is adopted; a key that
//     disappeared on the same connection ends the local episode, but after a
//     reconnect or a changed run_id (Redis restarted) it is published again;
//   - a local end: compare-and-delete (Lua), so a newer episode written by
//     another host is never deleted;
//   - no local episode: the Redis value is cached as the scope's
//     remote_start_ns, which a new local episode adopts (SPEC 3).
// Publishes and ends are announced on `<key>:events`; every holder listens
// on a second connection and polls with GET (MGET for several scopes) every
// poll interval for writers that do not announce (the predecessor).
//
// Only scopes that exist in this host's segment are mirrored.
// Start the mirror after fork(): its thread does not survive one. At most
// one Mirror per segment per process.
#ifndef VIXBREAKER_PERSIST_MIRROR_H_
#define VIXBREAKER_PERSIST_MIRROR_H_

#include <atomic>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "vixbreaker/persist/redis_url.h"
#include "vixbreaker/persist/wire.h"
#include "vixbreaker/shm/engine.h"

namespace vix::persist {

// What panic decisions do while Redis is configured but unhealthy.
enum class UnhealthyPolicy {
  kLocal,   // keep deciding from the segment's clock (default)
  kStrict,  // {0, PANIC_FULL, failsafe}, as the predecessor did
};
absl::StatusOr<UnhealthyPolicy> ParseUnhealthyPolicy(absl::string_view text);
absl::string_view UnhealthyPolicyName(UnhealthyPolicy policy);

struct MirrorOptions {
  std::string redis_url;  // required; see redis_url.h
  std::string key_prefix = std::string(kDefaultKeyPrefix);
  UnhealthyPolicy policy = UnhealthyPolicy::kLocal;
  // GET of every mirrored key: catches lost announcements and writers that
  // never announce. Also bounds how long health can go unconfirmed.
  absl::Duration poll_interval = absl::Seconds(1);
  // EXPIRE of a running episode's key, at most this often.
  absl::Duration refresh_interval = absl::Seconds(10);
  absl::Duration connect_timeout = absl::Milliseconds(500);
  absl::Duration command_timeout = absl::Milliseconds(500);
  // A standby takes over a lease not renewed for this long (at once if the
  // holder process is gone). Must cover a stalled Redis call: see
  // ValidateMirrorOptions.
  absl::Duration lease_period = absl::Seconds(5);
  // Reconnect delays double from backoff_initial up to backoff_max, with
  // equal jitter. backoff_max bounds how long after Redis answers again a
  // disconnected mirror takes to notice (SPEC 14: within a poll interval),
  // so it defaults to the poll interval.
  absl::Duration backoff_initial = absl::Milliseconds(100);
  absl::Duration backoff_max = absl::Seconds(1);
  // How often the segment is checked for local episode changes.
  absl::Duration scan_interval = absl::Milliseconds(5);
  // A Redis value further ahead than this is rejected as far future.
  absl::Duration max_clock_ahead = absl::Hours(1);
  // PUBLISH on `<key>:events`. Off only to exercise the poll path.
  bool announce = true;
  // JSON lines; -1: none. Written without blocking: a line the fd cannot
  // take is dropped and counted in the segment (log_events_dropped).
  int log_fd = 2;
  // The wall clock the mirror reads (whether a Redis value's start is too
  // far ahead, log and health timestamps); null: CLOCK_REALTIME. Tests step
  // it: host-local deadlines and schedules (the lease, health, polls,
  // refreshes, reconnect backoff, run-id checks) never follow it.
  int64_t (*wall_clock_ns)() = nullptr;
};

// Checks every field; errors name the field and the fix. In particular the
// lease must outlast two worst-case stalled Redis exchanges:
// lease_period >= 2 * (2 * (connect_timeout + command_timeout) +
// command_timeout).
absl::Status ValidateMirrorOptions(const MirrorOptions& options);

class Mirror {
 public:
  // Starts the mirror thread for `engine`'s segment; never waits for
  // Redis (an unreachable Redis is retried with capped, jittered backoff).
  // Fails on bad options, an engine without a segment, or a second Mirror
  // for the same segment in this process. `engine` must outlive the Mirror.
  static absl::StatusOr<std::unique_ptr<Mirror>> Start(shm::Engine& engine,
                                                       MirrorOptions options);
  // Stops the thread (waits at most about one command timeout) and, if
  // this process holds the lease, gives it up so a standby takes over.
  ~Mirror();
  Mirror(const Mirror&) = delete;
  Mirror& operator=(const Mirror&) = delete;

  // Whether this process currently holds the segment's mirror lease.
  bool holds_lease() const {
    return holds_lease_.load(std::memory_order_relaxed);
  }
  const RedisEndpoint& endpoint() const;

  class Loop;  // the thread's state (src/mirror_loop.h)

 private:
  Mirror() = default;
  std::unique_ptr<Loop> loop_;
  std::atomic<bool> holds_lease_{false};
};

}  // namespace vix::persist

#endif  // VIXBREAKER_PERSIST_MIRROR_H_
