// vixbench: the latency figures Google Benchmark cannot measure (SPEC 10).
//
//   vixbench [--json] [--redis URL] [--duration-scale X] [--repetitions N]
//            [--processes N] [--cpu C]
//
// Prints one JSON object with --json, else a table. Without --redis the
// Redis figures are null and the output says why. Internal:
// `vixbench --worker MODE ...` runs one worker process of a figure.
#include <signal.h>

#include <iostream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "flags.h"
#include "idle.h"
#include "local.h"
#include "machine.h"
#include "redis_client.h"
#include "redis_figures.h"
#include "report.h"
#include "vixbreaker/shm/process.h"

namespace vix::bench {
namespace {

constexpr char kUsage[] =
    "usage: vixbench [--json] [--redis URL] [--duration-scale X] "
    "[--repetitions N] [--processes N] [--cpu C]\n";

// Pins the measuring thread to --cpu, else to the last allowed CPU (the
// first is where the kernel and interrupts tend to land).
std::string Pin(Settings* settings, int requested) {
  if (settings->cpus.empty()) return "not pinned: no CPU list";
  const int cpu = requested >= 0 ? requested : settings->cpus.back();
  if (!PinThisThread(cpu)) {
    return absl::StrCat("not pinned: the kernel refused CPU ", cpu);
  }
  settings->main_cpu = cpu;
  return absl::StrCat("measuring thread pinned to CPU ", cpu,
                      ", workers to the others");
}

absl::StatusOr<Settings> ParseSettings(const Flags& flags, int* cpu) {
  Settings s;
  absl::StatusOr<double> scale =
      flags.GetDouble("duration-scale", 1.0, 0.001, 100);
  absl::StatusOr<int64_t> reps = flags.GetInt("repetitions", 5, 1, 1000);
  absl::StatusOr<int64_t> processes = flags.GetInt("processes", 0, 0, 256);
  absl::StatusOr<int64_t> pin = flags.GetInt("cpu", -1, -1, 4095);
  for (const absl::Status& st :
       {scale.status(), reps.status(), processes.status(), pin.status()}) {
    if (!st.ok()) return st;
  }
  s.duration_scale = *scale;
  s.repetitions = static_cast<int>(*reps);
  s.processes = static_cast<int>(*processes);
  s.redis_url = flags.Get("redis");
  s.cpus = AllowedCpus();
  *cpu = static_cast<int>(*pin);
  return s;
}

void Progress(bool quiet, absl::string_view what) {
  if (!quiet) std::cerr << "vixbench: " << what << "...\n";
}

// Why the Redis figures cannot be measured, or "" if they can.
std::string RedisUnusable(const Settings& settings) {
  if (settings.redis_url.empty()) {
    return "no --redis URL: the Redis figures (redis_per_call_*, "
           "ratio_redis_over_decide, propagation_remote_*, "
           "redis_commands_per_s) are null";
  }
  absl::StatusOr<std::unique_ptr<RedisClient>> probe =
      RedisClient::Connect(settings.redis_url);
  if (!probe.ok()) {
    return absl::StrCat("Redis unusable, so the Redis figures are null: ",
                        probe.status().message());
  }
  return "";
}

void MeasureRedis(Results* r, bool quiet) {
  r->redis_skipped = RedisUnusable(r->settings);
  if (!r->redis_skipped.empty()) {
    r->redis_per_call = NotMeasured(r->redis_skipped);
    r->propagation_remote = NotMeasured(r->redis_skipped);
    r->propagation_remote_poll = NotMeasured(r->redis_skipped);
    r->command_rate.note = r->redis_skipped;
    return;
  }
  Progress(quiet, "predecessor's per-call Redis protocol");
  r->redis_per_call = MeasurePredecessorProtocol(r->settings);
  Progress(quiet, "propagation across hosts through the channel");
  r->propagation_remote = MeasurePropagationRemote(r->settings, true);
  Progress(quiet, "propagation across hosts through the poll alone");
  r->propagation_remote_poll = MeasurePropagationRemote(r->settings, false);
  Progress(quiet, "Redis commands per second in a long episode");
  r->command_rate = MeasureCommandRate(r->settings);
}

int Run(const Flags& flags) {
  int cpu = -1;
  absl::StatusOr<Settings> settings = ParseSettings(flags, &cpu);
  if (!settings.ok()) {
    std::cerr << "vixbench: " << settings.status().message() << "\n" << kUsage;
    return 2;
  }
  Results r;
  r.machine = DescribeMachine();
  r.timestamp_unix_ns = shm::RealtimeNowNs();
  r.settings = *settings;
  r.settings.clock = TscClock::Calibrate(200);
  r.pinning = Pin(&r.settings, cpu);
  const bool quiet = false;
  Progress(quiet, "decision, its floor and two engines, one thread");
  DecidePanel panel = MeasureDecidePanel(r.settings);
  r.decide = std::move(panel.decide);
  r.floor = std::move(panel.floor);
  r.two_engines = std::move(panel.two_engines);
  r.decide_calm = MeasureDecide(r.settings, Status::kNormal);
  Progress(quiet, "decision, contended");
  r.contended = MeasureContended(r.settings);
  Progress(quiet, "propagation inside the host");
  r.propagation_local = MeasurePropagationLocal(r.settings);
  Progress(quiet, "an idle engine's wake-ups and CPU");
  r.idle = MeasureIdleEngine(r.settings);
  MeasureRedis(&r, quiet);
  std::cout << (flags.Has("json") ? ToJson(r) + "\n" : ToTable(r));
  return 0;
}

}  // namespace
}  // namespace vix::bench

int main(int argc, char** argv) {
  signal(SIGPIPE, SIG_IGN);  // a dead worker is an error, not a crash
  const std::vector<std::string> args(argv + 1, argv + argc);
  absl::StatusOr<vix::bench::Flags> flags = vix::bench::Flags::Parse(
      args,
      {"redis", "duration-scale", "repetitions", "processes", "cpu", "worker",
       "segment", "duration-ms", "ticks-per-ns", "overhead-ticks", "calls",
       "status"},
      {"json", "help"});
  if (!flags.ok()) {
    std::cerr << "vixbench: " << flags.status().message() << "\n"
              << vix::bench::kUsage;
    return 2;
  }
  if (flags->Has("help")) {
    std::cout << vix::bench::kUsage;
    return 0;
  }
  if (flags->Has("worker")) return vix::bench::RunWorker(*flags);
  return vix::bench::Run(*flags);
}
