// Counts never go backwards (SPEC 4): the real inspector (shm/reader.h), on a
// read-only mapping, samples the segment's total every few milliseconds while
// worker processes decide, are SIGKILLed, and have their slots reclaimed by the
// workers that follow. Every sample is at least the one before, and the
// last equals every decision the workers answered.
#include <signal.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "test_util.h"
#include "vixbreaker/shm/clock.h"
#include "vixbreaker/shm/process.h"
#include "vixbreaker/shm/reader.h"
#include "worker_client.h"

namespace vix::testing {
namespace {

constexpr int kRounds = 6;
constexpr int kWorkersPerRound = 3;
constexpr int kDecisionsPerWorker = 300;

// Samples the inspector's total until stopped; remembers any decrease.
class TotalSampler {
 public:
  TotalSampler(const shm::Inspector& inspector, const shm::Segment& view)
      : thread_([this, &inspector, &view] {
          while (!stop_.load(std::memory_order_relaxed)) {
            const uint64_t total = inspector.Read(view, shm::RealtimeNowNs())
                                       .totals.all.total_decisions();
            if (total < last_ && decrease_.empty()) {
              decrease_ = absl::StrCat(last_, " then ", total, " at sample ",
                                       samples());
            }
            last_ = total;
            samples_.fetch_add(1, std::memory_order_relaxed);
            absl::SleepFor(absl::Milliseconds(2));
          }
        }) {}
  // Stops sampling; returns the first decrease seen ("" if none).
  std::string Stop() {
    stop_.store(true, std::memory_order_relaxed);
    thread_.join();
    return decrease_;
  }
  uint64_t samples() const { return samples_.load(std::memory_order_relaxed); }
  uint64_t last() const { return last_; }

 private:
  std::atomic<bool> stop_{false};
  uint64_t last_ = 0;  // the sampler's own until Stop() joins it
  std::atomic<uint64_t> samples_{0};
  std::string decrease_;
  std::thread thread_;
};

// Slots owned by a process the kernel says is gone.
int DeadOwnedSlots(const shm::SegmentLayout& layout) {
  int dead = 0;
  for (const shm::ProcessSlot& slot : layout.slots) {
    const uint64_t owner = slot.owner.load();
    if (owner == 0) continue;
    dead += kill(static_cast<pid_t>(owner >> 32), 0) != 0;
  }
  return dead;
}

TEST(TotalsMonotonicTest, InspectorTotalsNeverDecreaseThroughKillsAndReclaim) {
  ScopedSegmentName segment("monotonic");
  WorkerProcess creator(segment.name());
  ASSERT_FALSE(creator.Call("open").Has("error"));
  absl::StatusOr<std::unique_ptr<shm::Segment>> view =
      OpenSegmentView(segment.name());
  ASSERT_TRUE(view.ok()) << view.status();
  absl::StatusOr<shm::Inspector> inspector = shm::Inspector::Create(Config{});
  ASSERT_TRUE(inspector.ok()) << inspector.status();

  TotalSampler sampler(*inspector, **view);
  uint64_t answered = 0;
  int reclaimed_rounds = 0;
  for (int round = 0; round < kRounds; ++round) {
    // Samples land in every round, on a fast machine too (the round's work
    // can take less than a sampling period).
    const uint64_t round_start = sampler.samples();
    std::vector<std::unique_ptr<WorkerProcess>> workers;
    for (int w = 0; w < kWorkersPerRound; ++w) {
      workers.push_back(std::make_unique<WorkerProcess>(segment.name()));
      ASSERT_FALSE(workers.back()->Call("open").Has("error"));
    }
    // Opening reclaims the previous round's dead slots, in the background.
    if (round > 0 &&
        WaitFor([&] { return DeadOwnedSlots((*view)->layout()) == 0; })) {
      ++reclaimed_rounds;
    }
    for (auto& w : workers) {
      std::string batch;
      for (int i = 0; i < kDecisionsPerWorker; ++i) {
        batch += i % 4 == 0 ? "decide normal\n" : "decide panic high\n";
      }
      ASSERT_TRUE(w->child().Write(batch));
    }
    for (auto& w : workers) {
      for (int i = 0; i < kDecisionsPerWorker; ++i) {
        FlatJson d = w->Next();
        ASSERT_FALSE(d.Has("error")) << d.text();
      }
      answered += kDecisionsPerWorker;
    }
    ASSERT_TRUE(WaitFor([&] { return sampler.samples() >= round_start + 5; }))
        << "the sampler stopped sampling in round " << round;
    for (auto& w : workers) {
      w->child().Signal(SIGKILL);
      ASSERT_NE(w->child().Wait(), -1) << "SIGKILLed worker not reaped";
    }
  }
  // The creator's background pass reclaims the last round (every 5 s), or a
  // fresh opener does at once.
  WorkerProcess last(segment.name());
  ASSERT_FALSE(last.Call("open").Has("error"));
  ASSERT_TRUE(WaitFor([&] { return DeadOwnedSlots((*view)->layout()) == 0; }))
      << "the killed workers' slots were never reclaimed";
  const uint64_t reclaimed_at = sampler.samples();
  ASSERT_TRUE(WaitFor([&] { return sampler.samples() >= reclaimed_at + 5; }))
      << "the sampler stopped sampling";
  const std::string decrease = sampler.Stop();
  EXPECT_EQ(decrease, "") << "the inspector's total went backwards";
  EXPECT_EQ(reclaimed_rounds, kRounds - 1)
      << "each round's kills were reclaimed while sampling";
  EXPECT_EQ(sampler.last(), answered)
      << "the last sample is every decision the workers answered";
  const shm::Snapshot final_snapshot =
      inspector->Read(**view, shm::RealtimeNowNs());
  EXPECT_EQ(final_snapshot.totals.all.total_decisions(), answered);
}

}  // namespace
}  // namespace vix::testing
