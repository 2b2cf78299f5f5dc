#include "report.h"

#include <optional>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "vixbreaker/core/json.h"

namespace vix::bench {
namespace {

std::optional<double> Field(const Figure& f, double Summary::*field,
                            double scale = 1) {
  if (!f.measured) return std::nullopt;
  return f.median.*field * scale;
}

std::optional<double> P50Ratio(const Figure& over, const Figure& under) {
  std::optional<double> a = Field(over, &Summary::p50);
  std::optional<double> b = Field(under, &Summary::p50);
  if (!a || !b || *b <= 0) return std::nullopt;
  return *a / *b;
}

std::optional<double> Ratio(const Results& r) {
  return P50Ratio(r.redis_per_call, r.decide);
}

std::optional<double> FloorRatio(const Results& r) {
  return P50Ratio(r.decide, r.floor);
}

struct Bar {
  std::string figure;  // the JSON field the bar is on
  std::optional<double> value;
  double limit;
  bool at_most;  // value <= limit passes; else value >= limit
  std::string text;

  std::optional<bool> met() const {
    if (!value) return std::nullopt;
    return at_most ? *value <= limit : *value >= limit;
  }
};

std::vector<Bar> Bars(const Results& r) {
  const double poll_ms = PollIntervalMs();
  const std::optional<double> decide = Field(r.decide, &Summary::p50);
  return {
      {"decide_p50_ns", Field(r.decide, &Summary::p50), 5, true,
       "decision p50 <= 5 ns"},
      {"decide_p999_ns", Field(r.decide, &Summary::p999), 50, true,
       "decision p99.9 <= 50 ns"},
      {"contended_p50_ns", Field(r.contended, &Summary::p50), 100, true,
       "contended decision p50 <= 100 ns"},
      {"propagation_local_ns", Field(r.propagation_local, &Summary::p50), 1000,
       true, "episode start visible in another process <= 1 us"},
      {"propagation_remote_max_ms",
       Field(r.propagation_remote, &Summary::max, 1e-6), 50, true,
       "visible on another host through the channel <= 50 ms (max)"},
      {"propagation_remote_poll_max_ms",
       Field(r.propagation_remote_poll, &Summary::max, 1e-6), poll_ms + 50,
       true,
       absl::StrFormat("without the channel <= poll interval + 50 ms "
                       "= %.0f ms (max)",
                       poll_ms + 50)},
      {"redis_commands_per_s", r.command_rate.per_s, 5, true,
       "<= 5 Redis commands per host per second in a long episode"},
      {"ratio_redis_over_decide", Ratio(r), 10000, false,
       "per-call Redis protocol / decision >= 10,000x"},
      {"ratio_decide_over_floor", FloorRatio(r), 1.5, true,
       "decision p50 / floor p50 <= 1.5 (same run)"},
      {"two_engines_p50_ns",
       decide ? Field(r.two_engines, &Summary::p50) : std::nullopt,
       decide ? 2 * *decide : 0, true,
       "one thread alternating two engines, p50 <= 2x one engine's"},
      {"idle_wakeups_per_s", r.idle.wakeups_per_s, 50, true,
       "an idle engine wakes <= 50 times per second"},
      {"idle_cpu_pct", r.idle.cpu_pct, 0.05, true,
       "an idle engine uses <= 0.05% of one core"},
  };
}

std::string BucketsJson(const LogBuckets& buckets) {
  std::vector<std::string> rows;
  for (int i = 0; i < LogBuckets::kCount; ++i) {
    if (buckets.count(i) == 0) continue;
    rows.push_back(absl::StrFormat("[%.6g,%.6g,%d]", LogBuckets::LowerNs(i),
                                   LogBuckets::LowerNs(i + 1),
                                   buckets.count(i)));
  }
  return absl::StrCat("[", absl::StrJoin(rows, ","), "]");
}

JsonObject FigureJson(const Figure& f) {
  JsonObject j;
  j.Bool("measured", f.measured)
      .Int("samples", static_cast<int64_t>(f.median.samples))
      .Num("min_ns", Field(f, &Summary::min))
      .Num("p50_ns", Field(f, &Summary::p50))
      .Num("p90_ns", Field(f, &Summary::p90))
      .Num("p99_ns", Field(f, &Summary::p99))
      .Num("p999_ns", Field(f, &Summary::p999))
      .Num("max_ns", Field(f, &Summary::max))
      .Nums("p50_by_repetition_ns", f.p50_by_repetition)
      .Str("note", f.note)
      .Raw("buckets", BucketsJson(f.buckets));
  return j;
}

JsonObject MachineJson(const MachineInfo& m) {
  JsonObject j;
  j.Str("cpu_model", m.cpu_model)
      .Int("cores", m.cores)
      .Str("kernel", m.kernel)
      .Str("hostname", m.hostname)
      .Str("clocksource", m.clocksource)
      .Bool("virtual_machine", m.hypervisor)
      .Bool("invariant_tsc", m.invariant_tsc)
      .Num("load_average_1m_at_start", m.load_average_1m);
  return j;
}

JsonObject SettingsJson(const Results& r) {
  const Settings& s = r.settings;
  JsonObject timer;
  timer.Str("method", "rdtsc: lfence;rdtsc before, rdtscp;lfence after")
      .Num("tsc_ticks_per_ns", s.clock.ticks_per_ns())
      .Num("overhead_ns", s.clock.ToNs(s.clock.overhead_ticks()))
      .Int("batch_calls", kBatch)
      .Str("calibration", "TSC against CLOCK_MONOTONIC over 200 ms");
  JsonObject j;
  j.Int("repetitions", s.repetitions)
      .Num("duration_scale", s.duration_scale)
      .Int("main_cpu", s.main_cpu)
      .Str("pinning", r.pinning)
      .Str("redis", s.redis_url.empty() ? "" : s.redis_url)
      .Obj("timer", timer);
  return j;
}

JsonObject BarsJson(const std::vector<Bar>& bars) {
  JsonObject j;
  for (const Bar& b : bars) {
    JsonObject one;
    one.Num("value", b.value)
        .Num("limit", b.limit)
        .Str("pass_if", b.at_most ? "value <= limit" : "value >= limit")
        .Bool("met", b.met())
        .Str("bar", b.text);
    j.Obj(b.figure, one);
  }
  return j;
}

JsonObject CommandRateJson(const CommandRate& rate) {
  JsonObject j;
  for (const auto& [command, per_s] : rate.by_command) j.Num(command, per_s);
  return j;
}

JsonObject NotesJson(const Results& r) {
  JsonObject j;
  j.Str("decide", r.decide.note)
      .Str("decide_calm", r.decide_calm.note)
      .Str("floor", r.floor.note)
      .Str("two_engines", r.two_engines.note)
      .Str("idle", r.idle.note)
      .Str("contended", r.contended.note)
      .Str("propagation_local", r.propagation_local.note)
      .Str("redis_per_call", r.redis_per_call.note)
      .Str("propagation_remote", r.propagation_remote.note)
      .Str("propagation_remote_poll", r.propagation_remote_poll.note)
      .Str("redis_commands_per_s", r.command_rate.note)
      .Str("redis",
           r.redis_skipped.empty()
               ? "--redis given: each Redis figure's note says how it went"
               : r.redis_skipped);
  return j;
}

}  // namespace

std::string ToJson(const Results& r) {
  const double ms = 1e-6;
  JsonObject figures;
  figures.Obj("decide", FigureJson(r.decide))
      .Obj("decide_calm", FigureJson(r.decide_calm))
      .Obj("floor", FigureJson(r.floor))
      .Obj("two_engines", FigureJson(r.two_engines))
      .Obj("contended", FigureJson(r.contended))
      .Obj("propagation_local", FigureJson(r.propagation_local))
      .Obj("redis_per_call", FigureJson(r.redis_per_call))
      .Obj("propagation_remote", FigureJson(r.propagation_remote))
      .Obj("propagation_remote_poll", FigureJson(r.propagation_remote_poll));
  JsonObject j;
  j.Int("schema_version", kJsonSchemaVersion)
      .Str("timestamp", FormatTimestamp(r.timestamp_unix_ns))
      .Obj("machine", MachineJson(r.machine))
      .Obj("settings", SettingsJson(r))
      .Num("decide_p50_ns", Field(r.decide, &Summary::p50))
      .Num("decide_p90_ns", Field(r.decide, &Summary::p90))
      .Num("decide_p99_ns", Field(r.decide, &Summary::p99))
      .Num("decide_p999_ns", Field(r.decide, &Summary::p999))
      .Num("decide_max_ns", Field(r.decide, &Summary::max))
      .Num("decide_calm_p50_ns", Field(r.decide_calm, &Summary::p50))
      .Num("floor_p50_ns", Field(r.floor, &Summary::p50))
      .Num("ratio_decide_over_floor", FloorRatio(r))
      .Num("two_engines_p50_ns", Field(r.two_engines, &Summary::p50))
      .Num("idle_wakeups_per_s", r.idle.wakeups_per_s)
      .Nums("idle_wakeups_by_repetition", r.idle.wakeups_by_repetition)
      .Num("idle_cpu_pct", r.idle.cpu_pct)
      .Nums("idle_cpu_pct_by_repetition", r.idle.cpu_pct_by_repetition)
      .Num("contended_p50_ns", Field(r.contended, &Summary::p50))
      .Num("contended_p99_ns", Field(r.contended, &Summary::p99))
      .Num("propagation_local_ns", Field(r.propagation_local, &Summary::p50))
      .Num("propagation_local_p99_ns",
           Field(r.propagation_local, &Summary::p99))
      .Num("propagation_remote_ms",
           Field(r.propagation_remote, &Summary::p50, ms))
      .Num("propagation_remote_max_ms",
           Field(r.propagation_remote, &Summary::max, ms))
      .Num("propagation_remote_poll_ms",
           Field(r.propagation_remote_poll, &Summary::p50, ms))
      .Num("propagation_remote_poll_max_ms",
           Field(r.propagation_remote_poll, &Summary::max, ms))
      .Num("poll_interval_ms", PollIntervalMs())
      .Num("redis_per_call_p50_ns", Field(r.redis_per_call, &Summary::p50))
      .Num("redis_per_call_p99_ns", Field(r.redis_per_call, &Summary::p99))
      .Num("ratio_redis_over_decide", Ratio(r))
      .Num("redis_commands_per_s", r.command_rate.per_s)
      .Num("mirror_commands_per_s", r.command_rate.mirror_per_s)
      .Obj("redis_commands_per_s_by_command", CommandRateJson(r.command_rate))
      .Obj("bars", BarsJson(Bars(r)))
      .Obj("notes", NotesJson(r))
      .Obj("figures", figures);
  return j.Done();
}

namespace {

std::string Cell(std::optional<double> v, double scale = 1) {
  return v ? absl::StrFormat("%.4g", *v * scale) : "-";
}

std::string Row(absl::string_view name, absl::string_view unit, const Figure& f,
                double scale) {
  auto cell = [&](double Summary::*field) {
    return Cell(Field(f, field), scale);
  };
  return absl::StrFormat("%-26s %-4s %10s %10s %10s %10s %10s\n", name, unit,
                         cell(&Summary::p50), cell(&Summary::p90),
                         cell(&Summary::p99), cell(&Summary::p999),
                         cell(&Summary::max));
}

}  // namespace

std::string ToTable(const Results& r) {
  const MachineInfo& m = r.machine;
  std::string out = absl::StrFormat(
      "vixbench  %s\nmachine   %s, %d CPUs, %s, clocksource %s%s, load %.2f\n"
      "timer     rdtsc %.3f ticks/ns, %.1f ns per timed window, batches of "
      "%d calls\nsettings  %d repetitions (medians), duration scale %g, %s\n\n",
      FormatTimestamp(r.timestamp_unix_ns), m.cpu_model, m.cores, m.kernel,
      m.clocksource, m.hypervisor ? " (virtual machine)" : "",
      m.load_average_1m, r.settings.clock.ticks_per_ns(),
      r.settings.clock.ToNs(r.settings.clock.overhead_ticks()), kBatch,
      r.settings.repetitions, r.settings.duration_scale, r.pinning);
  absl::StrAppendFormat(&out, "%-26s %-4s %10s %10s %10s %10s %10s\n", "figure",
                        "unit", "p50", "p90", "p99", "p99.9", "max");
  out += Row("decide (panic, steady)", "ns", r.decide, 1);
  out += Row("decide (normal, calm)", "ns", r.decide_calm, 1);
  out += Row("floor of a decision", "ns", r.floor, 1);
  out += Row("decide, two engines", "ns", r.two_engines, 1);
  out += Row("decide, contended", "ns", r.contended, 1);
  out += Row("propagation, local", "ns", r.propagation_local, 1);
  out += Row("Redis protocol per call", "us", r.redis_per_call, 1e-3);
  out += Row("propagation, channel", "ms", r.propagation_remote, 1e-6);
  out += Row("propagation, poll only", "ms", r.propagation_remote_poll, 1e-6);
  absl::StrAppendFormat(&out,
                        "\nRedis commands/s in a long episode: %s "
                        "(mirror's own count %s)\nratio Redis per call / "
                        "decision p50: %s\nratio decision / floor p50: %s\n"
                        "idle engine: %s wake-ups/s, %s%% of a core\n\nbars\n",
                        Cell(r.command_rate.per_s),
                        Cell(r.command_rate.mirror_per_s), Cell(Ratio(r)),
                        Cell(FloorRatio(r)), Cell(r.idle.wakeups_per_s),
                        Cell(r.idle.cpu_pct));
  for (const Bar& b : Bars(r)) {
    const std::optional<bool> met = b.met();
    const char* verdict = !met ? "n/a" : *met ? "MET" : "MISS";
    absl::StrAppendFormat(&out, "  %-5s %-31s %10s  %s\n", verdict, b.figure,
                          Cell(b.value), b.text);
  }
  if (!r.redis_skipped.empty())
    absl::StrAppend(&out, "\n", r.redis_skipped, "\n");
  return out;
}

}  // namespace vix::bench
