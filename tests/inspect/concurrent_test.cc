// The inspector reading while several real processes decide at full speed,
// through an episode that starts and ends.
#include <sys/wait.h>

#include <algorithm>
#include <atomic>
#include <memory>
#include <optional>
#include <set>
#include <thread>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "inspect_test_util.h"
#include "vixbreaker/inspect/snapshot.h"
#include "vixbreaker/shm/process.h"

namespace vix::testing {
namespace {

constexpr int kDrivers = 3;

class ConcurrentTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto inspector = inspect::Inspector::Create(Config{});
    ASSERT_TRUE(inspector.ok()) << inspector.status();
    inspector_.emplace(*std::move(inspector));
  }

  inspect::Snapshot Take() {
    auto snapshot = inspector_->Inspect(name_.name(), shm::RealtimeNowNs());
    EXPECT_TRUE(snapshot.ok()) << snapshot.status();
    return snapshot.ok() ? *std::move(snapshot) : inspect::Snapshot{};
  }

  // Tells every driver to decide with `status` and waits until each has.
  void SwitchAll(const std::string& status) {
    for (auto& driver : drivers_) ASSERT_TRUE(driver->Write(status + "\n"));
    for (auto& driver : drivers_) {
      std::string line;
      ASSERT_TRUE(driver->ReadLine(&line)) << "driver did not switch";
      ASSERT_EQ(line, "now " + status);
    }
  }

  ScopedSegmentName name_{"concurrent"};
  std::optional<inspect::Inspector> inspector_;
  std::vector<std::unique_ptr<Child>> drivers_;
};

TEST_F(ConcurrentTest, ReadsWhileProcessesDecideThroughAnEpisode) {
  std::set<int64_t> pids;
  for (int i = 0; i < kDrivers; ++i) {
    drivers_.push_back(std::make_unique<Child>(
        std::vector<std::string>{kDecideDriver, name_.name()}));
    std::string line;
    ASSERT_TRUE(drivers_.back()->ReadLine(&line)) << "driver " << i;
    ASSERT_EQ(line, "ready");
    pids.insert(drivers_.back()->pid());
  }

  // A reader that checks invariants the whole time the drivers run.
  std::atomic<bool> stop{false};
  std::atomic<int> reads{0};
  std::thread reader([&] {
    uint64_t last_total = 0;
    while (!stop.load(std::memory_order_relaxed)) {
      inspect::Snapshot s = Take();
      const uint64_t total = s.totals.all.total_decisions();
      EXPECT_GE(total, last_total) << "total decisions went backwards";
      EXPECT_LE(s.totals.slots_in_use, static_cast<uint32_t>(kDrivers));
      last_total = total;
      reads.fetch_add(1, std::memory_order_relaxed);
    }
  });

  inspect::Snapshot s = Take();
  ASSERT_EQ(s.processes.size(), static_cast<size_t>(kDrivers));
  for (const inspect::ProcessView& p : s.processes) {
    EXPECT_TRUE(pids.count(p.pid)) << "unexpected pid " << p.pid;
    EXPECT_TRUE(p.alive) << "pid " << p.pid;
  }
  const uint64_t normal_before = s.totals.all.decisions[0];
  ASSERT_TRUE(WaitFor([&] {
    return Take().totals.all.decisions[0] > normal_before + 100000;
  })) << "NORMAL decisions did not grow while the drivers decide";

  SwitchAll("panic");
  // The last calm decisions, racing the first panic ones, may end the
  // episode once more after the switch; the next panic restarts it.
  ASSERT_TRUE(WaitFor([&] {
    s = Take();
    return s.scopes[0].episode == inspect::EpisodeState::kActive;
  })) << "no episode after every driver switched to panic";
  EXPECT_TRUE(pids.count(s.scopes[0].first_writer_pid))
      << "first writer " << s.scopes[0].first_writer_pid;
  EXPECT_EQ(s.scopes[0].stakes[0].tier, 1);
  const uint64_t full_before = s.totals.all.decisions[1];
  ASSERT_TRUE(WaitFor([&] {
    return Take().totals.all.decisions[1] > full_before + 100000;
  })) << "PANIC_FULL decisions did not grow during the episode";
  RunResult status = vix::testing::Run(
      {kVixctl, "status", "--json", "--segment", name_.name()});
  EXPECT_EQ(status.exit_code, 0) << status.err;
  EXPECT_NE(status.out.find("\"episode\":\"active\""), std::string::npos)
      << status.out;

  SwitchAll("normal");
  // While the drivers switch one by one, panic and calm observations race:
  // an episode may start and end more than once, but every start ends.
  ASSERT_TRUE(WaitFor([&] {
    s = Take();
    return s.scopes[0].episode == inspect::EpisodeState::kNone &&
           s.scopes[0].episodes_ended == s.scopes[0].episodes_started;
  })) << "episode still active (or a start without an end) after every "
         "driver switched to normal: started "
      << s.scopes[0].episodes_started << ", ended "
      << s.scopes[0].episodes_ended;
  EXPECT_GE(s.scopes[0].episodes_started, 1u);

  stop.store(true, std::memory_order_relaxed);
  reader.join();
  EXPECT_GT(reads.load(), 10) << "the reader should have read many times";

  const uint64_t live_total = Take().totals.all.total_decisions();
  for (auto& driver : drivers_) ASSERT_TRUE(driver->Write("quit\n"));
  for (auto& driver : drivers_) {
    const int wait_status = driver->Wait();
    ASSERT_TRUE(WIFEXITED(wait_status) && WEXITSTATUS(wait_status) == 0)
        << "driver exit status " << wait_status;
  }
  s = Take();
  EXPECT_EQ(s.totals.slots_in_use, 0u) << "exited drivers release slots";
  EXPECT_GE(s.totals.retired.total_decisions(), live_total)
      << "retired counts keep every decision";
}

}  // namespace
}  // namespace vix::testing
