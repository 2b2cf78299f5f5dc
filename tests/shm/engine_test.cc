// The engine on a real segment, single process, with an injected clock:
// episodes (SPEC 3), the predecessor's cases, admin overrides, logging.
#include "vixbreaker/shm/engine.h"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "test_util.h"
#include "vixbreaker/shm/process.h"

namespace vix::shm {
namespace {

constexpr int64_t kSecond = 1'000'000'000;
constexpr int64_t kMinute = 60 * kSecond;
constexpr int64_t kHour = 60 * kMinute;
constexpr int64_t kDay = 24 * kHour;
constexpr int64_t kT0 = 1'764'420'000 * kSecond;  // 2025-11-29T12:40:00Z

using testing::LogFile;
using testing::Ttl;

class EngineTest : public ::testing::Test {
 protected:
  std::unique_ptr<Engine> OpenEngine(Config config = {}) {
    EngineOptions options;
    options.segment.name = segment_.name();
    options.config = config;
    options.clock = &clock_;
    options.log_fd = log_.fd();
    absl::StatusOr<std::unique_ptr<Engine>> engine = Engine::Open(options);
    EXPECT_TRUE(engine.ok()) << engine.status();
    EXPECT_TRUE((*engine)->segment_status().ok())
        << (*engine)->segment_status();
    return *std::move(engine);
  }
  Decision Panic(Engine& e, Stakes stakes = Stakes::kHigh) {
    return e.Decide(e.global_scope(), Status::kPanic, Ttl(60), stakes);
  }
  Decision Calm(Engine& e, Status status = Status::kNormal) {
    return e.Decide(e.global_scope(), status, Ttl(60), Stakes::kHigh);
  }

