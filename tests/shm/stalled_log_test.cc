// A worker whose stderr, its log fd, is a pipe nobody reads, full before the
// worker starts (SPEC 15): its clock keeps moving, the episodes it starts
// carry the real time, and the log lines it cannot write are dropped and
// counted in the segment.
#include <fcntl.h>
#include <unistd.h>

#include <cstdint>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "test_paths.h"
#include "test_util.h"
#include "vixbreaker/shm/clock.h"
#include "vixbreaker/shm/process.h"
#include "vixbreaker/shm/segment.h"
#include "worker_client.h"

namespace vix::testing {
namespace {

constexpr int64_t kTolerance = 50'000'000;  // 50 ms

// One command to the worker, one flat JSON reply.
FlatJson Call(Child& worker, const std::string& command) {
  if (!worker.Write(command + "\n")) return FlatJson::Problem("write failed");
  std::string line;
  if (!worker.ReadLine(&line, absl::Seconds(10))) {
    return FlatJson::Problem(absl::StrCat("no reply to ", command));
  }
  std::optional<FlatJson> reply = FlatJson::Parse(line);
  return reply ? *reply : FlatJson::Problem("not JSON: " + line);
}

TEST(StalledLogTest, AFullLogPipeNeitherStopsTheClockNorBackdatesStarts) {
  ScopedSegmentName segment("stalled-log");
  FullPipe pipe;
  ASSERT_GE(pipe.write_fd(), 0) << "cannot make the pipe";
  // The worker's stderr is the full pipe, and its log goes to stderr.
  Child worker(
      {"/bin/sh", "-c", absl::StrCat("exec \"$0\" \"$@\" 2>&", pipe.write_fd()),
       kTestWorker, "--segment", segment.name(), "--log", "/dev/stderr"});
  FlatJson open = Call(worker, "open");
  ASSERT_FALSE(open.Has("error")) << open.text();
  absl::StatusOr<std::unique_ptr<shm::Segment>> view =
      OpenSegmentView(segment.name());
  ASSERT_TRUE(view.ok()) << view.status();
  const shm::SegmentLayout& layout = (*view)->layout();

  // ~2 s of episodes started and ended as fast as the worker answers: each
  // start (and each end) is a log line the pipe cannot take.
  int starts = 0;
  const absl::Time churn_until = absl::Now() + absl::Seconds(2);
  while (absl::Now() < churn_until) {
    const int64_t before = shm::RealtimeNowNs();
    FlatJson d = Call(worker, "decide panic");
    const int64_t after = shm::RealtimeNowNs();
    ASSERT_FALSE(d.Has("error")) << d.text();
    ASSERT_TRUE(d.Bool("first_writer")) << d.text();
    const int64_t start = d.Int("episode_start_ns");
    ASSERT_GE(start, before - kTolerance)
        << "start " << (before - start) / 1e6 << " ms in the past, after "
        << starts << " starts: the clock stalled with the log";
    ASSERT_LE(start, after + kTolerance) << d.text();
    ++starts;
    FlatJson end = Call(worker, "end");
    ASSERT_TRUE(end.Bool("ended")) << end.text();
  }
  EXPECT_GT(starts, 100) << "too few episodes to fill the log queue";
  EXPECT_TRUE(WaitFor([&] {
    return layout.counters.log_events_dropped.load() > 0;
  })) << "the lines the pipe could not take are counted as dropped";

  // One episode decided until its refresh (once a second) comes: stamped
  // from the cached clock, it shows that clock moving.
  FlatJson first = Call(worker, "decide panic");
  const int64_t start = first.Int("episode_start_ns");
  ASSERT_TRUE(first.Bool("first_writer")) << first.text();
  const auto last_panic_ns = [&] {
    return shm::ScopesOf(layout)[shm::kGlobalScopeIndex].last_panic_ns.load();
  };
  const int64_t first_stamp = last_panic_ns();
  ASSERT_TRUE(WaitFor([&] {
    FlatJson d = Call(worker, "decide panic");
    EXPECT_EQ(d.Int("episode_start_ns"), start) << d.text();
    return last_panic_ns() != first_stamp;
  })) << "no refresh of the episode in 10 s of panic decisions";
  const int64_t last_panic = last_panic_ns();
  EXPECT_GE(last_panic - start, 900'000'000)
      << "the refresh a second into the episode was stamped "
      << (last_panic - start) / 1e6 << " ms after its start";
  uint64_t anomalies = 0;
  for (const shm::ProcessSlot& slot : layout.slots) {
    anomalies += slot.anomalies.load();
  }
  EXPECT_EQ(anomalies, 0u)
      << "starts ahead of the worker's cached clock: that clock lagged";
  EXPECT_FALSE(Call(worker, "exit").Has("error"));
  EXPECT_EQ(worker.Wait(absl::Seconds(10)), 0) << "exit despite the pipe";
}

}  // namespace
}  // namespace vix::testing
