// The command-line contract of SPEC 12 through the real vixctl binary:
// help and version, global flags before the command, errors that quote
// what was typed, exit codes, JSON where asked, and the breaker shown by
// the read-only views.
#include <unistd.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "gtest/gtest.h"
#include "inspect_test_util.h"
#include "vixbreaker/shm/engine.h"
#include "vixbreaker/shm/layout.h"
#include "vixbreaker/shm/process.h"
#include "vixbreaker/shm/scope_name.h"

namespace vix::testing {
namespace {

constexpr int kExitError = 1;
constexpr int kExitUsage = 2;

RunResult Vixctl(std::vector<std::string> args,
                 const std::vector<std::string>& env = {}) {
  args.insert(args.begin(), kVixctl);
  return vix::testing::Run(args, env);
}

// Names every command's flags: `help CMD`, `CMD --help` and `CMD -h` agree.
TEST(CliContractTest, EveryCommandHasHelp) {
  const std::vector<std::pair<std::string, std::string>> flag_of = {
      {"policy", "--age-min"},  {"decide", "--scope"},
      {"status", "--now"},      {"watch", "status --json"},
      {"metrics", "--now"},     {"serve", "--client-timeout-ms"},
      {"panic", "--at"},        {"mirror", "--refresh-interval"},
      {"window", "--base-ttl"}, {"zscore", "--history"},
      {"destroy", "--force"},   {"scope", "scope list"}};
  for (const auto& [command, flag] : flag_of) {
    for (const std::vector<std::string>& args :
         std::vector<std::vector<std::string>>{
             {"help", command}, {command, "--help"}, {command, "-h"}}) {
      RunResult r = Vixctl(args);
      EXPECT_EQ(r.exit_code, 0) << absl::StrJoin(args, " ") << ": " << r.err;
      EXPECT_TRUE(absl::StrContains(r.out, flag))
          << "`vixctl " << absl::StrJoin(args, " ") << "` omits " << flag
          << ":\n"
          << r.out;
      EXPECT_TRUE(absl::StrContains(r.out, "--segment")) << r.out;
    }
  }
  RunResult overview = Vixctl({"help"});
  EXPECT_EQ(overview.exit_code, 0);
  for (const auto& [command, flag] : flag_of) {
    EXPECT_TRUE(absl::StrContains(overview.out, "  " + command)) << command;
  }
  for (const std::string flag :
       {"--now", "--client-timeout-ms", "--key-prefix", "--poll-interval",
        "--refresh-interval", "--connect-timeout", "--command-timeout",
        "--lease", "--version"}) {
    EXPECT_TRUE(absl::StrContains(overview.out, flag))
        << "`vixctl help` omits " << flag << ":\n"
        << overview.out;
  }
}

TEST(CliContractTest, VersionNamesTheLayout) {
  RunResult r = Vixctl({"--version"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(absl::StrContains(
      r.out, absl::StrCat("segment layout ", shm::kLayoutMajor, ".",
                          shm::kLayoutMinor)))
      << r.out;
}

TEST(CliContractTest, GlobalFlagsMayComeBeforeTheCommand) {
  ScopedSegmentName name("global-flags");
  CreateEmptySegment(name.name());
  RunResult r = Vixctl({"--segment", name.name(), "--json", "status"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(absl::StrContains(r.out, "\"schema_version\"")) << r.out;
}

TEST(CliContractTest, ErrorsQuoteTheValueAsTypedWithTheLimitInItsUnit) {
  RunResult age = Vixctl({"policy", "--status", "panic", "--age-min", "1e20"});
  EXPECT_EQ(age.exit_code, kExitUsage);
  EXPECT_TRUE(absl::StrContains(age.err, "\"1e20\"")) << age.err;
  EXPECT_TRUE(absl::StrContains(age.err, "minutes")) << age.err;
  EXPECT_FALSE(absl::StrContains(age.err, "6e+21")) << age.err;

  RunResult at = Vixctl(
      {"panic", "start", "--at", "-1", "--segment", UniqueSegmentName("at")});
  EXPECT_EQ(at.exit_code, kExitUsage);
  EXPECT_TRUE(absl::StrContains(at.err, "\"-1\"")) << at.err;
  EXPECT_TRUE(absl::StrContains(at.err, "greater than 0")) << at.err;
}

TEST(CliContractTest, PanicStartRefusesWhatTheMirrorWouldReject) {
  ScopedSegmentName name("at-limit");
  for (std::string at : {"4102444800", "0", "nan", "inf", "1e300"}) {
    RunResult r =
        Vixctl({"panic", "start", "--at", at, "--segment", name.name()});
    EXPECT_EQ(r.exit_code, kExitUsage) << "--at " << at << ": " << r.err;
    EXPECT_TRUE(absl::StrContains(r.err, absl::StrCat("\"", at, "\"")))
        << r.err;
  }
  EXPECT_NE(access(shm::SegmentPath(name.name()).c_str(), F_OK), 0)
      << "a refused start created the segment";
  const int64_t soon = shm::RealtimeNowNs() / 1'000'000'000 + 60;
  RunResult ok = Vixctl(
      {"panic", "start", "--at", absl::StrCat(soon), "--segment", name.name()});
  EXPECT_EQ(ok.exit_code, 0) << "a minute ahead is clock skew: " << ok.err;
}

TEST(CliContractTest, PanicPrintsTextUnlessJson) {
  ScopedSegmentName name("panic-text");
  RunResult text = Vixctl({"panic", "start", "--segment", name.name()});
  ASSERT_EQ(text.exit_code, 0) << text.err;
  EXPECT_TRUE(absl::StartsWith(text.out, "forced an episode on scope global"))
      << text.out;
  RunResult json = Vixctl({"panic", "end", "--json", "--segment", name.name()});
  ASSERT_EQ(json.exit_code, 0) << json.err;
  EXPECT_EQ(json.out, "{\"scope\":\"global\",\"ended\":true}\n");
  RunResult again = Vixctl({"panic", "end", "--segment", name.name()});
  EXPECT_EQ(again.out, "scope global had no episode\n");
}

TEST(CliContractTest, MetricsJsonIsOneObjectWithTheSameFamilies) {
  ScopedSegmentName name("metrics-json");
  CreateEmptySegment(name.name());
  RunResult text = Vixctl({"metrics", "--segment", name.name()});
  RunResult json = Vixctl({"metrics", "--json", "--segment", name.name()});
  ASSERT_EQ(json.exit_code, 0) << json.err;
  EXPECT_TRUE(absl::StartsWith(json.out, "{\"schema_version\":1,"))
      << json.out.substr(0, 200);
  EXPECT_EQ(json.out.find('\n'), json.out.size() - 1) << "one line";
  for (std::string family :
       {"vixbreaker_segment_up", "vixbreaker_tier", "vixbreaker_breaker_mode",
        "vixbreaker_decisions_total"}) {
    EXPECT_TRUE(absl::StrContains(text.out, "# TYPE " + family)) << family;
    EXPECT_TRUE(absl::StrContains(json.out, "\"" + family + "\":{")) << family;
  }
}

TEST(CliContractTest, TheBreakerIsVisibleReadOnly) {
  ScopedSegmentName name("breaker");
  for (int i = 0; i < 3; ++i) {
    RunResult w =
        Vixctl({"window", "--status", "panic", "--segment", name.name()});
    ASSERT_EQ(w.exit_code, 0) << w.err;
  }
  auto samples = [&] {
    RunResult j = Vixctl({"status", "--json", "--segment", name.name()});
    EXPECT_EQ(j.exit_code, 0) << j.err;
    return j.out;
  };
  const std::string before = samples();
  EXPECT_TRUE(
      absl::StrContains(before, "\"breaker\":{\"mode\":\"circuit_open\""))
      << before;
  EXPECT_TRUE(absl::StrContains(before, "\"total_samples\":3")) << before;
  RunResult table = Vixctl({"status", "--segment", name.name()});
  EXPECT_TRUE(absl::StrContains(table.out, "BREAKER  circuit_open"))
      << table.out;
  RunResult metrics = Vixctl({"metrics", "--segment", name.name()});
  EXPECT_TRUE(absl::StrContains(
      metrics.out, absl::StrCat("vixbreaker_breaker_mode{segment=\"",
                                name.name(), "\",mode=\"circuit_open\"} 1")))
      << metrics.out;
  EXPECT_TRUE(absl::StrContains(samples(), "\"total_samples\":3"))
      << "reading the breaker recorded a sample";
}

TEST(CliContractTest, VixConfigNamingADirectoryIsAnError) {
  TempDir dir;
  RunResult r =
      Vixctl({"policy", "--status", "normal"}, {"VIX_CONFIG=" + dir.path()});
  EXPECT_EQ(r.exit_code, kExitUsage) << r.out;
  EXPECT_TRUE(absl::StrContains(r.err, "is a directory")) << r.err;
}

TEST(CliContractTest, AByteOrderMarkInTheConfigIsIgnored) {
  TempDir dir;
  const std::string path = dir.path() + "/config.json";
  WriteFileOrDie(path, "\xEF\xBB\xBF# vixbreaker\n");
  RunResult ok =
      Vixctl({"policy", "--status", "normal"}, {"VIX_CONFIG=" + path});
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
  WriteFileOrDie(path, "\xEF\xBB\xBFnonsense = 1\n");
  RunResult bad =
      Vixctl({"policy", "--status", "normal"}, {"VIX_CONFIG=" + path});
  EXPECT_EQ(bad.exit_code, kExitUsage);
  EXPECT_FALSE(absl::StrContains(bad.err, "\xEF\xBB\xBF")) << bad.err;
  EXPECT_TRUE(absl::StrContains(bad.err, "nonsense")) << bad.err;
}

TEST(CliContractTest, AFullScopeTableIsARuntimeFailure) {
  ScopedSegmentName name("full");
  auto segment = CreateEmptySegment(name.name());
  {
    // Fill the table through the engine (in this process).
    shm::EngineOptions options;
    options.segment.name = name.name();
    options.log_fd = -1;
    auto engine = shm::Engine::Open(options);
    ASSERT_TRUE(engine.ok()) << engine.status();
    int created = 0;
    while (
        (*engine)->FindOrCreateScope(absl::StrCat("filler-", created)).ok()) {
      ASSERT_LT(++created, 100000) << "the scope table never filled";
    }
  }
  RunResult r = Vixctl({"decide", "--status", "panic", "--scope", "one-more",
                        "--segment", name.name()});
  EXPECT_EQ(r.exit_code, kExitError) << r.err;
  RunResult p = Vixctl(
      {"panic", "start", "--scope", "one-more", "--segment", name.name()});
  EXPECT_EQ(p.exit_code, kExitError) << p.err;
}

TEST(CliContractTest, AnUnresolvableListenHostIsABadFlag) {
  ScopedSegmentName name("listen");
  CreateEmptySegment(name.name());
  RunResult r = Vixctl({"serve", "--listen", "nosuchhost.invalid:9464",
                        "--segment", name.name()});
  EXPECT_EQ(r.exit_code, kExitUsage) << r.err;
}

TEST(CliContractTest, WatchRefusesJsonAndPrintsPlainTextWhenPiped) {
  ScopedSegmentName name("watch-pipe");
  CreateEmptySegment(name.name());
  RunResult json = Vixctl({"watch", "--json", "--segment", name.name()});
  EXPECT_EQ(json.exit_code, kExitUsage);
  EXPECT_TRUE(absl::StrContains(json.err, "status --json")) << json.err;
  RunResult piped = Vixctl({"watch", "--segment", name.name()});
  EXPECT_EQ(piped.exit_code, 0) << piped.err;
  EXPECT_TRUE(absl::StrContains(piped.out, "SCOPES")) << piped.out;
  EXPECT_FALSE(absl::StrContains(piped.out, "\x1b")) << "escape codes";
}

TEST(CliContractTest, ZscoreTakesSpacesAndSaysWhatItDropped) {
  RunResult spaced =
      Vixctl({"zscore", "--history", "1.9, 2.0, 2.1", "--current", "2.0"});
  EXPECT_EQ(spaced.exit_code, 0) << spaced.err;
  std::vector<std::string> odds(150, "2.0");
  odds[0] = "1.9";
  RunResult many = Vixctl({"zscore", "--history", absl::StrJoin(odds, ","),
                           "--current", "2.0", "--json"});
  EXPECT_EQ(many.exit_code, 0) << many.err;
  EXPECT_TRUE(absl::StrContains(many.out, "\"samples_dropped\":50"))
      << many.out;
}

TEST(CliContractTest, StatusSaysNoErrorRatherThanAnEmptyOne) {
  ScopedSegmentName name("no-error");
  auto segment = CreateEmptySegment(name.name());
  SetMirror(*segment, /*connected=*/true,
            shm::RealtimeNowNs() + 3600'000'000'000);
  RunResult r = Vixctl({"status", "--segment", name.name()});
  EXPECT_TRUE(absl::StrContains(r.out, "  error  none\n")) << r.out;
  EXPECT_FALSE(absl::StrContains(r.out, "\"\"")) << r.out;
}

}  // namespace
}  // namespace vix::testing