  testing::ScopedSegmentName segment_{"engine"};
  CachedClock clock_{kT0};
  LogFile log_;
};

TEST_F(EngineTest, FreshPanicIsTierOneAndTheCallerIsTheFirstWriter) {
  auto engine = OpenEngine();
  Decision first = Panic(*engine);
  EXPECT_EQ(first.tier, 1);
  EXPECT_EQ(first.mode, Mode::kPanicFull);
  EXPECT_EQ(first.ttl_seconds, 0);
  EXPECT_EQ(first.reason, Reason::kTier);
  EXPECT_TRUE(first.first_writer);
  EXPECT_EQ(first.episode_start_ns, kT0);

  clock_.AdvanceNs(kSecond);
  Decision second = Panic(*engine);
  EXPECT_FALSE(second.first_writer);
  EXPECT_EQ(second.episode_start_ns, kT0);
}

TEST_F(EngineTest, NoEpisodeGivesTheBaseTtlForEveryStatus) {
  auto engine = OpenEngine();
  for (Status s : {Status::kNormal, Status::kWarning}) {
    Decision d = Calm(*engine, s);
    EXPECT_EQ(d.ttl_seconds, 60);
    EXPECT_EQ(d.mode, Mode::kNormal);
    EXPECT_EQ(d.tier, 0);
    EXPECT_EQ(d.reason, Reason::kNoEpisode);
    EXPECT_EQ(d.episode_start_ns, 0);
  }
}

TEST_F(EngineTest, TiersFollowTheEpisodeAgeForEachStakes) {
  auto engine = OpenEngine();
  Panic(*engine);
  struct Step {
    int64_t age;
    int tier_high, tier_medium, tier_low;
  };
  // Exact thresholds belong to the higher tier (SPEC 2.3).
  for (Step step :
       {Step{0, 1, 1, 1}, Step{15 * kMinute, 1, 1, 2},
        Step{30 * kMinute, 1, 2, 2}, Step{45 * kMinute, 1, 2, 3},
        Step{60 * kMinute, 2, 2, 3}, Step{90 * kMinute, 2, 3, 4},
        Step{180 * kMinute, 3, 4, 4}, Step{360 * kMinute, 4, 4, 4}}) {
    clock_.SetNs(kT0 + step.age);
    EXPECT_EQ(Panic(*engine, Stakes::kHigh).tier, step.tier_high) << step.age;
    EXPECT_EQ(Panic(*engine, Stakes::kMedium).tier, step.tier_medium)
        << step.age;
    EXPECT_EQ(Panic(*engine, Stakes::kLow).tier, step.tier_low) << step.age;
  }
}

TEST_F(EngineTest, SevenDayOldEpisodeIsTierFourForEachStakes) {
  auto engine = OpenEngine();
  Panic(*engine);
  // Keep observing panic (hourly) so the dead-man's switch stays armed.
  for (int64_t t = 0; t <= 7 * kDay; t += kHour) {
    clock_.SetNs(kT0 + t);
    Panic(*engine);
  }
  for (Stakes stakes : {Stakes::kHigh, Stakes::kMedium, Stakes::kLow}) {
    Decision d = Panic(*engine, stakes);
    EXPECT_EQ(d.tier, 4);
    EXPECT_EQ(d.mode, Mode::kNewNormal);
    EXPECT_EQ(d.episode_start_ns, kT0);
  }
  EXPECT_EQ(Panic(*engine, Stakes::kHigh).ttl_seconds, 60);
  EXPECT_EQ(Panic(*engine, Stakes::kLow).ttl_seconds, 45);
}

TEST_F(EngineTest, RepeatedDecisionsLeaveNoGrowingState) {
  auto engine = OpenEngine();
  Panic(*engine);
  engine->FlushLogs();
  const size_t lines_before = log_.Lines().size();
  const EpisodeSnapshot before = engine->Snapshot(engine->global_scope());
  for (int i = 0; i < 100; ++i) Panic(*engine);
  engine->FlushLogs();
  const EpisodeSnapshot after = engine->Snapshot(engine->global_scope());
  EXPECT_EQ(after.start_ns, before.start_ns);
  EXPECT_EQ(after.episodes_started, 1u);
  EXPECT_EQ(after.episodes_ended, 0u);
  EXPECT_EQ(after.last_panic_ns, before.last_panic_ns);  // no refresh due
  EXPECT_EQ(log_.Lines().size(), lines_before) << "a steady state logged";
  int owned = 0;
  for (const ProcessSlot& slot : engine->segment()->layout().slots) {
    owned += slot.owner.load(std::memory_order_relaxed) != 0;
  }
  EXPECT_EQ(owned, 1) << "one deciding thread, one slot";
}

TEST_F(EngineTest, NormalOrWarningEndsTheEpisode) {
  for (Status calm : {Status::kNormal, Status::kWarning}) {
    auto engine = OpenEngine();
    Panic(*engine);
    Decision d = Calm(*engine, calm);
    EXPECT_EQ(d.tier, 0);
    EXPECT_EQ(d.reason, Reason::kNoEpisode);
    EXPECT_FALSE(engine->Snapshot(engine->global_scope()).active);
    clock_.AdvanceNs(kSecond);
    Decision next = Panic(*engine);
    EXPECT_TRUE(next.first_writer) << "a new episode starts";
    EXPECT_EQ(next.episode_start_ns, clock_.NowNs());
  }
}

TEST_F(EngineTest, ClearAfterNeedsCalmForThatLong) {
  Config config;
  config.episode.clear_after_s = 30;
  auto engine = OpenEngine(config);
  Panic(*engine);
  clock_.AdvanceNs(10 * kSecond);
  EXPECT_EQ(Calm(*engine).tier, 1) << "calm for 0 s: still in the episode";
  clock_.AdvanceNs(20 * kSecond);
  EXPECT_EQ(Calm(*engine).tier, 1) << "calm for 20 s < 30 s";
  Panic(*engine);  // an intermittent panic resets the calm clock
  clock_.AdvanceNs(29 * kSecond);
  EXPECT_EQ(Calm(*engine).tier, 1);
  clock_.AdvanceNs(30 * kSecond);
  EXPECT_EQ(Calm(*engine).tier, 0) << "calm for 30 s ends it";
  EXPECT_FALSE(engine->Snapshot(engine->global_scope()).active);
}

TEST_F(EngineTest, DeadMansSwitchExpiresAnEpisodeWithoutPanic) {
  Config config;
  config.episode.deadman_s = 24 * 3600;
  auto engine = OpenEngine(config);
  Panic(*engine);
  clock_.SetNs(kT0 + kDay);
  EXPECT_EQ(Panic(*engine).episode_start_ns, kT0) << "exactly 24 h: alive";
  clock_.SetNs(kT0 + 2 * kDay + 1);
  EXPECT_EQ(Calm(*engine, Status::kWarning).tier, 0)
      << "24 h + 1 ns after the last panic: expired, reads as no episode";
  engine->FlushLogs();
  EXPECT_EQ(log_.Count("\"cause\":\"deadman_expired\""), 1);
}

TEST_F(EngineTest, PanicAfterExpiryStartsANewEpisode) {
  auto engine = OpenEngine();
  Panic(*engine);
  clock_.SetNs(kT0 + kDay + kSecond);
  Decision d = Panic(*engine);
  EXPECT_TRUE(d.first_writer);
  EXPECT_EQ(d.episode_start_ns, kT0 + kDay + kSecond);
  EXPECT_EQ(d.tier, 1);
  EXPECT_EQ(engine->Snapshot(engine->global_scope()).episodes_ended, 1u);
}

TEST_F(EngineTest, RefreshWritesAtMostOncePerInterval) {
  auto engine = OpenEngine();
  Panic(*engine);
  clock_.AdvanceNs(kSecond - 1);
  Panic(*engine);
  EXPECT_EQ(engine->Snapshot(engine->global_scope()).last_panic_ns, kT0);
  clock_.AdvanceNs(1);
  Panic(*engine);
  EXPECT_EQ(engine->Snapshot(engine->global_scope()).last_panic_ns,
            kT0 + kSecond);
}

TEST_F(EngineTest, NewEpisodeAdoptsTheCachedRemoteStart) {
  auto engine = OpenEngine();
  ScopeHandle global = engine->global_scope();
  engine->episodes()->CacheRemote(global, kT0 - 20 * kMinute,
                                  MonotonicNowNs() + 60 * kSecond);
  Decision d = Panic(*engine, Stakes::kLow);
  EXPECT_TRUE(d.first_writer);
  EXPECT_EQ(d.episode_start_ns, kT0 - 20 * kMinute);
  EXPECT_EQ(d.tier, 1) << "cautious until the mirror confirms the start";
  const int64_t word = global.scope->episode.load();
  ASSERT_TRUE(EpisodeWord::Unconfirmed(word));
  ASSERT_TRUE(engine->episodes()->Confirm(global, word));
  EXPECT_EQ(Panic(*engine, Stakes::kLow).tier, 2)
      << "20 min into a low-stakes episode, once confirmed";
  engine->FlushLogs();
  EXPECT_EQ(log_.Count("\"adopted_remote\":true"), 1);
}

TEST_F(EngineTest, AnExpiredOrClearedRemoteCacheIsNeverAdopted) {
  auto engine = OpenEngine();
  ScopeHandle global = engine->global_scope();
  engine->episodes()->CacheRemote(global, kT0 - 5 * kMinute,
                                  MonotonicNowNs() - 1);
  Decision expired = Panic(*engine);
  EXPECT_EQ(expired.episode_start_ns, kT0) << "an expired cache is ignored";
  ASSERT_TRUE(*engine->ForceEnd(global));
  engine->episodes()->CacheRemote(global, kT0 - 5 * kMinute,
                                  MonotonicNowNs() + 60 * kSecond);
  engine->episodes()->ClearRemoteCache(global);
  EXPECT_EQ(Panic(*engine).episode_start_ns, kT0) << "a cleared one too";
}

TEST_F(EngineTest, CalmEndsARemoteEpisodeKnownOnlyFromTheCache) {
  auto engine = OpenEngine();
  ScopeHandle global = engine->global_scope();
  engine->episodes()->CacheRemote(global, kT0 - 5 * kMinute,
                                  MonotonicNowNs() + 60 * kSecond);
  Decision calm = Calm(*engine);
  EXPECT_EQ(calm.mode, Mode::kNormal);
  EXPECT_TRUE(calm.ended_episode);
  EXPECT_EQ(engine->episodes()->TakeRemoteEndRequest(global), kT0 - 5 * kMinute)
      << "the mirror is asked to delete that start";
  EXPECT_EQ(global.scope->remote_start_ns.load(), 0);
  EXPECT_FALSE(Calm(*engine).ended_episode) << "once";
}

TEST_F(EngineTest, FutureStartIsTierOneAndCountedAsAnAnomaly) {
  auto engine = OpenEngine();
  engine->episodes()->CacheRemote(engine->global_scope(), kT0 + 5 * kMinute,
                                  MonotonicNowNs() + 60 * kSecond);
  for (int i = 0; i < 3; ++i) {
    Decision d = Panic(*engine);
    EXPECT_EQ(d.tier, 1) << "never NORMAL";
    EXPECT_EQ(d.mode, Mode::kPanicFull);
    EXPECT_EQ(d.reason, Reason::kTier);
  }
  uint64_t anomalies = 0;
  for (const ProcessSlot& slot : engine->segment()->layout().slots) {
    anomalies += slot.anomalies.load(std::memory_order_relaxed);
  }
  EXPECT_EQ(anomalies, 3u);
  engine->FlushLogs();
  EXPECT_EQ(log_.Count("NEGATIVE_PANIC_DURATION"), 1) << "logged once";
}

TEST_F(EngineTest, ForcedEpisodeCarriesReasonForcedAndSurvivesCalm) {
  auto engine = OpenEngine();
  ASSERT_TRUE(
      engine->ForceStart(engine->global_scope(), kT0 - 100 * kMinute).ok());
  Decision d = Calm(*engine);
  EXPECT_EQ(d.reason, Reason::kForced);
  EXPECT_EQ(d.tier, 2) << "100 min into a high-stakes episode";
  EXPECT_EQ(d.episode_start_ns, kT0 - 100 * kMinute);
  EXPECT_EQ(Panic(*engine).reason, Reason::kForced);

  // Forcing again replaces the start.
  ASSERT_TRUE(engine->ForceStart(engine->global_scope(), kT0 - 7 * kDay).ok());
  EXPECT_EQ(Panic(*engine).tier, 4);

  absl::StatusOr<bool> ended = engine->ForceEnd(engine->global_scope());
  ASSERT_TRUE(ended.ok());
  EXPECT_TRUE(*ended);
  EXPECT_EQ(Calm(*engine).reason, Reason::kNoEpisode);
  EXPECT_FALSE(*engine->ForceEnd(engine->global_scope()));
  EXPECT_FALSE(engine->ForceStart(engine->global_scope(), 0).ok());
}

TEST_F(EngineTest, StrictPolicyFailsSafeWhileTheMirrorIsUnhealthy) {
  auto engine = OpenEngine();
  MirrorHot& mirror = engine->mirror_region()->hot;
  mirror.strict.store(1, std::memory_order_relaxed);
  mirror.healthy_until_ns.store(kT0 + kSecond, std::memory_order_relaxed);
  Decision healthy = Panic(*engine);
  EXPECT_EQ(healthy.reason, Reason::kTier);

  clock_.AdvanceNs(2 * kSecond);
  Decision unhealthy = Panic(*engine);
  EXPECT_EQ(unhealthy.reason, Reason::kFailsafe);
  EXPECT_EQ(unhealthy.ttl_seconds, 0);
  EXPECT_EQ(unhealthy.mode, Mode::kPanicFull);
  EXPECT_EQ(Calm(*engine).reason, Reason::kNoEpisode)
      << "only panic decisions fail safe";
  Panic(*engine);
  engine->FlushLogs();
  EXPECT_EQ(log_.Count("PANIC_WITHOUT_RELIABLE_TIMESTAMP"), 1);
}

TEST_F(EngineTest, EachTransitionIsLoggedOnce) {
  auto engine = OpenEngine();
  // Tier changes are found by the background scan; FlushLogs runs it now,
  // so each phase is logged before the clock moves on.
  for (int i = 0; i < 10; ++i) Panic(*engine, Stakes::kLow);
  engine->FlushLogs();
  clock_.AdvanceNs(15 * kMinute);
  for (int i = 0; i < 10; ++i) Panic(*engine, Stakes::kLow);
  engine->FlushLogs();
  engine->FlushLogs();
  for (int i = 0; i < 10; ++i) Calm(*engine);
  engine->FlushLogs();
  EXPECT_EQ(log_.Count("PANIC_TIMESTAMP_INITIALIZED"), 1);
  EXPECT_EQ(
      log_.Count("\"stakes\":\"low_stakes\",\"from_tier\":0,\"to_tier\":1"), 1);
  EXPECT_EQ(
      log_.Count("\"stakes\":\"low_stakes\",\"from_tier\":1,\"to_tier\":2"), 1);
  EXPECT_EQ(
      log_.Count("\"stakes\":\"low_stakes\",\"from_tier\":2,\"to_tier\":0"), 1);
  EXPECT_EQ(
      log_.Count("\"stakes\":\"high_stakes\",\"from_tier\":1,\"to_tier\":0"),
      1);
  EXPECT_EQ(log_.Count("VIX_TTL_STATE_CHANGE"), 7)
      << "0->1 for each stakes, low 1->2, back to 0 for each stakes";
  EXPECT_EQ(log_.Count("PANIC_TIMESTAMP_CLEARED"), 1);
  for (const std::string& line : log_.Lines()) {
    EXPECT_EQ(line.front(), '{') << line;
    EXPECT_EQ(line.back(), '}') << line;
  }
}

TEST_F(EngineTest, NamedScopesHaveIndependentEpisodes) {
  auto engine = OpenEngine();
  absl::StatusOr<ScopeHandle> ucl = engine->FindOrCreateScope("ucl-final");
  ASSERT_TRUE(ucl.ok()) << ucl.status();
  EXPECT_EQ(engine->FindScope("ucl-final")->index, ucl->index);
  EXPECT_TRUE(absl::IsNotFound(engine->FindScope("other").status()));
  EXPECT_TRUE(engine->Decide(*ucl, Status::kPanic, Ttl(60), Stakes::kHigh)
                  .first_writer);
  EXPECT_EQ(Calm(*engine).tier, 0) << "global is untouched";
  EXPECT_TRUE(Panic(*engine).first_writer);
  EXPECT_FALSE(
      absl::IsInvalidArgument(engine->FindOrCreateScope("a:b.c-d_e").status()));
  EXPECT_TRUE(
      absl::IsInvalidArgument(engine->FindOrCreateScope("bad/name").status()));
  EXPECT_TRUE(absl::IsInvalidArgument(
      engine->FindOrCreateScope(std::string(48, 'x')).status()));
}

TEST_F(EngineTest, StringOverloadParsesStrictly) {
  auto engine = OpenEngine();
  absl::StatusOr<Decision> d =
      engine->Decide("global", "panic", 60, "Premier League", "");
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->stakes, Stakes::kMedium);
  EXPECT_TRUE(absl::IsInvalidArgument(
      engine->Decide("global", "Panic", 60, "", "").status()));
  EXPECT_TRUE(absl::IsInvalidArgument(
      engine->Decide("global", "panic", -1, "", "").status()));
  EXPECT_TRUE(absl::IsInvalidArgument(
      engine->Decide("global", "panic", int64_t{1} << 31, "", "").status()));
}

TEST_F(EngineTest, EachDecidingThreadCountsInItsOwnSlot) {
  auto engine = OpenEngine();
  constexpr int kThreads = 4;
  constexpr int kPerThread = 10000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kPerThread; ++i) {
        engine->Decide(engine->global_scope(), Status::kPanic, Ttl(60),
                       Stakes::kHigh);
      }
    });
  }
  for (std::thread& t : threads) t.join();
  uint64_t total = 0;
  int owned = 0;
  for (const ProcessSlot& slot : engine->segment()->layout().slots) {
    owned += slot.owner.load(std::memory_order_relaxed) != 0;
    total += slot.decisions[static_cast<int>(Mode::kPanicFull)].load(
        std::memory_order_relaxed);
  }
  EXPECT_EQ(owned, 0) << "an exited thread's slot returns to the table";
  EXPECT_EQ(total, uint64_t{kThreads} * kPerThread) << "no count lost";
}

