// The mirror's own schedules (polls, run-id checks, reconnect backoff) are
// host-local and run on CLOCK_MONOTONIC (SPEC 4): a wall clock stepped an
// hour either way, injected into the mirror, neither stalls them nor makes
// them spin. The mirror talks to a real redis-server through a loopback
// proxy, so every connection attempt is counted even while Redis is down.
#include <atomic>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "host.h"
#include "redis_harness.h"
#include "vixbreaker/shm/process.h"

namespace vix::testing {
namespace {

constexpr int64_t kHour = int64_t{3600} * 1'000'000'000;

// The wall clock the mirror reads: real time plus a step the test moves.
std::atomic<int64_t> wall_step_ns{0};
int64_t SteppedWall() {
  return shm::RealtimeNowNs() + wall_step_ns.load(std::memory_order_relaxed);
}

// FastMirrorOptions polls every 200 ms (a run-id check every 2 s) and
// backs off to at most 200 ms: a 2 s window holds about 10 of each.
constexpr absl::Duration kWindow = absl::Seconds(2);
constexpr int kAtLeast = 4;  // fewer: the schedule stalled
constexpr int kAtMost = 30;  // more: it spins

// Calls of one command ("get", "info") the server has answered so far.
int64_t CommandCalls(RedisClient& client, const std::string& command) {
  const std::string info = client.Command({"INFO", "commandstats"}).str;
  const std::string prefix = absl::StrCat("cmdstat_", command, ":calls=");
  const size_t at = info.find(prefix);
  if (at == std::string::npos) return 0;
  const size_t begin = at + prefix.size();
  int64_t n = 0;
  EXPECT_TRUE(
      absl::SimpleAtoi(info.substr(begin, info.find(',', begin) - begin), &n))
      << info;
  return n;
}

std::string StepText(int64_t step) {
  return absl::StrCat("a step of ", step / kHour, " h, to ",
                      wall_step_ns.load(std::memory_order_relaxed) / kHour,
                      " h off real time");
}

class ScheduleClockTest : public ::testing::Test {
 protected:
  void SetUp() override {
    wall_step_ns.store(0, std::memory_order_relaxed);
    ASSERT_TRUE(redis_.Start());
    proxy_ = std::make_unique<TcpProxy>(redis_.port());
    ASSERT_TRUE(proxy_->Start());
    persist::MirrorOptions options =
        FastMirrorOptions(absl::StrCat("redis://127.0.0.1:", proxy_->port()));
    options.wall_clock_ns = &SteppedWall;
    ASSERT_TRUE(host_.StartMirror(options).ok());
    ASSERT_TRUE(WaitFor([&] { return host_.Connected(); }))
        << "the mirror never connected: " << host_.Log();
  }
  void Step(int64_t ns) {
    wall_step_ns.fetch_add(ns, std::memory_order_relaxed);
  }

  RedisServer redis_;
  std::unique_ptr<TcpProxy> proxy_;
  Host host_{"schedule-clock"};
};

TEST_F(ScheduleClockTest, PollsAndRunIdChecksGoOnThroughWallSteps) {
  RedisClient client(redis_);
  for (const int64_t step : {-kHour, 2 * kHour, -kHour}) {
    Step(step);
    // Each INFO commandstats the test sends counts itself: keep a tally.
    int64_t own_infos = 0;
    const auto calls = [&](const std::string& command) {
      ++own_infos;
      return CommandCalls(client, command);
    };
    const int64_t infos = calls("info");
    const int64_t gets = calls("get");
    const auto mirror_infos = [&] {
      const int64_t now = calls("info");
      return now - infos - (own_infos - 1);
    };
    absl::SleepFor(kWindow);  // a rate needs a window, not a condition
    const int64_t polled = calls("get") - gets;
    SCOPED_TRACE(StepText(step));
    EXPECT_GE(polled, kAtLeast) << "polling stalled after a wall step";
    EXPECT_LE(polled, kAtMost) << "polling spun after a wall step";
    EXPECT_LE(mirror_infos(), 3) << "run-id checks spun after a wall step";
    // One check is due every 2 s, the length of the window: it may fall
    // just after the window closes, so await it rather than count it.
    EXPECT_TRUE(WaitFor([&] { return mirror_infos() >= 1; }, kWindow))
        << "run-id checks stalled after a wall step";
  }
  EXPECT_TRUE(host_.Connected());
}

TEST_F(ScheduleClockTest, ReconnectsKeepTheirBackoffThroughWallSteps) {
  redis_.Kill();  // the proxy still accepts, then hangs up: each is a try
  ASSERT_TRUE(WaitFor([&] { return !host_.Connected(); }))
      << "the mirror did not notice that Redis died";
  for (const int64_t step : {-kHour, 2 * kHour, -kHour}) {
    Step(step);
    const int tries = proxy_->connections_accepted();
    absl::SleepFor(kWindow);
    const int tried = proxy_->connections_accepted() - tries;
    SCOPED_TRACE(StepText(step));
    EXPECT_GE(tried, kAtLeast) << "reconnects stalled after a wall step";
    EXPECT_LE(tried, kAtMost) << "reconnects spun after a wall step";
  }
  ASSERT_TRUE(redis_.Restart());
  EXPECT_TRUE(WaitFor([&] { return host_.Connected(); }, absl::Seconds(5)))
      << "the mirror did not reconnect after a wall step: " << host_.Log();
}

}  // namespace
}  // namespace vix::testing
