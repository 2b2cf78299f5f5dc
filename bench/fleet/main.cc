// fleetbench: a simulated fleet on one real Redis (SPEC 10, "fleet").
//
// URL must name a Redis of the bench's own: it resets INFO's statistics.
//
//   fleetbench --redis URL [--hosts 64] [--rounds 50] [--long-seconds 25]
//              [--poll-interval 1] [--refresh-interval 10] [--json]
//
// Figures: how fast an episode started on one host is adopted by all the
// others (through the channel), the commands each host sends per second in
// a long episode, and what Redis spends (CPU from INFO, memory, clients).
// One JSON object with --json (the bench suite's format), else a table.
#include <iostream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "flags.h"
#include "fleet.h"
#include "machine.h"
#include "vixbreaker/core/json.h"
#include "vixbreaker/shm/process.h"

namespace vix::bench {
namespace {

constexpr char kUsage[] =
    "usage: fleetbench --redis URL [--hosts N] [--rounds N] "
    "[--long-seconds S] [--poll-interval S] [--refresh-interval S] [--json]\n";
constexpr double kAdoptionBarMs = 50;
constexpr double kCommandsBar = 5;

JsonObject Values(const std::map<std::string, double>& values) {
  JsonObject out;
  for (const auto& [name, v] : values) out.Num(name, v);
  return out;
}

std::string Json(const FleetResults& r, const MachineInfo& m,
                 const std::string& command) {
  const FleetSettings& s = r.settings;
  const Summary& a = r.adoption_ns;
  const int64_t per_host =
      s.hosts > 0 ? (r.memory_with_fleet - r.memory_before) / s.hosts : 0;
  const bool adoption_ok =
      a.samples > 0 && a.p99 / 1e6 <= kAdoptionBarMs && r.adoption_missing == 0;
  return JsonObject()
             .Int("schema_version", 1)
             .Str("bench", "fleet")
             .Int("timestamp_unix_ns", shm::RealtimeNowNs())
             .Str("command", command)
             .Obj("machine", JsonObject()
                                 .Str("cpu_model", m.cpu_model)
                                 .Int("cores", m.cores)
                                 .Str("kernel", m.kernel)
                                 .Bool("virtual_machine", m.hypervisor)
                                 .Num("load_average_1m", m.load_average_1m))
             .Obj("settings",
                  JsonObject()
                      .Int("hosts", s.hosts)
                      .Int("rounds", s.rounds)
                      .Num("long_episode_s",
                           absl::ToDoubleSeconds(s.long_episode))
                      .Num("poll_interval_s",
                           absl::ToDoubleSeconds(s.poll_interval))
                      .Num("refresh_interval_s",
                           absl::ToDoubleSeconds(s.refresh_interval)))
             .Obj("adoption_ms", JsonObject()
                                     .UInt("samples", a.samples)
                                     .Num("p50", a.p50 / 1e6)
                                     .Num("p90", a.p90 / 1e6)
                                     .Num("p99", a.p99 / 1e6)
                                     .Num("max", a.max / 1e6)
                                     .Int("missing", r.adoption_missing))
             .Num("commands_per_host_per_s", r.commands_per_host_per_s)
             .Obj("redis_calls_per_s", Values(r.redis_calls_per_s))
             .Obj("redis_usec_per_call", Values(r.usec_per_call))
             .Num("decisions_per_s", r.decisions_per_s)
             .Num("long_episode_measured_s", r.long_seconds)
             .Obj("redis_cpu_s_per_s",
                  JsonObject()
                      .Num("baseline", r.redis_cpu_baseline)
                      .Num("idle", r.redis_cpu_idle)
                      .Num("adoption", r.redis_cpu_adoption)
                      .Num("long_episode", r.redis_cpu_long))
             .Num("redis_cpu_ms_per_episode", r.redis_cpu_ms_per_round)
             .Obj("redis_memory",
                  JsonObject()
                      .Int("before_bytes", r.memory_before)
                      .Int("with_fleet_bytes", r.memory_with_fleet)
                      .Int("per_host_bytes", per_host)
                      .Int("clients_before", r.clients_before)
                      .Int("clients_with_fleet", r.clients_with_fleet))
             .Obj("bars", JsonObject()
                              .Num("adoption_p99_ms", kAdoptionBarMs)
                              .Num("commands_per_host_per_s", kCommandsBar))
             .Obj("meets_bars",
                  JsonObject()
                      .Bool("adoption_p99", adoption_ok)
                      .Bool("commands_per_host",
                            r.commands_per_host_per_s <= kCommandsBar))
             .Done() +
         "\n";
}

std::string Table(const FleetResults& r) {
  const Summary& a = r.adoption_ns;
  std::string out = absl::StrFormat(
      "fleet of %d hosts on one Redis (poll %.1f s, refresh %.1f s)\n"
      "  adoption      p50 %.2f ms  p99 %.2f ms  max %.2f ms  (%llu samples, "
      "%lld missing; bar p99 <= 50 ms)\n"
      "  long episode  %.2f commands/host/s over %.1f s (bar <= 5), %.0f "
      "decisions/s\n"
      "  Redis CPU     baseline %.4f  idle %.4f  adoption %.4f  long episode "
      "%.4f  (s/s); %.2f ms per episode\n"
      "  Redis memory  %lld -> %lld bytes (%lld per host), clients %lld -> "
      "%lld\n  Redis calls/s",
      r.settings.hosts, absl::ToDoubleSeconds(r.settings.poll_interval),
      absl::ToDoubleSeconds(r.settings.refresh_interval), a.p50 / 1e6,
      a.p99 / 1e6, a.max / 1e6, static_cast<unsigned long long>(a.samples),
      static_cast<long long>(r.adoption_missing), r.commands_per_host_per_s,
      r.long_seconds, r.decisions_per_s, r.redis_cpu_baseline, r.redis_cpu_idle,
      r.redis_cpu_adoption, r.redis_cpu_long, r.redis_cpu_ms_per_round,
      static_cast<long long>(r.memory_before),
      static_cast<long long>(r.memory_with_fleet),
      static_cast<long long>((r.memory_with_fleet - r.memory_before) /
                             r.settings.hosts),
      static_cast<long long>(r.clients_before),
      static_cast<long long>(r.clients_with_fleet));
  for (const auto& [name, per_s] : r.redis_calls_per_s) {
    absl::StrAppendFormat(&out, "  %s %.2f", name, per_s);
  }
  return out + "\n";
}

absl::StatusOr<FleetSettings> ParseSettings(const Flags& flags) {
  FleetSettings s;
  s.redis_url = flags.Get("redis");
  if (s.redis_url.empty()) {
    return absl::InvalidArgumentError(
        "--redis URL is required (a Redis the fleet may write to)");
  }
  absl::StatusOr<int64_t> hosts = flags.GetInt("hosts", 64, 2, 1024);
  absl::StatusOr<int64_t> rounds = flags.GetInt("rounds", 50, 1, 100000);
  absl::StatusOr<double> long_s = flags.GetDouble("long-seconds", 25, 1, 3600);
  absl::StatusOr<double> poll = flags.GetDouble("poll-interval", 1, 0.01, 60);
  absl::StatusOr<double> refresh =
      flags.GetDouble("refresh-interval", 10, 0.01, 3600);
  for (const absl::Status& st :
       {hosts.status(), rounds.status(), long_s.status(), poll.status(),
        refresh.status()}) {
    if (!st.ok()) return st;
  }
  s.hosts = static_cast<int>(*hosts);
  s.rounds = static_cast<int>(*rounds);
  s.long_episode = absl::Seconds(*long_s);
  s.poll_interval = absl::Seconds(*poll);
  s.refresh_interval = absl::Seconds(*refresh);
  return s;
}

int Main(const std::vector<std::string>& args) {
  absl::StatusOr<Flags> flags =
      Flags::Parse(args,
                   {"redis", "hosts", "rounds", "long-seconds", "poll-interval",
                    "refresh-interval"},
                   {"json"});
  absl::StatusOr<FleetSettings> settings =
      flags.ok() ? ParseSettings(*flags) : flags.status();
  if (!settings.ok()) {
    std::cerr << "fleetbench: " << settings.status().message() << "\n"
              << kUsage;
    return 2;
  }
  absl::StatusOr<std::unique_ptr<RedisClient>> redis =
      RedisClient::Connect(settings->redis_url);
  // usec_per_call is cumulative: start it afresh (a Redis of the bench's own).
  if (redis.ok()) (void)(*redis)->Command({"CONFIG", "RESETSTAT"});
  absl::StatusOr<RedisSample> before =
      redis.ok() ? SampleRedis(**redis) : redis.status();
  if (!before.ok()) {
    std::cerr << "fleetbench: " << before.status().message() << "\n";
    return 1;
  }
  // Redis's own background work with no fleet, to tell the fleet's apart.
  absl::SleepFor(absl::Seconds(2));
  absl::StatusOr<RedisSample> quiet = SampleRedis(**redis);
  if (!quiet.ok()) {
    std::cerr << "fleetbench: " << quiet.status().message() << "\n";
    return 1;
  }
  const MachineInfo machine = DescribeMachine();
  absl::StatusOr<FleetResults> results;
  {
    absl::StatusOr<std::unique_ptr<Fleet>> fleet =
        Fleet::Start(*settings, **redis);
    results = fleet.ok() ? (*fleet)->Measure(**redis) : fleet.status();
  }
  if (!results.ok()) {
    std::cerr << "fleetbench: " << results.status().message() << "\n";
    return 1;
  }
  results->redis_cpu_baseline = CpuPerSecond(*before, *quiet);
  results->memory_before = before->used_memory;
  results->clients_before = before->connected_clients;
  // The command as run, the Redis password hidden.
  std::vector<std::string> shown = args;
  for (std::string& a : shown) {
    if (a == settings->redis_url) a = (*redis)->redacted_url();
  }
  const std::string command =
      absl::StrCat("fleetbench ", absl::StrJoin(shown, " "));
  const bool json = flags->Has("json");
  std::cout << (json ? Json(*results, machine, command) : Table(*results));
  return 0;
}

}  // namespace
}  // namespace vix::bench

int main(int argc, char** argv) {
  return vix::bench::Main(std::vector<std::string>(argv + 1, argv + argc));
}
