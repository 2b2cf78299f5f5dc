// The command-line contract of the episode commands (SPEC 12): `vixctl
// decide`, `panic start|end` and `destroy`, run as real processes.
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmath>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "test_util.h"
#include "vixbreaker/core/types.h"
#include "vixbreaker/shm/layout.h"
#include "vixbreaker/shm/process.h"
#include "vixbreaker/shm/segment.h"
#include "worker_client.h"

namespace vix::testing {
namespace {

RunResult Vixctl(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {kVixctl};
  argv.insert(argv.end(), args.begin(), args.end());
  return Run(argv);
}

std::vector<std::string> Lines(const std::string& text) {
  return absl::StrSplit(text, '\n', absl::SkipEmpty());
}

// Runs a command that must succeed with exactly one JSON object on stdout.
FlatJson VixctlJson(const std::vector<std::string>& args) {
  RunResult r = Vixctl(args);
  EXPECT_EQ(r.exit_code, 0) << "stderr: " << r.err;
  std::vector<std::string> lines = Lines(r.out);
  EXPECT_EQ(lines.size(), 1u) << "stdout: " << r.out;
  std::optional<FlatJson> json =
      lines.size() == 1 ? FlatJson::Parse(lines[0]) : std::nullopt;
  if (!json) return FlatJson::Problem("not one JSON object: " + r.out);
  return *json;
}

// The error contract: non-zero exit, nothing on stdout, one line on stderr
// that starts with "vixctl: " and mentions `what`.
void ExpectUsageError(const std::vector<std::string>& args,
                      const std::string& what, int exit_code = 2) {
  SCOPED_TRACE(absl::StrJoin(args, " "));
  RunResult r = Vixctl(args);
  EXPECT_EQ(r.exit_code, exit_code) << r.err;
  EXPECT_EQ(r.out, "");
  std::vector<std::string> lines = Lines(r.err);
  ASSERT_EQ(lines.size(), 1u) << "stderr: " << r.err;
  EXPECT_EQ(lines[0].rfind("vixctl: ", 0), 0u) << lines[0];
  EXPECT_NE(lines[0].find(what), std::string::npos) << lines[0];
}

std::vector<std::string> Decide(const std::string& segment,
                                std::vector<std::string> more) {
  std::vector<std::string> args = {"decide", "--segment", segment, "--json"};
  args.insert(args.end(), more.begin(), more.end());
  return args;
}

TEST(VixctlEpisodeTest, DecideJsonFieldsAndFirstWriter) {
  ScopedSegmentName segment("ctl-decide");
  FlatJson calm = VixctlJson(Decide(segment.name(), {"--status", "normal"}));
  EXPECT_EQ(calm.Int("ttl"), 60) << calm.text();
  EXPECT_EQ(calm.Str("mode"), "NORMAL");
  EXPECT_EQ(calm.Int("tier"), 0);
  EXPECT_EQ(calm.Str("stakes"), "low_stakes");
  EXPECT_EQ(calm.Str("reason"), "no_episode");
  EXPECT_TRUE(calm.IsNull("episode_start")) << calm.text();
  EXPECT_TRUE(calm.Has("first_writer") && !calm.Bool("first_writer"));

  const double before = shm::RealtimeNowNs() / 1e9;
  FlatJson first = VixctlJson(Decide(
      segment.name(), {"--status", "panic", "--league", "Premier League"}));
  const double after = shm::RealtimeNowNs() / 1e9;
  EXPECT_EQ(first.Int("ttl"), 0) << first.text();
  EXPECT_EQ(first.Str("mode"), "PANIC_FULL");
  EXPECT_EQ(first.Int("tier"), 1);
  EXPECT_EQ(first.Str("stakes"), "medium_stakes");
  EXPECT_EQ(first.Str("reason"), "tier");
  EXPECT_TRUE(first.Bool("first_writer")) << first.text();
  const double start = first.Num("episode_start");
  EXPECT_GE(start, before - 1) << first.text();
  EXPECT_LE(start, after + 1) << first.text();

  FlatJson second =
      VixctlJson(Decide(segment.name(), {"--status", "panic", "--stakes",
                                         "high", "--base-ttl", "300"}));
  EXPECT_FALSE(second.Bool("first_writer")) << "joined, not started";
  EXPECT_EQ(second.Text("episode_start"), first.Text("episode_start"));
  EXPECT_EQ(second.Str("stakes"), "high_stakes");
  EXPECT_EQ(second.Int("ttl"), 0);

  FlatJson ended = VixctlJson(
      Decide(segment.name(), {"--status", "warning", "--base-ttl", "300"}));
  EXPECT_EQ(ended.Int("ttl"), 300) << ended.text();
  EXPECT_EQ(ended.Str("mode"), "NORMAL");
  EXPECT_TRUE(ended.IsNull("episode_start"));
}

TEST(VixctlEpisodeTest, ScopesHaveTheirOwnEpisodes) {
  ScopedSegmentName segment("ctl-scope");
  FlatJson global = VixctlJson(Decide(segment.name(), {"--status", "panic"}));
  ASSERT_TRUE(global.Bool("first_writer")) << global.text();
  FlatJson cup = VixctlJson(
      Decide(segment.name(), {"--status", "panic", "--scope", "cup:final"}));
  EXPECT_TRUE(cup.Bool("first_writer")) << "a new scope starts its own episode";
  FlatJson cup_calm = VixctlJson(
      Decide(segment.name(), {"--status", "normal", "--scope", "cup:final"}));
  EXPECT_EQ(cup_calm.Str("mode"), "NORMAL") << cup_calm.text();
  FlatJson global_again =
      VixctlJson(Decide(segment.name(), {"--status", "panic"}));
  EXPECT_FALSE(global_again.Bool("first_writer"));
  EXPECT_EQ(global_again.Text("episode_start"), global.Text("episode_start"))
      << "ending scope cup:final must not end global";
  ExpectUsageError(
      Decide(segment.name(), {"--status", "panic", "--scope", "a/b"}), "a/b");
}

TEST(VixctlEpisodeTest, ForcedStartDecidesForcedWithTheTierOfItsAge) {
  ScopedSegmentName segment("ctl-force");
  const int64_t two_hours_ago = shm::RealtimeNowNs() / kNanosPerSecond - 7200;
  FlatJson forced = VixctlJson({"panic", "start", "--segment", segment.name(),
                                "--json", "--at", absl::StrCat(two_hours_ago)});
  EXPECT_DOUBLE_EQ(forced.Num("episode_start"), two_hours_ago) << forced.text();
  EXPECT_TRUE(forced.IsNull("replaced_start")) << forced.text();

  // 120 minutes: high stakes tier 2 (60..180), low stakes tier 4 (>= 90).
  FlatJson high = VixctlJson(
      Decide(segment.name(), {"--status", "panic", "--stakes", "high"}));
  EXPECT_EQ(high.Str("reason"), "forced") << high.text();
  EXPECT_EQ(high.Int("tier"), 2);
  EXPECT_EQ(high.Str("mode"), "PANIC_PARTIAL");
  EXPECT_EQ(high.Int("ttl"), 5);
  EXPECT_FALSE(high.Bool("first_writer"));
  EXPECT_DOUBLE_EQ(high.Num("episode_start"), two_hours_ago);
  // A calm observation does not end a forced episode.
  FlatJson low = VixctlJson(
      Decide(segment.name(), {"--status", "normal", "--stakes", "low"}));
  EXPECT_EQ(low.Str("reason"), "forced") << low.text();
  EXPECT_EQ(low.Int("tier"), 4);
  EXPECT_EQ(low.Str("mode"), "NEW_NORMAL");
  EXPECT_EQ(low.Int("ttl"), 45);

  FlatJson ended =
      VixctlJson({"panic", "end", "--segment", segment.name(), "--json"});
  EXPECT_TRUE(ended.Bool("ended")) << ended.text();
  FlatJson calm = VixctlJson(Decide(segment.name(), {"--status", "normal"}));
  EXPECT_EQ(calm.Str("mode"), "NORMAL") << calm.text();
  EXPECT_EQ(calm.Str("reason"), "no_episode");
  FlatJson again =
      VixctlJson({"panic", "end", "--segment", segment.name(), "--json"});
  EXPECT_FALSE(again.Bool("ended")) << "nothing left to end";
}

TEST(VixctlEpisodeTest, ForcedStartReplacesARunningEpisodeInItsScope) {
  ScopedSegmentName segment("ctl-replace");
  FlatJson natural = VixctlJson(
      Decide(segment.name(), {"--status", "panic", "--scope", "m1"}));
  ASSERT_TRUE(natural.Bool("first_writer"));
  FlatJson forced =
      VixctlJson({"panic", "start", "--segment", segment.name(), "--json",
                  "--scope", "m1", "--at", "1700000000.5"});
  EXPECT_EQ(forced.Text("replaced_start"), natural.Text("episode_start"));
  EXPECT_DOUBLE_EQ(forced.Num("episode_start"), 1700000000.5);
  FlatJson decided = VixctlJson(
      Decide(segment.name(), {"--status", "panic", "--scope", "m1"}));
  EXPECT_EQ(decided.Str("reason"), "forced") << decided.text();
  EXPECT_DOUBLE_EQ(decided.Num("episode_start"), 1700000000.5);
  FlatJson global = VixctlJson(Decide(segment.name(), {"--status", "normal"}));
  EXPECT_EQ(global.Str("reason"), "no_episode") << "global is untouched";
}

TEST(VixctlEpisodeTest, DestroyRemovesTheSegmentAndAMissingOneExits3) {
  ScopedSegmentName segment("ctl-destroy");
  VixctlJson(Decide(segment.name(), {"--status", "normal"}));
  ASSERT_EQ(access(shm::SegmentPath(segment.name()).c_str(), F_OK), 0);
  FlatJson destroyed =
      VixctlJson({"destroy", "--segment", segment.name(), "--json"});
  EXPECT_TRUE(destroyed.Bool("destroyed")) << destroyed.text();
  EXPECT_NE(access(shm::SegmentPath(segment.name()).c_str(), F_OK), 0);
  ExpectUsageError({"destroy", "--segment", segment.name()}, segment.name(),
                   /*exit_code=*/3);
}

TEST(VixctlEpisodeTest, BadFlagsGiveOneStderrLineAndNonZeroExit) {
  ScopedSegmentName segment("ctl-flags");
  const std::string& s = segment.name();
  ExpectUsageError(Decide(s, {"--status", "Panic"}), "Panic");
  ExpectUsageError(Decide(s, {"--status", "panic", "--bogus"}), "--bogus");
  ExpectUsageError(Decide(s, {}), "--status");
  ExpectUsageError(Decide(s, {"--status", "panic", "--base-ttl", "-1"}), "-1");
  ExpectUsageError(Decide(s, {"--status", "panic", "--base-ttl", "2147483648"}),
                   "2147483648");
  ExpectUsageError(Decide(s, {"--status", "panic", "--stakes", "huge"}),
                   "huge");
  ExpectUsageError(Decide(s, {"--status", "panic", "--status", "normal"}),
                   "twice");
  ExpectUsageError({"decide", "--segment", "a/b", "--status", "panic"}, "a/b");
  ExpectUsageError({"panic", "start", "--segment", s, "--at", "nan"}, "nan");
  ExpectUsageError({"panic", "start", "--segment", s, "--at", "-5"}, "-5");
  ExpectUsageError({"panic", "sideways", "--segment", s}, "panic start");
  ExpectUsageError({"panic", "end", "--segment", s, "--at", "5"}, "--at");
  ExpectUsageError({"destroy", "--segment", ""}, "segment name");
  EXPECT_NE(access(shm::SegmentPath(s).c_str(), F_OK), 0)
      << "a rejected command must not create the segment";
}

// Overwrites the magic of an existing segment.
void CorruptMagic(const std::string& name) {
  int fd = open(shm::SegmentPath(name).c_str(), O_RDWR | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  void* p = mmap(nullptr, sizeof(shm::SegmentHeader), PROT_READ | PROT_WRITE,
                 MAP_SHARED, fd, 0);
  close(fd);
  ASSERT_NE(p, MAP_FAILED);
  static_cast<shm::SegmentHeader*>(p)->magic.store(42);
  munmap(p, sizeof(shm::SegmentHeader));
}

// One "vixctl: ..." line naming what is wrong; other stderr lines, if any,
// are the engine's JSON log lines.
void ExpectOneErrorLine(const RunResult& r, const std::string& what) {
  int errors = 0;
  for (const std::string& line : Lines(r.err)) {
    if (FlatJson::Parse(line).has_value()) continue;
    ++errors;
    EXPECT_EQ(line.rfind("vixctl: ", 0), 0u) << line;
    EXPECT_NE(line.find(what), std::string::npos) << line;
  }
  EXPECT_EQ(errors, 1) << "stderr: " << r.err;
}

TEST(VixctlEpisodeTest, CorruptSegmentFailsWithOneLineAndStaysUntouched) {
  ScopedSegmentName segment("ctl-corrupt");
  VixctlJson(Decide(segment.name(), {"--status", "normal"}));
  CorruptMagic(segment.name());

  RunResult decide =
      Vixctl(Decide(segment.name(), {"--status", "panic", "--stakes", "high"}));
  EXPECT_EQ(decide.exit_code, 4) << decide.err;
  ExpectOneErrorLine(decide, "not a vixbreaker segment");
  // Whatever it printed on stdout is the fail-safe decision, never a tier.
  for (const std::string& line : Lines(decide.out)) {
    std::optional<FlatJson> json = FlatJson::Parse(line);
    ASSERT_TRUE(json.has_value()) << line;
    EXPECT_EQ(json->Str("reason"), "failsafe") << line;
    EXPECT_EQ(json->Int("ttl"), 0) << line;
  }

  RunResult start = Vixctl({"panic", "start", "--segment", segment.name()});
  EXPECT_EQ(start.exit_code, 4) << start.err;
  EXPECT_EQ(start.out, "");
  ExpectOneErrorLine(start, "not a vixbreaker segment");

  absl::StatusOr<std::unique_ptr<shm::Segment>> view =
      OpenSegmentView(segment.name());
  EXPECT_FALSE(view.ok());
  int fd = open(shm::SegmentPath(segment.name()).c_str(), O_RDONLY);
  ASSERT_GE(fd, 0);
  uint64_t magic = 0;
  ASSERT_EQ(pread(fd, &magic, sizeof(magic), 0), 8);
  close(fd);
  EXPECT_EQ(magic, 42u) << "vixctl must never reinitialise a bad segment";
}

}  // namespace
}  // namespace vix::testing
