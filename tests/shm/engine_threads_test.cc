// The engine's slots and transitions under real threads on a real segment:
// thread churn, several engines in one thread, and panic storms.
#include <atomic>
#include <limits>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "engine_fixture.h"
#include "gtest/gtest.h"
#include "test_util.h"
#include "vixbreaker/shm/engine.h"
#include "vixbreaker/shm/process.h"

namespace vix::shm {
namespace {

using namespace testing_fixture;  // NOLINT: the fixture's constants

// The slots this thread owns in `layout` (owner word pid << 32 | tid).
std::vector<uint32_t> SlotsOfThisThread(const SegmentLayout& layout) {
  const uint64_t token = static_cast<uint64_t>(getpid()) << 32 |
                         static_cast<uint32_t>(CurrentTid());
  std::vector<uint32_t> mine;
  for (uint32_t i = 0; i < kSlotCapacity; ++i) {
    if (layout.slots[i].owner.load(std::memory_order_relaxed) == token) {
      mine.push_back(i);
    }
  }
  return mine;
}

TEST(ThreadChurnTest, TenThousandShortLivedThreadsNeverFillTheTable) {
  EngineOnSegment fixture("churn");
  ASSERT_NE(fixture.engine, nullptr);
  Engine* engine = fixture.engine.get();
  const SegmentLayout& layout = engine->segment()->layout();
  constexpr int kThreads = 10'000;
  constexpr int kBatch = 100;
  constexpr int kPerThread = 10;
  for (int batch = 0; batch < kThreads / kBatch; ++batch) {
    std::vector<std::thread> threads;
    for (int t = 0; t < kBatch; ++t) {
      threads.emplace_back([engine, t] {
        for (int i = 0; i < kPerThread; ++i) {
          engine->Decide(engine->global_scope(),
                         (t + i) % 3 == 0 ? Status::kPanic : Status::kWarning,
                         Ttl(60), Stakes::kMedium);
        }
      });
    }
    for (std::thread& t : threads) t.join();
    ASSERT_EQ(OwnedSlots(layout), 0)
        << "after batch " << batch << ": joined threads keep their slots";
  }
  EXPECT_EQ(TotalDecisions(layout), uint64_t{kThreads} * kPerThread)
      << "every decision of every thread is in the segment";
  engine->FlushLogs(absl::Seconds(2));
  EXPECT_EQ(fixture.log.Count("SLOT_TABLE_FULL"), 0);
}

TEST(TwoEnginesTest, AlternatingEnginesInOneThreadEachCountInTheirSegment) {
  testing::ScopedSegmentName name_a("two-a");
  testing::ScopedSegmentName name_b("two-b");
  LogFile log;
  CachedClock clock(kT0);
  auto a = OpenTestEngine(name_a.name(), log, &clock);
  auto b = OpenTestEngine(name_b.name(), log, &clock);
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  constexpr int kRounds = 20'000;
  std::vector<uint32_t> slot_a, slot_b;
  for (int i = 0; i < kRounds; ++i) {
    a->Decide(a->global_scope(), Status::kPanic, Ttl(60), Stakes::kHigh);
    b->Decide(b->global_scope(), Status::kNormal, Ttl(60), Stakes::kLow);
    if (i == 0) {
      slot_a = SlotsOfThisThread(a->segment()->layout());
      slot_b = SlotsOfThisThread(b->segment()->layout());
      ASSERT_EQ(slot_a.size(), 1u);
      ASSERT_EQ(slot_b.size(), 1u);
    } else if (i % 1000 == 0) {
      ASSERT_EQ(SlotsOfThisThread(a->segment()->layout()), slot_a) << i;
      ASSERT_EQ(SlotsOfThisThread(b->segment()->layout()), slot_b) << i;
    }
  }
  const SegmentLayout& la = a->segment()->layout();
  const SegmentLayout& lb = b->segment()->layout();
  EXPECT_EQ(TotalDecisions(la), uint64_t{kRounds});
  EXPECT_EQ(TotalDecisions(lb), uint64_t{kRounds});
  EXPECT_EQ(DecisionsIn(la.slots[slot_a[0]]), uint64_t{kRounds})
      << "every decision in the one slot";
  EXPECT_EQ(
      la.slots[slot_a[0]].decisions[static_cast<int>(Mode::kPanicFull)].load(),
      uint64_t{kRounds});
  EXPECT_EQ(
      lb.slots[slot_b[0]].decisions[static_cast<int>(Mode::kNormal)].load(),
      uint64_t{kRounds});
  EXPECT_EQ(OwnedSlots(la), 1);
  EXPECT_EQ(OwnedSlots(lb), 1);
  a->FlushLogs(absl::Seconds(2));
  b->FlushLogs(absl::Seconds(2));
  EXPECT_EQ(log.Count("SLOT_TABLE_FULL"), 0);
}

// More engines than the thread's slot cache has ways: two of them share a
// way and evict each other on every call; each must keep its one slot.
TEST(TwoEnginesTest, EnginesSharingACacheWayKeepTheirOwnSlot) {
  testing::ScopedSegmentName segment("ways");
  LogFile log;
  CachedClock clock(kT0);
  constexpr int kEngines = internal::kThreadCacheWays + 1;
  std::vector<std::unique_ptr<Engine>> engines;
  for (int i = 0; i < kEngines; ++i) {
    engines.push_back(OpenTestEngine(segment.name(), log, &clock));
    ASSERT_NE(engines.back(), nullptr);
  }
  constexpr int kRounds = 2000;
  for (int r = 0; r < kRounds; ++r) {
    for (auto& e : engines) {
      e->Decide(e->global_scope(), Status::kWarning, Ttl(60), Stakes::kHigh);
    }
  }
  const SegmentLayout& layout = engines[0]->segment()->layout();
  const std::vector<uint32_t> mine = SlotsOfThisThread(layout);
  ASSERT_EQ(mine.size(), static_cast<size_t>(kEngines))
      << "one slot per engine, never a second claim";
  for (uint32_t index : mine) {
    EXPECT_EQ(DecisionsIn(layout.slots[index]), uint64_t{kRounds})
        << "slot " << index;
  }
  engines[0]->FlushLogs(absl::Seconds(2));
  EXPECT_EQ(log.Count("SLOT_TABLE_FULL"), 0);
}

// Starts and ends racing on one scope (real clock): every panic decision
// is an episode's, whatever the contention.
TEST(PanicStormTest, APanicNeverDecidesNormal) {
  EngineOnSegment fixture("storm", /*real_clock=*/true);
  ASSERT_NE(fixture.engine, nullptr);
  Engine* engine = fixture.engine.get();
  ScopeHandle global = engine->global_scope();
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> normal_panics{0};
  std::atomic<uint64_t> ended{0};
  std::thread ender([&] {
    while (!stop.load(std::memory_order_relaxed)) {
      absl::StatusOr<bool> e = engine->ForceEnd(global);
      const Decision calm =
          engine->Decide(global, Status::kNormal, Ttl(60), Stakes::kHigh);
      ended.fetch_add((e.ok() && *e) + calm.ended_episode,
                      std::memory_order_relaxed);
    }
  });
  // Until the ender has ended enough episodes under the deciders (bounded).
  constexpr uint64_t kEnds = 5000;
  const absl::Time deadline = absl::Now() + absl::Seconds(20);
  std::atomic<uint64_t> panics{0};
  std::vector<std::thread> deciders;
  for (int t = 0; t < 2; ++t) {
    deciders.emplace_back([&] {
      while (ended.load(std::memory_order_relaxed) < kEnds &&
             absl::Now() < deadline) {
        for (int i = 0; i < 100; ++i) {
          const Decision d =
              engine->Decide(global, Status::kPanic, Ttl(60), Stakes::kHigh);
          if (d.mode == Mode::kNormal || d.tier == 0 ||
              d.episode_start_ns == 0) {
            normal_panics.fetch_add(1, std::memory_order_relaxed);
          }
        }
        panics.fetch_add(100, std::memory_order_relaxed);
      }
    });
  }
  for (std::thread& t : deciders) t.join();
  stop.store(true);
  ender.join();
  EXPECT_EQ(normal_panics.load(), 0u)
      << "of " << panics.load() << " panics, decided without an episode";
  EXPECT_GE(ended.load(), kEnds) << "the ender did not race the starts";
}

TEST(ForceStartTest, RefusesStartsAtOrBelowZeroOrOverAnHourAhead) {
  EngineOnSegment fixture("force");
  ASSERT_NE(fixture.engine, nullptr);
  Engine* engine = fixture.engine.get();
  ScopeHandle global = engine->global_scope();
  for (int64_t bad : {int64_t{0}, int64_t{-1}, kT0 + kHour + 1,
                      std::numeric_limits<int64_t>::max(),
                      std::numeric_limits<int64_t>::min()}) {
    absl::Status s = engine->ForceStart(global, bad);
    EXPECT_TRUE(absl::IsInvalidArgument(s)) << bad << ": " << s;
    EXPECT_EQ(global.scope->episode.load(), 0) << bad << " left an episode";
  }
  ASSERT_TRUE(engine->ForceStart(global, kT0 + kHour).ok())
      << "exactly an hour ahead is the limit, allowed";
  ASSERT_TRUE(engine->ForceStart(global, kT0 - 2 * kHour).ok());
  const Decision d =
      engine->Decide(global, Status::kPanic, Ttl(60), Stakes::kHigh);
  EXPECT_EQ(d.reason, Reason::kForced);
  EXPECT_EQ(d.episode_start_ns, EpisodeWord::Normalize(kT0 - 2 * kHour));
}

}  // namespace
}  // namespace vix::shm