TEST_F(EngineTest, ReleasedSlotsKeepTheirCountsInTheTotal) {
  {
    auto engine = OpenEngine();
    for (int i = 0; i < 5; ++i) Calm(*engine);
  }
  auto engine = OpenEngine();
  uint64_t normal = 0;
  for (const ProcessSlot& slot : engine->segment()->layout().slots) {
    normal += slot.decisions[0].load(std::memory_order_relaxed);
  }
  EXPECT_EQ(normal, 5u) << "a released slot's counts stay in the sum";
}

// A forked child (no exec) must not reuse its parent's cached start time:
// its slots would look dead and be reclaimed under it. The child starts no
// thread (ThreadSanitizer forbids that after a multi-threaded fork).
TEST(SelfStartTicksTest, AChildOfForkReadsItsOwnStartTime) {
  const uint64_t parent_ticks = SelfStartTicks();  // cached in the parent
  ASSERT_NE(parent_ticks, 0u);
  // Start times are clock ticks (10 ms): fork in a later tick than the
  // parent's start, or both would read the same and the test could not fail.
  auto uptime_ticks = [] {
    double seconds = 0;
    FILE* f = std::fopen("/proc/uptime", "re");
    if (f != nullptr) {
      if (std::fscanf(f, "%lf", &seconds) != 1) seconds = 0;
      std::fclose(f);
    }
    return static_cast<uint64_t>(seconds * sysconf(_SC_CLK_TCK));
  };
  ASSERT_TRUE(testing::WaitFor([&] {
    return uptime_ticks() > parent_ticks + 2;
  })) << "the clock tick never moved past this process's start";
  int pipe_fds[2];
  ASSERT_EQ(pipe(pipe_fds), 0);
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    close(pipe_fds[0]);
    const uint64_t ticks[2] = {SelfStartTicks(), ProcessStartTicks(getpid())};
    _exit(write(pipe_fds[1], ticks, sizeof(ticks)) == sizeof(ticks) ? 0 : 1);
  }
  close(pipe_fds[1]);  // so a dead child reads as EOF, never a hang
  uint64_t ticks[2] = {0, 0};
  const ssize_t n = read(pipe_fds[0], ticks, sizeof(ticks));
  close(pipe_fds[0]);
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_EQ(n, static_cast<ssize_t>(sizeof(ticks)))
      << "child status " << status;
  EXPECT_EQ(ticks[0], ticks[1]) << "the child's SelfStartTicks is its own";
  EXPECT_TRUE(ProcessAlive(getpid(), SelfStartTicks()));
}

