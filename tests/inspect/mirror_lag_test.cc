// `vixctl status` and `metrics` on a segment whose mirror (`vixctl mirror`,
// a real redis-server) published an episode that was already old: the
// publish lag is Redis latency, not the episode's age (SPEC 5, 9).
#include <signal.h>
#include <unistd.h>

#include <cstdlib>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "redis_harness.h"
#include "test_util.h"
#include "vixbreaker/shm/layout.h"
#include "vixbreaker/shm/process.h"
#include "vixbreaker/shm/segment.h"

namespace vix::testing {
namespace {

// The number after `"key":` in flat JSON text, or -1.
double NumberAfter(const std::string& json, const std::string& key) {
  const std::string needle = absl::StrCat("\"", key, "\":");
  const size_t at = json.find(needle);
  if (at == std::string::npos) return -1;
  const size_t start = at + needle.size();
  const size_t end = json.find_first_of(",}", start);
  double value = -1;
  if (!absl::SimpleAtod(json.substr(start, end - start), &value)) return -1;
  return value;
}

TEST(MirrorLagTest, PublishLagIsRedisLatencyNotTheEpisodeAge) {
  RedisServer redis;
  ASSERT_TRUE(redis.Start());
  ScopedSegmentName name("lag");
  const int64_t thirty_s_ago = shm::RealtimeNowNs() / 1'000'000'000 - 30;
  RunResult start =
      vix::testing::Run({kVixctl, "panic", "start", "--at",
                         absl::StrCat(thirty_s_ago), "--segment", name.name()});
  ASSERT_EQ(start.exit_code, 0) << start.err;
  {
    // As if this host started the episode 30 s before its mirror came up.
    shm::SegmentOptions options;
    options.name = name.name();
    auto segment = shm::Segment::OpenOrCreate(options);
    ASSERT_TRUE(segment.ok()) << segment.status();
    shm::ScopesOf(*(*segment)->mutable_layout())[shm::kGlobalScopeIndex]
        .last_transition_ns.store(thirty_s_ago * 1'000'000'000,
                                  std::memory_order_relaxed);
  }

  Child mirror(
      {kVixctl, "mirror", "--redis", redis.Url(), "--segment", name.name()});
  RedisClient client(redis);
  ASSERT_TRUE(WaitFor([&] {
    return client.Get("brain:panic_start_ts").has_value();
  })) << "the mirror never published the episode";
  std::string status;
  ASSERT_TRUE(WaitFor([&] {
    status = vix::testing::Run(
                 {kVixctl, "status", "--json", "--segment", name.name()})
                 .out;
    return NumberAfter(status, "publish_lag_s") > 0;
  })) << "no publish lag recorded: "
      << status;
  const double lag = NumberAfter(status, "publish_lag_s");
  EXPECT_LT(lag, 1.0) << "a 30 s old episode published on loopback: " << status;
  mirror.Signal(SIGTERM);
  EXPECT_NE(mirror.Wait(), -1) << "the mirror did not stop on SIGTERM";
}

}  // namespace
}  // namespace vix::testing
