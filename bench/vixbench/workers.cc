// The worker side of the multi-process figures. A worker opens the segment
// its parent created, says "ready", then answers one line per request on
// stdin until stdin closes.
#include <iostream>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "decide_loop.h"
#include "figures.h"
#include "local.h"
#include "machine.h"
#include "tsc.h"
#include "vixbreaker/core/parse.h"
#include "vixbreaker/shm/engine.h"
#include "vixbreaker/shm/segment.h"

namespace vix::bench {
namespace {

using shm::Engine;
using shm::ScopeHandle;

struct WorkerConfig {
  std::string segment;
  int cpu = -1;
  double duration_ms = 0;
  TscClock clock{1.0, 0};
};

absl::StatusOr<WorkerConfig> ParseWorkerConfig(const Flags& flags) {
  WorkerConfig c;
  c.segment = flags.Get("segment");
  absl::StatusOr<int64_t> cpu = flags.GetInt("cpu", -1, -1, 4095);
  absl::StatusOr<double> ms = flags.GetDouble("duration-ms", 0, 0, 1e7);
  absl::StatusOr<double> tpn = flags.GetDouble("ticks-per-ns", 1, 1e-3, 1e3);
  absl::StatusOr<int64_t> overhead =
      flags.GetInt("overhead-ticks", 0, 0, 1'000'000);
  for (const absl::Status& s :
       {cpu.status(), ms.status(), tpn.status(), overhead.status()}) {
    if (!s.ok()) return s;
  }
  c.cpu = static_cast<int>(*cpu);
  c.duration_ms = *ms;
  c.clock = TscClock(*tpn, static_cast<uint64_t>(*overhead));
  return c;
}

void Say(const std::string& line) { std::cout << line << "\n" << std::flush; }

uint64_t Deadline(const WorkerConfig& c) {
  return TscEnd() + c.clock.FromNs(c.duration_ms * 1e6);
}

// Times batches of panic decisions for each "go".
int ServeDecide(const WorkerConfig& c, Engine& engine) {
  const ScopeHandle scope = engine.global_scope();
  TickHistogram warmup;
  TimeDecisions(engine, scope, Status::kPanic, Stakes::kHigh, kBatch,
                TscEnd() + c.clock.FromNs(20e6), &warmup);
  Say("ready");
  std::string line;
  while (std::getline(std::cin, line)) {
    TickHistogram h;
    TimeDecisions(engine, scope, Status::kPanic, Stakes::kHigh, kBatch,
                  Deadline(c), &h);
    const Summary s =
        h.Summarize(c.clock.ticks_per_ns(), kBatch, c.clock.overhead_ticks());
    LogBuckets buckets;
    h.AddTo(&buckets, c.clock.ticks_per_ns(), kBatch, c.clock.overhead_ticks());
    Say(absl::StrFormat("result %.6g %.6g %.6g %.6g %.6g %.6g %d", s.p50, s.p90,
                        s.p99, s.p999, s.max, s.min, s.samples));
    Say(absl::StrCat("buckets ", buckets.Serialize()));
  }
  return 0;
}

// Ends and restarts the episode (one CAS each) for each "go".
int ServeChurn(const WorkerConfig& c, Engine& engine) {
  const ScopeHandle scope = engine.global_scope();
  const BaseTtl ttl = Ttl60();
  Say("ready");
  std::string line;
  while (std::getline(std::cin, line)) {
    const uint64_t until = Deadline(c);
    uint64_t transitions = 0;
    while (TscEnd() < until) {
      KeepDecision(engine.Decide(scope, Status::kNormal, ttl, Stakes::kHigh));
      transitions +=
          engine.Decide(scope, Status::kPanic, ttl, Stakes::kHigh).first_writer;
    }
    Say(absl::StrCat("transitions ", 2 * transitions));
  }
  return 0;
}

// Opens an engine and does nothing: its background work is all that runs.
int ServeIdle(Engine& engine) {
  (void)engine;
  Say("ready");
  std::string line;
  while (std::getline(std::cin, line)) {
  }
  return 0;
}

// Spins until the episode word is (or is not) zero; false after 5 s.
bool SpinUntil(const shm::AtomicI64& word, bool active, const TscClock& clock) {
  const uint64_t until = TscEnd() + clock.FromNs(5e9);
  while ((word.load(std::memory_order_acquire) != 0) != active) {
    if (__rdtsc() > until) return false;
  }
  return true;
}

// For each "arm": waits for no episode, says "armed", spins until an
// episode appears and answers "seen <tsc>".
int ServeObserve(const WorkerConfig& c) {
  shm::SegmentOptions options;
  options.name = c.segment;
  absl::StatusOr<std::unique_ptr<shm::Segment>> segment =
      shm::Segment::OpenReadOnly(options);
  if (!segment.ok()) {
    std::cerr << "vixbench observer: " << segment.status() << "\n";
    return 1;
  }
  if (c.cpu >= 0) PinThisThread(c.cpu);
  const shm::AtomicI64& word =
      shm::ScopesOf((*segment)->layout())[shm::kGlobalScopeIndex].episode;
  Say("ready");
  std::string line;
  while (std::getline(std::cin, line)) {
    if (!SpinUntil(word, false, c.clock)) break;
    Say("armed");
    if (!SpinUntil(word, true, c.clock)) break;
    const uint64_t seen = TscEnd();
    Say(absl::StrCat("seen ", seen));
  }
  if (std::cin) Say("timeout: the episode word did not change within 5 s");
  return std::cin ? 1 : 0;
}

// Out of line so callgrind charges exactly the decisions (and the loop) to
// it: its instruction count / calls is the cost of one decision.
__attribute__((noinline)) void CountedDecisions(Engine& engine,
                                                ScopeHandle scope,
                                                Status status, int64_t calls) {
  const BaseTtl ttl = Ttl60();
  for (int64_t i = 0; i < calls; ++i) {
    KeepDecision(engine.Decide(scope, status, ttl, Stakes::kHigh));
  }
}

// `--worker count --calls N [--status normal]`: N untimed decisions on a
// private segment (panic with an episode running, or normal with none), for
// `valgrind --tool=callgrind`.
int ServeCount(const Flags& flags) {
  absl::StatusOr<int64_t> calls = flags.GetInt("calls", 1'000'000, 1, 1e12);
  const std::string status_name = flags.Get("status", "panic");
  absl::StatusOr<Status> status = ParseStatus(status_name);
  if (!calls.ok() || !status.ok()) {
    std::cerr << "vixbench count: "
              << (calls.ok() ? status.status() : calls.status()).message()
              << "\n";
    return 2;
  }
  const std::string segment = BenchSegmentName("count");
  absl::StatusOr<std::unique_ptr<Engine>> engine =
      OpenBenchEngine(segment, AllowedCpus(), -1);
  if (!engine.ok()) {
    std::cerr << "vixbench count: " << engine.status().message() << "\n";
    return 1;
  }
  const ScopeHandle scope = (*engine)->global_scope();
  if (*status == Status::kPanic) {
    const absl::Status steady = StartSteadyEpisode(**engine, scope);
    if (!steady.ok()) {
      std::cerr << "vixbench count: " << steady.message() << "\n";
      return 1;
    }
  }
  CountedDecisions(**engine, scope, *status, *calls);
  engine->reset();
  (void)shm::Segment::Destroy(segment);
  return 0;
}

}  // namespace

int RunWorker(const Flags& flags) {
  if (flags.Get("worker") == "count") return ServeCount(flags);
  absl::StatusOr<WorkerConfig> config = ParseWorkerConfig(flags);
  if (!config.ok()) {
    std::cerr << "vixbench worker: " << config.status().message() << "\n";
    return 2;
  }
  const std::string mode = flags.Get("worker");
  if (mode == "observe") return ServeObserve(*config);
  absl::StatusOr<std::unique_ptr<Engine>> engine =
      OpenBenchEngine(config->segment, AllowedCpus(), config->cpu);
  if (!engine.ok()) {
    std::cerr << "vixbench worker: " << engine.status().message() << "\n";
    return 1;
  }
  if (mode == "decide") return ServeDecide(*config, **engine);
  if (mode == "churn") return ServeChurn(*config, **engine);
  if (mode == "idle") return ServeIdle(**engine);
  std::cerr << "vixbench: unknown worker mode '" << mode << "'\n";
  return 2;
}

}  // namespace vix::bench
