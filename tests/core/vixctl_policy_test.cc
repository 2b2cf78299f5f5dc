// `vixctl policy` run as a real process (SPEC 12): the JSON contract, bad
// input (one line on stderr, nothing on stdout, non-zero exit) and VIX_CONFIG.
#include <stdlib.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "gtest/gtest.h"
#include "test_util.h"
#include "vixbreaker/shm/segment.h"

namespace vix {
namespace {

using ::vix::testing::RunResult;
using ::vix::testing::ScopedSegmentName;

// A flat JSON object of strings, integers, booleans and null, as vixctl
// prints it; values are kept as their JSON text (strings unquoted).
using FlatJson = std::map<std::string, std::string>;

bool ParseFlatJson(absl::string_view text, FlatJson* out) {
  size_t i = 0;
  auto skip_spaces = [&] {
    while (i < text.size() && text[i] == ' ') ++i;
  };
  auto read_string = [&](std::string* s) {
    if (i >= text.size() || text[i] != '"') return false;
    for (++i; i < text.size() && text[i] != '"'; ++i) {
      if (text[i] == '\\') return false;  // vixctl's values need no escapes
      s->push_back(text[i]);
    }
    return i++ < text.size();
  };
  if (text.empty() || text[i++] != '{') return false;
  skip_spaces();
  if (i < text.size() && text[i] == '}') return ++i == text.size();
  while (true) {
    std::string key, value;
    skip_spaces();
    if (!read_string(&key) || i >= text.size() || text[i++] != ':') {
      return false;
    }
    skip_spaces();
    if (i < text.size() && text[i] == '"') {
      if (!read_string(&value)) return false;
    } else {
      while (i < text.size() && text[i] != ',' && text[i] != '}') {
        value.push_back(text[i++]);
      }
      if (value.empty()) return false;
    }
    if (!out->emplace(key, value).second) return false;  // duplicate key
    skip_spaces();
    if (i >= text.size()) return false;
    if (text[i] == '}') return ++i == text.size();
    if (text[i++] != ',') return false;
  }
}

class VixctlPolicyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // Run() appends to our environment, and getenv() takes the first match:
    // an inherited VIX_CONFIG would shadow the one a test passes.
    unsetenv("VIX_CONFIG");
  }

  void TearDown() override {
    EXPECT_NE(access(shm::SegmentPath(segment_.name()).c_str(), F_OK), 0)
        << "vixctl policy is pure, yet segment " << segment_.name()
        << " exists";
    for (const std::string& path : temp_files_) std::remove(path.c_str());
  }

  RunResult Policy(std::vector<std::string> flags,
                   const std::vector<std::string>& env = {}) {
    std::vector<std::string> argv = {::vix::testing::kVixctl, "policy",
                                     "--segment", segment_.name()};
    argv.insert(argv.end(), flags.begin(), flags.end());
    return vix::testing::Run(argv, env);
  }

  // Runs `vixctl policy --json` expecting success; returns the fields.
  FlatJson Decide(std::vector<std::string> flags,
                  const std::vector<std::string>& env = {}) {
    flags.push_back("--json");
    const RunResult r = Policy(flags, env);
    const std::string cmd = absl::StrJoin(flags, " ");
    EXPECT_EQ(r.exit_code, 0) << cmd << "\nstderr: " << r.err;
    EXPECT_EQ(r.err, "") << cmd;
    EXPECT_TRUE(absl::EndsWith(r.out, "\n")) << cmd << ": " << r.out;
    const std::string line = r.out.substr(0, r.out.find('\n'));
    EXPECT_EQ(line.size() + 1, r.out.size()) << "not one line: " << r.out;
    FlatJson json;
    EXPECT_TRUE(ParseFlatJson(line, &json))
        << "not a flat JSON object: " << line;
    return json;
  }

