#include "fleet.h"

#include <unistd.h>

#include <thread>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "vixbreaker/persist/health.h"
#include "vixbreaker/persist/wire.h"
#include "vixbreaker/shm/process.h"
#include "vixbreaker/shm/segment.h"

namespace vix::bench {
namespace {

constexpr absl::Duration kSettle = absl::Seconds(30);

// Polls `done` every 50 µs until it holds or `timeout` passes.
template <typename F>
bool Await(F done, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (!done()) {
    if (absl::Now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::microseconds(50));
  }
  return true;
}

int64_t Field(const std::map<std::string, std::string>& info,
              const std::string& name) {
  auto it = info.find(name);
  int64_t v = 0;
  if (it != info.end()) absl::SimpleAtoi(it->second, &v);
  return v;
}

}  // namespace

double CpuPerSecond(const RedisSample& a, const RedisSample& b) {
  const double s = absl::ToDoubleSeconds(b.at - a.at);
  return s > 0 ? (b.cpu_s - a.cpu_s) / s : 0;
}

struct Fleet::Host {
  std::string segment;
  std::unique_ptr<shm::Engine> engine;
  std::unique_ptr<persist::Mirror> mirror;

  ~Host() {
    mirror.reset();
    engine.reset();
    (void)shm::Segment::Destroy(segment);
  }
  const shm::Scope& global() { return *engine->global_scope().scope; }
  persist::HealthSnapshot health() {
    return persist::ReadHealth(engine->segment()->layout());
  }
  int64_t remote() {
    return global().remote_start_ns.load(std::memory_order_acquire);
  }
  int64_t published() {
    return global().mirror_published_ns.load(std::memory_order_relaxed);
  }
  Decision Decide(Status status) {
    BaseTtl base;
    BaseTtl::FromSeconds(60, &base);
    return engine->Decide(engine->global_scope(), status, base, Stakes::kHigh);
  }
};

absl::StatusOr<RedisSample> SampleRedis(RedisClient& redis) {
  RedisSample s;
  absl::StatusOr<std::map<std::string, std::string>> info = redis.Info("all");
  if (!info.ok()) return info.status();
  s.at = absl::Now();
  double sys = 0, user = 0;
  auto it = info->find("used_cpu_sys");
  if (it != info->end()) absl::SimpleAtod(it->second, &sys);
  it = info->find("used_cpu_user");
  if (it != info->end()) absl::SimpleAtod(it->second, &user);
  s.cpu_s = sys + user;
  s.used_memory = Field(*info, "used_memory");
  s.connected_clients = Field(*info, "connected_clients");
  for (const auto& [name, value] : *info) {
    // cmdstat_get:calls=12,usec=...
    if (name.rfind("cmdstat_", 0) != 0) continue;
    int64_t calls = 0;
    const size_t eq = value.find("calls=");
    if (eq == std::string::npos) continue;
    const std::string rest = value.substr(eq + 6, value.find(',') - eq - 6);
    if (absl::SimpleAtoi(rest, &calls)) s.calls[name.substr(8)] = calls;
    const size_t per = value.find("usec_per_call=");
    double usec = 0;
    if (per != std::string::npos &&
        absl::SimpleAtod(
            value.substr(per + 14, value.find(',', per) - per - 14), &usec)) {
      s.usec_per_call[name.substr(8)] = usec;
    }
  }
  return s;
}

absl::StatusOr<std::unique_ptr<Fleet>> Fleet::Start(
    const FleetSettings& settings, RedisClient& redis) {
  std::unique_ptr<Fleet> fleet(new Fleet(settings));
  for (int i = 0; i < settings.hosts; ++i) {
    auto host = std::make_unique<Host>();
    host->segment = absl::StrFormat("vixfleet-%d-%d", getpid(), i);
    shm::EngineOptions eo;
    eo.segment.name = host->segment;
    eo.log_fd = -1;
    absl::StatusOr<std::unique_ptr<shm::Engine>> engine = shm::Engine::Open(eo);
    if (!engine.ok()) return engine.status();
    host->engine = *std::move(engine);
    persist::MirrorOptions mo;
    mo.redis_url = settings.redis_url;
    mo.poll_interval = settings.poll_interval;
    mo.refresh_interval = settings.refresh_interval;
    mo.log_fd = -1;
    absl::StatusOr<std::unique_ptr<persist::Mirror>> mirror =
        persist::Mirror::Start(*host->engine, mo);
    if (!mirror.ok()) return mirror.status();
    host->mirror = *std::move(mirror);
    fleet->hosts_.push_back(std::move(host));
  }
  const std::string channel = persist::ChannelForKey(
      persist::KeyForScope(persist::kDefaultKeyPrefix, "global"));
  const bool ready = Await(
      [&] {
        for (auto& h : fleet->hosts_) {
          if (!h->health().connected) return false;
        }
        // PUBLISH answers how many subscribers got it; a mirror takes a
        // foreign message as "look now" and polls once.
        absl::StatusOr<std::string> n =
            redis.Command({"PUBLISH", channel, "fleet-probe"});
        int64_t subscribers = 0;
        return n.ok() && absl::SimpleAtoi(*n, &subscribers) &&
               subscribers >= settings.hosts;
      },
      kSettle);
  if (!ready) {
    return absl::DeadlineExceededError(
        absl::StrCat("the fleet's ", settings.hosts,
                     " mirrors did not all connect and subscribe within ",
                     absl::FormatDuration(kSettle)));
  }
  return fleet;
}

Fleet::Fleet(FleetSettings settings) : settings_(std::move(settings)) {}

Fleet::~Fleet() { hosts_.clear(); }

uint64_t Fleet::MirrorCommands() const {
  uint64_t total = 0;
  for (const auto& h : hosts_) {
    total += h->health().commands_sent;
  }
  return total;
}

absl::Status Fleet::Adoption(std::vector<double>* samples, int64_t* missing) {
  const size_t n = hosts_.size();
  for (int round = 0; round < settings_.rounds; ++round) {
    const size_t origin = static_cast<size_t>(round) % n;
    std::vector<int64_t> seen(n, 0);
    const int64_t t0 = shm::RealtimeNowNs();
    hosts_[origin]->Decide(Status::kPanic);
    Await(
        [&] {
          bool all = true;
          for (size_t j = 0; j < n; ++j) {
            if (j == origin || seen[j] != 0) continue;
            if (hosts_[j]->remote() != 0) {
              seen[j] = shm::RealtimeNowNs();
            } else {
              all = false;
            }
          }
          return all;
        },
        settings_.poll_interval * 3);
    for (size_t j = 0; j < n; ++j) {
      if (j == origin) continue;
      if (seen[j] == 0) {
        ++*missing;
      } else {
        samples->push_back(static_cast<double>(seen[j] - t0));
      }
    }
    hosts_[origin]->Decide(Status::kNormal);  // ends it; the key goes
    const bool cleared = Await(
        [&] {
          for (auto& h : hosts_) {
            if (h->remote() != 0) return false;
          }
          return true;
        },
        settings_.poll_interval * 3);
    if (!cleared) {
      return absl::DeadlineExceededError(absl::StrCat(
          "round ", round, ": the end did not reach every host within ",
          absl::FormatDuration(settings_.poll_interval * 3)));
    }
  }
  return absl::OkStatus();
}

absl::Status Fleet::LongEpisode(RedisClient& redis, FleetResults* out) {
  hosts_[0]->Decide(Status::kPanic);
  // Every host joins and its mirror confirms the start: a steady episode.
  const bool joined = Await(
      [&] {
        for (auto& h : hosts_) {
          if (h->published() == 0) {
            if (h->remote() != 0) h->Decide(Status::kPanic);
            return false;
          }
        }
        return true;
      },
      kSettle);
  if (!joined) {
    return absl::DeadlineExceededError(
        "not every host joined the long episode within 30 s");
  }
  absl::StatusOr<RedisSample> before = SampleRedis(redis);
  if (!before.ok()) return before.status();
  const uint64_t commands_before = MirrorCommands();
  int64_t decisions = 0;
  const absl::Time end = absl::Now() + settings_.long_episode;
  while (absl::Now() < end) {
    for (auto& h : hosts_) h->Decide(Status::kPanic);
    decisions += static_cast<int64_t>(hosts_.size());
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  absl::StatusOr<RedisSample> after = SampleRedis(redis);
  if (!after.ok()) return after.status();
  const double seconds = absl::ToDoubleSeconds(after->at - before->at);
  out->long_seconds = seconds;
  out->decisions_per_s = static_cast<double>(decisions) / seconds;
  out->commands_per_host_per_s =
      static_cast<double>(MirrorCommands() - commands_before) /
      static_cast<double>(hosts_.size()) / seconds;
  out->redis_cpu_long = CpuPerSecond(*before, *after);
  out->usec_per_call = after->usec_per_call;
  for (const auto& [name, calls] : after->calls) {
    // Our own INFO (one per sample) is not the fleet's.
    const int64_t delta = calls - before->calls[name] - (name == "info");
    if (delta > 0) out->redis_calls_per_s[name] = delta / seconds;
  }
  for (auto& h : hosts_) h->Decide(Status::kNormal);
  return absl::OkStatus();
}

absl::StatusOr<FleetResults> Fleet::Measure(RedisClient& redis) {
  FleetResults out;
  out.settings = settings_;
  absl::StatusOr<RedisSample> a = SampleRedis(redis);
  if (!a.ok()) return a.status();
  out.memory_with_fleet = a->used_memory;
  out.clients_with_fleet = a->connected_clients;
  std::this_thread::sleep_for(std::chrono::seconds(2));  // idle: polls only
  absl::StatusOr<RedisSample> b = SampleRedis(redis);
  if (!b.ok()) return b.status();
  out.redis_cpu_idle = CpuPerSecond(*a, *b);
  std::vector<double> samples;
  absl::Status s = Adoption(&samples, &out.adoption_missing);
  if (!s.ok()) return s;
  absl::StatusOr<RedisSample> c = SampleRedis(redis);
  if (!c.ok()) return c.status();
  out.redis_cpu_adoption = CpuPerSecond(*b, *c);
  out.redis_cpu_ms_per_round = (c->cpu_s - b->cpu_s) * 1e3 / settings_.rounds;
  out.adoption_ns = SummarizeNs(std::move(samples));
  s = LongEpisode(redis, &out);
  if (!s.ok()) return s;
  return out;
}

}  // namespace vix::bench
