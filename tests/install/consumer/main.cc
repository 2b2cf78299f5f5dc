// Decides once through an installed vixbreaker; prints the decision.
#include <cstdio>
#include <string>

#include "vixbreaker/persist/redis_url.h"
#include "vixbreaker/shm/engine.h"

int main(int argc, char** argv) {
  if (argc != 2) return 2;
  // The mirror's library links too (hiredis found through the package).
  if (!vix::persist::ParseRedisUrl("redis://127.0.0.1:6379/0").ok()) return 1;
  vix::shm::EngineOptions options;
  options.segment.name = argv[1];
  options.log_fd = -1;
  auto engine = vix::shm::Engine::Open(options);
  if (!engine.ok() || !(*engine)->segment_status().ok()) return 1;
  absl::StatusOr<vix::Decision> d =
      (*engine)->Decide("global", "panic", 60, "UEFA Champions League", "");
  if (!d.ok()) return 1;
  std::printf("%d %s %s\n", d->ttl_seconds,
              std::string(vix::ModeName(d->mode)).c_str(),
              std::string(vix::StakesName(d->stakes)).c_str());
  return vix::shm::Segment::Destroy(argv[1]).ok() ? 0 : 1;
}