  // Runs `vixctl policy` expecting a usage error; returns its stderr line.
  std::string ExpectError(std::vector<std::string> flags,
                          const std::vector<std::string>& env = {}) {
    flags.push_back("--json");
    const RunResult r = Policy(flags, env);
    const std::string cmd = absl::StrJoin(flags, " ");
    EXPECT_NE(r.exit_code, 0) << cmd << " succeeded: " << r.out;
    EXPECT_EQ(r.out, "") << cmd;
    EXPECT_TRUE(absl::StartsWith(r.err, "vixctl: ")) << cmd << ": " << r.err;
    EXPECT_TRUE(absl::EndsWith(r.err, "\n")) << cmd << ": " << r.err;
    EXPECT_EQ(r.err.find('\n'), r.err.size() - 1)
        << cmd << ": not exactly one line: " << r.err;
    return r.err;
  }

  std::string WriteConfig(const std::string& text) {
    std::string path = absl::StrCat(::testing::TempDir(), "vixctl-policy-",
                                    getpid(), "-", temp_files_.size(), ".conf");
    std::ofstream(path) << text;
    temp_files_.push_back(path);
    return path;
  }

  ScopedSegmentName segment_{"policy"};
  std::vector<std::string> temp_files_;
};

FlatJson Expected(const std::string& ttl, const std::string& mode,
                  const std::string& tier, const std::string& stakes,
                  const std::string& reason) {
  return {{"ttl", ttl},
          {"mode", mode},
          {"tier", tier},
          {"stakes", stakes},
          {"reason", reason}};
}

TEST_F(VixctlPolicyTest, PanicAtSeveralAgesAndStakes) {
  EXPECT_EQ(Decide({"--status", "panic", "--age-min", "0", "--stakes", "high"}),
            Expected("0", "PANIC_FULL", "1", "high_stakes", "tier"));
  EXPECT_EQ(
      Decide({"--status", "panic", "--age-min", "59.99", "--stakes", "high"}),
      Expected("0", "PANIC_FULL", "1", "high_stakes", "tier"));
  EXPECT_EQ(
      Decide({"--status", "panic", "--age-min", "60", "--stakes", "high"}),
      Expected("5", "PANIC_PARTIAL", "2", "high_stakes", "tier"));
  EXPECT_EQ(
      Decide({"--status", "panic", "--age-min", "90", "--stakes", "medium"}),
      Expected("30", "DEGRADED", "3", "medium_stakes", "tier"));
  EXPECT_EQ(Decide({"--status", "panic", "--age-min", "45", "--stakes", "low"}),
            Expected("20", "DEGRADED", "3", "low_stakes", "tier"));
  EXPECT_EQ(
      Decide({"--status", "panic", "--age-min", "10080", "--stakes", "low"}),
      Expected("45", "NEW_NORMAL", "4", "low_stakes", "tier"));
}

TEST_F(VixctlPolicyTest, FullStakesNamesAreAccepted) {
  EXPECT_EQ(Decide({"--status", "panic", "--age-min", "360", "--stakes",
                    "high_stakes"}),
            Expected("60", "NEW_NORMAL", "4", "high_stakes", "tier"));
  EXPECT_EQ(
      Decide({"--status=panic", "--age-min=30", "--stakes=medium_stakes"}),
      Expected("5", "PANIC_PARTIAL", "2", "medium_stakes", "tier"));
}

TEST_F(VixctlPolicyTest, LeagueAndCompetitionAreClassified) {
  EXPECT_EQ(Decide({"--status", "panic", "--age-min", "30", "--league",
                    "Premier League"}),
            Expected("5", "PANIC_PARTIAL", "2", "medium_stakes", "tier"));
  EXPECT_EQ(Decide({"--status", "panic", "--age-min", "30", "--league",
                    "Premier League", "--competition", "FA Cup Final"}),
            Expected("0", "PANIC_FULL", "1", "high_stakes", "tier"));
  EXPECT_EQ(Decide({"--status", "panic", "--age-min", "30", "--competition",
                    "Premier League"}),
            Expected("5", "PANIC_PARTIAL", "2", "low_stakes", "tier"));
}

