// `vixctl metrics`: the Prometheus exposition, its golden text, and
// promtool's verdict on it.
#include "vixbreaker/inspect/metrics.h"

#include <cctype>
#include <set>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "inspect_test_util.h"

namespace vix::testing {
namespace {

std::string FixtureMetrics(const std::string& segment) {
  RunResult r = vix::testing::Run({kVixctl, "metrics", "--segment", segment,
                                   "--now", absl::StrCat(kFixtureNowS)});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return r.out;
}

// Runs `promtool check metrics` on `exposition`; returns its exit code and
// puts its complaints in *output.
int Promtool(const std::string& exposition, std::string* output) {
  TempDir dir;
  const std::string file = dir.path() + "/metrics.prom";
  WriteFileOrDie(file, exposition);
  RunResult r = vix::testing::Run(
      {"/bin/sh", "-c", "promtool check metrics < \"$0\" 2>&1", file});
  *output = r.out;
  return r.exit_code;
}

TEST(MetricsTest, PromtoolAcceptsExposition) {
  ASSERT_TRUE(OnPath("promtool"))
      << "promtool is not installed; install the Debian package: "
         "apt-get install -y prometheus";
  ScopedSegmentName name("promtool");
  auto segment = BuildFixtureSegment(name.name());
  std::string complaints;
  EXPECT_EQ(Promtool(FixtureMetrics(name.name()), &complaints), 0)
      << complaints;
  EXPECT_EQ(complaints, "") << "promtool lint findings";
  EXPECT_EQ(Promtool(inspect::FormatSegmentDownMetrics("x\"y"), &complaints), 0)
      << complaints;
}

// promtool must be able to fail, or the test above proves nothing.
TEST(MetricsTest, PromtoolRejectsBrokenExposition) {
  ASSERT_TRUE(OnPath("promtool"))
      << "promtool is not installed; install the Debian package: "
         "apt-get install -y prometheus";
  std::string complaints;
  EXPECT_NE(Promtool("# TYPE x_total counter\nx_total{a=\"b} 1\n", &complaints),
            0);
}

TEST(MetricsTest, ExpositionMatchesGolden) {
  ScopedSegmentName name("metrics-golden");
  auto segment = BuildFixtureSegment(name.name());
  const std::string path = kGoldenDir + "/metrics.prom";
  const std::string actual =
      ReplaceAll(FixtureMetrics(name.name()), name.name(), "SEGMENT");
  const char* update = std::getenv("VIX_UPDATE_GOLDEN");
  if (update != nullptr && std::string(update) == "1") {
    WriteFileOrDie(path, actual);
  }
  EXPECT_EQ(ReadFileOrDie(path), actual)
      << "differs from " << path << "; rerun with VIX_UPDATE_GOLDEN=1 if "
      << "intended";
}

// Every sample belongs to a family announced by HELP and TYPE just before
// it; counters end in _total.
TEST(MetricsTest, EveryFamilyHasHelpAndType) {
  ScopedSegmentName name("metrics-shape");
  auto segment = BuildFixtureSegment(name.name());
  std::string family, type;
  std::set<std::string> helped;
  int samples = 0;
  for (absl::string_view line :
       absl::StrSplit(FixtureMetrics(name.name()), '\n', absl::SkipEmpty())) {
    std::vector<std::string> words = absl::StrSplit(line, ' ');
    if (absl::StartsWith(line, "# HELP ")) {
      family = words[2];
      helped.insert(family);
    } else if (absl::StartsWith(line, "# TYPE ")) {
      ASSERT_EQ(words[2], family) << "TYPE without HELP: " << line;
      type = words[3];
      if (type == "counter") {
        EXPECT_TRUE(absl::EndsWith(family, "_total")) << family;
      }
    } else {
      const std::string metric(line.substr(0, line.find('{')));
      EXPECT_EQ(metric, family) << "sample outside its family: " << line;
      EXPECT_TRUE(absl::StrContains(line, "segment=\"" + name.name() + "\""))
          << line;
      ++samples;
    }
  }
  EXPECT_GT(samples, 40);
  for (const char* wanted :
       {"vixbreaker_tier", "vixbreaker_episode_age_seconds",
        "vixbreaker_decisions_total", "vixbreaker_episodes_started_total",
        "vixbreaker_episodes_ended_total",
        "vixbreaker_failsafe_decisions_total", "vixbreaker_mirror_healthy",
        "vixbreaker_mirror_lease_holder_pid",
        "vixbreaker_redis_errors_total"}) {
    EXPECT_TRUE(helped.count(wanted)) << wanted << " missing";
  }
}

TEST(MetricsTest, ValuesComeFromTheSegment) {
  ScopedSegmentName name("metrics-values");
  auto segment = BuildFixtureSegment(name.name());
  const std::string label = "segment=\"" + name.name() + "\"";
  const std::string out =
      ReplaceAll(ReplaceAll(FixtureMetrics(name.name()), "{" + label + "}", ""),
                 label + ",", "");
  for (const char* line : {
           "vixbreaker_tier{scope=\"global\",stakes=\"medium_stakes\"} 3\n",
           "vixbreaker_episode_age_seconds{scope=\"global\",stakes=\"low_"
           "stakes\"} 5400.000000\n",
           "vixbreaker_decisions_total{mode=\"NORMAL\"} 1107\n",
           "vixbreaker_episodes_ended_total{scope=\"global\"} 2\n",
           "vixbreaker_tier{scope=\"stale\",stakes=\"high_stakes\"} 0\n",
           "vixbreaker_mirror_lease_holder_pid 1\n",
           "vixbreaker_mirror_healthy 1\n",
           "vixbreaker_redis_errors_total 3\n",
       }) {
    EXPECT_TRUE(absl::StrContains(out, line)) << "missing: " << line;
  }
}

// The Grafana dashboard only queries metrics the exposition has, so a
// renamed metric cannot silently empty a panel.
TEST(MetricsTest, DashboardQueriesExistingMetrics) {
  ScopedSegmentName name("dashboard");
  auto segment = BuildFixtureSegment(name.name());
  const std::string exposition = FixtureMetrics(name.name());
  const std::string dashboard = ReadFileOrDie(kDashboardPath);
  int queried = 0;
  for (size_t at = dashboard.find("vixbreaker_"); at != std::string::npos;
       at = dashboard.find("vixbreaker_", at + 1)) {
    size_t end = at;
    while (end < dashboard.size() &&
           (std::islower(static_cast<unsigned char>(dashboard[end])) ||
            dashboard[end] == '_')) {
      ++end;
    }
    const std::string metric = dashboard.substr(at, end - at);
    EXPECT_TRUE(absl::StrContains(exposition, "# TYPE " + metric + " "))
        << kDashboardPath << " queries " << metric
        << ", which vixctl metrics does not export";
    ++queried;
  }
  EXPECT_GT(queried, 10);
}

TEST(MetricsTest, LabelValuesAreEscaped) {
  EXPECT_EQ(inspect::EscapeLabelValue("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
  EXPECT_EQ(inspect::EscapeLabelValue("plain:name-1"), "plain:name-1");
  EXPECT_TRUE(absl::StrContains(inspect::FormatSegmentDownMetrics("x\"y"),
                                "vixbreaker_segment_up{segment=\"x\\\"y\"} 0"));
}

TEST(MetricsTest, MissingSegmentExitsThree) {
  RunResult r = vix::testing::Run(
      {kVixctl, "metrics", "--segment", UniqueSegmentName("missing")});
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_EQ(r.out, "");
}

}  // namespace
}  // namespace vix::testing
