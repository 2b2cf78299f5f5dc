// Host-local deadlines run on CLOCK_MONOTONIC (SPEC 4): a wall clock
// stepped by an hour either way, injected into the standby's mirror or the
// deciding engine, neither keeps a stalled holder's lease, nor hands a
// healthy holder's lease away, nor hides a dead mirror under `strict`. The
// holder is a real `vixctl mirror` process on a real redis-server.
#include <signal.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "host.h"
#include "mirror_child.h"
#include "redis_harness.h"
#include "vixbreaker/shm/clock.h"
#include "vixbreaker/shm/process.h"

namespace vix::testing {
namespace {

constexpr int64_t kSecond = 1'000'000'000;
constexpr int64_t kHour = 3600 * kSecond;

int64_t AnHourBehind() { return shm::RealtimeNowNs() - kHour; }
int64_t TenSecondsAhead() { return shm::RealtimeNowNs() + 10 * kSecond; }

// `vixctl mirror` with a `lease_s` lease (1 s unless given) and a 0.5 s
// health window, its log appended to `log`.
std::unique_ptr<Child> StartHolder(const std::string& url,
                                   const std::string& segment,
                                   const std::string& log,
                                   const std::string& policy,
                                   const std::string& lease_s = "1") {
  return std::make_unique<Child>(
      std::vector<std::string>{
          "/bin/sh", "-c", "exec \"$0\" \"$@\" 2>>\"$VIX_TEST_LOG\"",
          kVixctl.c_str(), "mirror", "--redis", url, "--segment", segment,
          "--policy", policy, "--poll-interval", "0.2", "--lease", lease_s,
          "--connect-timeout", "0.1", "--command-timeout", "0.1"},
      std::vector<std::string>{"VIX_TEST_LOG=" + log});
}

class LeaseClockTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(redis_.Start()); }
  std::string log() const { return logs_.path() + "/holder.log"; }

  RedisServer redis_;
  TempDir logs_;
};

TEST_F(LeaseClockTest, AStepBackDoesNotKeepAStalledHoldersLease) {
  Host host("step-back");
  auto holder = StartHolder(redis_.Url(), host.segment(), log(), "local");
  ASSERT_TRUE(WaitFor([&] {
    return host.Health().lease_holder_pid == holder->pid() && host.Connected();
  })) << ReadFile(log());
  holder->Signal(SIGSTOP);  // stalled: alive, but renews nothing
  persist::MirrorOptions options = FastMirrorOptions(redis_.Url());
  options.wall_clock_ns = &AnHourBehind;
  ASSERT_TRUE(host.StartMirror(options).ok());
  EXPECT_TRUE(
      WaitFor([&] { return host.mirror()->holds_lease(); }, absl::Seconds(10)))
      << "a wall clock an hour behind kept a stalled holder's 1 s lease";
  holder->Signal(SIGCONT);
}

TEST_F(LeaseClockTest, AStepAheadDoesNotHandAHealthyHoldersLeaseAway) {
  Host host("step-ahead");
  // 3 s: a holder stalled by a loaded sanitizer build must not lose the
  // lease on its own; a standby following a wall clock 10 s ahead would
  // still find it expired at once.
  auto holder = StartHolder(redis_.Url(), host.segment(), log(), "local", "3");
  ASSERT_TRUE(WaitFor([&] {
    return host.Health().lease_holder_pid == holder->pid() && host.Connected();
  })) << ReadFile(log());
  const uint64_t takeovers = host.Health().lease_takeovers;
  persist::MirrorOptions options = FastMirrorOptions(redis_.Url());
  options.wall_clock_ns = &TenSecondsAhead;
  ASSERT_TRUE(host.StartMirror(options).ok());
  // The standby checks the lease every scan interval (2 ms): 3 s give it
  // ~1500 chances to take a lease the holder keeps renewing.
  EXPECT_FALSE(
      WaitFor([&] { return host.Health().lease_holder_pid != holder->pid(); },
              absl::Seconds(3)))
      << "a wall clock 10 s ahead took a healthy holder's lease";
  EXPECT_FALSE(host.mirror()->holds_lease());
  EXPECT_EQ(host.Health().lease_takeovers, takeovers);
}

TEST_F(LeaseClockTest, ADeadStrictMirrorIsDetectedDespiteAStepBack) {
  ScopedSegmentName segment("strict-step");
  shm::CachedClock clock(shm::RealtimeNowNs());
  shm::EngineOptions options;
  options.segment.name = segment.name();
  options.clock = &clock;
  options.log_fd = -1;
  auto engine = shm::Engine::Open(options);
  ASSERT_TRUE(engine.ok() && (*engine)->segment_status().ok());
  shm::Engine& e = **engine;
  BaseTtl base;
  BaseTtl::FromSeconds(60, &base);
  auto panic = [&] {
    return e.Decide(e.global_scope(), Status::kPanic, base, Stakes::kHigh);
  };
  auto holder = StartHolder(redis_.Url(), segment.name(), log(), "strict");
  const shm::SegmentLayout& layout = e.segment()->layout();
  ASSERT_TRUE(WaitFor([&] {
    const persist::HealthSnapshot h = persist::ReadHealth(layout);
    return h.lease_holder_pid == holder->pid() && h.strict && h.connected &&
           panic().reason == Reason::kTier;
  })) << "the strict mirror never became healthy: "
      << ReadFile(log());

  holder->Signal(SIGKILL);
  ASSERT_NE(holder->Wait(absl::Seconds(10)), -1);
  clock.SetNs(shm::RealtimeNowNs() - kHour);
  // Health is renewed for 0.5 s at a time: well within the wait.
  EXPECT_TRUE(WaitFor([&] { return panic().reason == Reason::kFailsafe; },
                      absl::Seconds(10)))
      << "a dead strict mirror was trusted after the wall clock stepped back";
}

}  // namespace
}  // namespace vix::testing
