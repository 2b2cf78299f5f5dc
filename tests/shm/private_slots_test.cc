// Process-local slots (an engine without a segment, or a thread that found
// the table full) under thread churn: a thread's slot comes back when it
// exits and is reused, so memory stays bounded by the threads alive at
// once, and every decision stays counted (SPEC 4).
#include <sys/types.h>
#include <unistd.h>

#include <memory>
#include <thread>
#include <vector>

#include "engine_fixture.h"
#include "gtest/gtest.h"
#include "test_util.h"
#include "vixbreaker/shm/process.h"
#include "vixbreaker/shm/segment.h"
#include "vixbreaker/shm/slots.h"

namespace vix::shm {
namespace {

using testing_fixture::TotalDecisions;

constexpr int kThreads = 5000;
constexpr int kBatch = 50;
constexpr int kPerThread = 7;

// Far above any engine's id (they count from 1), so no engine's thread
// cache or fork hooks mistake these registries for theirs.
constexpr uint64_t kRegistryId = uint64_t{1} << 62;

// Runs kThreads threads, kBatch at a time, each counting kPerThread
// decisions in its slot the way the engine does (single writer); checks
// after each batch that the joined threads' slots are not kept for good.
void Churn(SlotRegistry& registry) {
  for (int batch = 0; batch < kThreads / kBatch; ++batch) {
    std::vector<std::thread> threads;
    for (int t = 0; t < kBatch; ++t) {
      threads.emplace_back([&registry, t] {
        for (int i = 0; i < kPerThread; ++i) {
          AtomicU64& d = registry.ThisThreadSlot()->decisions[(t + i) % 5];
          d.store(d.load(std::memory_order_relaxed) + 1,
                  std::memory_order_relaxed);
        }
      });
    }
    for (std::thread& t : threads) t.join();
    ASSERT_LE(registry.ProcessLocalSlots(), size_t{kBatch})
        << "after batch " << batch << ": exited threads keep their slots";
  }
}

TEST(PrivateSlotsTest, WithoutASegmentExitedThreadsGiveTheirSlotsBack) {
  SlotRegistry registry(nullptr, kRegistryId, nullptr, nullptr);
  Churn(registry);
  EXPECT_EQ(registry.DecisionsSoFar(), uint64_t{kThreads} * kPerThread)
      << "every decision is counted, in slots that were reused";
}

TEST(PrivateSlotsTest, OverAFullTableExitedThreadsGiveTheirSlotsBack) {
  testing::ScopedSegmentName name("full-table");
  SegmentOptions options;
  options.name = name.name();
  absl::StatusOr<std::unique_ptr<Segment>> segment =
      Segment::OpenOrCreate(options);
  ASSERT_TRUE(segment.ok()) << segment.status();
  SegmentLayout& layout = *(*segment)->mutable_layout();
  // Every slot held by this live process, under tids no thread of it has.
  const uint64_t self = static_cast<uint64_t>(getpid()) << 32;
  for (uint32_t i = 0; i < kSlotCapacity; ++i) {
    layout.slots[i].start_ticks.store(SelfStartTicks());
    layout.slots[i].owner.store(self | (0x7fff0000u + i));
  }
  {
    SlotRegistry registry(&layout, kRegistryId + 1, nullptr, nullptr);
    Churn(registry);
    EXPECT_EQ(registry.DecisionsSoFar(), uint64_t{kThreads} * kPerThread)
        << "every decision is counted, in slots that were reused";
    EXPECT_TRUE(registry.TakeTableFullNotice());
  }
  for (uint32_t i = 0; i < kSlotCapacity; ++i) {
    EXPECT_EQ(layout.slots[i].owner.load(), self | (0x7fff0000u + i))
        << "slot " << i << " is still its holder's";
  }
  EXPECT_EQ(TotalDecisions(layout), 0u) << "no decision went into the table";
  for (ProcessSlot& slot : layout.slots) slot.owner.store(0);
}

}  // namespace
}  // namespace vix::shm
