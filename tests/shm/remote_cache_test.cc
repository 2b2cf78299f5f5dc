// The engine's side of the mirror's remote cache (SPEC 3): an adopted start
// stays cautious until confirmed, falls back to this host's own start, and a
// calm host ends a remote episode it only knows from the cache, once (after
// clear_after, as a local one). The basic adopt / expire / calm cases are in
// engine_test.cc.
#include "engine_fixture.h"
#include "gtest/gtest.h"
#include "test_util.h"
#include "vixbreaker/shm/engine.h"

namespace vix::shm {
namespace {

using namespace testing_fixture;  // NOLINT: the fixture's constants

class RemoteCacheTest : public ::testing::Test {
 protected:
  void SetUp() override {
    engine_ = OpenTestEngine(segment_.name(), log_, &clock_);
    ASSERT_NE(engine_, nullptr);
    global_ = engine_->global_scope();
  }
  Decision Panic() {
    return engine_->Decide(global_, Status::kPanic, Ttl(60), Stakes::kHigh);
  }
  Decision Calm() {
    return engine_->Decide(global_, Status::kNormal, Ttl(60), Stakes::kHigh);
  }
  void CacheValid(int64_t start_ns) {
    engine_->episodes()->CacheRemote(global_, start_ns,
                                     MonotonicNowNs() + 60 * kSecond);
  }
  int64_t Word() const { return global_.scope->episode.load(); }

