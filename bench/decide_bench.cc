// Microbenchmarks of the decision hot path (SPEC 10). Run pinned:
//   taskset -c 1 build/bench/decide_bench --benchmark_repetitions=5
//     --benchmark_report_aggregates_only=true
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <thread>

#include "absl/strings/str_cat.h"
#include "bench_engine.h"
#include "benchmark/benchmark.h"
#include "vixbreaker/core/policy.h"
#include "vixbreaker/shm/engine.h"
#include "vixbreaker/shm/process.h"

namespace vix::shm {
namespace {

Engine& SharedEngine() {
  static BenchEngine engine("decide");
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

// ---- per tier, status and input; the admin path; a second decider; the
// inspector's read of the whole segment ----

// An engine whose clock only moves when told, so an episode can be placed in
// any tier without waiting hours. Decisions read it exactly as they read the
// real cached clock: the hot path is the same.
struct ClockedEngine {
  ClockedEngine()
      : clock(RealtimeNowNs()),
        name(absl::StrCat("vixbench-", getpid(), "-clock")) {
    EngineOptions options;
    options.segment.name = name;
    options.log_fd = -1;
    options.clock = &clock;
    engine = *Engine::Open(options);
  }
  ~ClockedEngine() {
    engine.reset();
    (void)Segment::Destroy(name);
  }
  CachedClock clock;
  std::string name;
  std::unique_ptr<Engine> engine;
};

ClockedEngine& SharedClockedEngine() {
  static ClockedEngine engine;
  return engine;
}

// An episode age inside `tier` (1..4) for `stakes`, from the default table.
int64_t AgeInTier(Stakes stakes, int tier) {
  const TierRow row = PolicyConfig{}.tiers[static_cast<int>(stakes)];
  const double minutes = tier == 1 ? 1 : row.from_minutes[tier - 2] + 1;
  return static_cast<int64_t>(minutes * kNanosPerMinute);
}

// Steady state per stakes and tier: a panic decision on an episode already
// in that tier (its start placed in the past, then the clock put back).
void BM_DecidePanicByTier(benchmark::State& state) {
  ClockedEngine& ce = SharedClockedEngine();
  const Stakes stakes = static_cast<Stakes>(state.range(0));
  const int tier = static_cast<int>(state.range(1));
  const ScopeHandle scope =
      *ce.engine->FindOrCreateScope(absl::StrCat("tier", state.range(0), tier));
  const int64_t now = ce.clock.NowNs();
  ce.clock.SetNs(now - AgeInTier(stakes, tier));
  ce.engine->Decide(scope, Status::kPanic, Ttl60(), stakes);  // starts it
  ce.clock.SetNs(now);
  Decision d = ce.engine->Decide(scope, Status::kPanic, Ttl60(), stakes);
  for (auto _ : state) {
    d = ce.engine->Decide(scope, Status::kPanic, Ttl60(), stakes);
    benchmark::DoNotOptimize(d.ttl_seconds);
    benchmark::DoNotOptimize(d.mode);
  }
  state.SetLabel(absl::StrCat(StakesName(stakes), " tier ", d.tier, " ",
                              ModeName(d.mode)));
}
BENCHMARK(BM_DecidePanicByTier)
    ->ArgsProduct({{0, 1, 2}, {1, 2, 3, 4}})
    ->ArgNames({"stakes", "tier"});

// Steady state with no episode, per status and stakes.
void BM_DecideCalmByStatus(benchmark::State& state) {
  ClockedEngine& ce = SharedClockedEngine();
  const Status status = static_cast<Status>(state.range(0));
  const Stakes stakes = static_cast<Stakes>(state.range(1));
  const ScopeHandle scope = *ce.engine->FindOrCreateScope("calm");
  for (auto _ : state) {
    Decision d = ce.engine->Decide(scope, status, Ttl60(), stakes);
    benchmark::DoNotOptimize(d.ttl_seconds);
    benchmark::DoNotOptimize(d.mode);
  }
  state.SetLabel(absl::StrCat(StatusName(status), " ", StakesName(stakes)));
}
BENCHMARK(BM_DecideCalmByStatus)
    ->ArgsProduct({{0, 1}, {0, 1, 2}})
    ->ArgNames({"status", "stakes"});

// Classification cost by input: what a caller pays when it classifies on
// every call instead of once per match.
void BM_ClassifyByInput(benchmark::State& state) {
  const Policy policy = *Policy::Create({});
  static const std::pair<const char*, const char*> kInputs[] = {
      {"", ""},
      {"UEFA Champions League", "Group A"},
      {"English Premier League", "Matchday 14"},
      {"Regionalliga Nordost Sud West Division Reserve Teams", "Round 31"},
  };
  const auto& [league, competition] = kInputs[state.range(0)];
  Stakes stakes = Stakes::kLow;
  for (auto _ : state) {
    stakes = policy.Classify(league, competition);
    benchmark::DoNotOptimize(stakes);
  }
  state.SetLabel(absl::StrCat("'", league, "' -> ", StakesName(stakes)));
}
BENCHMARK(BM_ClassifyByInput)->DenseRange(0, 3);

// The string overload with the stakes given: parsing without classifying.
void BM_DecideWithStringsPrecomputedStakes(benchmark::State& state) {
  Engine& engine = SharedEngine();
  for (auto _ : state) {
    benchmark::DoNotOptimize(
        engine.Decide("global", "panic", 60, "", "", Stakes::kMedium));
  }
}
BENCHMARK(BM_DecideWithStringsPrecomputedStakes);

// The admin path: a forced start (exchange) and its end (CAS) per iteration.
void BM_ForceStartAndEnd(benchmark::State& state) {
  Engine& engine = SharedEngine();
  const ScopeHandle scope = *engine.FindOrCreateScope("force");
  const int64_t start = engine.clock().NowNs() - 1'000'000'000;
  for (auto _ : state) {
    benchmark::DoNotOptimize(engine.ForceStart(scope, start));
    benchmark::DoNotOptimize(engine.ForceEnd(scope));
  }
}
BENCHMARK(BM_ForceStartAndEnd);

// A decision while another thread decides on the same scope: the hot line
// is only read by both, so it stays shared and costs nothing extra.
void BM_DecideWhileAnotherThreadDecides(benchmark::State& state) {
  Engine& engine = SharedEngine();
  const ScopeHandle scope = *engine.FindOrCreateScope("shared-read");
  engine.Decide(scope, Status::kPanic, Ttl60(), Stakes::kHigh);
  std::atomic<bool> stop{false};
  std::thread other([&] {
    while (!stop.load(std::memory_order_relaxed)) {
      benchmark::DoNotOptimize(
          engine.Decide(scope, Status::kPanic, Ttl60(), Stakes::kHigh));
    }
  });
  for (auto _ : state) {
    benchmark::DoNotOptimize(
        engine.Decide(scope, Status::kPanic, Ttl60(), Stakes::kHigh));
  }
  stop.store(true);
  other.join();
}
BENCHMARK(BM_DecideWhileAnotherThreadDecides)->UseRealTime();

// Loads every atomic of a span of them (relaxed, as an inspector does).
template <class Atomic, size_t N>
uint64_t LoadAll(const Atomic (&words)[N]) {
  uint64_t sum = 0;
  for (const Atomic& w : words) {
    sum += static_cast<uint64_t>(w.load(std::memory_order_relaxed));
  }
  return sum;
}

uint64_t ReadScope(const Scope& s) {
  return s.episode.load(std::memory_order_acquire) +
         s.last_panic_ns.load(std::memory_order_relaxed) +
         s.calm_since_ns.load(std::memory_order_relaxed) +
         s.logged_tiers.load(std::memory_order_relaxed) +
         LoadAll(s.hot_reserved) + s.state.load(std::memory_order_relaxed) +
         LoadAll(s.name) + s.remote_start_ns.load(std::memory_order_relaxed) +
         s.first_writer_pid.load(std::memory_order_relaxed) +
         s.episodes_started.load(std::memory_order_relaxed) +
         s.episodes_ended.load(std::memory_order_relaxed) +
         s.anomaly_logged_start.load(std::memory_order_relaxed) +
         s.last_transition_ns.load(std::memory_order_relaxed) +
         s.mirror_published_ns.load(std::memory_order_relaxed) +
         s.forced_by_pid.load(std::memory_order_relaxed) +
         s.remote_end_request_ns.load(std::memory_order_relaxed);
}

uint64_t ReadSlot(const ProcessSlot& p) {
  return p.owner.load(std::memory_order_relaxed) +
         p.start_ticks.load(std::memory_order_relaxed) +
         p.heartbeat_ns.load(std::memory_order_relaxed) +
         p.attached_ns.load(std::memory_order_relaxed) +
         LoadAll(p.identity_reserved) + LoadAll(p.decisions) +
         p.failsafes.load(std::memory_order_relaxed) +
         p.errors.load(std::memory_order_relaxed) +
         p.anomalies.load(std::memory_order_relaxed);
}

uint64_t ReadHeaderAndMirror(const SegmentLayout& l) {
  const SegmentHeader& h = l.header;
  uint64_t sum = h.magic.load(std::memory_order_acquire) +
                 h.layout_major.load(std::memory_order_relaxed) +
                 h.layout_minor.load(std::memory_order_relaxed) +
                 h.total_size.load(std::memory_order_relaxed) +
                 h.created_unix_ns.load(std::memory_order_relaxed) +
                 h.creator_pid.load(std::memory_order_relaxed) +
                 h.creator_start_ticks.load(std::memory_order_relaxed) +
                 h.generation.load(std::memory_order_relaxed) +
                 h.scope_capacity.load(std::memory_order_relaxed) +
                 h.slot_capacity.load(std::memory_order_relaxed) +
                 h.window_buckets.load(std::memory_order_relaxed) +
                 h.transition_history.load(std::memory_order_relaxed) +
                 LoadAll(h.reserved);
  sum += l.counters.log_events_dropped.load(std::memory_order_relaxed);
  const MirrorHot& m = l.mirror_hot;
  sum += m.strict.load(std::memory_order_relaxed) +
         m.healthy_until_ns.load(std::memory_order_relaxed) +
         m.failsafe_logged.load(std::memory_order_relaxed) +
         LoadAll(m.reserved);
  const MirrorLease& ls = l.lease;
  sum += ls.holder_pid.load(std::memory_order_relaxed) +
         ls.holder_start_ticks.load(std::memory_order_relaxed) +
         ls.expiry_unix_ns.load(std::memory_order_relaxed) +
         ls.takeovers.load(std::memory_order_relaxed) + LoadAll(ls.reserved);
  const MirrorHealth& hl = l.health;
  sum += hl.configured.load(std::memory_order_relaxed) +
         hl.connected.load(std::memory_order_relaxed) +
         hl.last_success_ns.load(std::memory_order_relaxed) +
         hl.last_error_ns.load(std::memory_order_relaxed) +
         hl.reconnects.load(std::memory_order_relaxed) +
         hl.publish_lag_ns.load(std::memory_order_relaxed) +
         hl.commands_sent.load(std::memory_order_relaxed) +
         hl.redis_errors.load(std::memory_order_relaxed) +
         hl.invalid_values.load(std::memory_order_relaxed) +
         hl.error_text_seq.load(std::memory_order_relaxed) +
         LoadAll(hl.error_text) + LoadAll(hl.reserved);
  return sum;
}

uint64_t ReadWindow(const Window& w) {
  uint64_t sum = w.mode_word.load(std::memory_order_acquire) +
                 w.bucket_width_ns.load(std::memory_order_relaxed) +
                 w.transitions_total.load(std::memory_order_relaxed) +
                 w.late_samples.load(std::memory_order_relaxed) +
                 w.saturated_samples.load(std::memory_order_relaxed) +
                 LoadAll(w.reserved);
  for (const WindowTransition& t : w.history) {
    sum += t.sequence.load(std::memory_order_acquire) +
           t.at_ns.load(std::memory_order_relaxed) +
           t.from_mode.load(std::memory_order_relaxed) +
           t.to_mode.load(std::memory_order_relaxed) +
           t.panic_ratio_ppm.load(std::memory_order_relaxed) +
           t.panic_samples.load(std::memory_order_relaxed) +
           t.total_samples.load(std::memory_order_relaxed) +
           t.pid.load(std::memory_order_relaxed);
  }
  for (const WindowBucket& b : w.buckets) {
    sum += b.packed.load(std::memory_order_relaxed);
  }
  return sum;
}

// What an inspector pays to read the whole live segment once, through a
// read-only mapping (every atomic of SegmentLayout, one load each), while
// this process's engine has it mapped read-write.
void BM_InspectorReadWholeSegment(benchmark::State& state) {
  Engine& engine = SharedEngine();
  SegmentOptions options;
  options.name = engine.segment()->name();
  std::unique_ptr<Segment> reader = *Segment::OpenReadOnly(options);
  const SegmentLayout& layout = reader->layout();
  for (auto _ : state) {
    uint64_t sum = ReadHeaderAndMirror(layout) + ReadWindow(layout.window);
    for (uint32_t i = 0; i < ScopeCapacityOf(layout); ++i) {
      sum += ReadScope(ScopesOf(layout)[i]);
    }
    for (const ProcessSlot& p : layout.slots) sum += ReadSlot(p);
    benchmark::DoNotOptimize(sum);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) *
                          static_cast<int64_t>(sizeof(SegmentLayout)));
}
BENCHMARK(BM_InspectorReadWholeSegment);

}  // namespace
}  // namespace vix::shm

BENCHMARK_MAIN();
