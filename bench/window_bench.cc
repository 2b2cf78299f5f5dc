// Microbenchmarks of the rolling-window breaker and the volatility detector
// (SPEC 6, 7). Run pinned:
//   taskset -c 1 build/bench/window_bench --benchmark_repetitions=5
//     --benchmark_report_aggregates_only=true
#include <unistd.h>

#include <string>

#include "absl/strings/str_cat.h"
#include "bench_engine.h"
#include "benchmark/benchmark.h"
#include "vixbreaker/core/breaker.h"
#include "vixbreaker/core/detector.h"
#include "vixbreaker/shm/window.h"

namespace vix::shm {
namespace {

// A window on the shared bench engine's segment.
class BenchWindow {
 public:
  BenchWindow()
      : engine_("window"),
        window_(*RollingWindow::Open(*engine_, WindowOptions{{}, -1})) {}
  ~BenchWindow() { window_.reset(); }
  RollingWindow& window() { return *window_; }

 private:
  BenchEngine engine_;
  std::unique_ptr<RollingWindow> window_;
};

RollingWindow& SharedWindow() {
  static BenchWindow bench;
  return bench.window();
}

// One sample: a CAS on the current bucket, the mode word, the current
// bucket plus this thread's sum of the past ones (re-read once a second, so
// the cost of reading all 1800 buckets is included, amortised) and the TTL
// table. Alternating statuses keep the ratio at 0.5: the mode does not move.
void BM_WindowRecord(benchmark::State& state) {
  RollingWindow& window = SharedWindow();
  int i = 0;
  for (auto _ : state) {
    const Status status = (++i & 1) ? Status::kPanic : Status::kNormal;
    WindowDecision d = window.Record(status, Ttl60());
    benchmark::DoNotOptimize(d.breaker.ttl_seconds);
  }
}
BENCHMARK(BM_WindowRecord)->ThreadRange(1, 2)->UseRealTime();

// The pure part alone: state machine step plus TTL table.
void BM_BreakerNextAndDecide(benchmark::State& state) {
  const Breaker breaker = *Breaker::Create({});
  double ratio = 0.55;
  for (auto _ : state) {
    benchmark::DoNotOptimize(ratio);
    const BreakerMode mode = breaker.Next(BreakerMode::kNormal, ratio);
    BreakerDecision d = Breaker::Decide(mode, Status::kWarning, Ttl60());
    benchmark::DoNotOptimize(d.ttl_seconds);
  }
}
BENCHMARK(BM_BreakerNextAndDecide);

// One detector update on a market that holds the full 100 samples.
void BM_DetectorObserve(benchmark::State& state) {
  VolatilityDetector detector = *VolatilityDetector::Create({});
  int64_t now = 1'764'000'000 * kNanosPerSecond;
  for (int i = 0; i < 100; ++i) {
    (void)detector.Observe("1x2", 2.0 + 0.01 * (i % 7), now++);
  }
  int i = 0;
  for (auto _ : state) {
    absl::StatusOr<ZScore> z =
        detector.Observe("1x2", 2.0 + 0.01 * (++i % 7), now++);
    benchmark::DoNotOptimize(z);
  }
}
BENCHMARK(BM_DetectorObserve);

// The stateless z-score of `vixctl zscore` over 100 samples.
void BM_ComputeZScore(benchmark::State& state) {
  std::vector<double> history;
  for (int i = 0; i < 100; ++i) history.push_back(2.0 + 0.01 * (i % 7));
  for (auto _ : state) {
    absl::StatusOr<ZScore> z = ComputeZScore(history, 2.3);
    benchmark::DoNotOptimize(z);
  }
}
BENCHMARK(BM_ComputeZScore);

}  // namespace
}  // namespace vix::shm

BENCHMARK_MAIN();
