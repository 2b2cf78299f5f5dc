// The tier table and decision rules of SPEC 2.2 and 2.3, and the five
// deliberate differences from the predecessor, at the core level.
#include "vixbreaker/core/policy.h"

#include <array>
#include <cmath>
#include <cstdint>
#include <limits>
#include <ostream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "test_util.h"
#include "vixbreaker/core/parse.h"
#include "vixbreaker/core/types.h"

namespace vix {
namespace {

// SPEC 2.2, written out again on purpose: the defaults must equal the spec.
struct SpecRow {
  Stakes stakes;
  std::array<int64_t, 3> from_minutes;  // tiers 2, 3, 4
  std::array<int32_t, 3> ttl_seconds;   // tiers 2, 3, 4
};
constexpr SpecRow kSpecTable[] = {
    {Stakes::kHigh, {60, 180, 360}, {5, 30, 60}},
    {Stakes::kMedium, {30, 90, 180}, {5, 30, 60}},
    {Stakes::kLow, {15, 45, 90}, {5, 20, 45}},
};
// Keeps ctest names (which include the printed parameter) short and stable.
void PrintTo(const SpecRow& row, std::ostream* os) {
  *os << StakesName(row.stakes);
}

constexpr Mode kModeOfTier[] = {Mode::kNormal, Mode::kPanicFull,
                                Mode::kPanicPartial, Mode::kDegraded,
                                Mode::kNewNormal};

using testing::Ttl;

Policy DefaultPolicy() {
  absl::StatusOr<Policy> policy = Policy::Create(PolicyConfig{});
  EXPECT_TRUE(policy.ok()) << policy.status();
  return *std::move(policy);
}

int32_t SpecTtl(const SpecRow& row, int tier) {
  return tier == 1 ? 0 : row.ttl_seconds[tier - 2];
}

// Checks every field of a tier decision; `what` names the case on failure.
void ExpectTierDecision(const Decision& d, const SpecRow& row, int tier,
                        const std::string& what) {
  SCOPED_TRACE(what);
  EXPECT_EQ(d.tier, tier);
  EXPECT_EQ(d.mode, kModeOfTier[tier]);
  EXPECT_EQ(d.ttl_seconds, SpecTtl(row, tier));
  EXPECT_EQ(d.stakes, row.stakes);
  EXPECT_EQ(d.reason, Reason::kTier);
  EXPECT_FALSE(d.first_writer);
  EXPECT_EQ(d.episode_start_ns, 0);
}

class TierTableTest : public ::testing::TestWithParam<SpecRow> {
 protected:
  Policy policy_ = DefaultPolicy();
};

TEST_P(TierTableTest, DefaultThresholdsAreTheSpecTable) {
  const SpecRow& row = GetParam();
  for (int tier = 2; tier <= 4; ++tier) {
    EXPECT_EQ(policy_.TierStartNs(row.stakes, tier),
              row.from_minutes[tier - 2] * kNanosPerMinute)
        << "tier " << tier;
  }
}

TEST_P(TierTableTest, AgeExactlyOnAThresholdBelongsToTheHigherTier) {
  const SpecRow& row = GetParam();
  for (int tier = 2; tier <= 4; ++tier) {
    const int64_t start_ns = row.from_minutes[tier - 2] * kNanosPerMinute;
    ExpectTierDecision(policy_.DecideForAge(start_ns, Ttl(60), row.stakes), row,
                       tier, absl::StrCat("age ", start_ns, " ns"));
  }
}

TEST_P(TierTableTest, OneNanosecondBelowAThresholdIsTheLowerTier) {
  const SpecRow& row = GetParam();
  for (int tier = 2; tier <= 4; ++tier) {
    const int64_t age_ns = row.from_minutes[tier - 2] * kNanosPerMinute - 1;
    ExpectTierDecision(policy_.DecideForAge(age_ns, Ttl(60), row.stakes), row,
                       tier - 1, absl::StrCat("age ", age_ns, " ns"));
  }
}

TEST_P(TierTableTest, EveryTierHasItsTtlAndMode) {
  const SpecRow& row = GetParam();
  const std::array<int64_t, 4> ages_min = {1, row.from_minutes[0] + 1,
                                           row.from_minutes[1] + 1,
                                           row.from_minutes[2] + 1};
  for (int tier = 1; tier <= 4; ++tier) {
    const int64_t age_ns = ages_min[tier - 1] * kNanosPerMinute;
    ExpectTierDecision(policy_.DecideForAge(age_ns, Ttl(60), row.stakes), row,
                       tier, absl::StrCat("age ", ages_min[tier - 1], " min"));
  }
}

TEST_P(TierTableTest, Tier1TtlIsZeroWhateverTheBaseTtl) {
  const SpecRow& row = GetParam();
  for (int64_t base : {int64_t{0}, int64_t{1}, int64_t{60}, BaseTtl::kMax}) {
    const Decision d = policy_.DecideForAge(0, Ttl(base), row.stakes);
    EXPECT_EQ(d.tier, 1) << "base " << base;
    EXPECT_EQ(d.ttl_seconds, 0) << "base " << base;
  }
}

TEST_P(TierTableTest, SevenDayOldEpisodeIsTier4) {
  const SpecRow& row = GetParam();
  const int64_t seven_days_ns = int64_t{7} * 24 * 60 * kNanosPerMinute;
  ExpectTierDecision(policy_.DecideForAge(seven_days_ns, Ttl(60), row.stakes),
                     row, 4, "7 days");
}

TEST_P(TierTableTest, LargestAgeIsTier4) {
  const SpecRow& row = GetParam();
  ExpectTierDecision(policy_.DecideForAge(std::numeric_limits<int64_t>::max(),
                                          Ttl(60), row.stakes),
                     row, 4, "INT64_MAX ns");
}

TEST_P(TierTableTest, CapAtBaseOffLeavesTierTtlsAboveTheBase) {
  const SpecRow& row = GetParam();
  const int64_t tier4_ns = row.from_minutes[2] * kNanosPerMinute;
  const Decision d = policy_.DecideForAge(tier4_ns, Ttl(1), row.stakes);
  EXPECT_EQ(d.ttl_seconds, row.ttl_seconds[2]);
}

TEST_P(TierTableTest, CapAtBaseOnCapsEveryTierTtlAtTheBase) {
  const SpecRow& row = GetParam();
  PolicyConfig config;
  config.cap_at_base = true;
  absl::StatusOr<Policy> capped = Policy::Create(config);
  ASSERT_TRUE(capped.ok()) << capped.status();
  for (int tier = 1; tier <= 4; ++tier) {
    const int64_t age_ns =
        tier == 1 ? 0 : row.from_minutes[tier - 2] * kNanosPerMinute;
    for (int64_t base : {int64_t{0}, int64_t{10}, int64_t{25}, BaseTtl::kMax}) {
      const Decision d = capped->DecideForAge(age_ns, Ttl(base), row.stakes);
      const int64_t expected = std::min<int64_t>(SpecTtl(row, tier), base);
      EXPECT_EQ(d.ttl_seconds, expected) << "tier " << tier << " base " << base;
      EXPECT_EQ(d.tier, tier);
      EXPECT_EQ(d.mode, kModeOfTier[tier]);
    }
  }
}

TEST_P(TierTableTest, NoEpisodeIsBaseTtlNormalTier0) {
  const SpecRow& row = GetParam();
  for (int64_t base : {int64_t{0}, int64_t{60}, BaseTtl::kMax}) {
    const Decision d = Policy::DecideNoEpisode(Ttl(base), row.stakes);
    EXPECT_EQ(d.ttl_seconds, base);
    EXPECT_EQ(d.mode, Mode::kNormal);
    EXPECT_EQ(d.tier, 0);
    EXPECT_EQ(d.stakes, row.stakes);
    EXPECT_EQ(d.reason, Reason::kNoEpisode);
    EXPECT_EQ(d.episode_start_ns, 0);
  }
}

TEST_P(TierTableTest, FailsafePanicIsTtl0PanicFullWithReasonFailsafe) {
  const SpecRow& row = GetParam();
  const Decision d =
      Policy::DecideFailsafe(Status::kPanic, Ttl(60), row.stakes);
  EXPECT_EQ(d.ttl_seconds, 0);
  EXPECT_EQ(d.mode, Mode::kPanicFull);
  EXPECT_EQ(d.tier, 1);
  EXPECT_EQ(d.stakes, row.stakes);
  EXPECT_EQ(d.reason, Reason::kFailsafe);
  EXPECT_FALSE(d.first_writer);
}

TEST_P(TierTableTest, FailsafeForCalmStatusesIsTheBaseTtl) {
  const SpecRow& row = GetParam();
  for (Status status : {Status::kNormal, Status::kWarning}) {
    const Decision d = Policy::DecideFailsafe(status, Ttl(42), row.stakes);
    EXPECT_EQ(d.ttl_seconds, 42) << StatusName(status);
    EXPECT_EQ(d.mode, Mode::kNormal) << StatusName(status);
    EXPECT_EQ(d.tier, 0) << StatusName(status);
    EXPECT_EQ(d.stakes, row.stakes) << StatusName(status);
    EXPECT_EQ(d.reason, Reason::kNoEpisode) << StatusName(status);
  }
}

INSTANTIATE_TEST_SUITE_P(EveryStakes, TierTableTest,
                         ::testing::ValuesIn(kSpecTable),
                         [](const ::testing::TestParamInfo<SpecRow>& info) {
                           return std::string(StakesName(info.param.stakes));
                         });

TEST(ReasonTest, EveryDecisionCarriesANamedReason) {
  const Policy policy = DefaultPolicy();
  EXPECT_EQ(ReasonName(policy.DecideForAge(0, Ttl(60), Stakes::kLow).reason),
            "tier");
  EXPECT_EQ(ReasonName(Policy::DecideNoEpisode(Ttl(60), Stakes::kLow).reason),
            "no_episode");
  EXPECT_EQ(
      ReasonName(
          Policy::DecideFailsafe(Status::kPanic, Ttl(60), Stakes::kLow).reason),
      "failsafe");
  EXPECT_EQ(ReasonName(Reason::kForced), "forced");
}

TEST(NamesTest, ModesAndStakesAreSpelledAsInSpec1) {
  EXPECT_EQ(ModeName(Mode::kNormal), "NORMAL");
  EXPECT_EQ(ModeName(Mode::kPanicFull), "PANIC_FULL");
  EXPECT_EQ(ModeName(Mode::kPanicPartial), "PANIC_PARTIAL");
  EXPECT_EQ(ModeName(Mode::kDegraded), "DEGRADED");
  EXPECT_EQ(ModeName(Mode::kNewNormal), "NEW_NORMAL");
  EXPECT_EQ(StakesName(Stakes::kHigh), "high_stakes");
  EXPECT_EQ(StakesName(Stakes::kMedium), "medium_stakes");
  EXPECT_EQ(StakesName(Stakes::kLow), "low_stakes");
  EXPECT_EQ(StatusName(Status::kNormal), "normal");
  EXPECT_EQ(StatusName(Status::kWarning), "warning");
  EXPECT_EQ(StatusName(Status::kPanic), "panic");
}

// ---- SPEC 2.3: the five deliberate differences from the predecessor. ----

TEST(DeliberateDifference1, ActiveEpisodeOfAgeZeroIsTier1NeverNormal) {
  const Policy policy = DefaultPolicy();
  for (const SpecRow& row : kSpecTable) {
    const Decision d = policy.DecideForAge(0, Ttl(60), row.stakes);
    EXPECT_EQ(d.tier, 1) << StakesName(row.stakes);
    EXPECT_EQ(d.mode, Mode::kPanicFull) << StakesName(row.stakes);
    EXPECT_EQ(d.ttl_seconds, 0) << StakesName(row.stakes);
    EXPECT_EQ(d.reason, Reason::kTier) << StakesName(row.stakes);
  }
}

TEST(DeliberateDifference2, FutureStartNegativeAgeIsTier1NeverNormal) {
  const Policy policy = DefaultPolicy();
  for (int64_t age_ns :
       {int64_t{-1}, -kNanosPerMinute, -int64_t{400} * kNanosPerMinute,
        std::numeric_limits<int64_t>::min()}) {
    for (const SpecRow& row : kSpecTable) {
      const Decision d = policy.DecideForAge(age_ns, Ttl(60), row.stakes);
      EXPECT_EQ(d.tier, 1) << age_ns << " " << StakesName(row.stakes);
      EXPECT_EQ(d.mode, Mode::kPanicFull) << age_ns;
      EXPECT_EQ(d.ttl_seconds, 0) << age_ns;
    }
  }
}

TEST(DeliberateDifference3, NonFiniteOrNegativeTimestampsAreRejected) {
  for (const char* text :
       {"nan", "NaN", "-nan", "inf", "-inf", "infinity", "-1", "-0.5", "0",
        "0.0", "-0", "1e400", "0x10", "0x1p30", ""}) {
    absl::StatusOr<int64_t> ns = ParseUnixSecondsToNs(text);
    EXPECT_FALSE(ns.ok()) << "\"" << text << "\" gave " << ns.value_or(0);
  }
  for (const char* text : {"nan", "inf", "-inf", "1e400", "-1e400"}) {
    EXPECT_FALSE(ParseFiniteDouble(text, "age").ok()) << text;
  }
  for (double seconds : {std::nan(""), std::numeric_limits<double>::infinity(),
                         -std::numeric_limits<double>::infinity(), -1.0}) {
    EXPECT_FALSE(SecondsToNs(seconds, "age").ok()) << seconds;
  }
}

TEST(DeliberateDifference4, StatusIsParsedStrictly) {
  for (const char* text : {"Panic", " panic", "panic ", "PANIC", "", "panic\n",
                           "Normal", "WARNING", "panicky", "pani", "1"}) {
    absl::StatusOr<Status> status = ParseStatus(text);
    ASSERT_FALSE(status.ok()) << "\"" << text << "\" was accepted";
    EXPECT_TRUE(absl::IsInvalidArgument(status.status()));
    EXPECT_TRUE(absl::StrContains(status.status().message(), "unknown status"))
        << status.status();
  }
  // The value is named, with unprintable bytes escaped.
  EXPECT_TRUE(
      absl::StrContains(ParseStatus("Panic").status().message(), "\"Panic\""));
  EXPECT_TRUE(absl::StrContains(ParseStatus("panic\n").status().message(),
                                "\"panic\\x0a\""))
      << ParseStatus("panic\n").status();
}

TEST(DeliberateDifference5, ReasonTellsAFailsafeFromARealTier1) {
  const Policy policy = DefaultPolicy();
  const Decision tier1 = policy.DecideForAge(0, Ttl(60), Stakes::kHigh);
  const Decision failsafe =
      Policy::DecideFailsafe(Status::kPanic, Ttl(60), Stakes::kHigh);
  // Same answer to the cache...
  EXPECT_EQ(tier1.ttl_seconds, failsafe.ttl_seconds);
  EXPECT_EQ(tier1.mode, failsafe.mode);
  EXPECT_EQ(tier1.tier, failsafe.tier);
  // ...but a different reason.
  EXPECT_EQ(tier1.reason, Reason::kTier);
  EXPECT_EQ(failsafe.reason, Reason::kFailsafe);
}

// ---- Policy::Create validation (SPEC 2.2). ----

struct BadConfigCase {
  std::string name;
  Stakes stakes;
  std::array<double, 3> from_minutes;
  std::array<int64_t, 3> ttl_seconds;
  std::string value_in_message;
};

void PrintTo(const BadConfigCase& c, std::ostream* os) { *os << c.name; }

class BadConfigTest : public ::testing::TestWithParam<BadConfigCase> {};

TEST_P(BadConfigTest, IsRejectedNamingStakesAndValue) {
  const BadConfigCase& c = GetParam();
  PolicyConfig config;
  config.tiers[static_cast<int>(c.stakes)] = {c.from_minutes, c.ttl_seconds};
  absl::StatusOr<Policy> policy = Policy::Create(config);
  ASSERT_FALSE(policy.ok()) << c.name << " was accepted";
  EXPECT_TRUE(absl::IsInvalidArgument(policy.status()) ||
              absl::IsOutOfRange(policy.status()))
      << policy.status();
  const absl::string_view message = policy.status().message();
  EXPECT_TRUE(absl::StrContains(message, StakesName(c.stakes))) << message;
  EXPECT_TRUE(absl::StrContains(message, c.value_in_message)) << message;
}

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr std::array<int64_t, 3> kGoodTtls = {5, 30, 60};

INSTANTIATE_TEST_SUITE_P(
    PolicyCreate, BadConfigTest,
    ::testing::Values(
        BadConfigCase{"decreasing",
                      Stakes::kHigh,
                      {60, 30, 360},
                      kGoodTtls,
                      "at 30 minutes"},
        BadConfigCase{"equal_2_3",
                      Stakes::kMedium,
                      {30, 30, 180},
                      kGoodTtls,
                      "at 30 minutes"},
        BadConfigCase{"equal_3_4",
                      Stakes::kLow,
                      {15, 45, 45},
                      kGoodTtls,
                      "at 45 minutes"},
        BadConfigCase{"negative",
                      Stakes::kHigh,
                      {-1, 180, 360},
                      kGoodTtls,
                      "at -1 minutes"},
        BadConfigCase{
            "zero", Stakes::kMedium, {0, 90, 180}, kGoodTtls, "at 0 minutes"},
        BadConfigCase{
            "nan", Stakes::kLow, {15, kNaN, 90}, kGoodTtls, "at nan minutes"},
        BadConfigCase{
            "inf", Stakes::kHigh, {60, 180, kInf}, kGoodTtls, "at inf minutes"},
        BadConfigCase{
            "too_large", Stakes::kHigh, {60, 180, 1e300}, kGoodTtls, "6e+301"},
        BadConfigCase{"negative_ttl",
                      Stakes::kMedium,
                      {30, 90, 180},
                      {5, -1, 60},
                      "tier 3: -1"},
        BadConfigCase{"ttl_above_int32",
                      Stakes::kLow,
                      {15, 45, 90},
                      {5, 20, int64_t{2147483648}},
                      "2147483648"}),
    [](const ::testing::TestParamInfo<BadConfigCase>& info) {
      return info.param.name;
    });

TEST(PolicyCreateTest, AcceptsTtlBoundsZeroAndInt32Max) {
  PolicyConfig config;
  config.tiers[0].ttl_seconds = {0, 1, BaseTtl::kMax};
  absl::StatusOr<Policy> policy = Policy::Create(config);
  ASSERT_TRUE(policy.ok()) << policy.status();
  const Decision d = policy->DecideForAge(int64_t{360} * kNanosPerMinute,
                                          Ttl(60), Stakes::kHigh);
  EXPECT_EQ(d.ttl_seconds, BaseTtl::kMax);
}

TEST(PolicyCreateTest, AcceptsFractionalMinuteThresholds) {
  PolicyConfig config;
  config.tiers[2].from_minutes = {0.5, 1.5, 2.25};
  absl::StatusOr<Policy> policy = Policy::Create(config);
  ASSERT_TRUE(policy.ok()) << policy.status();
  EXPECT_EQ(policy->TierStartNs(Stakes::kLow, 2), 30 * kNanosPerSecond);
  EXPECT_EQ(policy->TierStartNs(Stakes::kLow, 4), 135 * kNanosPerSecond);
  EXPECT_EQ(
      policy->DecideForAge(30 * kNanosPerSecond - 1, Ttl(60), Stakes::kLow)
          .tier,
      1);
  EXPECT_EQ(
      policy->DecideForAge(30 * kNanosPerSecond, Ttl(60), Stakes::kLow).tier,
      2);
}

// Thresholds that are positive and increasing as doubles but collapse onto
// the same nanosecond would put age 0 above tier 1 (difference 1).
TEST(PolicyCreateTest, RejectsThresholdsThatCollapseInNanoseconds) {
  PolicyConfig config;
  config.tiers[1].from_minutes = {1e-15, 2e-15, 3e-15};
  absl::StatusOr<Policy> policy = Policy::Create(config);
  ASSERT_FALSE(policy.ok())
      << "age 0 would be tier "
      << int{policy->DecideForAge(0, Ttl(60), Stakes::kMedium).tier};
  EXPECT_TRUE(absl::StrContains(policy.status().message(), "medium_stakes"))
      << policy.status();
}

TEST(PolicyCreateTest, RejectsEmptyKeywordNamingTheList) {
  PolicyConfig high;
  high.high_keywords.push_back("");
  absl::StatusOr<Policy> policy = Policy::Create(high);
  ASSERT_FALSE(policy.ok());
  EXPECT_TRUE(absl::StrContains(policy.status().message(), "empty keyword"))
      << policy.status();
  EXPECT_TRUE(absl::StrContains(policy.status().message(), "high"))
      << policy.status();

  PolicyConfig medium;
  medium.medium_keywords = {"serie a", ""};
  policy = Policy::Create(medium);
  ASSERT_FALSE(policy.ok());
  EXPECT_TRUE(absl::StrContains(policy.status().message(), "medium"))
      << policy.status();
}

TEST(PolicyCreateTest, KeepsTheConfigItWasGiven) {
  PolicyConfig config;
  config.cap_at_base = true;
  absl::StatusOr<Policy> policy = Policy::Create(config);
  ASSERT_TRUE(policy.ok()) << policy.status();
  EXPECT_TRUE(policy->config().cap_at_base);
  EXPECT_EQ(policy->config().tiers[0].from_minutes[2], 360);
}

}  // namespace
}  // namespace vix
