// The engine's background thread: refreshes the cached clock, finds tier
// changes, writes log lines, stamps heartbeats and reclaims dead slots.
//
// It never waits on anything but its own tick (SPEC 15): log lines are
// written only when the fd can take them (a stalled reader makes events
// wait in the queue, then drop, counted in the segment); the slot lock is
// only ever tried. It ticks every millisecond while this process decides
// and every 200 ms after 100 ms without a decision, so an idle engine wakes
// 5 times a second (SPEC 10: <= 50 wake-ups, <= 0.05% of a core; each
// wake-up costs tens of µs on a loaded VM, mostly the kernel's). The first
// decisions after an idle spell may read a clock up to 200 ms old;
// transitions never do (they read the precise clock). A forked child starts
// its own thread on its first decision.
#include <chrono>

#include "vixbreaker/shm/engine.h"
#include "vixbreaker/shm/process.h"
#include "vixbreaker/shm/scope_name.h"

namespace vix::shm {
namespace {

constexpr int64_t kHeartbeatIntervalNs = 1'000'000'000;
// Dead processes' slots are reclaimed off the hot path, at open and then
// every few seconds (and on demand when the table is full).
constexpr int64_t kReclaimIntervalNs = 5'000'000'000;
constexpr auto kBusyTick = std::chrono::milliseconds(1);
constexpr auto kIdleTick = std::chrono::milliseconds(200);
constexpr int64_t kIdleAfterNs = 100'000'000;

}  // namespace

void Engine::StartBackground() {
  background_running_.store(true, std::memory_order_relaxed);
  background_ = std::thread(&Engine::BackgroundLoop, this);
}

void Engine::ChildAfterFork(void* context) {
  // The only thread of the child: the parent's background thread does not
  // exist here. Its std::thread handle is abandoned, never joined.
  auto* engine = static_cast<Engine*>(context);
  engine->pid_ = getpid();
  engine->episodes_->AfterFork(engine->pid_);
  new (&engine->background_) std::thread();
  new (&engine->drain_mu_) std::mutex();
  new (&engine->stop_mu_) std::mutex();
  new (&engine->stop_cv_) std::condition_variable();
  Event discarded;  // the parent's pending lines are the parent's to write
  while (engine->events_.TryPop(&discarded)) {
  }
  engine->own_clock_.SetNs(RealtimeNowNs());
  // Started on the child's first decision (ClaimSlot), not here: a child
  // that only execs (subprocess, fork+exec) never starts a thread.
  engine->background_running_.store(false, std::memory_order_release);
}

void Engine::EnsureBackground() noexcept {
  if (background_running_.load(std::memory_order_acquire)) return;
  if (options_.clock == nullptr) own_clock_.SetNs(RealtimeNowNs());
  bool expected = false;
  if (background_running_.compare_exchange_strong(expected, true,
                                                  std::memory_order_acq_rel)) {
    background_ = std::thread(&Engine::BackgroundLoop, this);
  }
}

ProcessSlot* Engine::ClaimSlot() noexcept {
  EnsureBackground();
  return slots_->ClaimForThisThread();
}

void Engine::BackgroundLoop() {
  int64_t last_heartbeat = 0;
  int64_t last_reclaim = 0;  // the first pass runs at open
  int64_t last_active = RealtimeNowNs();
  uint64_t last_decisions = 0;
  std::unique_lock<std::mutex> lock(stop_mu_);
  while (!stop_) {
    lock.unlock();
    const int64_t now = RealtimeNowNs();
    if (options_.clock == nullptr) own_clock_.SetNs(now);
    if (scopes_ != nullptr)
      episodes_->LogTierChanges(*scopes_, clock_->NowNs());
    if (slots_->TakeTableFullNotice()) {
      Event e{EventKind::kSlotTableFull};
      e.at_ns = now;
      Push(e);
    }
    DrainLogs();
    if (layout_ != nullptr && now - last_reclaim >= kReclaimIntervalNs) {
      last_reclaim = now;
      slots_->ReclaimDead();
    }
    if (layout_ != nullptr && now - last_heartbeat >= kHeartbeatIntervalNs) {
      last_heartbeat = now;
      slots_->Heartbeat(now);
    }
    const uint64_t decisions = slots_->DecisionsSoFar();
    if (decisions != last_decisions) {
      last_decisions = decisions;
      last_active = now;
    }
    const bool idle = now - last_active >= kIdleAfterNs;
    lock.lock();
    stop_cv_.wait_for(lock, idle ? kIdleTick : kBusyTick,
                      [this] { return stop_; });
  }
}

bool Engine::DrainLogs() noexcept {
  std::unique_lock<std::mutex> lock(drain_mu_, std::try_to_lock);
  if (!lock.owns_lock()) return false;
  Event event;
  std::string line;
  while (events_.Peek(&event)) {
    line = EventLogLine(event, options_.segment.name,
                        EventScopeName(event, scopes_.get()), pid_);
    if (!TryWriteLogLine(options_.log_fd, line)) return false;
    events_.TryPop(&event);
  }
  return true;
}

void Engine::FlushLogs(absl::Duration max_wait) {
  if (scopes_ != nullptr) episodes_->LogTierChanges(*scopes_, clock_->NowNs());
  const absl::Time deadline = absl::Now() + max_wait;
  while (!DrainLogs() && absl::Now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

}  // namespace vix::shm
