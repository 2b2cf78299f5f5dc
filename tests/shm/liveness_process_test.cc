// Liveness is three-valued (SPEC 4): a process that cannot read /proc (out
// of descriptors under `prlimit --nofile`) must treat the processes it
// cannot judge as alive. It must not retire their slots, take their mirror
// lease or free their scope claims; a process the kernel reports gone is
// still reclaimed.
#include <unistd.h>

#include <cerrno>
#include <string>

#include "gtest/gtest.h"
#include "vixbreaker/persist/lease.h"
#include "vixbreaker/shm/process.h"
#include "vixbreaker/shm/segment.h"
#include "test_paths.h"
#include "worker_client.h"

namespace vix::testing {
namespace {

constexpr auto kRelaxed = std::memory_order_relaxed;
constexpr int64_t kHour = int64_t{3600} * 1'000'000'000;
// Beyond any pid_max: kill(2) answers ESRCH without /proc.
constexpr uint64_t kDeadPid = 99'999'999;

// A slot whose owner the kernel knows to be gone.
uint32_t PlantDeadSlot(shm::SegmentLayout& layout) {
  for (uint32_t i = 0; i < shm::kSlotCapacity; ++i) {
    shm::ProcessSlot& slot = layout.slots[i];
    uint64_t expected = 0;
    const uint64_t owner = (kDeadPid << 32) | kDeadPid;
    if (slot.owner.compare_exchange_strong(expected, owner)) {
      slot.start_ticks.store(12345, kRelaxed);
      return i;
    }
  }
  ADD_FAILURE() << "no free slot to plant a dead owner in";
  return 0;
}

// Every named scope entry looks claimed by this (live) process, with its
// real start time, so any scope lookup probes through a live claim first.
void ClaimEveryScopeEntry(shm::SegmentLayout& layout) {
  const uint64_t claiming = shm::ScopeStateWord::Make(
      shm::kScopeClaiming, getpid(), shm::SelfStartTicks());
  shm::Scope* scopes = shm::ScopesOf(layout);
  for (uint32_t i = 1; i < shm::ScopeCapacityOf(layout); ++i) {
    uint64_t expected = shm::kScopeFree;
    scopes[i].state.compare_exchange_strong(expected, claiming);
  }
}

// A slot of this (live) process, as its engine would claim it.
uint32_t PlantLiveSlot(shm::SegmentLayout& layout, uint64_t owner) {
  shm::ProcessSlot& slot = layout.slots[7];
  slot.start_ticks.store(shm::SelfStartTicks(), kRelaxed);
  slot.decisions[0].store(1234, kRelaxed);
  slot.owner.store(owner, std::memory_order_release);
  return 7;
}

TEST(FdStarvedTest, NeverReclaimsWhatItCannotJudge) {
  ScopedSegmentName name("fd-starved");
  shm::SegmentOptions options;
  options.name = name.name();
  // No engine here: the starved process is the only one that reclaims.
  auto segment = shm::Segment::OpenOrCreate(options);
  ASSERT_TRUE(segment.ok()) << segment.status();
  shm::SegmentLayout& layout = *(*segment)->mutable_layout();
  const uint64_t my_owner = (static_cast<uint64_t>(getpid()) << 32) |
                            static_cast<uint32_t>(shm::CurrentTid());
  const uint32_t my_slot = PlantLiveSlot(layout, my_owner);
  const uint32_t dead_slot = PlantDeadSlot(layout);
  persist::LeaseAttempt held =
      persist::TryAcquireLease(layout.lease, getpid(), shm::SelfStartTicks(),
                               shm::MonotonicNowNs(), kHour);
  ASSERT_TRUE(held.acquired) << held.why;
  ClaimEveryScopeEntry(layout);

  Child starved({"/usr/bin/prlimit", "--nofile=32:32", kFdStarved.c_str(),
                 "--segment", name.name()});
  std::string line;
  ASSERT_TRUE(starved.ReadLine(&line, absl::Seconds(30)))
      << "vix_fd_starved said nothing";
  std::optional<FlatJson> reply = FlatJson::Parse(line);
  ASSERT_TRUE(reply.has_value()) << line;
  ASSERT_FALSE(reply->Has("error")) << line;
  ASSERT_EQ(reply->Int("proc_errno"), EMFILE)
      << "the starved process could still open /proc: " << line;

  // The kernel's answer needs no descriptor: the dead owner's slot goes,
  // which also shows that a reclaim pass ran in the starved process.
  ASSERT_TRUE(WaitFor([&] { return layout.slots[dead_slot].owner.load() == 0; },
                      absl::Seconds(20)))
      << "the starved process never reclaimed the dead pid's slot";
  EXPECT_EQ(layout.slots[my_slot].owner.load(), my_owner)
      << "a live process's slot was retired";
  EXPECT_EQ(layout.slots[my_slot].decisions[0].load(), 1234u);
  EXPECT_FALSE(reply->Bool("lease_acquired"))
      << "took a live holder's lease: " << line;
  EXPECT_EQ(reply->Str("lease_why"), "busy") << line;
  EXPECT_EQ(layout.lease.holder_pid.load(), getpid());
  EXPECT_EQ(reply->Str("scope"), "DEADLINE_EXCEEDED")
      << "freed a live process's scope claim: " << line;
  const shm::Scope* scopes = shm::ScopesOf(layout);
  for (uint32_t i = 1; i < shm::ScopeCapacityOf(layout); ++i) {
    EXPECT_EQ(shm::ScopeStateWord::State(scopes[i].state.load()),
              shm::kScopeClaiming)
        << "scope entry " << i;
  }
  starved.CloseStdin();
  EXPECT_EQ(starved.Wait(absl::Seconds(10)), 0);
}

}  // namespace
}  // namespace vix::testing
