// The inspector maps the segment read-only and never writes to it.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "inspect_test_util.h"
#include "vixbreaker/inspect/snapshot.h"
#include "vixbreaker/shm/layout.h"

namespace vix::testing {
namespace {

TEST(ReadOnlyTest, WriteThroughInspectorMappingKillsWithSigsegv) {
  ScopedSegmentName name("readonly");
  auto writer = CreateEmptySegment(name.name());
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    auto segment = inspect::OpenForInspection(name.name());
    if (!segment.ok()) _exit(10);
    if ((*segment)->mutable_layout() != nullptr) _exit(11);
    // Sanitizers catch SIGSEGV to report it; let the kernel's default act.
    signal(SIGSEGV, SIG_DFL);
    auto& layout = const_cast<shm::SegmentLayout&>((*segment)->layout());
    layout.header.magic.store(0, std::memory_order_relaxed);
    _exit(12);  // the store succeeded: the mapping is writable
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_FALSE(WIFEXITED(status))
      << "child exited with " << WEXITSTATUS(status)
      << " (10: open failed, 11: writable handle, 12: write succeeded)";
  ASSERT_TRUE(WIFSIGNALED(status));
  EXPECT_EQ(WTERMSIG(status), SIGSEGV);
  EXPECT_EQ(writer->layout().header.magic.load(std::memory_order_relaxed),
            shm::kMagic)
      << "the segment must be untouched";
}

// Byte-for-byte: nothing else writes this segment while the commands run.
TEST(ReadOnlyTest, StatusAndMetricsLeaveSegmentUnchanged) {
  ScopedSegmentName name("untouched");
  auto segment = BuildFixtureSegment(name.name());
  const std::string path = shm::SegmentPath(name.name());
  const std::string before = ReadFileOrDie(path);
  ASSERT_EQ(before.size(), shm::SegmentSize(shm::kDefaultScopeCapacity));
  for (const std::vector<std::string>& command :
       {std::vector<std::string>{"status"},
        std::vector<std::string>{"status", "--json"},
        std::vector<std::string>{"metrics"}}) {
    std::vector<std::string> argv = {kVixctl};
    argv.insert(argv.end(), command.begin(), command.end());
    argv.insert(argv.end(), {"--segment", name.name()});
    RunResult r = vix::testing::Run(argv);
    // The fixture's lease expired long ago in real time: exit 5 is fine.
    EXPECT_TRUE(r.exit_code == 0 || r.exit_code == 5)
        << command[0] << ": " << r.err;
    EXPECT_FALSE(r.out.empty()) << command[0];
  }
  EXPECT_TRUE(ReadFileOrDie(path) == before)
      << "vixctl status/metrics modified the segment";
}

TEST(ReadOnlyTest, SnapshotReadsWhatWasWritten) {
  ScopedSegmentName name("snapshot");
  auto segment = BuildFixtureSegment(name.name());
  auto inspector = inspect::Inspector::Create(Config{});
  ASSERT_TRUE(inspector.ok()) << inspector.status();
  auto snapshot = inspector->Inspect(name.name(), kFixtureNowNs);
  ASSERT_TRUE(snapshot.ok()) << snapshot.status();
  ASSERT_EQ(snapshot->scopes.size(), 5u);
  const inspect::ScopeView& global = snapshot->scopes[0];
  EXPECT_EQ(global.name, "global");
  EXPECT_EQ(global.episode, inspect::EpisodeState::kActive);
  EXPECT_EQ(global.age_ns, 90 * 60 * int64_t{1'000'000'000});
  EXPECT_EQ(global.stakes[0].tier, 2);  // high: 60 <= 90 < 180
  EXPECT_EQ(global.stakes[1].tier, 3);  // medium: exactly on 90
  EXPECT_EQ(global.stakes[2].tier, 4);  // low: exactly on 90
  EXPECT_EQ(global.stakes[2].ttl_seconds, 45);
  EXPECT_EQ(snapshot->scopes[1].episode, inspect::EpisodeState::kForced);
  EXPECT_EQ(snapshot->scopes[3].episode, inspect::EpisodeState::kExpired);
  EXPECT_TRUE(snapshot->scopes[4].future_start);
  EXPECT_EQ(snapshot->scopes[4].stakes[0].tier, 1);
  EXPECT_EQ(snapshot->mirror.last_error_text,
            "READONLY You can't write against a read only replica.");
  ASSERT_EQ(snapshot->processes.size(), 2u);
  EXPECT_TRUE(snapshot->processes[0].alive);
  EXPECT_FALSE(snapshot->processes[1].alive);
  EXPECT_EQ(snapshot->processes[1].pid, kDeadPid);
  EXPECT_EQ(snapshot->totals.all.decisions[0], 100u + 7u + 1000u);
  EXPECT_EQ(snapshot->totals.all.failsafes, 2u);
}

// A custom configuration (VIX_CONFIG) changes the tiers the inspector shows.
TEST(ReadOnlyTest, StatusUsesVixConfigTiers) {
  ScopedSegmentName name("config");
  auto segment = BuildFixtureSegment(name.name());
  TempDir dir;
  const std::string config = dir.path() + "/vix.conf";
  WriteFileOrDie(config, "tiers.high = 10, 20, 30\n");
  RunResult r =
      vix::testing::Run({kVixctl, "status", "--json", "--segment", name.name(),
                         "--now", absl::StrCat(kFixtureNowS)},
                        {"VIX_CONFIG=" + config});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("\"high_stakes\":{\"tier\":4,\"mode\":\"NEW_NORMAL\""),
            std::string::npos)
      << r.out;
  WriteFileOrDie(config, "tiers.high = 30, 20, 10\n");
  RunResult bad = vix::testing::Run(
      {kVixctl, "status", "--segment", name.name()}, {"VIX_CONFIG=" + config});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find(config), std::string::npos) << bad.err;
}

}  // namespace
}  // namespace vix::testing
