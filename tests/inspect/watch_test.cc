// `vixctl watch` in a real terminal: run under tmux, its screen captured
// with capture-pane, then quit with `q` or Ctrl-C and the terminal checked.
#include <unistd.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "gtest/gtest.h"
#include "inspect_test_util.h"
#include "vixbreaker/shm/process.h"

namespace vix::testing {
namespace {

constexpr char kTmuxMissing[] =
    "tmux is not installed; install the Debian package: apt-get install -y "
    "tmux";

// A private tmux server (its own socket) running `vixctl watch` in one
// pane. The pane's shell records the terminal modes before and after, and
// the exit code, then waits for Enter so the pane can still be inspected.
class WatchSession {
 public:
  explicit WatchSession(const std::string& segment, int columns = 160,
                        int rows = 60)
      : socket_(UniqueSegmentName("tmux")) {
    const std::string d = dir_.path();
    const std::string script =
        absl::StrCat("trap true INT; stty -g > ", d, "/before; ", kVixctl,
                     " watch --segment ", segment, "; rc=$?; stty -g > ", d,
                     "/after; echo $rc > ", d, "/rc.tmp; mv ", d, "/rc.tmp ", d,
                     "/rc; read line");
    started_ =
        Tmux({"new-session", "-d", "-s", "watch", "-x", absl::StrCat(columns),
              "-y", absl::StrCat(rows), absl::StrCat("sh -c '", script, "'")})
            .exit_code == 0;
  }
  ~WatchSession() { Tmux({"kill-server"}); }

  bool started() const { return started_; }

  RunResult Tmux(std::vector<std::string> args) {
    std::vector<std::string> argv = {"/usr/bin/tmux", "-L", socket_, "-f",
                                     "/dev/null"};
    argv.insert(argv.end(), args.begin(), args.end());
    return vix::testing::Run(argv);
  }
  // The visible screen; with `escapes`, including colours.
  std::string Screen(bool escapes = false) {
    std::vector<std::string> args = {"capture-pane", "-p", "-t", "watch"};
    if (escapes) args.push_back("-e");
    return Tmux(args).out;
  }
  std::string Format(const std::string& format) {
    return std::string(absl::StripTrailingAsciiWhitespace(
        Tmux({"display-message", "-p", "-t", "watch", format}).out));
  }
  bool ScreenShows(const std::string& text) {
    return WaitFor([&] { return absl::StrContains(Screen(), text); });
  }
  void Press(const std::string& key) {
    Tmux({"send-keys", "-t", "watch", key});
  }

  // Waits for watch to exit and checks the terminal is as it found it.
  void ExpectCleanExit() {
    const std::string rc_file = dir_.path() + "/rc";
    ASSERT_TRUE(WaitFor([&] { return access(rc_file.c_str(), F_OK) == 0; }))
        << "watch did not exit; screen:\n"
        << Screen();
    EXPECT_EQ(ReadFileOrDie(rc_file), "0\n") << "watch's exit code";
    EXPECT_EQ(ReadFileOrDie(dir_.path() + "/after"),
              ReadFileOrDie(dir_.path() + "/before"))
        << "terminal modes (stty -g) were not restored";
    EXPECT_EQ(Format("#{alternate_on}"), "0")
        << "still on the alternate screen";
    EXPECT_EQ(Format("#{cursor_flag}"), "1") << "cursor left hidden";
    EXPECT_FALSE(absl::StrContains(Screen(), "RECENT CHANGES"))
        << "the watch frame stayed on the normal screen";
  }

 private:
  TempDir dir_;
  std::string socket_;
  bool started_ = false;
};

class WatchTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(OnPath("tmux")) << kTmuxMissing;
    segment_ = CreateEmptySegment(name_.name());
    SetMirror(*segment_, /*connected=*/true,
              shm::RealtimeNowNs() + 3600'000'000'000);
  }

