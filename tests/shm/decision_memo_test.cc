// The thread's decision memo (slots.h): a steady panic decision reuses the
// thread's last one for its engine and stakes. Each case changes one thing
// the memo must notice and checks the decision against the policy computed
// from scratch, on a real segment with an injected clock.
#include <algorithm>
#include <thread>
#include <vector>

#include "engine_fixture.h"
#include "gtest/gtest.h"

namespace vix::shm {
namespace {

using testing_fixture::EngineOnSegment;
using testing_fixture::kMinute;
using testing_fixture::kSecond;
using testing_fixture::kT0;
using testing_fixture::Ttl;

Decision Panic(Engine& e, Stakes stakes = Stakes::kHigh, int64_t ttl = 60) {
  return e.Decide(e.global_scope(), Status::kPanic, Ttl(ttl), stakes);
}

// What the policy says for an episode that started at `start`, now.
Decision Expected(const Engine& e, int64_t start, Stakes stakes,
                  int64_t ttl = 60) {
  return e.policy().DecideForAge(e.clock().NowNs() - start, Ttl(ttl), stakes);
}

void ExpectSame(const Decision& got, const Decision& want, const char* when) {
  EXPECT_EQ(got.tier, want.tier) << when;
  EXPECT_EQ(got.ttl_seconds, want.ttl_seconds) << when;
  EXPECT_EQ(got.mode, want.mode) << when;
  EXPECT_EQ(got.stakes, want.stakes) << when;
}

TEST(DecisionMemoTest, EveryTierBoundaryIsSeenWhileTheMemoHits) {
  EngineOnSegment s("memo-tiers");
  ASSERT_NE(s.engine, nullptr);
  const int64_t start = Panic(*s.engine).episode_start_ns;
  // 10 s steps through 7 hours: every step but the boundaries is a hit,
  // every boundary must change the tier on the first decision after it.
  for (int64_t t = 0; t < 7 * 60 * kMinute; t += 10 * kSecond) {
    s.clock.SetNs(kT0 + t);
    for (int i = 0; i < 3; ++i) {
      const Decision d = Panic(*s.engine);
      ASSERT_EQ(d.tier, Expected(*s.engine, start, Stakes::kHigh).tier)
          << "at age " << t / kSecond << " s, call " << i;
      ASSERT_EQ(d.episode_start_ns, start);
    }
  }
}

// A hit across a clock change: the memo is filled just before each tier
// boundary (well after a refresh), then the clock crosses it by 1 ns.
TEST(DecisionMemoTest, AHitNeverCrossesATierBoundary) {
  for (Stakes stakes : {Stakes::kHigh, Stakes::kMedium, Stakes::kLow}) {
    EngineOnSegment s("memo-cross");
    ASSERT_NE(s.engine, nullptr);
    const Policy& policy = s.engine->policy();
    const int64_t start = Panic(*s.engine, stakes).episode_start_ns;
    for (int tier = 2; tier <= 4; ++tier) {
      const int64_t boundary = start + policy.TierStartNs(stakes, tier);
      s.clock.SetNs(boundary - 300'000'000);
      Panic(*s.engine, stakes);  // refresh
      s.clock.SetNs(boundary - 200'000'000);
      ASSERT_EQ(Panic(*s.engine, stakes).tier, tier - 1);  // fills the memo
      ASSERT_EQ(Panic(*s.engine, stakes).tier, tier - 1);  // a hit
      s.clock.SetNs(boundary);
      EXPECT_EQ(Panic(*s.engine, stakes).tier, tier)
          << "stakes " << static_cast<int>(stakes) << ": the memo of tier "
          << tier - 1 << " served a decision past its end";
    }
  }
}

// With cap_at_base the TTL depends on the base TTL: the memo keeps the tier,
// never a TTL computed for another call's base.
TEST(DecisionMemoTest, CappedTtlsFollowEachCallsBase) {
  testing::ScopedSegmentName segment("memo-cap");
  testing::LogFile log;
  CachedClock clock{kT0};
  Config config;
  config.policy.cap_at_base = true;
  std::unique_ptr<Engine> engine = testing_fixture::OpenTestEngine(
      segment.name(), log, &clock, kDefaultScopeCapacity, config);
  ASSERT_NE(engine, nullptr);
  const int64_t start = Panic(*engine).episode_start_ns;
  clock.SetNs(kT0 + 400 * kMinute);  // tier 4: 60 s uncapped
  for (int round = 0; round < 3; ++round) {
    for (int64_t ttl : {1, 30, 60, 3600}) {
      const Decision d = Panic(*engine, Stakes::kHigh, ttl);
      ExpectSame(d, Expected(*engine, start, Stakes::kHigh, ttl), "capped");
      EXPECT_EQ(d.ttl_seconds, std::min<int64_t>(ttl, 60)) << "base " << ttl;
    }
  }
}

TEST(DecisionMemoTest, AClockSteppedBackLeavesTheMemo) {
  EngineOnSegment s("memo-back");
  ASSERT_NE(s.engine, nullptr);
  const int64_t start = Panic(*s.engine).episode_start_ns;
  s.clock.SetNs(kT0 + 200 * kMinute);  // tier 3 for high stakes
  Panic(*s.engine);
  ExpectSame(Panic(*s.engine), Expected(*s.engine, start, Stakes::kHigh),
             "tier 3, memo filled");
  s.clock.SetNs(kT0 + 30 * kMinute);  // back into tier 1
  ExpectSame(Panic(*s.engine), Expected(*s.engine, start, Stakes::kHigh),
             "after the step back");
  EXPECT_EQ(Panic(*s.engine).tier, 1);
}

TEST(DecisionMemoTest, StakesAndBaseTtlsAreEachTheirOwn) {
  EngineOnSegment s("memo-stakes");
  ASSERT_NE(s.engine, nullptr);
  const int64_t start = Panic(*s.engine).episode_start_ns;
  s.clock.SetNs(kT0 + 100 * kMinute);  // high: tier 2, medium 3, low 4
  for (int round = 0; round < 3; ++round) {
    for (Stakes stakes : {Stakes::kHigh, Stakes::kMedium, Stakes::kLow}) {
      for (int64_t ttl : {1, 60, 3600}) {
        ExpectSame(Panic(*s.engine, stakes, ttl),
                   Expected(*s.engine, start, stakes, ttl), "alternating");
      }
    }
  }
}

TEST(DecisionMemoTest, ANewEpisodeWordIsSeenAtOnce) {
  EngineOnSegment s("memo-word");
  ASSERT_NE(s.engine, nullptr);
  Panic(*s.engine);
  s.clock.SetNs(kT0 + 400 * kMinute);
  ASSERT_EQ(Panic(*s.engine).tier, 4);
  ASSERT_EQ(Panic(*s.engine).tier, 4);
  // Another writer (here the admin) replaces the start: the word changes.
  const int64_t fresh = kT0 + 399 * kMinute;
  ASSERT_TRUE(s.engine->ForceStart(s.engine->global_scope(), fresh).ok());
  const Decision d = Panic(*s.engine);
  EXPECT_EQ(d.tier, 1);
  EXPECT_EQ(d.episode_start_ns, fresh);
  EXPECT_EQ(d.reason, Reason::kForced);
}

TEST(DecisionMemoTest, APanicStillCancelsACalmPeriod) {
  testing::ScopedSegmentName segment("memo-calm");
  testing::LogFile log;
  CachedClock clock{kT0};
  Config config;
  config.episode.clear_after_s = 60;  // calm starts a calm period
  std::unique_ptr<Engine> engine = testing_fixture::OpenTestEngine(
      segment.name(), log, &clock, kDefaultScopeCapacity, config);
  ASSERT_NE(engine, nullptr);
  Engine& e = *engine;
  Panic(e);
  Panic(e);
  Panic(e);  // memo filled
  e.Decide(e.global_scope(), Status::kNormal, Ttl(60), Stakes::kHigh);
  ASSERT_NE(e.Snapshot(e.global_scope()).calm_since_ns, 0)
      << "a calm observation starts a calm period";
  Panic(e);
  EXPECT_EQ(e.Snapshot(e.global_scope()).calm_since_ns, 0)
      << "a panic decision served from the memo left the calm period running";
}

TEST(DecisionMemoTest, TheRefreshOfLastPanicStillHappens) {
  EngineOnSegment s("memo-refresh");
  ASSERT_NE(s.engine, nullptr);
  Engine& e = *s.engine;
  Panic(e);
  Panic(e);
  Panic(e);  // memo filled
  const int64_t before = e.Snapshot(e.global_scope()).last_panic_ns;
  for (int i = 1; i <= 30; ++i) {
    s.clock.SetNs(kT0 + i * int64_t{100'000'000});  // 3 s in 100 ms steps
    Panic(e);
  }
  const int64_t after = e.Snapshot(e.global_scope()).last_panic_ns;
  EXPECT_GE(after - before, 2 * kSecond)
      << "last_panic_ns was not refreshed while the memo served decisions";
}

TEST(DecisionMemoTest, EnginesSharingACacheWayNeverMix) {
  // Nine engines: two of them share one of the eight cache ways.
  std::vector<std::unique_ptr<EngineOnSegment>> engines;
  std::vector<int64_t> starts;
  for (int i = 0; i < 9; ++i) {
    engines.push_back(
        std::make_unique<EngineOnSegment>("memo-way-" + std::to_string(i)));
    EngineOnSegment& s = *engines.back();
    ASSERT_NE(s.engine, nullptr);
    s.clock.SetNs(kT0 + i * kSecond);
    starts.push_back(Panic(*s.engine).episode_start_ns);
    s.clock.SetNs(kT0 + i * 50 * kMinute);  // tiers 1 to 4 across engines
  }
  for (int round = 0; round < 4; ++round) {
    for (int i = 0; i < 9; ++i) {
      Engine& e = *engines[i]->engine;
      const Decision d = Panic(e);
      ExpectSame(d, Expected(e, starts[i], Stakes::kHigh), "engine by engine");
      EXPECT_EQ(d.episode_start_ns, starts[i]) << "engine " << i;
    }
  }
}

TEST(DecisionMemoTest, EveryDecisionIsCountedOnce) {
  EngineOnSegment s("memo-count");
  ASSERT_NE(s.engine, nullptr);
  Engine& e = *s.engine;
  constexpr int kThreads = 4;
  constexpr int kCalls = 10'000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&e] {
      for (int i = 0; i < kCalls; ++i) Panic(e);
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(testing_fixture::TotalDecisions(e.segment()->layout()),
            uint64_t{kThreads} * kCalls);
}

}  // namespace
}  // namespace vix::shm
