#include "local.h"

#include <algorithm>
#include <functional>
#include <memory>
#include <random>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "child.h"
#include "decide_loop.h"
#include "vixbreaker/shm/engine.h"

namespace vix::bench {
namespace {

using shm::Engine;
using shm::ScopeHandle;

// Removes a figure's private segment when the figure is done.
class SegmentGuard {
 public:
  explicit SegmentGuard(std::string name) : name_(std::move(name)) {}
  ~SegmentGuard() { (void)shm::Segment::Destroy(name_); }
  const std::string& name() const { return name_; }

 private:
  std::string name_;
};

uint64_t TscAfterMs(const Settings& settings, double ms) {
  return TscEnd() + settings.clock.FromNs(ms * 1e6);
}

double RepetitionMs(const Settings& settings, double base_ms) {
  return std::max(20.0, base_ms * settings.duration_scale);
}

std::string TimerNote(const Settings& settings) {
  return absl::StrFormat(
      "timed in batches of %d calls (lfence;rdtsc .. rdtscp;lfence): one call "
      "is shorter than the timer, whose %.1f ns are subtracted; per-call = "
      "batch / %d, so percentiles are of batch means",
      kBatch, settings.clock.ToNs(settings.clock.overhead_ticks()), kBatch);
}

std::vector<std::string> WorkerArgs(const Settings& settings,
                                    absl::string_view mode,
                                    const std::string& segment, int cpu,
                                    double duration_ms) {
  return {"--worker",
          std::string(mode),
          "--segment",
          segment,
          "--cpu",
          absl::StrCat(cpu),
          "--duration-ms",
          absl::StrCat(duration_ms),
          "--ticks-per-ns",
          absl::StrCat(settings.clock.ticks_per_ns()),
          "--overhead-ticks",
          absl::StrCat(settings.clock.overhead_ticks())};
}

// "result p50 p90 p99 p999 max min samples", then "buckets c0 ... cN".
absl::Status ReadDeciderResult(Child& child, absl::Duration timeout,
                               Summary* summary, LogBuckets* buckets) {
  absl::StatusOr<std::string> result = child.ReadLine(timeout);
  if (!result.ok()) return result.status();
  std::vector<std::string> f = absl::StrSplit(*result, ' ');
  uint64_t samples = 0;
  if (f.size() != 8 || f[0] != "result" ||
      !absl::SimpleAtod(f[1], &summary->p50) ||
      !absl::SimpleAtod(f[2], &summary->p90) ||
      !absl::SimpleAtod(f[3], &summary->p99) ||
      !absl::SimpleAtod(f[4], &summary->p999) ||
      !absl::SimpleAtod(f[5], &summary->max) ||
      !absl::SimpleAtod(f[6], &summary->min) ||
      !absl::SimpleAtoi(f[7], &samples)) {
    return absl::InternalError(
        absl::StrCat("worker sent a bad result line: '", *result, "'"));
  }
  summary->samples = samples;
  absl::StatusOr<std::string> line = child.ReadLine(timeout);
  if (!line.ok()) return line.status();
  LogBuckets parsed;
  if (!absl::StartsWith(*line, "buckets ") || !parsed.Parse(line->substr(8))) {
    return absl::InternalError("worker sent a bad buckets line");
  }
  buckets->Merge(parsed);
  return absl::OkStatus();
}

struct Workers {
  std::unique_ptr<Child> writer;
  std::vector<std::unique_ptr<Child>> deciders;
};

// The writer on the first CPU, deciders round-robin on the others.
absl::StatusOr<Workers> StartContendedWorkers(const Settings& settings,
                                              const std::string& segment,
                                              int deciders, double rep_ms) {
  Workers w;
  const std::vector<int>& cpus = settings.cpus;
  absl::StatusOr<std::unique_ptr<Child>> writer =
      Child::StartSelf(WorkerArgs(settings, "churn", segment, cpus[0], rep_ms));
  if (!writer.ok()) return writer.status();
  w.writer = *std::move(writer);
  for (int i = 0; i < deciders; ++i) {
    const int cpu =
        cpus.size() == 1 ? cpus[0] : cpus[1 + i % (cpus.size() - 1)];
    absl::StatusOr<std::unique_ptr<Child>> child =
        Child::StartSelf(WorkerArgs(settings, "decide", segment, cpu, rep_ms));
    if (!child.ok()) return child.status();
    w.deciders.push_back(*std::move(child));
  }
  return w;
}

absl::Status AwaitReady(Child& child) {
  absl::StatusOr<std::string> line = child.ReadLine(absl::Seconds(20));
  if (!line.ok()) return line.status();
  if (*line != "ready") {
    return absl::InternalError(absl::StrCat("worker said '", *line, "'"));
  }
  return absl::OkStatus();
}

// One repetition: every worker runs for rep_ms at once. The deciders'
// percentiles are combined by median; returns the writer's transitions.
absl::StatusOr<uint64_t> RunContendedRepetition(Workers& w, double rep_ms,
                                                Summary* summary,
                                                LogBuckets* buckets) {
  for (auto& d : w.deciders) {
    if (absl::Status s = d->WriteLine("go"); !s.ok()) return s;
  }
  if (absl::Status s = w.writer->WriteLine("go"); !s.ok()) return s;
  const absl::Duration timeout = absl::Milliseconds(rep_ms) + absl::Seconds(20);
  std::vector<Summary> per_decider(w.deciders.size());
  for (size_t i = 0; i < w.deciders.size(); ++i) {
    absl::Status s =
        ReadDeciderResult(*w.deciders[i], timeout, &per_decider[i], buckets);
    if (!s.ok()) return s;
  }
  *summary = MedianSummary(per_decider);
  absl::StatusOr<std::string> line = w.writer->ReadLine(timeout);
  if (!line.ok()) return line.status();
  uint64_t transitions = 0;
  if (!absl::SimpleAtoi(absl::StripPrefix(*line, "transitions "),
                        &transitions)) {
    return absl::InternalError(absl::StrCat("writer said '", *line, "'"));
  }
  return transitions;
}

absl::Status FinishWorkers(Workers& w) {
  absl::Status status = w.writer->Finish(absl::Seconds(10));
  for (auto& d : w.deciders) status.Update(d->Finish(absl::Seconds(10)));
  return status;
}

// One round: ends the episode, lets the observer arm, waits a random few
// microseconds (so the observer is deep in its spin), then starts the
// episode by CAS. Returns TSC ticks from before the CAS call to the
// observer's sighting.
absl::StatusOr<int64_t> PropagationRound(const Settings& settings, Engine& e,
                                         ScopeHandle scope, Child& observer,
                                         std::mt19937& random) {
  e.Decide(scope, Status::kNormal, Ttl60(), Stakes::kHigh);  // ends it
  if (absl::Status s = observer.WriteLine("arm"); !s.ok()) return s;
  absl::StatusOr<std::string> armed = observer.ReadLine(absl::Seconds(10));
  if (!armed.ok()) return armed.status();
  if (*armed != "armed") {
    return absl::InternalError(absl::StrCat("observer said '", *armed, "'"));
  }
  SpinForNs(settings.clock,
            std::uniform_real_distribution<>(5e3, 30e3)(random));
  const uint64_t t0 = TscBegin();
  const Decision d = e.Decide(scope, Status::kPanic, Ttl60(), Stakes::kHigh);
  absl::StatusOr<std::string> seen = observer.ReadLine(absl::Seconds(10));
  if (!seen.ok()) return seen.status();
  uint64_t t1 = 0;
  if (!absl::SimpleAtoi(absl::StripPrefix(*seen, "seen "), &t1)) {
    return absl::InternalError(absl::StrCat("observer said '", *seen, "'"));
  }
  if (!d.first_writer) {
    return absl::InternalError("the start decision did not win the CAS");
  }
  return static_cast<int64_t>(t1 - t0);
}

// A timed loop: one repetition, until the TSC passes `until`.
using TimedLoop = std::function<void(uint64_t until, TickHistogram*)>;

struct Series {
  std::vector<Summary> runs;  // one per repetition
  LogBuckets buckets;
};

// Warms every loop up, then runs them in turn, one repetition each, so the
// figures compared with each other come from the same run and machine state.
std::vector<Series> RunInterleaved(const Settings& settings, double rep_ms,
                                   const std::vector<TimedLoop>& loops) {
  for (const TimedLoop& loop : loops) {
    TickHistogram warmup;
    loop(TscAfterMs(settings, rep_ms / 2), &warmup);
  }
  const double ticks_per_ns = settings.clock.ticks_per_ns();
  const uint64_t overhead = settings.clock.overhead_ticks();
  std::vector<Series> series(loops.size());
  for (int r = 0; r < settings.repetitions; ++r) {
    for (size_t i = 0; i < loops.size(); ++i) {
      TickHistogram h;
      loops[i](TscAfterMs(settings, rep_ms), &h);
      series[i].runs.push_back(h.Summarize(ticks_per_ns, kBatch, overhead));
      h.AddTo(&series[i].buckets, ticks_per_ns, kBatch, overhead);
    }
  }
  return series;
}

std::string DecideNote(const Settings& settings, Status status, double rep_ms) {
  return absl::StrFormat(
      "status %s, high stakes, %s; one thread on CPU %d; "
      "%d repetitions of %.0f ms after %.0f ms of warm-up; "
      "%s",
      StatusName(status),
      status == Status::kPanic ? "episode running" : "no episode",
      settings.main_cpu, settings.repetitions, rep_ms, rep_ms / 2,
      TimerNote(settings));
}

}  // namespace

Figure MeasureDecide(const Settings& settings, Status status) {
  SegmentGuard segment(BenchSegmentName(std::string(StatusName(status))));
  absl::StatusOr<std::unique_ptr<Engine>> engine =
      OpenBenchEngine(segment.name(), settings.cpus, settings.main_cpu);
  if (!engine.ok()) return NotMeasured(std::string(engine.status().message()));
  Engine& e = **engine;
  const ScopeHandle scope = e.global_scope();
  if (status == Status::kPanic) {
    const absl::Status steady = StartSteadyEpisode(e, scope);
    if (!steady.ok()) return NotMeasured(std::string(steady.message()));
  } else {
    e.Decide(scope, status, Ttl60(), Stakes::kHigh);
  }
  const double rep_ms = RepetitionMs(settings, 400);
  std::vector<Series> series = RunInterleaved(
      settings, rep_ms, {[&](uint64_t until, TickHistogram* h) {
        TimeDecisions(e, scope, status, Stakes::kHigh, kBatch, until, h);
      }});
  return MakeFigure(series[0].runs, series[0].buckets,
                    DecideNote(settings, status, rep_ms));
}

DecidePanel MeasureDecidePanel(const Settings& settings) {
  SegmentGuard segment(BenchSegmentName("panic"));
  SegmentGuard second(BenchSegmentName("second"));
  absl::StatusOr<std::unique_ptr<Engine>> engine =
      OpenBenchEngine(segment.name(), settings.cpus, settings.main_cpu);
  absl::StatusOr<std::unique_ptr<Engine>> other =
      OpenBenchEngine(second.name(), settings.cpus, settings.main_cpu);
  if (!engine.ok() || !other.ok()) {
    const std::string why(
        (engine.ok() ? other.status() : engine.status()).message());
    return {NotMeasured(why), NotMeasured(why), NotMeasured(why)};
  }
  Engine& e = **engine;
  Engine& o = **other;
  const ScopeHandle scope = e.global_scope();
  const ScopeHandle other_scope = o.global_scope();
  for (const absl::Status& steady :
       {StartSteadyEpisode(e, scope), StartSteadyEpisode(o, other_scope)}) {
    if (!steady.ok()) {
      const std::string why(steady.message());
      return {NotMeasured(why), NotMeasured(why), NotMeasured(why)};
    }
  }
  auto counter = std::make_unique<shm::ProcessSlot>();  // own cache lines
  const double rep_ms = RepetitionMs(settings, 400);
  std::vector<Series> series = RunInterleaved(
      settings, rep_ms,
      {[&](uint64_t until, TickHistogram* h) {
         TimeDecisions(e, scope, Status::kPanic, Stakes::kHigh, kBatch, until,
                       h);
       },
       [&](uint64_t until, TickHistogram* h) {
         TimeFloor(e, scope, &counter->decisions[0], kBatch, until, h);
       },
       [&](uint64_t until, TickHistogram* h) {
         TimeTwoEngines(e, scope, o, other_scope, Status::kPanic, kBatch, until,
                        h);
       }});
  const std::string same_run = absl::StrFormat(
      "; repetitions interleaved with the decision figure's (same run, same "
      "CPU %d)",
      settings.main_cpu);
  DecidePanel panel;
  panel.decide = MakeFigure(series[0].runs, series[0].buckets,
                            DecideNote(settings, Status::kPanic, rep_ms));
  panel.floor = MakeFigure(
      series[1].runs, series[1].buckets,
      absl::StrCat("the floor of a decision: per call one acquire load of the "
                   "scope's episode word, one load of the engine's cached "
                   "clock, one relaxed load+store bump of a counter only this "
                   "thread writes; ",
                   TimerNote(settings), same_run));
  panel.two_engines = MakeFigure(
      series[2].runs, series[2].buckets,
      absl::StrCat("status panic, high stakes, an episode running in each of "
                   "two engines on two segments; one thread alternates "
                   "decisions between them (half of each batch on each); ",
                   TimerNote(settings), same_run));
  return panel;
}

Figure MeasureContended(const Settings& settings) {
  if (settings.cpus.empty()) return NotMeasured("no CPU to run on");
  SegmentGuard segment(BenchSegmentName("contended"));
  absl::StatusOr<std::unique_ptr<Engine>> engine =
      OpenBenchEngine(segment.name(), settings.cpus, settings.main_cpu);
  if (!engine.ok()) return NotMeasured(std::string(engine.status().message()));
  const int deciders =
      settings.processes > 0
          ? settings.processes
          : std::max(1, static_cast<int>(settings.cpus.size()) - 1);
  const double rep_ms = RepetitionMs(settings, 500);
  absl::StatusOr<Workers> workers =
      StartContendedWorkers(settings, segment.name(), deciders, rep_ms);
  if (!workers.ok()) return NotMeasured(workers.status().ToString());
  absl::Status ready = AwaitReady(*workers->writer);
  for (auto& d : workers->deciders) ready.Update(AwaitReady(*d));
  if (!ready.ok()) return NotMeasured(ready.ToString());
  std::vector<Summary> runs;
  LogBuckets buckets;
  std::vector<double> transitions_per_s;
  for (int r = 0; r <= settings.repetitions; ++r) {  // r == 0: warm-up
    Summary summary;
    LogBuckets rep_buckets;
    absl::StatusOr<uint64_t> transitions =
        RunContendedRepetition(*workers, rep_ms, &summary, &rep_buckets);
    if (!transitions.ok()) return NotMeasured(transitions.status().ToString());
    if (r == 0) continue;
    runs.push_back(summary);
    buckets.Merge(rep_buckets);
    transitions_per_s.push_back(static_cast<double>(*transitions) * 1e3 /
                                rep_ms);
  }
  if (absl::Status s = FinishWorkers(*workers); !s.ok()) {
    return NotMeasured(s.ToString());
  }
  const int processes = deciders + 1;
  return MakeFigure(
      runs, buckets,
      absl::StrFormat(
          "%d decider processes (panic, high stakes) on one scope while a "
          "writer process ends and restarts its episode in a tight loop "
          "(normal/panic decisions: one CAS each, median %.3g "
          "transitions/s); %d processes on %d CPUs%s; percentiles are the "
          "median over deciders, then over %d repetitions of %.0f ms; %s",
          deciders, Median(transitions_per_s), processes,
          static_cast<int>(settings.cpus.size()),
          processes > static_cast<int>(settings.cpus.size())
              ? " (oversubscribed: preemption shows in the tail)"
              : "",
          settings.repetitions, rep_ms, TimerNote(settings)));
}

Figure MeasurePropagationLocal(const Settings& settings) {
  if (settings.cpus.size() < 2) {
    return NotMeasured("needs two CPUs: the observer spins on its own");
  }
  SegmentGuard segment(BenchSegmentName("propagation"));
  absl::StatusOr<std::unique_ptr<Engine>> engine =
      OpenBenchEngine(segment.name(), settings.cpus, settings.main_cpu);
  if (!engine.ok()) return NotMeasured(std::string(engine.status().message()));
  const ScopeHandle scope = (*engine)->global_scope();
  const int observer_cpu = settings.cpus[0] == settings.main_cpu
                               ? settings.cpus[1]
                               : settings.cpus[0];
  std::vector<std::string> args =
      WorkerArgs(settings, "observe", segment.name(), observer_cpu, 0);
  absl::StatusOr<std::unique_ptr<Child>> observer = Child::StartSelf(args);
  if (!observer.ok()) return NotMeasured(observer.status().ToString());
  if (absl::Status s = AwaitReady(**observer); !s.ok()) {
    return NotMeasured(s.ToString());
  }
  const int rounds = Scaled(settings, 300, 10);
  std::mt19937 random(42);
  std::vector<Summary> runs;
  LogBuckets buckets;
  for (int r = 0; r <= settings.repetitions; ++r) {  // r == 0: warm-up
    std::vector<double> samples;
    for (int i = 0; i < rounds; ++i) {
      absl::StatusOr<int64_t> ticks =
          PropagationRound(settings, **engine, scope, **observer, random);
      if (!ticks.ok()) return NotMeasured(ticks.status().ToString());
      samples.push_back(settings.clock.ToNs(static_cast<double>(*ticks)));
    }
    if (r == 0) continue;
    for (double ns : samples) buckets.Add(ns);
    runs.push_back(SummarizeNs(std::move(samples)));
  }
  if (absl::Status s = (*observer)->Finish(absl::Seconds(10)); !s.ok()) {
    return NotMeasured(s.ToString());
  }
  return MakeFigure(
      runs, buckets,
      absl::StrFormat(
          "rdtsc just before the panic decision whose CAS starts the "
          "episode (CPU %d) to rdtscp when another process, spinning on the "
          "episode word through a read-only mapping (CPU %d), sees it; the "
          "TSC is the same counter on every core; %d rounds per repetition, "
          "%d repetitions, medians; includes the start path's stores "
          "before the CAS",
          settings.main_cpu, observer_cpu, rounds, settings.repetitions));
}

}  // namespace vix::bench
