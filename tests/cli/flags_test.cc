// vix::cli::Flags, the parser of vixctl and vixbench: the forms it takes and
// the mistakes it names.
#include "vixbreaker/cli/flags.h"

#include "absl/strings/match.h"
#include "gtest/gtest.h"

namespace vix::cli {
namespace {

const FlagSpec kSpec = {{"status", "cpu", "ratio"}, {"json"}};

absl::StatusOr<Flags> Parse(std::vector<std::string> args) {
  return Flags::Parse(args, kSpec);
}

TEST(CliFlagsTest, TakesBothValueFormsAndBooleans) {
  absl::StatusOr<Flags> f = Parse({"--status", "panic", "--cpu=3", "--json"});
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_EQ(f->Get("status"), "panic");
  EXPECT_EQ(f->Get("cpu"), "3");
  EXPECT_TRUE(f->Has("json"));
  EXPECT_FALSE(f->Has("ratio"));
  EXPECT_EQ(f->GetOr("ratio", "0.5"), "0.5");
  EXPECT_EQ(Parse({"--status=--odd"})->Get("status"), "--odd");
}

TEST(CliFlagsTest, NeverTakesAFlagAsAValue) {
  absl::StatusOr<Flags> f = Parse({"--status", "--json"});
  ASSERT_FALSE(f.ok());
  EXPECT_TRUE(absl::StrContains(f.status().message(),
                                "--status needs a value, got flag --json"))
      << f.status();
}

TEST(CliFlagsTest, ARepeatedFlagIsAnError) {
  absl::StatusOr<Flags> f = Parse({"--cpu", "1", "--cpu", "2"});
  ASSERT_FALSE(f.ok());
  EXPECT_TRUE(absl::StrContains(f.status().message(), "--cpu given twice"));
}

TEST(CliFlagsTest, NamesUnknownFlagsStrayWordsAndMissingValues) {
  EXPECT_TRUE(absl::StrContains(Parse({"--nope"}).status().message(),
                                "unknown flag --nope"));
  EXPECT_TRUE(absl::StrContains(Parse({"panic"}).status().message(),
                                "unexpected argument \"panic\""));
  EXPECT_TRUE(absl::StrContains(Parse({"--cpu"}).status().message(),
                                "--cpu needs a value"));
  EXPECT_TRUE(absl::StrContains(Parse({"--json=1"}).status().message(),
                                "--json takes no value"));
}

TEST(CliFlagsTest, NumbersAreCheckedAgainstTheirRangeAsTyped) {
  absl::StatusOr<Flags> f = Parse({"--cpu", "99", "--ratio", "1e9"});
  ASSERT_TRUE(f.ok());
  absl::StatusOr<int64_t> cpu = f->GetInt("cpu", -1, -1, 63);
  ASSERT_FALSE(cpu.ok());
  EXPECT_TRUE(absl::StrContains(cpu.status().message(),
                                "bad --cpu \"99\": want an integer from -1 to "
                                "63"))
      << cpu.status();
  EXPECT_FALSE(f->GetDouble("ratio", 0, 0, 1).ok());
  EXPECT_EQ(*Parse({})->GetInt("cpu", -1, -1, 63), -1);
}

}  // namespace
}  // namespace vix::cli
