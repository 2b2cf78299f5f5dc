// The rolling-window breaker shared by every process of a host (SPEC 6).
//
//   auto engine = vix::shm::Engine::Open({});
//   auto window = vix::shm::RollingWindow::Open(**engine, {});
//   vix::shm::WindowDecision w = (*window)->Record(status, base_ttl);
//   // w.breaker.ttl_seconds, w.breaker.strategy, w.breaker.mode
//
// The window is time-based: kWindowBuckets buckets of `bucket_width_ns`
// (30 min of 1 s by default) in the segment. Each sample is one CAS on the
// bucket of the current time; a bucket left from an earlier pass of the ring
// is recycled by the same CAS, so a concurrent count is never lost. The panic
// ratio is read from all buckets of the last window, so all processes share
// one ratio. The mode is one shared word changed by CAS: each transition
// happens once per host, is written to a bounded history in the segment and
// is logged (one JSON line on the log fd) by the process whose CAS won.
// An update makes at most one transition.
//
// Cost: one CAS and a read of the current bucket; each thread re-reads the
// other 1799 buckets once per bucket width (a sample that a process with a
// lagging clock adds to the previous bucket is seen from the next bucket
// on). No lock, no system call, no allocation. It is a separate API:
// Engine::Decide never touches it.
//
// fork(): a window opened before fork() keeps working in the child with no
// call from user code (pthread_atfork). The child's first Record starts its
// engine's background thread (the clock the window reads) and the window's
// log thread, so a child that only execs starts none; the child's
// transitions carry its own pid, and closing the window there never waits
// for the parent's thread.
#ifndef VIXBREAKER_SHM_WINDOW_H_
#define VIXBREAKER_SHM_WINDOW_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "vixbreaker/core/breaker.h"
#include "vixbreaker/core/types.h"
#include "vixbreaker/shm/clock.h"
#include "vixbreaker/shm/engine.h"
#include "vixbreaker/shm/layout.h"

namespace vix::shm {

struct WindowOptions {
  BreakerThresholds thresholds;
  // Where the transition log lines go; -1 disables logging. Written
  // without blocking: a line the fd cannot take is dropped and counted in
  // the segment (log_events_dropped).
  int log_fd = 2;
};

// Samples in the window; ratio 0 when it is empty.
struct WindowCounts {
  uint64_t panic = 0;
  uint64_t total = 0;
  double PanicRatio() const {
    return total == 0 ? 0.0
                      : static_cast<double>(panic) / static_cast<double>(total);
  }
};

// The result of recording one sample.
struct WindowDecision {
  BreakerDecision breaker;    // TTL, strategy and the mode now in force
  WindowCounts counts;        // the window, this sample included
  bool transitioned = false;  // this call's CAS changed the mode (and logged)
};

// One entry of the transition history.
struct WindowTransitionRecord {
  uint64_t sequence = 0;  // 1 for the first transition of the segment
  int64_t at_ns = 0;
  BreakerMode from = BreakerMode::kNormal;
  BreakerMode to = BreakerMode::kNormal;
  double panic_ratio = 0;  // to a millionth
  uint64_t panic_samples = 0;
  uint64_t total_samples = 0;
  int64_t pid = 0;
};

// The whole window as one reader sees it (slow; tools and tests).
struct WindowSnapshot {
  BreakerMode mode = BreakerMode::kNormal;  // as of the last update
  uint64_t transitions = 0;                 // since the segment was created
  WindowCounts counts;                      // in the window ending at now
  int64_t bucket_width_ns = 0;
  int64_t window_ns = 0;
  uint64_t late_samples = 0;
  uint64_t saturated_samples = 0;
  std::vector<WindowTransitionRecord> history;  // oldest first, <= 64
};

// Reads the window without writing to it (works on a read-only mapping).
WindowSnapshot ReadWindow(const SegmentLayout& layout, int64_t now_ns);
WindowSnapshot ReadWindow(const Window& window, int64_t now_ns);

// The JSON log line of a transition (no newline), built with core's LogLine.
std::string TransitionLogLine(const WindowTransitionRecord& record,
                              absl::string_view segment);

class RollingWindow {
 public:
  // Uses the engine's segment and clock; the engine must outlive the window.
  // FailedPrecondition if the engine has no segment, InvalidArgument for bad
  // thresholds or a segment whose bucket width is not positive.
  static absl::StatusOr<std::unique_ptr<RollingWindow>> Open(
      Engine& engine, const WindowOptions& options);
  ~RollingWindow();
  RollingWindow(const RollingWindow&) = delete;
  RollingWindow& operator=(const RollingWindow&) = delete;

  // Counts `status` in the bucket of now, moves the mode at most one step,
  // and returns the breaker's TTL for `status` in the mode now in force.
  // Thread-safe.
  WindowDecision Record(Status status, BaseTtl base_ttl) noexcept;

  // The window now, read-only.
  WindowSnapshot Snapshot() const;
  const Breaker& breaker() const { return breaker_; }

  // Writes queued transition lines now (a background thread does it every
  // 10 ms). For short-lived tools before they exit.
  void FlushLogs();

 private:
  class PendingLog;
  struct ForkHooks;  // window_fork.cc
  RollingWindow(Engine& engine, Breaker breaker, const WindowOptions& options);
  bool CountSample(Status status, int64_t now) noexcept;
  WindowCounts CountForRecord(int64_t now) noexcept;
  bool TryTransition(uint64_t word, BreakerMode to, WindowCounts counts,
                     int64_t now) noexcept;
  void BackgroundLoop();
  // In a forked child (its only thread), from the fork handler.
  void ResetAfterFork() noexcept;
  // window_fork.cc
  void RegisterForFork();
  void UnregisterForFork();
  // A forked child's first Record: starts the background work.
  void StartInChild() noexcept;

  const uint64_t id_;  // tells windows apart in thread-local caches
  Engine* engine_;
  Window* window_;
  const CachedClock* clock_;
  Breaker breaker_;
  int64_t bucket_width_ns_;
  const LogWriter log_;
  std::string segment_name_;
  int64_t pid_;
  std::unique_ptr<PendingLog> pending_;
  std::mutex flush_mu_;
  std::atomic<bool> stop_{false};
  // Set in a forked child until its first Record starts the background.
  std::atomic<bool> forked_{false};
  std::thread background_;
};

// The predecessor's cache path in one call: market statuses -> the match
// status (panic if any market is) -> the breaker's TTL, recorded in the
// shared window, with the quota engine's decision for the same match
// status beside it.
struct MatchDecision {
  Status match_status = Status::kNormal;
  WindowDecision window;
  Decision quota;
};
MatchDecision DecideMatch(Engine& engine, ScopeHandle scope,
                          RollingWindow& window,
                          absl::Span<const Status> market_statuses,
                          BaseTtl base_ttl, Stakes stakes) noexcept;

}  // namespace vix::shm

#endif  // VIXBREAKER_SHM_WINDOW_H_