  ScopedSegmentName name_{"watch"};
  std::unique_ptr<shm::Segment> segment_;
};

TEST_F(WatchTest, ShowsChangesAndQuitsOnQ) {
  WatchSession watch(name_.name());
  ASSERT_TRUE(watch.started());
  ASSERT_TRUE(watch.ScreenShows("(none yet)")) << watch.Screen();
  EXPECT_TRUE(absl::StrContains(watch.Screen(), "MIRROR  healthy"));
  EXPECT_EQ(watch.Format("#{alternate_on}"), "1");
  EXPECT_EQ(watch.Format("#{cursor_flag}"), "0")
      << "cursor hidden while drawing";

  // An episode 61 minutes old: high and medium move to tier 2, low to 3.
  const int64_t start_s = shm::RealtimeNowNs() / 1'000'000'000 - 61 * 60;
  RunResult panic =
      vix::testing::Run({kVixctl, "panic", "start", "--segment", name_.name(),
                         "--at", absl::StrCat(start_s)});
  ASSERT_EQ(panic.exit_code, 0) << panic.err;
  ASSERT_TRUE(
      watch.ScreenShows("global high_stakes: tier 0 -> 2 (PANIC_PARTIAL)"))
      << watch.Screen();
  EXPECT_TRUE(absl::StrContains(watch.Screen(),
                                "global low_stakes: tier 0 -> 3 (DEGRADED)"));
  EXPECT_TRUE(
      absl::StrContains(watch.Screen(), "global: episode none -> forced"));
  EXPECT_TRUE(absl::StrContains(watch.Screen(/*escapes=*/true), "31m2 (5s)"))
      << "the raised tier is highlighted in red:\n"
      << watch.Screen(true);

  SetMirror(*segment_, /*connected=*/false, 0);
  ASSERT_TRUE(watch.ScreenShows("mirror unhealthy: not connected to Redis"))
      << watch.Screen();
  EXPECT_TRUE(absl::StrContains(watch.Screen(),
                                "MIRROR  UNHEALTHY: not connected to Redis"));

  watch.Press("q");
  watch.ExpectCleanExit();
}

TEST_F(WatchTest, QuitsOnCtrlC) {
  WatchSession watch(name_.name());
  ASSERT_TRUE(watch.started());
  ASSERT_TRUE(watch.ScreenShows("RECENT CHANGES")) << watch.Screen();
  watch.Press("C-c");
  watch.ExpectCleanExit();
}

TEST_F(WatchTest, WaitsForAMissingSegment) {
  ScopedSegmentName missing("watch-missing");  // created only later
  WatchSession watch(missing.name());
  ASSERT_TRUE(watch.started());
  ASSERT_TRUE(watch.ScreenShows("cannot be read")) << watch.Screen();
  auto segment = CreateEmptySegment(missing.name());
  ASSERT_TRUE(watch.ScreenShows("RECENT CHANGES")) << watch.Screen();
  watch.Press("q");
  watch.ExpectCleanExit();
}

// 80x24 with one active scope among 40 idle ones: the active scope, the
// mirror line and the health line are on screen, the rest summarised.
TEST_F(WatchTest, FitsEightyByTwentyFourWithManyScopes) {
  for (int i = 0; i < 40; ++i) {
    RunResult idle = vix::testing::Run({kVixctl, "decide", "--status", "panic",
                                        "--scope", absl::StrCat("idle-", i),
                                        "--segment", name_.name()});
    ASSERT_EQ(idle.exit_code, 0) << idle.err;
    RunResult calm = vix::testing::Run({kVixctl, "decide", "--status", "normal",
                                        "--scope", absl::StrCat("idle-", i),
                                        "--segment", name_.name()});
    ASSERT_EQ(calm.exit_code, 0) << calm.err;
  }
  RunResult active =
      vix::testing::Run({kVixctl, "panic", "start", "--scope", "zz-active",
                         "--segment", name_.name()});
  ASSERT_EQ(active.exit_code, 0) << active.err;

  WatchSession watch(name_.name(), 80, 24);
  ASSERT_TRUE(watch.started());
  ASSERT_TRUE(watch.ScreenShows("RECENT CHANGES")) << watch.Screen();
  const std::string screen = watch.Screen();
  EXPECT_TRUE(absl::StrContains(screen, "zz-active")) << screen;
  EXPECT_TRUE(absl::StrContains(screen, "MIRROR  healthy")) << screen;
  EXPECT_TRUE(absl::StrContains(screen, "HEALTH  healthy")) << screen;
  EXPECT_TRUE(absl::StrContains(screen, " idle scopes")) << screen;
  EXPECT_LT(screen.find("zz-active"), screen.find("idle-0"))
      << "the active scope is listed first:\n"
      << screen;
  watch.Press("q");
  watch.ExpectCleanExit();
}

}  // namespace
}  // namespace vix::testing
