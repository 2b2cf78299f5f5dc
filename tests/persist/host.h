// One simulated host for mirror tests: its own segment, engine and mirror,
// logging JSON lines to a file the test can read. Two Hosts sharing one
// redis-server are two hosts sharing one Redis.
#ifndef VIXBREAKER_TESTS_PERSIST_HOST_H_
#define VIXBREAKER_TESTS_PERSIST_HOST_H_

#include <fcntl.h>
#include <unistd.h>

#include <fstream>
#include <memory>
#include <sstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "redis_harness.h"
#include "test_util.h"
#include "vixbreaker/persist/health.h"
#include "vixbreaker/persist/mirror.h"
#include "vixbreaker/shm/engine.h"

namespace vix::testing {

// Short intervals so faults resolve in a fraction of a second; the lease is
// the shortest ValidateMirrorOptions accepts for these timeouts.
inline persist::MirrorOptions FastMirrorOptions(const std::string& url) {
  persist::MirrorOptions o;
  o.redis_url = url;
  o.poll_interval = absl::Milliseconds(200);
  o.refresh_interval = absl::Milliseconds(300);
  o.connect_timeout = absl::Milliseconds(100);
  o.command_timeout = absl::Milliseconds(100);
  o.lease_period = absl::Seconds(1);
  o.backoff_initial = absl::Milliseconds(20);
  o.backoff_max = absl::Milliseconds(200);
  o.scan_interval = absl::Milliseconds(2);
  return o;
}

class Host {
 public:
  // `config`: the engine's policy and episode rules (clear_after).
  explicit Host(const std::string& tag, const Config& config = {})
      : segment_(tag) {
    log_path_ = log_dir_.path() + "/log.jsonl";
    log_fd_ = open(log_path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC,
                   0600);
    shm::EngineOptions options;
    options.segment.name = segment_.name();
    options.log_fd = log_fd_;
    options.config = config;
    auto engine = shm::Engine::Open(options);
    EXPECT_TRUE(engine.ok()) << engine.status();
    if (engine.ok()) engine_ = *std::move(engine);
    EXPECT_TRUE(engine_ && engine_->segment_status().ok())
        << "segment " << segment_.name();
  }
  ~Host() {
    mirror_.reset();
    engine_.reset();
    close(log_fd_);
  }

  absl::Status StartMirror(persist::MirrorOptions options) {
    options.log_fd = log_fd_;
    auto mirror = persist::Mirror::Start(*engine_, std::move(options));
    if (!mirror.ok()) return mirror.status();
    mirror_ = *std::move(mirror);
    return absl::OkStatus();
  }
  void StopMirror() { mirror_.reset(); }
  persist::Mirror* mirror() { return mirror_.get(); }

  shm::Engine& engine() { return *engine_; }
  shm::ScopeHandle global() const { return engine_->global_scope(); }
  const shm::SegmentLayout& layout() const {
    return engine_->segment()->layout();
  }
  const shm::Scope& Global() const { return *engine_->global_scope().scope; }
  const std::string& segment() const { return segment_.name(); }

  Decision Decide(Status status, shm::ScopeHandle scope,
                  Stakes stakes = Stakes::kHigh) {
    BaseTtl base;
    BaseTtl::FromSeconds(60, &base);
    return engine_->Decide(scope, status, base, stakes);
  }
  Decision Panic(Stakes stakes = Stakes::kHigh) {
    return Decide(Status::kPanic, global(), stakes);
  }
  Decision Calm() { return Decide(Status::kNormal, global()); }
  shm::EpisodeSnapshot Episode() { return engine_->Snapshot(global()); }
  persist::HealthSnapshot Health() { return persist::ReadHealth(layout()); }
  bool Connected() { return Health().connected; }

  std::string Log() {
    engine_->FlushLogs();
    std::ifstream in(log_path_);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
  }
  // Lines that contain every one of `parts`. The mirror writes its log
  // line after the state it describes, so this waits (bounded) for at
  // least one such line before counting; every caller expects one.
  int CountLogLines(std::initializer_list<std::string> parts) {
    int n = 0;
    WaitFor(
        [&] {
          n = CountLogLinesNow(parts);
          return n > 0;
        },
        absl::Seconds(5));
    return n;
  }
  int CountLogLinesNow(std::initializer_list<std::string> parts) {
    std::istringstream lines(Log());
    std::string line;
    int n = 0;
    while (std::getline(lines, line)) {
      bool all = true;
      for (const std::string& p : parts) {
        all = all && line.find(p) != std::string::npos;
      }
      n += all;
    }
    return n;
  }

 private:
  ScopedSegmentName segment_;
  TempDir log_dir_;
  std::string log_path_;
  int log_fd_ = -1;
  std::unique_ptr<shm::Engine> engine_;
  std::unique_ptr<persist::Mirror> mirror_;
};

}  // namespace vix::testing

#endif  // VIXBREAKER_TESTS_PERSIST_HOST_H_
