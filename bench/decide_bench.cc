// Microbenchmarks of the decision hot path (SPEC 10). Run pinned:
//   taskset -c 1 build/bench/decide_bench --benchmark_repetitions=5
//     --benchmark_report_aggregates_only=true
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <thread>

#include "absl/strings/str_cat.h"
#include "benchmark/benchmark.h"
#include "vixbreaker/core/policy.h"
#include "vixbreaker/shm/engine.h"

namespace vix::shm {
namespace {

BaseTtl Ttl60() {
  BaseTtl ttl;
  BaseTtl::FromSeconds(60, &ttl);
  return ttl;
}

// One engine on a private segment, removed at exit.
class BenchEngine {
 public:
  BenchEngine() {
    name_ = absl::StrCat("vixbench-", getpid());
    EngineOptions options;
    options.segment.name = name_;
    options.log_fd = -1;
    engine_ = *Engine::Open(options);
  }
  ~BenchEngine() {
    engine_.reset();
    (void)Segment::Destroy(name_);
  }
  Engine& operator*() { return *engine_; }
  Engine* operator->() { return engine_.get(); }

 private:
  std::string name_;
  std::unique_ptr<Engine> engine_;
};

Engine& SharedEngine() {
  static BenchEngine engine;
  return *engine;
}

void BM_DecidePanicSteady(benchmark::State& state) {
  Engine& engine = SharedEngine();
  const Stakes stakes = static_cast<Stakes>(state.range(0));
  const ScopeHandle scope = engine.global_scope();
  engine.Decide(scope, Status::kPanic, Ttl60(), stakes);  // start the episode
  for (auto _ : state) {
    Decision d = engine.Decide(scope, Status::kPanic, Ttl60(), stakes);
    benchmark::DoNotOptimize(d.ttl_seconds);
    benchmark::DoNotOptimize(d.mode);
  }
  state.SetLabel(std::string(StakesName(stakes)));
}
BENCHMARK(BM_DecidePanicSteady)->DenseRange(0, 2);

void BM_DecideNormalNoEpisode(benchmark::State& state) {
  Engine& engine = SharedEngine();
  absl::StatusOr<ScopeHandle> scope = engine.FindOrCreateScope("calm");
  for (auto _ : state) {
    benchmark::DoNotOptimize(
        engine.Decide(*scope, Status::kNormal, Ttl60(), Stakes::kLow));
  }
}
BENCHMARK(BM_DecideNormalNoEpisode);

void BM_DecideWarningDuringForcedEpisode(benchmark::State& state) {
  Engine& engine = SharedEngine();
  absl::StatusOr<ScopeHandle> scope = engine.FindOrCreateScope("forced");
  (void)engine.ForceStart(*scope, engine.clock().NowNs() - 3600'000'000'000);
  for (auto _ : state) {
    benchmark::DoNotOptimize(
        engine.Decide(*scope, Status::kWarning, Ttl60(), Stakes::kHigh));
  }
}
BENCHMARK(BM_DecideWarningDuringForcedEpisode);

void BM_PolicyAlone(benchmark::State& state) {
  const Policy policy = *Policy::Create({});
  int64_t age = 0;
  for (auto _ : state) {
    age += 1'000'000'007;  // walk through the tiers
    benchmark::DoNotOptimize(policy.DecideForAge(age & ((int64_t{1} << 45) - 1),
                                                 Ttl60(), Stakes::kMedium));
  }
}
BENCHMARK(BM_PolicyAlone);

void BM_ClassifyFromStrings(benchmark::State& state) {
  const Policy policy = *Policy::Create({});
  const std::string league = "English Premier League";
  const std::string competition = "Matchday 14";
  for (auto _ : state) {
    benchmark::DoNotOptimize(policy.Classify(league, competition));
  }
}
BENCHMARK(BM_ClassifyFromStrings);

void BM_DecideWithStrings(benchmark::State& state) {
  Engine& engine = SharedEngine();
  for (auto _ : state) {
    benchmark::DoNotOptimize(engine.Decide(
        "global", "panic", 60, "English Premier League", "Matchday 14"));
  }
}
BENCHMARK(BM_DecideWithStrings);

// The CAS path: each iteration starts an episode and ends it again.
void BM_EpisodeStartAndEnd(benchmark::State& state) {
  Engine& engine = SharedEngine();
  absl::StatusOr<ScopeHandle> scope = engine.FindOrCreateScope("cas");
  for (auto _ : state) {
    benchmark::DoNotOptimize(
        engine.Decide(*scope, Status::kPanic, Ttl60(), Stakes::kHigh));
    benchmark::DoNotOptimize(
        engine.Decide(*scope, Status::kNormal, Ttl60(), Stakes::kHigh));
  }
}
BENCHMARK(BM_EpisodeStartAndEnd);

// A decision while another thread keeps writing the same scope's hot line
// (forcing the start back and forth): the cost of a contended cache line.
void BM_DecideWhileAnotherThreadWrites(benchmark::State& state) {
  Engine& engine = SharedEngine();
  absl::StatusOr<ScopeHandle> scope = engine.FindOrCreateScope("contended");
  std::atomic<bool> stop{false};
  std::thread writer([&] {
    int64_t start = engine.clock().NowNs() - 1'000'000'000;
    while (!stop.load(std::memory_order_relaxed)) {
      (void)engine.ForceStart(*scope, start);
      start ^= 2;
    }
  });
  for (auto _ : state) {
    benchmark::DoNotOptimize(
        engine.Decide(*scope, Status::kPanic, Ttl60(), Stakes::kHigh));
  }
  stop.store(true);
  writer.join();
}
BENCHMARK(BM_DecideWhileAnotherThreadWrites)->UseRealTime();

void BM_DecideWithoutSegment(benchmark::State& state) {
  EngineOptions options;
  options.segment.name = "bad/name";
  options.log_fd = -1;
  std::unique_ptr<Engine> engine = *Engine::Open(options);
  for (auto _ : state) {
    benchmark::DoNotOptimize(engine->Decide(
        engine->global_scope(), Status::kPanic, Ttl60(), Stakes::kHigh));
  }
}
BENCHMARK(BM_DecideWithoutSegment);

// Why the engine caches the clock: what reading it directly would cost.
void BM_ClockGettime(benchmark::State& state) {
  const clockid_t clock =
      state.range(0) == 0 ? CLOCK_REALTIME : CLOCK_REALTIME_COARSE;
  timespec ts;
  for (auto _ : state) {
    clock_gettime(clock, &ts);
    benchmark::DoNotOptimize(ts);
  }
  state.SetLabel(state.range(0) == 0 ? "CLOCK_REALTIME"
                                     : "CLOCK_REALTIME_COARSE");
}
BENCHMARK(BM_ClockGettime)->Arg(0)->Arg(1);

}  // namespace
}  // namespace vix::shm

BENCHMARK_MAIN();
