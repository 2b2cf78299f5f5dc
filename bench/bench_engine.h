// Shared by the Google Benchmark binaries: an engine on a private segment
// that is removed at exit, and a valid base TTL.
#ifndef VIXBREAKER_BENCH_BENCH_ENGINE_H_
#define VIXBREAKER_BENCH_BENCH_ENGINE_H_

#include <unistd.h>

#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "vixbreaker/shm/engine.h"

namespace vix::shm {

inline BaseTtl Ttl60() {
  BaseTtl ttl;
  BaseTtl::FromSeconds(60, &ttl);
  return ttl;
}

class BenchEngine {
 public:
  explicit BenchEngine(absl::string_view tag)
      : name_(absl::StrCat("vixbench-", tag, "-", getpid())) {
    EngineOptions options;
    options.segment.name = name_;
    options.log_fd = -1;
    engine_ = *Engine::Open(options);
  }
  ~BenchEngine() {
    engine_.reset();
    (void)Segment::Destroy(name_);
  }
  BenchEngine(const BenchEngine&) = delete;
  BenchEngine& operator=(const BenchEngine&) = delete;

  Engine& operator*() { return *engine_; }
  Engine* operator->() { return engine_.get(); }

 private:
  std::string name_;
  std::unique_ptr<Engine> engine_;
};

}  // namespace vix::shm

#endif  // VIXBREAKER_BENCH_BENCH_ENGINE_H_
