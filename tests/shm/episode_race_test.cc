// Real processes racing on one segment (SPEC 3, 4): one first writer per
// episode, and one creator per segment.
#include <sys/types.h>

#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "test_util.h"
#include "vixbreaker/shm/layout.h"
#include "vixbreaker/shm/segment.h"
#include "worker_client.h"

namespace vix::testing {
namespace {

using Workers = std::vector<std::unique_ptr<WorkerProcess>>;

Workers StartWorkers(int count, const std::string& segment) {
  Workers workers;
  for (int i = 0; i < count; ++i) {
    workers.push_back(std::make_unique<WorkerProcess>(segment));
  }
  return workers;
}

// Sends `command` to every worker back-to-back (so they run it at about the
// same moment), then collects one reply from each, in worker order.
std::vector<FlatJson> Broadcast(Workers& workers, const std::string& command) {
  for (auto& w : workers) w->Send(command);
  std::vector<FlatJson> replies;
  for (auto& w : workers) replies.push_back(w->Next());
  return replies;
}

TEST(EpisodeRaceTest, TwentyProcessesAgreeOnOneFirstWriterEveryRound) {
  constexpr int kWorkers = 20;
  constexpr int kRounds = 200;
  ScopedSegmentName segment("race");
  Workers workers = StartWorkers(kWorkers, segment.name());
  for (const FlatJson& r : Broadcast(workers, "open")) {
    ASSERT_FALSE(r.Has("error")) << r.text();
  }
  absl::StatusOr<std::unique_ptr<shm::Segment>> view =
      OpenSegmentView(segment.name());
  ASSERT_TRUE(view.ok()) << view.status();
  const shm::Scope& global =
      shm::ScopesOf((*view)->layout())[shm::kGlobalScopeIndex];

  std::map<int64_t, int> wins_by_pid;
  for (int round = 0; round < kRounds; ++round) {
    SCOPED_TRACE(::testing::Message() << "round " << round);
    std::vector<FlatJson> replies = Broadcast(workers, "decide panic high");
    int first_writers = 0;
    int64_t winner = 0;
    const int64_t start = replies[0].Int("episode_start_ns");
    ASSERT_GT(start, 0) << replies[0].text();
    for (const FlatJson& r : replies) {
      ASSERT_FALSE(r.Has("error")) << r.text();
      EXPECT_EQ(r.Str("mode"), "PANIC_FULL") << r.text();
      EXPECT_EQ(r.Int("tier"), 1) << r.text();
      EXPECT_EQ(r.Str("reason"), "tier") << r.text();
      EXPECT_EQ(r.Int("episode_start_ns"), start)
          << "every process must read the winner's start: " << r.text();
      if (r.Bool("first_writer")) {
        ++first_writers;
        winner = r.Int("pid");
      }
    }
    ASSERT_EQ(first_writers, 1) << "exactly one CAS may start the episode";
    ++wins_by_pid[winner];
    EXPECT_EQ(global.first_writer_pid.load(std::memory_order_relaxed), winner);
    EXPECT_EQ(shm::EpisodeWord::StartNs(
                  global.episode.load(std::memory_order_acquire)),
              start);

    // A calm observation from one process ends the episode for all.
    FlatJson calm = workers[round % kWorkers]->Call("decide normal high");
    ASSERT_EQ(calm.Str("mode"), "NORMAL") << calm.text();
    ASSERT_EQ(global.episode.load(std::memory_order_acquire), 0)
        << "the episode must be over before the next round";
  }
  EXPECT_EQ(global.episodes_started.load(std::memory_order_relaxed), kRounds);
  EXPECT_EQ(global.episodes_ended.load(std::memory_order_relaxed), kRounds);
  for (const FlatJson& r : Broadcast(workers, "exit")) {
    EXPECT_FALSE(r.Has("error")) << r.text();
  }
  // Not asserted (scheduling decides it), but useful when reading a log.
  std::cout << "distinct first writers over " << kRounds
            << " rounds: " << wins_by_pid.size() << "\n";
}

TEST(EpisodeRaceTest, ConcurrentCreatorsMakeOneSegment) {
  constexpr int kWorkers = 16;
  constexpr int kRounds = 20;
  ScopedSegmentName unused("create-parent");
  Workers workers = StartWorkers(kWorkers, unused.name());
  for (int round = 0; round < kRounds; ++round) {
    SCOPED_TRACE(::testing::Message() << "round " << round);
    ScopedSegmentName segment("create");
    std::vector<FlatJson> replies =
        Broadcast(workers, "open " + segment.name());
    int creators = 0;
    std::set<int64_t> generations;
    for (const FlatJson& r : replies) {
      ASSERT_FALSE(r.Has("error")) << r.text();
      creators += r.Bool("created");
      generations.insert(r.Int("generation"));
    }
    EXPECT_EQ(creators, 1) << "exactly one process may create the segment";
    ASSERT_EQ(generations.size(), 1u) << "all must attach to one creation";

    absl::StatusOr<std::unique_ptr<shm::Segment>> view =
        OpenSegmentView(segment.name());
    ASSERT_TRUE(view.ok()) << view.status();
    EXPECT_EQ((*view)->layout().header.generation.load(), *generations.begin());
    EXPECT_NE(*generations.begin(), 0u);
    for (const FlatJson& r : Broadcast(workers, "close")) {
      ASSERT_FALSE(r.Has("error")) << r.text();
    }
  }
}

}  // namespace
}  // namespace vix::testing