TEST_F(VixctlPolicyTest, ExplicitStakesWinOverClassification) {
  EXPECT_EQ(Decide({"--status", "panic", "--age-min", "15", "--league",
                    "UEFA Champions League", "--stakes", "low"}),
            Expected("5", "PANIC_PARTIAL", "2", "low_stakes", "tier"));
}

TEST_F(VixctlPolicyTest, NormalAndWarningIgnoreAgeAndUseTheBaseTtl) {
  for (const char* status : {"normal", "warning"}) {
    EXPECT_EQ(Decide({"--status", status, "--age-min", "500", "--stakes",
                      "high", "--base-ttl", "120"}),
              Expected("120", "NORMAL", "0", "high_stakes", "no_episode"))
        << status;
    EXPECT_EQ(Decide({"--status", status}),
              Expected("60", "NORMAL", "0", "low_stakes", "no_episode"))
        << status;
  }
}

TEST_F(VixctlPolicyTest, BaseTtlDefaultsTo60AndAcceptsItsBounds) {
  EXPECT_EQ(Decide({"--status", "normal"})["ttl"], "60");
  EXPECT_EQ(Decide({"--status", "normal", "--base-ttl", "0"})["ttl"], "0");
  EXPECT_EQ(Decide({"--status", "normal", "--base-ttl", "2147483647"})["ttl"],
            "2147483647");
}

TEST_F(VixctlPolicyTest, NegativeAgeIsAFutureStartInTier1) {
  FlatJson json =
      Decide({"--status", "panic", "--age-min", "-5", "--stakes", "high"});
  EXPECT_EQ(json["tier"], "1");
  EXPECT_EQ(json["mode"], "PANIC_FULL");
  EXPECT_EQ(json["ttl"], "0");
  EXPECT_EQ(json["reason"], "tier");
}

