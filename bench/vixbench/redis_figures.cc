#include "redis_figures.h"

#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <random>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "decide_loop.h"
#include "machine.h"
#include "redis_client.h"
#include "tsc.h"
#include "vixbreaker/persist/health.h"
#include "vixbreaker/persist/mirror.h"
#include "vixbreaker/shm/process.h"

namespace vix::bench {
namespace {

using shm::Engine;

// A segment with an engine and its mirror: one "host".
struct Host {
  std::string segment;
  std::unique_ptr<Engine> engine;
  std::unique_ptr<persist::Mirror> mirror;
  ~Host() {
    mirror.reset();  // before the engine, as mirror.h asks
    engine.reset();
    (void)shm::Segment::Destroy(segment);
  }
};

std::string KeyPrefix(const std::string& tag) {
  return absl::StrCat("vixbench:", getpid(), ":", tag);
}

absl::Status StartHost(const Settings& settings, const std::string& tag,
                       const std::string& key_prefix, bool announce,
                       Host* host) {
  host->segment = BenchSegmentName(tag);
  absl::StatusOr<std::unique_ptr<Engine>> engine =
      OpenBenchEngine(host->segment, settings.cpus, -1);
  if (!engine.ok()) return engine.status();
  host->engine = *std::move(engine);
  persist::MirrorOptions options;
  options.redis_url = settings.redis_url;
  options.key_prefix = key_prefix;
  options.announce = announce;
  options.log_fd = -1;
  absl::StatusOr<std::unique_ptr<persist::Mirror>> mirror =
      persist::Mirror::Start(*host->engine, options);
  if (!mirror.ok()) return mirror.status();
  host->mirror = *std::move(mirror);
  const int64_t deadline = MonotonicNs() + 5'000'000'000;
  while (!host->mirror->holds_lease()) {
    if (MonotonicNs() > deadline) {
      return absl::DeadlineExceededError(absl::StrCat(
          "the mirror of ", host->segment, " took no lease within 5 s"));
    }
    usleep(1000);
  }
  return absl::OkStatus();
}

int64_t RemoteStart(Engine& engine) {
  return engine.global_scope().scope->remote_start_ns.load(
      std::memory_order_acquire);
}

// Polls `done` every 50 µs; false after `timeout_ns`.
template <class Done>
bool WaitNs(int64_t timeout_ns, Done done) {
  const int64_t deadline = MonotonicNs() + timeout_ns;
  while (!done()) {
    if (MonotonicNs() > deadline) return false;
    usleep(50);
  }
  return true;
}

// Starts an episode on `a`, returns the ns until `b` caches its start; then
// ends it and waits for `b` to forget it, so rounds do not overlap.
absl::StatusOr<int64_t> RemoteRound(Engine& a, Engine& b, int64_t timeout_ns) {
  const int64_t t0 = MonotonicNs();
  const Decision d =
      a.Decide(a.global_scope(), Status::kPanic, Ttl60(), Stakes::kHigh);
  if (!d.first_writer ||
      std::llabs(d.episode_start_ns - shm::RealtimeNowNs()) > 1'000'000'000) {
    return absl::InternalError(
        "the panic decision did not start a fresh episode");
  }
  const bool seen = WaitNs(timeout_ns, [&] {
    return std::llabs(RemoteStart(b) - d.episode_start_ns) <= 1000;
  });
  const int64_t elapsed = MonotonicNs() - t0;
  a.Decide(a.global_scope(), Status::kNormal, Ttl60(), Stakes::kHigh);
  if (!seen) {
    return absl::DeadlineExceededError(
        absl::StrCat("the other segment did not adopt the start within ",
                     timeout_ns / 1'000'000, " ms"));
  }
  WaitNs(timeout_ns, [&] { return RemoteStart(b) == 0; });
  return elapsed;
}

// "calls=12,usec=..." -> 12.
double CallsOf(const std::string& stat) {
  for (absl::string_view part : absl::StrSplit(stat, ',')) {
    double calls;
    if (absl::ConsumePrefix(&part, "calls=") &&
        absl::SimpleAtod(part, &calls)) {
      return calls;
    }
  }
  return 0;
}

absl::StatusOr<std::map<std::string, double>> CommandCalls(RedisClient& redis) {
  absl::StatusOr<std::map<std::string, std::string>> info =
      redis.Info("commandstats");
  if (!info.ok()) return info.status();
  std::map<std::string, double> calls;
  for (const auto& [name, stat] : *info) {
    absl::string_view command = name;
    if (absl::ConsumePrefix(&command, "cmdstat_") && command != "info") {
      calls[std::string(command)] = CallsOf(stat);
    }
  }
  return calls;
}

}  // namespace

double PollIntervalMs() {
  return absl::ToDoubleMilliseconds(persist::MirrorOptions{}.poll_interval);
}

Figure MeasurePredecessorProtocol(const Settings& settings) {
  absl::StatusOr<std::unique_ptr<RedisClient>> redis =
      RedisClient::Connect(settings.redis_url);
  if (!redis.ok()) return NotMeasured(redis.status().ToString());
  const std::string key =
      absl::StrCat(KeyPrefix("predecessor"), ":brain:panic_start_ts");
  const std::string ttl = "86400";
  auto one_call = [&]() -> absl::Status {
    const std::string ts =
        absl::StrFormat("%.6f", absl::ToUnixMicros(absl::Now()) / 1e6);
    for (const std::vector<std::string>& argv :
         {std::vector<std::string>{"SET", key, ts, "NX", "EX", ttl},
          {"GET", key},
          {"EXPIRE", key, ttl}}) {
      if (absl::Status s = (*redis)->Command(argv).status(); !s.ok()) return s;
    }
    return absl::OkStatus();
  };
  const int calls = Scaled(settings, 2000, 50);
  std::vector<Summary> runs;
  LogBuckets buckets;
  for (int r = 0; r <= settings.repetitions; ++r) {  // r == 0: warm-up
    std::vector<double> samples;
    for (int i = 0; i < calls; ++i) {
      const uint64_t t0 = TscBegin();
      if (absl::Status s = one_call(); !s.ok())
        return NotMeasured(s.ToString());
      samples.push_back(settings.clock.ToNs(TscEnd() - t0));
    }
    if (r == 0) continue;
    for (double ns : samples) buckets.Add(ns);
    runs.push_back(SummarizeNs(std::move(samples)));
  }
  (void)(*redis)->Command({"DEL", key});
  return MakeFigure(
      runs, buckets,
      absl::StrFormat(
          "per decision: SET key ts NX EX 86400, GET key, EXPIRE key 86400 "
          "with synchronous hiredis against %s; one sample per decision "
          "(three round trips); %d decisions per repetition after a warm-up "
          "repetition, %d repetitions, medians",
          (*redis)->redacted_url(), calls, settings.repetitions));
}

Figure MeasurePropagationRemote(const Settings& settings, bool announce) {
  ScopedUnpin unpin(settings.cpus, settings.main_cpu);  // for the mirrors
  const std::string tag = announce ? "channel" : "poll";
  const std::string prefix = KeyPrefix(tag);
  Host a, b;
  absl::Status started = StartHost(settings, tag + "-a", prefix, announce, &a);
  started.Update(StartHost(settings, tag + "-b", prefix, true, &b));
  if (!started.ok()) return NotMeasured(started.ToString());
  const int rounds = Scaled(settings, announce ? 10 : 3, 1);
  const int64_t timeout_ns = 5'000'000'000;
  std::mt19937 random(7);
  const int max_delay_us =
      announce ? 60'000 : static_cast<int>(PollIntervalMs() * 1000);
  std::vector<Summary> runs;
  LogBuckets buckets;
  for (int r = 0; r <= settings.repetitions; ++r) {  // r == 0: warm-up
    std::vector<double> samples;
    for (int i = 0; i < (r == 0 ? 1 : rounds); ++i) {
      // A round starts just after a poll saw the previous end: a random
      // phase, over a whole interval for the poll, keeps samples unbiased.
      usleep(std::uniform_int_distribution<>(10'000, max_delay_us)(random));
      absl::StatusOr<int64_t> ns =
          RemoteRound(*a.engine, *b.engine, timeout_ns);
      if (!ns.ok()) return NotMeasured(ns.status().ToString());
      samples.push_back(static_cast<double>(*ns));
    }
    if (r == 0) continue;
    for (double ns : samples) buckets.Add(ns);
    runs.push_back(SummarizeNs(std::move(samples)));
  }
  return MakeFigure(
      runs, buckets,
      absl::StrFormat(
          "two segments, each with its own engine and Mirror in this process "
          "(two hosts), one Redis; from the panic decision that starts an "
          "episode on one to the other caching that start "
          "(remote_start_ns); %s; %d rounds per repetition, %d repetitions, "
          "medians (rounds start at a random phase of the %.0f ms poll "
          "interval, so a poll-only sample is spread over it: its bar is on "
          "the max)",
          announce ? "announced on the channel, plus the poll"
                   : "the publisher does not announce: the poll alone",
          rounds, settings.repetitions, PollIntervalMs()));
}

CommandRate MeasureCommandRate(const Settings& settings) {
  ScopedUnpin unpin(settings.cpus, settings.main_cpu);  // mirror and decider
  CommandRate rate;
  absl::StatusOr<std::unique_ptr<RedisClient>> redis =
      RedisClient::Connect(settings.redis_url);
  Host host;
  absl::Status s = redis.status();
  if (s.ok()) s = StartHost(settings, "rate", KeyPrefix("rate"), true, &host);
  if (!s.ok()) {
    rate.note = s.ToString();
    return rate;
  }
  Engine& engine = *host.engine;
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> decisions{0};
  std::thread decider([&] {
    uint64_t n = 0;
    while (!stop.load(std::memory_order_relaxed)) {
      for (int i = 0; i < 1000; ++i) {
        KeepDecision(engine.Decide(engine.global_scope(), Status::kPanic,
                                   Ttl60(), Stakes::kHigh));
      }
      n += 1000;
      decisions.store(n, std::memory_order_relaxed);
    }
  });
  usleep(1'500'000);  // the start is published; the episode is now "long"
  const double window_s = std::max(1.0, 10.0 * settings.duration_scale);
  const shm::SegmentLayout& layout = engine.segment()->layout();
  absl::StatusOr<std::map<std::string, double>> before = CommandCalls(**redis);
  const uint64_t mirror_before = persist::ReadHealth(layout).commands_sent;
  const uint64_t decisions_before = decisions.load();
  const int64_t t0 = MonotonicNs();
  usleep(static_cast<useconds_t>(window_s * 1e6));
  absl::StatusOr<std::map<std::string, double>> after = CommandCalls(**redis);
  const double elapsed_s = (MonotonicNs() - t0) / 1e9;
  const uint64_t mirror_after = persist::ReadHealth(layout).commands_sent;
  rate.decisions_per_s = (decisions.load() - decisions_before) / elapsed_s;
  stop.store(true);
  decider.join();
  if (!before.ok() || !after.ok()) {
    rate.note = (before.ok() ? after.status() : before.status()).ToString();
    return rate;
  }
  double total = 0;
  for (const auto& [command, calls] : *after) {
    const auto it = before->find(command);
    const double delta = calls - (it == before->end() ? 0 : it->second);
    if (delta > 0) rate.by_command[command] = delta / elapsed_s;
    total += delta;
  }
  rate.per_s = total / elapsed_s;
  rate.mirror_per_s = (mirror_after - mirror_before) / elapsed_s;
  rate.note = absl::StrFormat(
      "one host (engine + Mirror, default intervals: poll %.0f ms, EXPIRE "
      "refresh %.0f s) in an episode running for 1.5 s before a %.1f s "
      "window, one thread deciding panic meanwhile (%.3g decisions/s); "
      "Redis's INFO commandstats delta over the window, every command but "
      "INFO, so run it on a Redis nobody else uses; mirror_commands_per_s is "
      "the mirror's own counter in the segment",
      PollIntervalMs(),
      absl::ToDoubleSeconds(persist::MirrorOptions{}.refresh_interval),
      elapsed_s, rate.decisions_per_s);
  return rate;
}

}  // namespace vix::bench