  testing::ScopedSegmentName segment_{"remote"};
  CachedClock clock_{kT0};
  LogFile log_;
  std::unique_ptr<Engine> engine_;
  ScopeHandle global_;
};

TEST_F(RemoteCacheTest, AnUnconfirmedStartStaysTierOneHoweverOld) {
  CacheValid(kT0 - 3 * kHour);  // tier 4 for high stakes once confirmed
  ASSERT_EQ(Panic().tier, 1);
  for (int i = 1; i <= 5; ++i) {
    clock_.SetNs(kT0 + i * 10 * kMinute);
    const Decision d = Panic();
    EXPECT_EQ(d.tier, 1) << "unconfirmed, " << i * 10 << " min later";
    EXPECT_EQ(d.episode_start_ns, EpisodeWord::Normalize(kT0 - 3 * kHour));
  }
  ASSERT_TRUE(engine_->episodes()->Confirm(global_, Word()));
  EXPECT_FALSE(EpisodeWord::Unconfirmed(Word()));
  EXPECT_GT(Panic().tier, 1) << "confirmed: the start's real age counts";
}

TEST_F(RemoteCacheTest, ReplaceWithOwnStartGivesThisHostsFirstObservation) {
  CacheValid(kT0 - 3 * kHour);
  ASSERT_TRUE(Panic().first_writer);
  clock_.SetNs(kT0 + 30 * kSecond);
  const int64_t adopted = Word();
  ASSERT_TRUE(EpisodeWord::Unconfirmed(adopted));
  ASSERT_TRUE(engine_->episodes()->ReplaceWithOwnStart(global_, adopted));
  EXPECT_FALSE(EpisodeWord::Unconfirmed(Word())) << "its own start is known";
  const Decision d = Panic();
  EXPECT_EQ(d.episode_start_ns, EpisodeWord::Normalize(kT0))
      << "when this host first observed the panic, not now";
  EXPECT_EQ(d.tier, 1) << "30 s into its own episode";
  EXPECT_FALSE(engine_->episodes()->Confirm(global_, adopted))
      << "a word that changed meanwhile is not confirmed";
  EXPECT_FALSE(engine_->episodes()->ReplaceWithOwnStart(global_, adopted));
}

TEST_F(RemoteCacheTest, CalmEndsARemoteOnlyEpisodeOnceAndAsksForTheDelete) {
  CacheValid(kT0 - 5 * kMinute);
  EXPECT_EQ(engine_->episodes()->TakeRemoteEndRequest(global_), 0)
      << "no request before a calm observation";
  const Decision calm = Calm();
  EXPECT_TRUE(calm.ended_episode);
  EXPECT_EQ(calm.mode, Mode::kNormal);
  EXPECT_EQ(Word(), 0) << "ending a remote episode starts no local one";
  EXPECT_EQ(engine_->episodes()->TakeRemoteEndRequest(global_),
            EpisodeWord::Normalize(kT0 - 5 * kMinute));
  EXPECT_EQ(engine_->episodes()->TakeRemoteEndRequest(global_), 0)
      << "taken once";
  const Decision panic = Panic();
  EXPECT_EQ(panic.episode_start_ns, EpisodeWord::Normalize(kT0))
      << "the ended remote start is not adopted again";
  engine_->FlushLogs();
  EXPECT_EQ(log_.Count("PANIC_TIMESTAMP_CLEARED"), 1);
}

TEST_F(RemoteCacheTest, CalmWithAnExpiredCacheEndsNothing) {
  engine_->episodes()->CacheRemote(global_, kT0 - 5 * kMinute,
                                   MonotonicNowNs() - 1);
  const Decision calm = Calm();
  EXPECT_FALSE(calm.ended_episode) << "an expired cache is not an episode";
  EXPECT_EQ(engine_->episodes()->TakeRemoteEndRequest(global_), 0)
      << "nothing for the mirror to delete";
  EXPECT_EQ(global_.scope->remote_start_ns.load(), 0) << "forgotten";
}

TEST_F(RemoteCacheTest, CalmEndsALocalEpisodeAdoptedFromTheCache) {
  CacheValid(kT0 - 5 * kMinute);
  ASSERT_EQ(Panic().tier, 1);
  const Decision calm = Calm();
  EXPECT_TRUE(calm.ended_episode);
  EXPECT_EQ(Word(), 0);
  EXPECT_EQ(calm.mode, Mode::kNormal);
}

// clear_after holds for a remote episode as for a local one (SPEC 3), and
// its calm period begins with that episode, not with calm seen before it.
TEST(RemoteCacheClearAfterTest, CalmEndsARemoteEpisodeOnlyAfterClearAfter) {
  testing::ScopedSegmentName segment("remote-clear");
  CachedClock clock{kT0};
  LogFile log;
  Config config;
  config.episode.clear_after_s = 30;
  std::unique_ptr<Engine> engine = OpenTestEngine(
      segment.name(), log, &clock, kDefaultScopeCapacity, config);
  ASSERT_NE(engine, nullptr);
  const ScopeHandle global = engine->global_scope();
  auto cache = [&](int64_t start_ns) {
    engine->episodes()->CacheRemote(global, start_ns,
                                    MonotonicNowNs() + 600 * kSecond);
  };
  auto calm = [&](int64_t at) {
    clock.SetNs(at);
    return engine->Decide(global, Status::kNormal, Ttl(60), Stakes::kHigh);
  };

  cache(kT0 - 5 * kMinute);
  EXPECT_FALSE(calm(kT0).ended_episode) << "first calm: the period begins";
  EXPECT_FALSE(calm(kT0 + 29 * kSecond).ended_episode);
  EXPECT_EQ(engine->episodes()->TakeRemoteEndRequest(global), 0)
      << "nothing for the mirror to delete yet";
  cache(kT0 + 10 * kSecond);  // that episode ended; another one is cached
  EXPECT_FALSE(calm(kT0 + 31 * kSecond).ended_episode)
      << "calm seen before this episode counted for it";
  EXPECT_FALSE(calm(kT0 + 60 * kSecond).ended_episode);
  const Decision ended = calm(kT0 + 61 * kSecond);
  EXPECT_TRUE(ended.ended_episode);
  EXPECT_EQ(ended.mode, Mode::kNormal);
  EXPECT_EQ(engine->episodes()->TakeRemoteEndRequest(global),
            EpisodeWord::Normalize(kT0 + 10 * kSecond));
}

}  // namespace
}  // namespace vix::shm
