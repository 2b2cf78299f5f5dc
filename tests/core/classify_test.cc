// Stakes classification (SPEC 2.1): keywords, where they are looked for,
// ASCII-only case folding, substring matching and hostile inputs.
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "vixbreaker/core/config.h"
#include "vixbreaker/core/policy.h"

namespace vix {
namespace {

const char* const kHighKeywords[] = {
    "champions league", "ucl",       "europa league", "uel", "final", "derby",
    "clasico",          "world cup", "euro"};
const char* const kMediumKeywords[] = {"ligue 1", "premier league", "la liga",
                                       "serie a", "bundesliga"};

class ClassifyTest : public ::testing::Test {
 protected:
  Stakes Classify(absl::string_view league,
                  absl::string_view competition) const {
    return policy_.Classify(league, competition);
  }
  Policy policy_ = *Policy::Create(PolicyConfig{});
};

TEST_F(ClassifyTest, EveryHighKeywordInLeagueIsHigh) {
  for (const char* keyword : kHighKeywords) {
    EXPECT_EQ(Classify(keyword, ""), Stakes::kHigh) << keyword;
  }
}

TEST_F(ClassifyTest, EveryHighKeywordInCompetitionIsHigh) {
  for (const char* keyword : kHighKeywords) {
    EXPECT_EQ(Classify("", keyword), Stakes::kHigh) << keyword;
    EXPECT_EQ(Classify("Some Regional League", keyword), Stakes::kHigh)
        << keyword;
  }
}

TEST_F(ClassifyTest, EveryMediumKeywordInLeagueIsMedium) {
  for (const char* keyword : kMediumKeywords) {
    EXPECT_EQ(Classify(keyword, ""), Stakes::kMedium) << keyword;
    EXPECT_EQ(Classify(keyword, "Matchday 12"), Stakes::kMedium) << keyword;
  }
}

TEST_F(ClassifyTest, MediumKeywordInCompetitionAloneIsLow) {
  for (const char* keyword : kMediumKeywords) {
    EXPECT_EQ(Classify("", keyword), Stakes::kLow) << keyword;
    EXPECT_EQ(Classify("Regionalliga", keyword), Stakes::kLow) << keyword;
  }
}

TEST_F(ClassifyTest, HighInCompetitionWinsOverMediumLeague) {
  EXPECT_EQ(Classify("Premier League", "FA Cup Final"), Stakes::kHigh);
  EXPECT_EQ(Classify("La Liga", "El Clasico"), Stakes::kHigh);
}

TEST_F(ClassifyTest, EmptyOrUnrelatedInputIsLow) {
  EXPECT_EQ(Classify("", ""), Stakes::kLow);
  EXPECT_EQ(Classify("Eredivisie", "Round 3"), Stakes::kLow);
  EXPECT_EQ(Classify(" ", " "), Stakes::kLow);
}

TEST_F(ClassifyTest, MatchingIgnoresAsciiCase) {
  EXPECT_EQ(Classify("UEFA CHAMPIONS LEAGUE", ""), Stakes::kHigh);
  EXPECT_EQ(Classify("", "ChAmPiOnS LeAgUe"), Stakes::kHigh);
  EXPECT_EQ(Classify("", "FIFA World Cup"), Stakes::kHigh);
  EXPECT_EQ(Classify("PREMIER LEAGUE", ""), Stakes::kMedium);
  EXPECT_EQ(Classify("Ligue 1 Uber Eats", ""), Stakes::kMedium);
}

// Matching is by plain substring (SPEC 2.1), with the oddities that implies.
TEST_F(ClassifyTest, SubstringOdditiesFollowTheSpec) {
  EXPECT_EQ(Classify("", "Eurovision"), Stakes::kHigh);  // "euro"
  EXPECT_EQ(Classify("", "UEFA Euro 2028"), Stakes::kHigh);
  EXPECT_EQ(Classify("", "Semifinals"), Stakes::kHigh);  // "final"
  EXPECT_EQ(Classify("", "Grand finale"), Stakes::kHigh);
  EXPECT_EQ(Classify("", "Quarter-Finals"), Stakes::kHigh);
  EXPECT_EQ(Classify("", "Derbyshire Cup"), Stakes::kHigh);     // "derby"
  EXPECT_EQ(Classify("Nuclear Cup", ""), Stakes::kHigh);        // "ucl"
  EXPECT_EQ(Classify("", "Duel of the Fates"), Stakes::kHigh);  // "uel"
  EXPECT_EQ(Classify("Bundesliga 2", ""), Stakes::kMedium);
  EXPECT_EQ(Classify("2. Bundesliga", ""), Stakes::kMedium);
  EXPECT_EQ(Classify("Ligue 10", ""), Stakes::kMedium);  // "ligue 1"
  EXPECT_EQ(Classify("Serie A", ""), Stakes::kMedium);
  EXPECT_EQ(Classify("Serie A Women", ""), Stakes::kMedium);
  EXPECT_EQ(Classify("seriea", ""), Stakes::kLow);  // no space: no match
  EXPECT_EQ(Classify("Serie B", ""), Stakes::kLow);
  EXPECT_EQ(Classify("LaLiga", ""), Stakes::kLow);
  EXPECT_EQ(Classify("Premier  League", ""), Stakes::kLow);  // two spaces
  EXPECT_EQ(Classify("World-Cup", ""), Stakes::kLow);
  EXPECT_EQ(Classify("champions\nleague", ""), Stakes::kLow);
}

TEST_F(ClassifyTest, OnlyAsciiLettersAreFolded) {
  // "ÜCL": the 'U' is a two-byte UTF-8 letter, not folded to 'u'.
  EXPECT_EQ(Classify("\xC3\x9C"
                     "CL",
                     ""),
            Stakes::kLow);
  // Fullwidth "ＵＣＬ".
  EXPECT_EQ(Classify("\xEF\xBC\xB5\xEF\xBC\xA3\xEF\xBC\xAC", ""), Stakes::kLow);
  // Non-ASCII around a keyword does not hide it.
  EXPECT_EQ(Classify("Ligue 1 \xC3\x89t\xC3\xA9", ""), Stakes::kMedium);
  EXPECT_EQ(Classify("", "\xE2\x80\x94 Final \xE2\x80\x94"), Stakes::kHigh);
}

TEST_F(ClassifyTest, EmbeddedNulBytesAreOrdinaryBytes) {
  const std::string nul_then_keyword("x\0ucl", 5);
  const std::string keyword_split_by_nul("u\0cl", 4);
  EXPECT_EQ(Classify(nul_then_keyword, ""), Stakes::kHigh);
  EXPECT_EQ(Classify(keyword_split_by_nul, ""), Stakes::kLow);
}

TEST_F(ClassifyTest, EveryByteValueDoesNotCrash) {
  std::string all_bytes;
  for (int b = 0; b < 256; ++b) all_bytes.push_back(static_cast<char>(b));
  EXPECT_EQ(Classify(all_bytes, all_bytes), Stakes::kLow);
}

TEST_F(ClassifyTest, OneMegabyteStringsWork) {
  const std::string filler(1 << 20, 'a');
  EXPECT_EQ(Classify(filler, filler), Stakes::kLow);
  EXPECT_EQ(Classify(filler + "derby", ""), Stakes::kHigh);
  EXPECT_EQ(Classify("", filler + "World Cup"), Stakes::kHigh);
  EXPECT_EQ(Classify(filler + "premier league", filler), Stakes::kMedium);
  EXPECT_EQ(Classify(filler, filler + "premier league"), Stakes::kLow);
}

// Short and long inputs may take different search paths; the answer must
// not depend on the length.
TEST_F(ClassifyTest, KeywordAtTheEndIsFoundAtEveryLength) {
  for (size_t length = 200; length <= 300; ++length) {
    const std::string league = std::string(length - 5, 'x') + "DERBY";
    const std::string split = std::string(length - 5, 'x') + "DERB";
    EXPECT_EQ(Classify(league, ""), Stakes::kHigh) << "length " << length;
    EXPECT_EQ(Classify("", league), Stakes::kHigh) << "length " << length;
    EXPECT_EQ(Classify(split, "y"), Stakes::kLow) << "length " << length;
  }
}

TEST_F(ClassifyTest, OneMegabyteOfRandomBytesDoesNotCrash) {
  std::mt19937 rng(12345);  // fixed seed: the same bytes every run
  std::string noise(1 << 20, '\0');
  for (char& c : noise) c = static_cast<char>(rng() & 0xff);
  // Random bytes may well contain "uel", so only a keyword at the end is
  // asserted; the point is that nothing reads out of bounds.
  (void)Classify(noise, noise);
  EXPECT_EQ(Classify(noise, noise + "derby"), Stakes::kHigh);
}

TEST(ClassifyCustomKeywordsTest, ConfiguredListsReplaceTheDefaults) {
  absl::StatusOr<Config> config = ParseConfig(
      "keywords.high = Super Bowl, playoff\n"
      "keywords.medium = NFL\n");
  ASSERT_TRUE(config.ok()) << config.status();
  absl::StatusOr<Policy> policy = Policy::Create(config->policy);
  ASSERT_TRUE(policy.ok()) << policy.status();
  // Upper-case keywords from configuration are folded once at Create.
  EXPECT_EQ(policy->Classify("", "super bowl LVIII"), Stakes::kHigh);
  EXPECT_EQ(policy->Classify("NFL", "Wildcard PLAYOFF"), Stakes::kHigh);
  EXPECT_EQ(policy->Classify("nfl", "Week 3"), Stakes::kMedium);
  EXPECT_EQ(policy->Classify("", "NFL"), Stakes::kLow);
  // The defaults are gone.
  EXPECT_EQ(policy->Classify("Champions League", "Final"), Stakes::kLow);
  EXPECT_EQ(policy->Classify("Premier League", ""), Stakes::kLow);
}

TEST(ClassifyCustomKeywordsTest, PolicyConfigListsAreUsedDirectly) {
  PolicyConfig config;
  config.high_keywords = {"Grand Slam"};
  config.medium_keywords = {"ATP"};
  absl::StatusOr<Policy> policy = Policy::Create(config);
  ASSERT_TRUE(policy.ok()) << policy.status();
  EXPECT_EQ(policy->Classify("", "grand slam"), Stakes::kHigh);
  EXPECT_EQ(policy->Classify("atp 250", ""), Stakes::kMedium);
  EXPECT_EQ(policy->Classify("derby", "final"), Stakes::kLow);
}

}  // namespace
}  // namespace vix
