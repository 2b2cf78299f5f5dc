// A simulated fleet on one real Redis (SPEC 10, "fleet"): N hosts, each a
// segment of its own with its own Mirror, all in this process (a mirror is
// a thread; several per process behave as several machines would, sharing
// only Redis). What one Redis carries is read from INFO.
#ifndef VIXBREAKER_BENCH_FLEET_FLEET_H_
#define VIXBREAKER_BENCH_FLEET_FLEET_H_

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "redis_client.h"
#include "stats.h"
#include "vixbreaker/persist/mirror.h"
#include "vixbreaker/shm/engine.h"

namespace vix::bench {

struct FleetSettings {
  std::string redis_url;
  int hosts = 64;
  int rounds = 50;  // episodes whose adoption is timed
  absl::Duration long_episode = absl::Seconds(25);
  // The mirror's production defaults unless overridden.
  absl::Duration poll_interval = absl::Seconds(1);
  absl::Duration refresh_interval = absl::Seconds(10);
};

// What Redis reports about itself (INFO), at one moment.
struct RedisSample {
  double cpu_s = 0;         // used_cpu_sys + used_cpu_user
  int64_t used_memory = 0;  // bytes
  int64_t connected_clients = 0;
  std::map<std::string, int64_t> calls;  // commandstats, by command
  std::map<std::string, double> usec_per_call;
  absl::Time at;
};

struct FleetResults {
  FleetSettings settings;
  Summary adoption_ns;  // per host and round: start -> remote start cached
  int64_t adoption_missing = 0;       // hosts that never cached it in time
  double redis_cpu_baseline = 0;      // CPU s/s, no fleet (Redis's own cron)
  double redis_cpu_idle = 0;          // CPU s/s, connected fleet, no episode
  double redis_cpu_adoption = 0;      // CPU s/s, during the adoption rounds
  double redis_cpu_long = 0;          // CPU s/s, during the long episode
  double redis_cpu_ms_per_round = 0;  // one episode started, adopted, ended
  std::map<std::string, double> usec_per_call;  // Redis's own, at the end
  double long_seconds = 0;
  double commands_per_host_per_s = 0;               // the mirrors' own count
  std::map<std::string, double> redis_calls_per_s;  // Redis's count
  double decisions_per_s = 0;  // panic decisions during the long episode
  int64_t memory_before = 0, memory_with_fleet = 0;
  int64_t clients_before = 0, clients_with_fleet = 0;
};

class Fleet {
 public:
  // Opens the segments, starts the mirrors, waits (bounded) until every
  // mirror is connected and subscribed.
  static absl::StatusOr<std::unique_ptr<Fleet>> Start(
      const FleetSettings& settings, RedisClient& redis);
  ~Fleet();

  // Runs every figure; `redis` is the bench's own client (INFO, checks).
  absl::StatusOr<FleetResults> Measure(RedisClient& redis);

 private:
  struct Host;
  explicit Fleet(FleetSettings settings);
  absl::Status Adoption(std::vector<double>* samples, int64_t* missing);
  absl::Status LongEpisode(RedisClient& redis, FleetResults* out);
  uint64_t MirrorCommands() const;

  FleetSettings settings_;
  std::vector<std::unique_ptr<Host>> hosts_;
};

absl::StatusOr<RedisSample> SampleRedis(RedisClient& redis);
double CpuPerSecond(const RedisSample& a, const RedisSample& b);

}  // namespace vix::bench

#endif  // VIXBREAKER_BENCH_FLEET_FLEET_H_
