#include "decide_loop.h"

#include <unistd.h>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "machine.h"
#include "tsc.h"

namespace vix::bench {

BaseTtl Ttl60() {
  BaseTtl ttl;
  BaseTtl::FromSeconds(60, &ttl);
  return ttl;
}

std::string BenchSegmentName(const std::string& tag) {
  return absl::StrCat("vixbench-", getpid(), "-", tag);
}

absl::StatusOr<std::unique_ptr<shm::Engine>> OpenBenchEngine(
    const std::string& segment, const std::vector<int>& cpus, int pin_back) {
  UnpinThisThread(cpus);
  shm::EngineOptions options;
  options.segment.name = segment;
  options.log_fd = -1;
  absl::StatusOr<std::unique_ptr<shm::Engine>> engine =
      shm::Engine::Open(options);
  if (pin_back >= 0) PinThisThread(pin_back);
  if (!engine.ok()) return engine.status();
  if (!(*engine)->segment_status().ok()) {
    return absl::FailedPreconditionError(
        absl::StrCat("segment ", segment,
                     " unavailable: ", (*engine)->segment_status().message()));
  }
  return engine;
}

absl::Status StartSteadyEpisode(shm::Engine& engine, shm::ScopeHandle scope) {
  const Decision first =
      engine.Decide(scope, Status::kPanic, Ttl60(), Stakes::kHigh);
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (engine.clock().NowNs() <= first.episode_start_ns) {
    if (absl::Now() > deadline) {
      return absl::DeadlineExceededError(
          "the engine's cached clock did not pass the episode start within "
          "10 s");
    }
    absl::SleepFor(absl::Milliseconds(1));
  }
  return absl::OkStatus();
}

void TimeDecisions(shm::Engine& engine, shm::ScopeHandle scope, Status status,
                   Stakes stakes, int calls, uint64_t until,
                   TickHistogram* histogram) {
  const BaseTtl ttl = Ttl60();
  for (;;) {
    const uint64_t t0 = TscBegin();
    for (int i = 0; i < calls; ++i) {
      KeepDecision(engine.Decide(scope, status, ttl, stakes));
    }
    const uint64_t t1 = TscEnd();
    histogram->Add(t1 - t0);
    if (t1 >= until) return;
  }
}

void TimeFloor(const shm::Engine& engine, shm::ScopeHandle scope,
               shm::AtomicU64* counter, int calls, uint64_t until,
               TickHistogram* histogram) {
  const shm::CachedClock& clock = engine.clock();
  const shm::AtomicI64& episode = scope.scope->episode;
  for (;;) {
    const uint64_t t0 = TscBegin();
    for (int i = 0; i < calls; ++i) {
      const int64_t word = episode.load(std::memory_order_acquire);
      const int64_t now = clock.NowNs();
      counter->store(counter->load(std::memory_order_relaxed) + 1,
                     std::memory_order_relaxed);
      asm volatile("" : : "r"(word), "r"(now));
    }
    const uint64_t t1 = TscEnd();
    histogram->Add(t1 - t0);
    if (t1 >= until) return;
  }
}

void TimeTwoEngines(shm::Engine& a, shm::ScopeHandle scope_a, shm::Engine& b,
                    shm::ScopeHandle scope_b, Status status, int calls,
                    uint64_t until, TickHistogram* histogram) {
  const BaseTtl ttl = Ttl60();
  for (;;) {
    const uint64_t t0 = TscBegin();
    for (int i = 0; i < calls / 2; ++i) {
      KeepDecision(a.Decide(scope_a, status, ttl, Stakes::kHigh));
      KeepDecision(b.Decide(scope_b, status, ttl, Stakes::kHigh));
    }
    const uint64_t t1 = TscEnd();
    histogram->Add(t1 - t0);
    if (t1 >= until) return;
  }
}

}  // namespace vix::bench
