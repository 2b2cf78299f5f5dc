// fork() for open rolling windows (SPEC 15): a child keeps a working window
// with no call from user code. pthread_atfork handlers only reset state in
// the child (no thread is started there); the child's first Record starts
// the engine's background thread (the clock the window reads) and the
// window's own log thread, as the engine's first decision does.
#include <pthread.h>

#include <mutex>
#include <set>

#include "vixbreaker/shm/window.h"

namespace vix::shm {
namespace {

std::mutex g_windows_mu;
std::set<RollingWindow*>& Windows() {
  static auto* windows = new std::set<RollingWindow*>;
  return *windows;
}

}  // namespace

struct RollingWindow::ForkHooks {
  // Held across fork() so the child never inherits the set mid-change.
  static void Prepare() { g_windows_mu.lock(); }
  static void Parent() { g_windows_mu.unlock(); }
  static void Child() {
    g_windows_mu.unlock();
    for (RollingWindow* w : Windows()) w->ResetAfterFork();
  }
  static void InstallOnce() {
    static const bool installed =
        pthread_atfork(&Prepare, &Parent, &Child) == 0;
    (void)installed;
  }
};

void RollingWindow::RegisterForFork() {
  ForkHooks::InstallOnce();
  std::lock_guard<std::mutex> lock(g_windows_mu);
  Windows().insert(this);
}

void RollingWindow::UnregisterForFork() {
  std::lock_guard<std::mutex> lock(g_windows_mu);
  Windows().erase(this);
}

void RollingWindow::StartInChild() noexcept {
  // First the clock this Record reads, then (once) the log thread.
  engine_->EnsureBackground();
  bool expected = true;
  if (forked_.compare_exchange_strong(expected, false,
                                      std::memory_order_acq_rel) &&
      log_.fd() >= 0) {
    background_ = std::thread(&RollingWindow::BackgroundLoop, this);
  }
}

}  // namespace vix::shm
