// `vixctl window` and `vixctl zscore` run as real processes (SPEC 12).
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "gtest/gtest.h"
#include "test_util.h"

namespace vix {
namespace {

using vix::testing::Run;
using vix::testing::RunResult;
using vix::testing::ScopedSegmentName;

RunResult Vixctl(std::vector<std::string> args) {
  args.insert(args.begin(), ::vix::testing::kVixctl);
  return Run(args);
}

// Exactly one line on stderr, naming `what`, and a usage exit code.
void ExpectUsageError(const RunResult& r, const std::string& what) {
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_TRUE(r.out.empty()) << r.out;
  EXPECT_TRUE(absl::StrContains(r.err, what)) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
}

TEST(VixctlWindowTest, RecordsIntoTheSharedWindowAndPrintsTheDecision) {
  ScopedSegmentName segment("window-cli");
  const std::string seg = "--segment=" + segment.name();

  RunResult r = Vixctl({"window", "--status", "panic", "--json", seg});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out,
            "{\"ttl\":5,\"strategy\":\"adaptive\",\"breaker_mode\":"
            "\"high_volatility\",\"panic_ratio\":1}\n");
  EXPECT_TRUE(absl::StrContains(
      r.err, "\"from\":\"normal\",\"to\":\"high_volatility\""))
      << "the transition is logged on stderr: " << r.err;

  // A second process sees the first one's sample.
  r = Vixctl({"window", "--status", "panic", "--json", seg});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out,
            "{\"ttl\":10,\"strategy\":\"adaptive\",\"breaker_mode\":"
            "\"circuit_open\",\"panic_ratio\":1}\n");

  // circuit_open ignores the base TTL for a normal status.
  r = Vixctl(
      {"window", "--status", "normal", "--base-ttl", "300", "--json", seg});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(
      absl::StartsWith(r.out,
                       "{\"ttl\":60,\"strategy\":\"normal\",\"breaker_mode\":"
                       "\"circuit_open\",\"panic_ratio\":0.66666666666666"))
      << r.out;
  EXPECT_TRUE(r.err.empty()) << "no transition, no log: " << r.err;

  r = Vixctl({"window", "--status", "warning", seg});  // 2/4 < 0.6
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out,
            "ttl=10 strategy=adaptive breaker_mode=high_volatility "
            "panic_ratio=0.500000\n");
}

TEST(VixctlWindowTest, PanicInNormalModeBypassesTheCache) {
  ScopedSegmentName segment("window-cli-bypass");
  const std::string seg = "--segment=" + segment.name();
  // Three normal samples first: one panic makes 1/4, no transition.
  for (int i = 0; i < 3; ++i) {
    ASSERT_EQ(Vixctl({"window", "--status", "normal", seg}).exit_code, 0);
  }
  const RunResult r = Vixctl({"window", "--status", "panic", "--json", seg});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out,
            "{\"ttl\":0,\"strategy\":\"bypass\",\"breaker_mode\":\"normal\","
            "\"panic_ratio\":0.25}\n");
}

TEST(VixctlWindowTest, BadValuesFailWithOneLine) {
  ScopedSegmentName segment("window-cli-bad");
  const std::string seg = "--segment=" + segment.name();
  ExpectUsageError(Vixctl({"window", "--status", "Panic", seg}), "Panic");
  ExpectUsageError(Vixctl({"window", seg}), "--status is required");
  ExpectUsageError(
      Vixctl({"window", "--status", "panic", "--base-ttl", "-1", seg}), "-1");
  ExpectUsageError(Vixctl({"window", "--status", "panic", "--segment", "a/b"}),
                   "a/b");
  ExpectUsageError(Vixctl({"window", "--status", "panic", "--odds", "1", seg}),
                   "--odds");
}

TEST(VixctlZscoreTest, PrintsZAndStatus) {
  struct Case {
    const char* history;
    const char* current;
    const char* json;
  };
  const Case cases[] = {
      {"1,2,3", "4", "{\"z\":2,\"status\":\"panic\"}"},
      {"1,2,3", "3.5", "{\"z\":1.5,\"status\":\"warning\"}"},
      {"1,2,3", "0.5", "{\"z\":1.5,\"status\":\"warning\"}"},  // below mean
      {"1,2,3", "2.5", "{\"z\":0.5,\"status\":\"normal\"}"},
      {"1.5,2.5", "40", "{\"z\":0,\"status\":\"normal\"}"},      // < 3 samples
      {"2.5,2.5,2.5", "40", "{\"z\":0,\"status\":\"normal\"}"},  // stddev 0
  };
  for (const Case& c : cases) {
    const RunResult r = Vixctl(
        {"zscore", "--history", c.history, "--current", c.current, "--json"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out, std::string(c.json) + "\n")
        << c.history << " / " << c.current;
  }
  const RunResult text =
      Vixctl({"zscore", "--history", "1,2,3", "--current", "4"});
  EXPECT_EQ(text.out, "z=2.000000 status=panic\n");
}

TEST(VixctlZscoreTest, BadOddsFailWithOneLine) {
  ExpectUsageError(Vixctl({"zscore", "--history", "", "--current", "2"}),
                   "--history is empty");
  ExpectUsageError(Vixctl({"zscore", "--history", "1,nan,3", "--current", "2"}),
                   "nan");
  ExpectUsageError(Vixctl({"zscore", "--history", "1,,3", "--current", "2"}),
                   "--history value 2");
  ExpectUsageError(Vixctl({"zscore", "--history", "1,-2,3", "--current", "2"}),
                   "--history value 2 = -2");
  ExpectUsageError(Vixctl({"zscore", "--history", "1,2,3", "--current", "0"}),
                   "--current = 0");
  ExpectUsageError(Vixctl({"zscore", "--history", "1,2,3", "--current", "inf"}),
                   "inf");
  ExpectUsageError(Vixctl({"zscore", "--history", "1,2,3"}),
                   "--current is required");
  ExpectUsageError(Vixctl({"zscore", "--current", "2"}),
                   "--history is required");
}

}  // namespace
}  // namespace vix
