// The strict parsers (core/parse.h) and the configuration text (config.h):
// what is accepted, what is rejected, and that errors name the bad value.
#include "vixbreaker/core/parse.h"

#include <cstdint>
#include <limits>
#include <ostream>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "vixbreaker/core/config.h"
#include "vixbreaker/core/policy.h"

namespace vix {
namespace {

// Asserts `status` failed with a message containing every one of `parts`.
template <typename T>
void ExpectErrorMentions(const absl::StatusOr<T>& result,
                         std::initializer_list<absl::string_view> parts) {
  ASSERT_FALSE(result.ok())
      << "expected an error mentioning " << *parts.begin();
  for (absl::string_view part : parts) {
    EXPECT_TRUE(absl::StrContains(result.status().message(), part))
        << "\"" << result.status().message() << "\" lacks \"" << part << "\"";
  }
}

// ---- ParseStatus / ParseStakes ----

TEST(ParseStatusTest, AcceptsTheThreeLowerCaseNames) {
  EXPECT_EQ(*ParseStatus("normal"), Status::kNormal);
  EXPECT_EQ(*ParseStatus("warning"), Status::kWarning);
  EXPECT_EQ(*ParseStatus("panic"), Status::kPanic);
}

TEST(ParseStatusTest, RejectsAnythingElseNamingTheValue) {
  for (const char* text : {"Panic", " panic", "PANIC", "", "panic\n", "panic\r",
                           "normal ", "warn", "Warning", "0"}) {
    SCOPED_TRACE(text);
    ExpectErrorMentions(ParseStatus(text), {"unknown status"});
  }
  ExpectErrorMentions(ParseStatus("Panic"), {"\"Panic\""});
  ExpectErrorMentions(ParseStatus(" panic"), {"\" panic\""});
  ExpectErrorMentions(ParseStatus(""), {"\"\""});
}

TEST(ParseStakesTest, AcceptsShortAndFullNames) {
  EXPECT_EQ(*ParseStakes("high"), Stakes::kHigh);
  EXPECT_EQ(*ParseStakes("medium"), Stakes::kMedium);
  EXPECT_EQ(*ParseStakes("low"), Stakes::kLow);
  EXPECT_EQ(*ParseStakes("high_stakes"), Stakes::kHigh);
  EXPECT_EQ(*ParseStakes("medium_stakes"), Stakes::kMedium);
  EXPECT_EQ(*ParseStakes("low_stakes"), Stakes::kLow);
}

TEST(ParseStakesTest, RejectsAnythingElseNamingTheValue) {
  for (const char* text : {"High", "HIGH", " high", "high ", "", "hi",
                           "high_stake", "highstakes", "huge", "0"}) {
    SCOPED_TRACE(text);
    ExpectErrorMentions(ParseStakes(text),
                        {"unknown stakes", absl::StrCat("\"", text, "\"")});
  }
}

// ---- ParseBaseTtl ----

TEST(ParseBaseTtlTest, AcceptsZeroToInt32Max) {
  EXPECT_EQ(ParseBaseTtl("0")->seconds(), 0);
  EXPECT_EQ(ParseBaseTtl("1")->seconds(), 1);
  EXPECT_EQ(ParseBaseTtl("60")->seconds(), 60);
  EXPECT_EQ(ParseBaseTtl("2147483647")->seconds(), 2147483647);
}

TEST(ParseBaseTtlTest, RejectsOutOfRangeAndNonDecimalText) {
  for (const char* text :
       {"-1", "2147483648", "9223372036854775808", "", " 60", "60 ", "+60",
        "0x10", "1e3", "60s", "60.0", "6 0", "-"}) {
    SCOPED_TRACE(text);
    ExpectErrorMentions(
        ParseBaseTtl(text),
        {"base TTL", absl::StrCat("\"", text, "\""), "2147483647"});
  }
}

TEST(ParseBaseTtlTest, UnprintableBytesAreEscapedInTheMessage) {
  ExpectErrorMentions(ParseBaseTtl("\t60"), {"\"\\x0960\""});
}

TEST(BaseTtlTest, FromSecondsChecksTheRange) {
  BaseTtl ttl;
  EXPECT_TRUE(BaseTtl::FromSeconds(0, &ttl));
  EXPECT_TRUE(BaseTtl::FromSeconds(BaseTtl::kMax, &ttl));
  EXPECT_EQ(ttl.seconds(), BaseTtl::kMax);
  EXPECT_FALSE(BaseTtl::FromSeconds(-1, &ttl));
  EXPECT_FALSE(BaseTtl::FromSeconds(BaseTtl::kMax + 1, &ttl));
  EXPECT_EQ(ttl.seconds(), BaseTtl::kMax) << "a failed call must not write";
}

// ---- ParseInt64 ----

TEST(ParseInt64Test, AcceptsTheWholeInt64Range) {
  EXPECT_EQ(*ParseInt64("0"), 0);
  EXPECT_EQ(*ParseInt64("-1"), -1);
  EXPECT_EQ(*ParseInt64("42"), 42);
  EXPECT_EQ(*ParseInt64("9223372036854775807"),
            std::numeric_limits<int64_t>::max());
  EXPECT_EQ(*ParseInt64("-9223372036854775808"),
            std::numeric_limits<int64_t>::min());
}

TEST(ParseInt64Test, OverflowIsOutOfRange) {
  for (const char* text : {"9223372036854775808", "-9223372036854775809",
                           "99999999999999999999999"}) {
    absl::StatusOr<int64_t> n = ParseInt64(text);
    ASSERT_FALSE(n.ok()) << text;
    EXPECT_TRUE(absl::IsOutOfRange(n.status())) << n.status();
    EXPECT_TRUE(absl::StrContains(n.status().message(), text)) << n.status();
  }
}

TEST(ParseInt64Test, RejectsNonDecimalText) {
  for (const char* text : {"", "-", "--1", "+1", " 1", "1 ", "1.0", "0x1",
                           "1e3", "1-", "12a", "\xD9\xA1"}) {
    SCOPED_TRACE(text);
    ExpectErrorMentions(ParseInt64(text), {"not an integer"});
  }
}

// ---- ParseFiniteDouble ----

TEST(ParseFiniteDoubleTest, AcceptsDecimalForms) {
  EXPECT_EQ(*ParseFiniteDouble("0", "x"), 0.0);
  EXPECT_EQ(*ParseFiniteDouble("-1", "x"), -1.0);
  EXPECT_EQ(*ParseFiniteDouble("1.5", "x"), 1.5);
  EXPECT_EQ(*ParseFiniteDouble(".5", "x"), 0.5);
  EXPECT_EQ(*ParseFiniteDouble("5.", "x"), 5.0);
  EXPECT_EQ(*ParseFiniteDouble("1e3", "x"), 1000.0);
  EXPECT_EQ(*ParseFiniteDouble("1E-3", "x"), 0.001);
  EXPECT_EQ(*ParseFiniteDouble("-2.5e+2", "x"), -250.0);
  EXPECT_EQ(*ParseFiniteDouble("1e308", "x"), 1e308);
}

TEST(ParseFiniteDoubleTest, RejectsNonFiniteAndNonDecimalText) {
  for (const char* text :
       {"",    ".",     "-",     "e5",     "1e",  "1e+",  "+1",   " 1",
        "1 ",  "0x10",  "0x1p3", "nan",    "NaN", "inf",  "-inf", "Infinity",
        "1,5", "1.2.3", "1e400", "-1e400", "--1", "1..2", "1e3.5"}) {
    SCOPED_TRACE(text);
    ExpectErrorMentions(ParseFiniteDouble(text, "--age-min"),
                        {"--age-min", absl::StrCat("\"", text, "\"")});
  }
}

TEST(ParseFiniteDoubleTest, HugeInputGivesABoundedMessage) {
  const std::string huge(1 << 20, '7');
  absl::StatusOr<double> value = ParseFiniteDouble(huge + "x", "v");
  ASSERT_FALSE(value.ok());
  EXPECT_LT(value.status().message().size(), 300u);
  EXPECT_TRUE(absl::StrContains(value.status().message(), "..."));
}

// ---- ParseUnixSecondsToNs / SecondsToNs ----

TEST(ParseUnixSecondsToNsTest, PythonFloatTextIsExactWithinAMicrosecond) {
  absl::StatusOr<int64_t> ns = ParseUnixSecondsToNs("1764420000.123456");
  ASSERT_TRUE(ns.ok()) << ns.status();
  EXPECT_NEAR(static_cast<double>(*ns - int64_t{1764420000123456000}), 0.0,
              1000.0);
  EXPECT_EQ(*ParseUnixSecondsToNs("1764420000"),
            int64_t{1764420000} * 1'000'000'000);
  EXPECT_EQ(*ParseUnixSecondsToNs("1"), 1'000'000'000);
  EXPECT_EQ(*ParseUnixSecondsToNs("0.5"), 500'000'000);
  absl::StatusOr<int64_t> exponent =
      ParseUnixSecondsToNs("1.764420000123456e9");
  ASSERT_TRUE(exponent.ok()) << exponent.status();
  EXPECT_NEAR(static_cast<double>(*exponent - *ns), 0.0, 1000.0);
}

TEST(ParseUnixSecondsToNsTest, RejectsInvalidTimes) {
  for (const char* text :
       {"nan", "inf", "-inf", "-1", "0", "-0", "0.0", "1e400", "0x10", "0x1p30",
        "", " 1", "1e10", "1e-10", "0.0000000004"}) {
    SCOPED_TRACE(text);
    absl::StatusOr<int64_t> ns = ParseUnixSecondsToNs(text);
    ASSERT_FALSE(ns.ok()) << "gave " << *ns;
    EXPECT_TRUE(absl::StrContains(ns.status().message(), "Unix time"))
        << ns.status();
  }
}

TEST(SecondsToNsTest, ConvertsAndRounds) {
  EXPECT_EQ(*SecondsToNs(0, "x"), 0);
  EXPECT_EQ(*SecondsToNs(1.5, "x"), 1'500'000'000);
  EXPECT_EQ(*SecondsToNs(60 * 360, "x"), int64_t{360} * kNanosPerMinute);
  EXPECT_EQ(*SecondsToNs(1e-9, "x"), 1);
  EXPECT_EQ(*SecondsToNs(9.2e9, "x"), int64_t{9'200'000'000} * 1'000'000'000);
}

TEST(SecondsToNsTest, OverflowAndInvalidValuesNameWhat) {
  for (double seconds :
       {9.3e9, 1e10, 1e300, std::numeric_limits<double>::max(),
        std::numeric_limits<double>::infinity(),
        std::numeric_limits<double>::quiet_NaN(), -1.0, -1e-9}) {
    SCOPED_TRACE(seconds);
    ExpectErrorMentions(SecondsToNs(seconds, "deadman_s"), {"deadman_s"});
  }
}

// ---- ParseConfig ----

TEST(ParseConfigTest, EmptyTextGivesTheDefaults) {
  absl::StatusOr<Config> config = ParseConfig("");
  ASSERT_TRUE(config.ok()) << config.status();
  const PolicyConfig defaults;
  for (int s = 0; s < kStakesCount; ++s) {
    EXPECT_EQ(config->policy.tiers[s].from_minutes,
              defaults.tiers[s].from_minutes);
    EXPECT_EQ(config->policy.tiers[s].ttl_seconds,
              defaults.tiers[s].ttl_seconds);
  }
  EXPECT_EQ(config->policy.high_keywords, defaults.high_keywords);
  EXPECT_EQ(config->policy.medium_keywords, defaults.medium_keywords);
  EXPECT_FALSE(config->policy.cap_at_base);
  EXPECT_EQ(config->episode.clear_after_s, 0);
  EXPECT_EQ(config->episode.deadman_s, 86400);
}

TEST(ParseConfigTest, EveryKeyIsApplied) {
  absl::StatusOr<Config> config = ParseConfig(
      "tiers.high = 10, 20, 30.5\n"
      "tiers.medium_stakes = 1,2,3\n"
      "tiers.low=0.5, 1, 1.5\n"
      "ttls.high = 1, 2, 3\n"
      "ttls.medium = 0, 0, 2147483647\n"
      "ttls.low_stakes = 7, 8, 9\n"
      "keywords.high = Cup Final , derby\n"
      "keywords.medium = eredivisie\n"
      "cap_at_base = true\n"
      "clear_after_s = 2.5\n"
      "deadman_s = 3600\n");
  ASSERT_TRUE(config.ok()) << config.status();
  const PolicyConfig& p = config->policy;
  EXPECT_EQ(p.tiers[0].from_minutes, (std::array<double, 3>{10, 20, 30.5}));
  EXPECT_EQ(p.tiers[1].from_minutes, (std::array<double, 3>{1, 2, 3}));
  EXPECT_EQ(p.tiers[2].from_minutes, (std::array<double, 3>{0.5, 1, 1.5}));
  EXPECT_EQ(p.tiers[0].ttl_seconds, (std::array<int64_t, 3>{1, 2, 3}));
  EXPECT_EQ(p.tiers[1].ttl_seconds, (std::array<int64_t, 3>{0, 0, 2147483647}));
  EXPECT_EQ(p.tiers[2].ttl_seconds, (std::array<int64_t, 3>{7, 8, 9}));
  EXPECT_EQ(p.high_keywords, (std::vector<std::string>{"Cup Final", "derby"}));
  EXPECT_EQ(p.medium_keywords, (std::vector<std::string>{"eredivisie"}));
  EXPECT_TRUE(p.cap_at_base);
  EXPECT_EQ(config->episode.clear_after_s, 2.5);
  EXPECT_EQ(config->episode.deadman_s, 3600);
  EXPECT_TRUE(Policy::Create(p).ok());
}

TEST(ParseConfigTest, CapAtBaseFalseIsAccepted) {
  absl::StatusOr<Config> config = ParseConfig("cap_at_base = false");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_FALSE(config->policy.cap_at_base);
}

TEST(ParseConfigTest, CommentsBlankLinesAndCrlfAreIgnored) {
  absl::StatusOr<Config> config = ParseConfig(
      "# a comment\n"
      "\n"
      "   \t  \n"
      "   # an indented comment = with an equals sign\n"
      "ttls.low = 1, 2, 3\r\n"
      "\r\n"
      "deadman_s = 60");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->policy.tiers[2].ttl_seconds,
            (std::array<int64_t, 3>{1, 2, 3}));
  EXPECT_EQ(config->episode.deadman_s, 60);
}

// The example in config.h is what users copy: it must parse as documented.
TEST(ParseConfigTest, TheDocumentedExampleParses) {
  absl::StatusOr<Config> config = ParseConfig(
      "  tiers.high      = 60, 180, 360     # minutes at which tiers 2, 3, 4 "
      "start\n"
      "  ttls.high       = 5, 30, 60        # TTL seconds of tiers 2, 3, 4\n"
      "  keywords.high   = champions league, ucl, final\n"
      "  keywords.medium = premier league, la liga\n"
      "  cap_at_base     = false\n"
      "  clear_after_s   = 0\n"
      "  deadman_s       = 86400\n");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->policy.tiers[0].from_minutes,
            (std::array<double, 3>{60, 180, 360}));
  EXPECT_EQ(config->policy.tiers[0].ttl_seconds,
            (std::array<int64_t, 3>{5, 30, 60}));
  EXPECT_EQ(config->policy.high_keywords,
            (std::vector<std::string>{"champions league", "ucl", "final"}));
}

struct BadConfigText {
  std::string name;
  std::string text;
  std::vector<std::string> message_parts;
};

// Keeps ctest names (which include the printed parameter) short and stable.
void PrintTo(const BadConfigText& c, std::ostream* os) { *os << c.name; }

class ParseConfigErrorTest : public ::testing::TestWithParam<BadConfigText> {};

TEST_P(ParseConfigErrorTest, IsRejectedWithAClearMessage) {
  const BadConfigText& c = GetParam();
  absl::StatusOr<Config> config = ParseConfig(c.text);
  ASSERT_FALSE(config.ok()) << c.name << " was accepted";
  EXPECT_TRUE(absl::IsInvalidArgument(config.status()) ||
              absl::IsOutOfRange(config.status()))
      << config.status();
  for (const std::string& part : c.message_parts) {
    EXPECT_TRUE(absl::StrContains(config.status().message(), part))
        << "\"" << config.status().message() << "\" lacks \"" << part << "\"";
  }
}

INSTANTIATE_TEST_SUITE_P(
    ParseConfig, ParseConfigErrorTest,
    ::testing::Values(
        BadConfigText{"unknown_key",
                      "# header\n\ncolour = red\n",
                      {"config line 3", "unknown key", "colour"}},
        BadConfigText{"duplicate_key",
                      "deadman_s = 10\ncap_at_base = true\ndeadman_s = 20\n",
                      {"config line 3", "duplicate key", "deadman_s"}},
        BadConfigText{"no_equals",
                      "tiers.high 60, 180, 360",
                      {"config line 1", "key = value"}},
        BadConfigText{"empty_key", "= 5", {"config line 1", "unknown key"}},
        BadConfigText{"unknown_stakes",
                      "\ntiers.huge = 1, 2, 3",
                      {"config line 2", "unknown stakes", "huge"}},
        BadConfigText{"too_few_values",
                      "tiers.high = 60, 180",
                      {"config line 1", "expected 3", "got 2"}},
        BadConfigText{"too_many_values",
                      "ttls.low = 1, 2, 3, 4",
                      {"config line 1", "expected 3", "got 4"}},
        BadConfigText{"bad_threshold",
                      "tiers.high = 60, abc, 360",
                      {"config line 1", "tier threshold", "abc"}},
        BadConfigText{"nan_threshold",
                      "tiers.low = nan, 45, 90",
                      {"config line 1", "nan"}},
        BadConfigText{"fractional_ttl",
                      "ttls.low = 5, 20, 4.5",
                      {"config line 1", "not an integer", "4.5"}},
        BadConfigText{
            "hex_ttl", "ttls.low = 5, 0x14, 45", {"config line 1", "0x14"}},
        BadConfigText{"bad_bool",
                      "cap_at_base = yes",
                      {"config line 1", "true or false", "yes"}},
        BadConfigText{
            "bool_case", "cap_at_base = True", {"config line 1", "True"}},
        BadConfigText{"short_unknown_key",
                      "a=b\n",
                      {"config line 1", "unknown key", "\"a\""}},
        BadConfigText{"inf_deadman",
                      "deadman_s = inf",
                      {"config line 1", "deadman_s", "inf"}},
        BadConfigText{"zero_deadman", "deadman_s = 0", {"deadman_s", "0"}},
        BadConfigText{
            "negative_clear", "clear_after_s = -1", {"clear_after_s", "-1"}},
        BadConfigText{
            "non_increasing", "tiers.low = 45, 15, 90", {"low_stakes", "15"}},
        BadConfigText{"ttl_too_large",
                      "ttls.high = 5, 30, 2147483648",
                      {"high_stakes", "2147483648"}},
        BadConfigText{"negative_ttl",
                      "ttls.medium = 5, -30, 60",
                      {"medium_stakes", "-30"}},
        BadConfigText{"empty_keyword",
                      "keywords.high = derby, , final",
                      {"empty keyword", "high"}},
        BadConfigText{"empty_keyword_list",
                      "keywords.medium =",
                      {"empty keyword", "medium"}}),
    [](const ::testing::TestParamInfo<BadConfigText>& info) {
      return info.param.name;
    });

TEST(ParseConfigTest, HugeInputIsRejectedBeforeParsing) {
  // Exactly the limit of comment lines is still read...
  std::string text;
  while (text.size() + 64 <= (1 << 20)) text += std::string(63, '#') + "\n";
  text += std::string((1 << 20) - text.size(), '#');
  ASSERT_EQ(text.size(), size_t{1} << 20);
  EXPECT_TRUE(ParseConfig(text).ok()) << ParseConfig(text).status();
  // ...one byte more is refused, naming the size.
  text += "#";
  absl::StatusOr<Config> config = ParseConfig(text);
  ASSERT_FALSE(config.ok());
  EXPECT_TRUE(absl::StrContains(config.status().message(), "1048577"))
      << config.status();
}

TEST(ParseConfigTest, HugeLineErrorMessageIsBounded) {
  absl::StatusOr<Config> config =
      ParseConfig("keywords.high = a\n" + std::string(100000, 'k') + " = 1");
  ASSERT_FALSE(config.ok());
  EXPECT_TRUE(absl::StrContains(config.status().message(), "config line 2"));
  EXPECT_LT(config.status().message().size(), 300u);
}

TEST(ValidateEpisodeConfigTest, ChecksBothFields) {
  EXPECT_TRUE(ValidateEpisodeConfig(EpisodeConfig{}).ok());
  EXPECT_TRUE(ValidateEpisodeConfig({0, 1e-3}).ok());
  EXPECT_FALSE(ValidateEpisodeConfig({-1, 10}).ok());
  EXPECT_FALSE(ValidateEpisodeConfig({0, 0}).ok());
  EXPECT_FALSE(ValidateEpisodeConfig({0, -5}).ok());
  EXPECT_FALSE(
      ValidateEpisodeConfig({std::numeric_limits<double>::quiet_NaN(), 10})
          .ok());
  EXPECT_FALSE(
      ValidateEpisodeConfig({0, std::numeric_limits<double>::infinity()}).ok());
  EXPECT_FALSE(ValidateEpisodeConfig({0, 1e300}).ok());
}

}  // namespace
}  // namespace vix