TEST(EngineWithoutSegmentTest, AnswersFailSafeAndSaysWhy) {
  EngineOptions options;
  options.segment.name = "bad/name";
  options.log_fd = -1;
  absl::StatusOr<std::unique_ptr<Engine>> engine = Engine::Open(options);
  ASSERT_TRUE(engine.ok());
  EXPECT_TRUE(absl::IsInvalidArgument((*engine)->segment_status()));
  ScopeHandle scope = (*engine)->global_scope();
  Decision panic =
      (*engine)->Decide(scope, Status::kPanic, Ttl(30), Stakes::kLow);
  EXPECT_EQ(panic.ttl_seconds, 0);
  EXPECT_EQ(panic.mode, Mode::kPanicFull);
  EXPECT_EQ(panic.reason, Reason::kFailsafe);
  Decision normal =
      (*engine)->Decide(scope, Status::kNormal, Ttl(30), Stakes::kLow);
  EXPECT_EQ(normal.ttl_seconds, 30);
  EXPECT_EQ(normal.mode, Mode::kNormal);
  EXPECT_TRUE(absl::IsFailedPrecondition((*engine)->ForceStart(scope, kT0)));
}

TEST(EngineConfigTest, InvalidConfigurationIsRefused) {
  EngineOptions options;
  options.config.episode.deadman_s = 0;
  EXPECT_TRUE(absl::IsInvalidArgument(Engine::Open(options).status()));
  options = {};
  options.config.policy.tiers[0].from_minutes = {60, 60, 360};
  absl::Status st = Engine::Open(options).status();
  EXPECT_TRUE(absl::IsInvalidArgument(st));
  EXPECT_TRUE(absl::StrContains(st.message(), "high_stakes")) << st;
}

}  // namespace
}  // namespace vix::shm
