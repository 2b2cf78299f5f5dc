// The segment has one read model (shm/reader.h): the engine's snapshot, the
// inspector and persist's health must report the same state for the same
// segment, expired episodes included.
#include <memory>

#include "gtest/gtest.h"
#include "test_util.h"
#include "vixbreaker/persist/health.h"
#include "vixbreaker/shm/engine.h"
#include "vixbreaker/shm/reader.h"

namespace vix::shm {
namespace {

constexpr int64_t kSecond = 1'000'000'000;
constexpr int64_t kT0 = 1'764'420'000 * kSecond;

BaseTtl Ttl(int64_t s) {
  BaseTtl t;
  BaseTtl::FromSeconds(s, &t);
  return t;
}

class ReadModelTest : public ::testing::Test {
 protected:
  void SetUp() override {
    EngineOptions options;
    options.segment.name = segment_.name();
    options.config.episode.deadman_s = 60;
    options.clock = &clock_;
    options.log_fd = -1;
    engine_ = *Engine::Open(options);
    ASSERT_TRUE(engine_->segment_status().ok());
    inspector_ =
        std::make_unique<Inspector>(*Inspector::Create(options.config));
  }
  // Checks that the three readers agree on scope `h` at the clock's now.
  void ExpectAgree(ScopeHandle h, EpisodeState expected) {
    const Snapshot inspected =
        inspector_->Read(*engine_->segment(), clock_.NowNs());
    const ScopeView* view = nullptr;
    for (const ScopeView& v : inspected.scopes) {
      if (v.index == h.index) view = &v;
    }
    ASSERT_NE(view, nullptr);
    EXPECT_EQ(view->episode, expected) << EpisodeStateName(view->episode)
                                       << " vs " << EpisodeStateName(expected);
    const EpisodeSnapshot engine = engine_->Snapshot(h);
    EXPECT_EQ(engine.active, view->running());
    EXPECT_EQ(engine.expired, view->episode == EpisodeState::kExpired);
    EXPECT_EQ(engine.forced, view->episode == EpisodeState::kForced);
    EXPECT_EQ(engine.start_ns, view->start_ns);
    EXPECT_EQ(engine.episodes_started, view->episodes_started);
    const persist::HealthSnapshot health =
        persist::ReadHealth(engine_->segment()->layout());
    EXPECT_EQ(health.configured, inspected.mirror.configured);
    EXPECT_EQ(health.lease_holder_pid, inspected.mirror.lease_holder_pid);
  }

  testing::ScopedSegmentName segment_{"readmodel"};
  CachedClock clock_{kT0};
  std::unique_ptr<Engine> engine_;
  std::unique_ptr<Inspector> inspector_;
};

TEST_F(ReadModelTest, AllReadersAgreeThroughAnEpisodeItsExpiryAndAForce) {
  ScopeHandle g = engine_->global_scope();
  ExpectAgree(g, EpisodeState::kNone);
  engine_->Decide(g, Status::kPanic, Ttl(60), Stakes::kHigh);
  ExpectAgree(g, EpisodeState::kActive);
  clock_.AdvanceNs(61 * kSecond);  // past the 60 s dead-man's switch
  ExpectAgree(g, EpisodeState::kExpired);
  ASSERT_TRUE(engine_->ForceStart(g, kT0).ok());
  ExpectAgree(g, EpisodeState::kForced);
  ASSERT_TRUE(*engine_->ForceEnd(g));
  ExpectAgree(g, EpisodeState::kNone);
}

}  // namespace
}  // namespace vix::shm
