// vixctl on segments it must not harm (SPEC 12), through the real binary:
// destroy refuses a segment in use and a file that is not a segment; only
// decide, window, panic start and mirror create a segment, and reading or
// ending creates no scope; a directory, an empty or a corrupt file is one
// line on stderr.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "inspect_test_util.h"
#include "vixbreaker/shm/process.h"

namespace vix::testing {
namespace {

constexpr int kExitError = 1;
constexpr int kExitNoSegment = 3;
constexpr int kExitIncompatible = 4;
constexpr int kExitPermission = 6;

RunResult Vixctl(std::vector<std::string> args) {
  args.insert(args.begin(), kVixctl);
  return vix::testing::Run(args);
}

bool Exists(const std::string& segment) {
  return access(shm::SegmentPath(segment).c_str(), F_OK) == 0;
}

int LineCount(const std::string& text) {
  std::vector<absl::string_view> lines =
      absl::StrSplit(text, '\n', absl::SkipEmpty());
  return static_cast<int>(lines.size());
}

// A segment whose mirror lease is held by this (live) test process.
TEST(CliSegmentTest, DestroyRefusesALiveMirrorUnlessForced) {
  ScopedSegmentName name("destroy-lease");
  auto segment = CreateEmptySegment(name.name());
  SetMirror(*segment, /*connected=*/true,
            shm::RealtimeNowNs() + 3600'000'000'000);

  RunResult refused = Vixctl({"destroy", "--segment", name.name()});
  EXPECT_EQ(refused.exit_code, kExitError) << refused.err;
  EXPECT_TRUE(absl::StrContains(
      refused.err, absl::StrCat("mirror lease holder pid ", getpid())))
      << refused.err;
  EXPECT_TRUE(absl::StrContains(refused.err, "--force")) << refused.err;
  EXPECT_TRUE(Exists(name.name())) << "destroy removed a segment in use";

  RunResult forced = Vixctl({"destroy", "--force", "--segment", name.name()});
  EXPECT_EQ(forced.exit_code, 0) << forced.err;
  EXPECT_FALSE(Exists(name.name()));
}

TEST(CliSegmentTest, DestroyRefusesAFileThatIsNotASegmentEvenForced) {
  ScopedSegmentName name("destroy-foreign");
  WriteFileOrDie(shm::SegmentPath(name.name()),
                 "someone else's shared memory, not vixbreaker's\n");
  for (const std::vector<std::string>& extra :
       {std::vector<std::string>{}, std::vector<std::string>{"--force"}}) {
    std::vector<std::string> args = {"destroy", "--segment", name.name()};
    args.insert(args.end(), extra.begin(), extra.end());
    RunResult r = Vixctl(args);
    EXPECT_EQ(r.exit_code, kExitError) << r.err;
    EXPECT_TRUE(absl::StrContains(r.err, "not a vixbreaker segment")) << r.err;
    EXPECT_EQ(LineCount(r.err), 1) << r.err;
    EXPECT_TRUE(Exists(name.name())) << "destroy removed a foreign file";
  }
  // Reading it says so, and does not suggest the destroy that refuses it.
  RunResult status = Vixctl({"status", "--segment", name.name()});
  EXPECT_EQ(status.exit_code, kExitIncompatible) << status.err;
  EXPECT_TRUE(absl::StrContains(status.err, "not a vixbreaker segment"))
      << status.err;
  EXPECT_FALSE(absl::StrContains(status.err, "vixctl destroy --segment"))
      << status.err;
}

TEST(CliSegmentTest, DestroyRemovesAnIdleSegment) {
  ScopedSegmentName name("destroy-idle");
  CreateEmptySegment(name.name());
  RunResult r = Vixctl({"destroy", "--segment", name.name()});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_FALSE(Exists(name.name()));
}

TEST(CliSegmentTest, ReadingAndEndingCreateNoSegment) {
  ScopedSegmentName name("no-create");
  const std::vector<std::vector<std::string>> commands = {
      {"panic", "end"},  {"status"},  {"metrics"},
      {"scope", "list"}, {"destroy"}, {"metrics", "--json"}};
  for (std::vector<std::string> args : commands) {
    args.insert(args.end(), {"--segment", name.name()});
    RunResult r = Vixctl(args);
    EXPECT_EQ(r.exit_code, kExitNoSegment)
        << absl::StrJoin(args, " ") << ": " << r.err;
    EXPECT_FALSE(Exists(name.name()))
        << "`vixctl " << absl::StrJoin(args, " ") << "` created the segment";
  }
}

// Scope names in the segment, by `vixctl scope list --json`.
bool ScopeExists(const std::string& segment, const std::string& scope) {
  RunResult r = Vixctl({"scope", "list", "--json", "--segment", segment});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return absl::StrContains(r.out, absl::StrCat("\"name\":\"", scope, "\""));
}

TEST(CliSegmentTest, EndingOrACalmDecisionCreatesNoScope) {
  ScopedSegmentName name("no-scope");
  CreateEmptySegment(name.name());
  RunResult end =
      Vixctl({"panic", "end", "--scope", "typo", "--segment", name.name()});
  EXPECT_EQ(end.exit_code, kExitNoSegment) << end.err;
  EXPECT_TRUE(absl::StrContains(end.err, "no scope \"typo\"")) << end.err;
  EXPECT_FALSE(ScopeExists(name.name(), "typo")) << "panic end created it";

  RunResult calm = Vixctl({"decide", "--status", "normal", "--scope", "calm-x",
                           "--json", "--segment", name.name()});
  EXPECT_EQ(calm.exit_code, 0) << calm.err;
  EXPECT_TRUE(absl::StrContains(calm.out, "\"reason\":\"no_episode\""))
      << calm.out;
  EXPECT_FALSE(ScopeExists(name.name(), "calm-x")) << "a calm decision made it";

  RunResult panic = Vixctl({"decide", "--status", "panic", "--scope", "hot-x",
                            "--segment", name.name()});
  EXPECT_EQ(panic.exit_code, 0) << panic.err;
  EXPECT_TRUE(ScopeExists(name.name(), "hot-x")) << "a panic starts a scope";
}

TEST(CliSegmentTest, DecideSaysWhenItEndedAnEpisode) {
  ScopedSegmentName name("ended");
  RunResult start = Vixctl(
      {"decide", "--status", "panic", "--json", "--segment", name.name()});
  ASSERT_EQ(start.exit_code, 0) << start.err;
  EXPECT_TRUE(absl::StrContains(start.out, "\"ended_episode\":false"))
      << start.out;
  RunResult calm = Vixctl(
      {"decide", "--status", "normal", "--json", "--segment", name.name()});
  ASSERT_EQ(calm.exit_code, 0) << calm.err;
  EXPECT_TRUE(absl::StrContains(calm.out, "\"ended_episode\":true"))
      << calm.out;
  RunResult again = Vixctl(
      {"decide", "--status", "normal", "--json", "--segment", name.name()});
  EXPECT_TRUE(absl::StrContains(again.out, "\"ended_episode\":false"))
      << again.out;
}

// The file at the segment's path, made by `make`, for each command that
// reads or writes a segment: one line on stderr, naming the problem, fast.
void ExpectOneLineProblem(const std::string& segment, const std::string& what,
                          int exit_code) {
  for (const std::vector<std::string>& args :
       std::vector<std::vector<std::string>>{{"status"},
                                             {"decide", "--status", "panic"},
                                             {"window", "--status", "panic"},
                                             {"panic", "start"}}) {
    std::vector<std::string> argv = args;
    argv.insert(argv.end(), {"--segment", segment});
    const absl::Time started = absl::Now();
    RunResult r = Vixctl(argv);
    EXPECT_EQ(r.exit_code, exit_code) << absl::StrJoin(argv, " ") << r.err;
    EXPECT_EQ(LineCount(r.err), 1)
        << "`vixctl " << absl::StrJoin(argv, " ") << "` stderr:\n"
        << r.err;
    EXPECT_TRUE(absl::StrContains(r.err, what))
        << "`vixctl " << absl::StrJoin(argv, " ") << "` stderr:\n"
        << r.err;
    EXPECT_LT(absl::Now() - started, absl::Seconds(1))
        << "`vixctl " << absl::StrJoin(argv, " ") << "` waited";
  }
}

TEST(CliSegmentTest, AnEmptyFileIsCalledEmptyAtOnce) {
  ScopedSegmentName name("empty");
  WriteFileOrDie(shm::SegmentPath(name.name()), "");
  ExpectOneLineProblem(name.name(), "is empty (0 bytes)", kExitIncompatible);
}

TEST(CliSegmentTest, ADirectoryIsCalledADirectory) {
  ScopedSegmentName name("dir");
  const std::string path = shm::SegmentPath(name.name());
  ASSERT_EQ(mkdir(path.c_str(), 0700), 0);
  ExpectOneLineProblem(name.name(), "is a directory", kExitIncompatible);
  RunResult destroy = Vixctl({"destroy", "--segment", name.name()});
  EXPECT_EQ(destroy.exit_code, kExitError) << destroy.err;
  EXPECT_TRUE(absl::StrContains(destroy.err, "is a directory")) << destroy.err;
  rmdir(path.c_str());
}

TEST(CliSegmentTest, ACorruptSegmentIsOneLine) {
  ScopedSegmentName name("corrupt");
  auto segment = CreateEmptySegment(name.name());
  segment->mutable_layout()->header.layout_major.store(
      99, std::memory_order_relaxed);
  ExpectOneLineProblem(name.name(), "layout", kExitIncompatible);
}

TEST(CliSegmentTest, AWorldWritableSegmentSuggestsChmod) {
  ScopedSegmentName name("mode666");
  CreateEmptySegment(name.name());
  const std::string path = shm::SegmentPath(name.name());
  ASSERT_EQ(chmod(path.c_str(), 0666), 0);
  RunResult r = Vixctl({"status", "--segment", name.name()});
  EXPECT_EQ(r.exit_code, kExitPermission) << r.err;
  EXPECT_TRUE(absl::StrContains(r.err, absl::StrCat("chmod 600 ", path)))
      << r.err;
  EXPECT_FALSE(absl::StrContains(r.err, "vixctl destroy")) << r.err;
}

// A permission problem has its own exit code, whichever command meets it
// (those that may create the segment included), never the code for a
// corrupt or foreign segment.
TEST(CliSegmentTest, APermissionProblemExitsSixFromEveryCommand) {
  ScopedSegmentName name("mode666-all");
  CreateEmptySegment(name.name());
  ASSERT_EQ(chmod(shm::SegmentPath(name.name()).c_str(), 0666), 0);
  const std::vector<std::vector<std::string>> commands = {
      {"status"},
      {"metrics"},
      {"scope", "list"},
      {"panic", "end"},
      {"panic", "start"},
      {"decide", "--status", "panic"},
      {"window", "--status", "panic"}};
  for (std::vector<std::string> args : commands) {
    const std::string command = absl::StrJoin(args, " ");
    args.insert(args.end(), {"--segment", name.name()});
    RunResult r = Vixctl(args);
    EXPECT_EQ(r.exit_code, kExitPermission) << command << ": " << r.err;
    EXPECT_EQ(LineCount(r.err), 1) << command << ": " << r.err;
    EXPECT_TRUE(absl::StrContains(r.err, "mode 0666"))
        << command << ": " << r.err;
  }
}

TEST(CliSegmentTest, ScopeRmRemovesAnIdleScopeOnly) {
  ScopedSegmentName name("scope-rm");
  auto panic = [&](const std::string& status, const std::string& scope) {
    RunResult r = Vixctl({"decide", "--status", status, "--scope", scope,
                          "--segment", name.name()});
    ASSERT_EQ(r.exit_code, 0) << r.err;
  };
  panic("panic", "done-x");
  panic("normal", "done-x");
  panic("panic", "busy-x");

  RunResult busy = Vixctl({"scope", "rm", "busy-x", "--segment", name.name()});
  EXPECT_EQ(busy.exit_code, kExitError) << busy.err;
  EXPECT_TRUE(ScopeExists(name.name(), "busy-x")) << "removed while running";

  RunResult done =
      Vixctl({"scope", "rm", "done-x", "--json", "--segment", name.name()});
  EXPECT_EQ(done.exit_code, 0) << done.err;
  EXPECT_EQ(done.out, "{\"scope\":\"done-x\",\"removed\":true}\n");
  EXPECT_FALSE(ScopeExists(name.name(), "done-x"));

  RunResult again = Vixctl({"scope", "rm", "done-x", "--segment", name.name()});
  EXPECT_EQ(again.exit_code, kExitNoSegment) << again.err;
  RunResult missing = Vixctl(
      {"scope", "rm", "x", "--segment", UniqueSegmentName("scope-rm-none")});
  EXPECT_EQ(missing.exit_code, kExitNoSegment) << missing.err;
}

// Another user's segment: the error names the owner and how to read it.
TEST(CliSegmentTest, AForeignOwnersSegmentSaysWhoOwnsItAndWhatToDo) {
  ScopedSegmentName name("foreign-owner");
  CreateEmptySegment(name.name());
  const std::string path = shm::SegmentPath(name.name());
  const uid_t other = geteuid() == 0 ? 1001 : geteuid();
  ASSERT_EQ(geteuid(), 0u)
      << "this test runs as root to give the segment to another uid";
  ASSERT_EQ(chown(path.c_str(), other, static_cast<gid_t>(-1)), 0)
      << std::strerror(errno);
  RunResult r = Vixctl({"status", "--segment", name.name()});
  EXPECT_EQ(r.exit_code, kExitPermission) << r.err;
  EXPECT_EQ(LineCount(r.err), 1) << r.err;
  EXPECT_TRUE(absl::StrContains(r.err, "uid 1001")) << r.err;
  EXPECT_TRUE(absl::StrContains(r.err, "sudo -u ")) << r.err;
}

}  // namespace
}  // namespace vix::testing
