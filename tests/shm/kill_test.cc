// Processes killed (SIGKILL) in the middle of deciding (SPEC 4, 11): the
// segment stays valid, no episode is lost or stuck, and dead processes'
// slots are reclaimed with their counts carried into SegmentTotals.
#include <signal.h>
#include <sys/types.h>
#include <unistd.h>

#include <array>
#include <cstdint>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "test_util.h"
#include "vixbreaker/core/types.h"
#include "vixbreaker/shm/layout.h"
#include "vixbreaker/shm/process.h"
#include "vixbreaker/shm/scope_name.h"
#include "vixbreaker/shm/segment.h"
#include "worker_client.h"

namespace vix::testing {
namespace {

using Counts = std::array<uint64_t, kModeCount>;

// Every looper panics on `steady` (its episode must survive every kill) and
// mixes panic/warning/normal on the others (episodes start and end all the
// time, so kills land inside transitions too).
constexpr char kLoop[] =
    "loop steady=panic a=mixed b=mixed c=mixed global=mixed";
const std::vector<std::string> kScopeNames = {"global", "steady", "a", "b",
                                              "c"};

pid_t OwnerPid(const shm::ProcessSlot& slot) {
  return static_cast<pid_t>(slot.owner.load(std::memory_order_acquire) >> 32);
}

uint64_t Sum(const Counts& counts) {
  uint64_t total = 0;
  for (uint64_t c : counts) total += c;
  return total;
}

// Decisions by mode in the slots owned by pids in `pids` (all if empty).
Counts SlotDecisions(const shm::SegmentLayout& layout,
                     const std::set<pid_t>& pids) {
  Counts counts{};
  for (const shm::ProcessSlot& slot : layout.slots) {
    if (slot.owner.load(std::memory_order_acquire) == 0) continue;
    if (!pids.empty() && pids.count(OwnerPid(slot)) == 0) continue;
    for (int m = 0; m < kModeCount; ++m) {
      counts[m] += slot.decisions[m].load(std::memory_order_relaxed);
    }
  }
  return counts;
}

// Counts left in slots that no owner holds any more (counters stay in
// their slot when it is freed).
Counts Retired(const shm::SegmentLayout& layout) {
  Counts counts{};
  for (const shm::ProcessSlot& slot : layout.slots) {
    if (slot.owner.load(std::memory_order_acquire) != 0) continue;
    for (int m = 0; m < kModeCount; ++m) {
      counts[m] += slot.decisions[m].load(std::memory_order_relaxed);
    }
  }
  return counts;
}

// A looper: opened, deciding, and (unless `kill_early`) known to be in the
// loop. With kill_early the caller kills it somewhere inside open/attach,
// slot claim or scope creation.
std::unique_ptr<WorkerProcess> StartLooper(const std::string& segment,
                                           bool wait_until_looping) {
  auto worker = std::make_unique<WorkerProcess>(segment);
  worker->Send("open");
  worker->Send(kLoop);
  if (wait_until_looping) {
    FlatJson opened = worker->Next();
    EXPECT_FALSE(opened.Has("error")) << opened.text();
    FlatJson looping = worker->Next();
    EXPECT_EQ(looping.Str("op"), "loop") << looping.text();
  }
  return worker;
}

TEST(KillTest, SigkillMidDecisionLosesNoEpisodeAndSlotsAreReclaimed) {
  constexpr int kLoopers = 4;
  constexpr int kKills = 40;
  ScopedSegmentName segment("kill");
  const unsigned seed = std::random_device{}();
  SCOPED_TRACE(::testing::Message() << "random seed " << seed);
  std::mt19937 rng(seed);

  // The `steady` episode is started by a process that then exits cleanly.
  int64_t steady_start = 0;
  {
    WorkerProcess starter(segment.name());
    ASSERT_FALSE(starter.Call("open").Has("error"));
    FlatJson d = starter.Call("decide panic high steady");
    ASSERT_TRUE(d.Bool("first_writer")) << d.text();
    steady_start = d.Int("episode_start_ns");
    ASSERT_EQ(starter.Call("exit").Str("op"), "exit");
    ASSERT_NE(starter.child().Wait(), -1);
  }
  absl::StatusOr<std::unique_ptr<shm::Segment>> view =
      OpenSegmentView(segment.name(), /*writable=*/true);
  ASSERT_TRUE(view.ok()) << view.status();
  shm::SegmentLayout& layout = *(*view)->mutable_layout();

  std::vector<std::unique_ptr<WorkerProcess>> loopers;
  for (int i = 0; i < kLoopers; ++i) {
    loopers.push_back(StartLooper(segment.name(), true));
  }
  std::set<pid_t> dead;
  for (int kill = 0; kill < kKills; ++kill) {
    auto& victim = loopers[rng() % kLoopers];
    const pid_t pid = victim->pid();
    // A random moment measured in the victim's own progress, not in time.
    const uint64_t threshold = 1 + rng() % 20000;
    if (rng() % 4 != 0) {
      ASSERT_TRUE(WaitFor([&] {
        return Sum(SlotDecisions(layout, {pid})) >= threshold;
      })) << "looper "
          << pid << " did not reach " << threshold << " decisions";
    }
    victim->child().Signal(SIGKILL);
    ASSERT_NE(victim->child().Wait(), -1) << "looper " << pid << " survived";
    dead.insert(pid);
    victim = StartLooper(segment.name(), rng() % 4 != 0);
  }
  for (auto& looper : loopers) {
    looper->child().Signal(SIGKILL);
    ASSERT_NE(looper->child().Wait(), -1);
    dead.insert(looper->pid());
  }
  loopers.clear();

  // The segment still validates through a normal attach.
  {
    shm::SegmentOptions options;
    options.name = segment.name();
    absl::StatusOr<std::unique_ptr<shm::Segment>> again =
        shm::Segment::OpenOrCreate(options);
    ASSERT_TRUE(again.ok()) << again.status();
    EXPECT_FALSE((*again)->created_by_this_process());
  }
  // Each scope name is in the table once (a dead claimer leaves at most a
  // `claiming` entry, never a duplicate).
  std::multiset<std::string> names;
  for (uint32_t i = 0; i < shm::ScopeCapacityOf(layout); ++i) {
    const shm::Scope& scope = shm::ScopesOf(layout)[i];
    if (shm::ScopeStateWord::State(
            scope.state.load(std::memory_order_acquire)) == shm::kScopeUsed) {
      names.insert(shm::ReadScopeName(scope));
    }
  }
  for (const std::string& name : kScopeNames) {
    EXPECT_EQ(names.count(name), 1u) << "scope " << name;
  }
  EXPECT_EQ(names.size(), kScopeNames.size());

  // Fill every free slot with this (live) test process: the fresh process
  // below can then only get a slot if dead ones are reclaimed, whether the
  // engine reclaims at open or when it finds no free slot.
  const Counts dead_counts = SlotDecisions(layout, dead);
  const Counts retired_before = Retired(layout);
  const uint64_t total_before =
      Sum(retired_before) + Sum(SlotDecisions(layout, {}));
  ASSERT_GT(Sum(dead_counts), 0u);
  std::vector<shm::ProcessSlot*> fillers;
  for (uint32_t i = 0; i < shm::kSlotCapacity; ++i) {
    shm::ProcessSlot& slot = layout.slots[i];
    uint64_t expected = 0;
    const uint64_t token = (static_cast<uint64_t>(getpid()) << 32) | i;
    if (slot.owner.compare_exchange_strong(expected, token)) {
      slot.start_ticks.store(shm::SelfStartTicks());
      fillers.push_back(&slot);
    }
  }

  // A fresh process decides correctly on every scope.
  WorkerProcess fresh(segment.name());
  ASSERT_FALSE(fresh.Call("open").Has("error"));
  int fresh_decisions = 0;
  for (const std::string& name : kScopeNames) {
    SCOPED_TRACE("scope " + name);
    const shm::Scope* scope = nullptr;
    for (uint32_t i = 0; i < shm::ScopeCapacityOf(layout); ++i) {
      const shm::Scope& s = shm::ScopesOf(layout)[i];
      if (shm::ScopeStateWord::State(s.state.load()) == shm::kScopeUsed &&
          shm::ReadScopeName(s) == name) {
        scope = &s;
      }
    }
    ASSERT_NE(scope, nullptr);
    const int64_t word = scope->episode.load(std::memory_order_acquire);
    FlatJson panic = fresh.Call("decide panic high " + name);
    ++fresh_decisions;
    ASSERT_FALSE(panic.Has("error")) << panic.text();
    EXPECT_EQ(panic.Int("tier"), 1) << panic.text();
    EXPECT_EQ(panic.Str("reason"), "tier") << panic.text();
    if (word != 0) {
      EXPECT_FALSE(panic.Bool("first_writer")) << "joins the running episode";
      EXPECT_EQ(panic.Int("episode_start_ns"), shm::EpisodeWord::StartNs(word));
    } else {
      EXPECT_TRUE(panic.Bool("first_writer")) << panic.text();
    }
    if (name == "steady") {
      EXPECT_EQ(panic.Int("episode_start_ns"), steady_start)
          << "the steady episode must survive every kill";
      EXPECT_EQ(scope->episodes_started.load(), 1u);
      EXPECT_EQ(scope->episodes_ended.load(), 0u);
    }
    FlatJson calm = fresh.Call("decide normal high " + name);
    FlatJson again = fresh.Call("decide panic low " + name);
    fresh_decisions += 2;
    EXPECT_EQ(calm.Str("mode"), "NORMAL") << calm.text();
    EXPECT_EQ(calm.Int("tier"), 0) << calm.text();
    EXPECT_TRUE(again.Bool("first_writer")) << again.text();
    EXPECT_EQ(again.Str("mode"), "PANIC_FULL") << again.text();
    EXPECT_GE(again.Int("episode_start_ns"), panic.Int("episode_start_ns"));
  }

  // Every dead slot is free again (or now the fresh process's), and its
  // counts moved into the totals: nothing went backwards.
  for (const shm::ProcessSlot& slot : layout.slots) {
    const uint64_t owner = slot.owner.load(std::memory_order_acquire);
    EXPECT_TRUE(owner == 0 || dead.count(OwnerPid(slot)) == 0)
        << "slot of dead pid " << OwnerPid(slot) << " was not reclaimed";
  }
  // Counters are never moved: the dead processes' counts are still in the
  // sum, mode by mode, whoever owns their slots now.
  const Counts retired_after = Retired(layout);
  const Counts owned_after = SlotDecisions(layout, {});
  const Counts owned_before_dead = SlotDecisions(layout, dead);
  for (int m = 0; m < kModeCount; ++m) {
    EXPECT_GE(retired_after[m] + owned_after[m],
              retired_before[m] + dead_counts[m] + owned_before_dead[m])
        << "mode " << ModeName(static_cast<Mode>(m));
  }
  const uint64_t total_after =
      Sum(retired_after) + Sum(SlotDecisions(layout, {}));
  EXPECT_EQ(total_after, total_before + fresh_decisions);
  for (shm::ProcessSlot* slot : fillers) slot->owner.store(0);
  ASSERT_EQ(fresh.Call("exit").Str("op"), "exit");
}

}  // namespace
}  // namespace vix::testing