TEST_F(VixctlPolicyTest, TextOutputWithoutJson) {
  const RunResult r =
      Policy({"--status", "panic", "--age-min", "60", "--stakes", "high"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out,
            "ttl=5 mode=PANIC_PARTIAL tier=2 stakes=high_stakes reason=tier\n");
}

TEST_F(VixctlPolicyTest, UnknownStatusIsAnError) {
  const std::string err = ExpectError({"--status", "Panic", "--age-min", "1"});
  EXPECT_TRUE(absl::StrContains(err, "unknown status \"Panic\"")) << err;
}

TEST_F(VixctlPolicyTest, MissingStatusIsAnError) {
  const std::string err = ExpectError({"--age-min", "1"});
  EXPECT_TRUE(absl::StrContains(err, "--status")) << err;
}

TEST_F(VixctlPolicyTest, PanicWithoutAgeIsAnError) {
  const std::string err = ExpectError({"--status", "panic"});
  EXPECT_TRUE(absl::StrContains(err, "--age-min")) << err;
}

TEST_F(VixctlPolicyTest, BadAgeIsAnError) {
  for (const char* age : {"abc", "nan", "inf", "1e400", "", " 5", "0x10"}) {
    const std::string err =
        ExpectError({"--status", "panic", "--age-min", age});
    EXPECT_TRUE(absl::StrContains(err, "--age-min")) << err;
    EXPECT_TRUE(absl::StrContains(err, absl::StrCat("\"", age, "\""))) << err;
  }
}

TEST_F(VixctlPolicyTest, BadBaseTtlIsAnError) {
  for (const char* ttl : {"-1", "2147483648", "60s", "+60", "", "1e3"}) {
    const std::string err =
        ExpectError({"--status", "normal", "--base-ttl", ttl});
    EXPECT_TRUE(absl::StrContains(err, "base TTL")) << err;
    EXPECT_TRUE(absl::StrContains(err, absl::StrCat("\"", ttl, "\""))) << err;
  }
}

TEST_F(VixctlPolicyTest, UnknownStakesIsAnError) {
  const std::string err =
      ExpectError({"--status", "panic", "--age-min", "1", "--stakes", "huge"});
  EXPECT_TRUE(absl::StrContains(err, "unknown stakes \"huge\"")) << err;
}

TEST_F(VixctlPolicyTest, UnknownFlagIsAnError) {
  const std::string err =
      ExpectError({"--status", "normal", "--frobnicate", "1"});
  EXPECT_TRUE(absl::StrContains(err, "--frobnicate")) << err;
}

TEST_F(VixctlPolicyTest, RepeatedOrValuelessFlagIsAnError) {
  std::string err = ExpectError({"--status", "normal", "--status", "panic"});
  EXPECT_TRUE(absl::StrContains(err, "--status")) << err;
  // Last on the line, so nothing can be taken as its value.
  const RunResult r = Policy({"--json", "--status"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err, "vixctl: flag --status needs a value\n");
}

TEST_F(VixctlPolicyTest, AFlagIsNeverTakenAsTheValueOfAnother) {
  const std::string err = ExpectError({"--status", "--json"});
  EXPECT_TRUE(absl::StrContains(err, "--status needs a value")) << err;
  EXPECT_TRUE(absl::StrContains(err, "--json")) << err;
  // A negative age is still a value (one dash).
  EXPECT_EQ(
      Policy({"--status", "panic", "--age-min", "-5", "--json"}).exit_code, 0);
}

TEST_F(VixctlPolicyTest, ConfigFileChangesTheTable) {
  const std::string path = WriteConfig(
      "# a faster low-stakes table\n"
      "tiers.low = 1, 2, 3\n"
      "ttls.low = 7, 8, 9\n"
      "keywords.medium = eredivisie\n");
  const std::vector<std::string> env = {"VIX_CONFIG=" + path};
  EXPECT_EQ(
      Decide({"--status", "panic", "--age-min", "2", "--stakes", "low"}, env),
      Expected("8", "DEGRADED", "3", "low_stakes", "tier"));
  EXPECT_EQ(
      Decide({"--status", "panic", "--age-min", "2", "--league", "Eredivisie"},
             env),
      Expected("0", "PANIC_FULL", "1", "medium_stakes", "tier"));
  // Without the file, the same call is the spec's low row.
  EXPECT_EQ(Decide({"--status", "panic", "--age-min", "2", "--stakes", "low"}),
            Expected("0", "PANIC_FULL", "1", "low_stakes", "tier"));
}

TEST_F(VixctlPolicyTest, CapAtBaseFromConfig) {
  const std::string path = WriteConfig("cap_at_base = true\n");
  EXPECT_EQ(Decide({"--status", "panic", "--age-min", "400", "--stakes", "high",
                    "--base-ttl", "10"},
                   {"VIX_CONFIG=" + path}),
            Expected("10", "NEW_NORMAL", "4", "high_stakes", "tier"));
}

TEST_F(VixctlPolicyTest, BadConfigFileIsAClearError) {
  const std::string syntax = WriteConfig("tiers.low = 1, 2, 3\nbogus = 1\n");
  std::string err =
      ExpectError({"--status", "normal"}, {"VIX_CONFIG=" + syntax});
  EXPECT_TRUE(absl::StrContains(err, syntax)) << err;
  EXPECT_TRUE(absl::StrContains(err, "config line 2")) << err;
  EXPECT_TRUE(absl::StrContains(err, "bogus")) << err;

  const std::string table = WriteConfig("tiers.low = 45, 15, 90\n");
  err = ExpectError({"--status", "normal"}, {"VIX_CONFIG=" + table});
  EXPECT_TRUE(absl::StrContains(err, "low_stakes")) << err;
  EXPECT_TRUE(absl::StrContains(err, "15")) << err;
}

TEST_F(VixctlPolicyTest, MissingConfigFileIsAClearError) {
  const std::string path =
      absl::StrCat(::testing::TempDir(), "no-such-vix-config-", getpid());
  const std::string err =
      ExpectError({"--status", "normal"}, {"VIX_CONFIG=" + path});
  EXPECT_TRUE(absl::StrContains(err, path)) << err;
}

}  // namespace
}  // namespace vix
