// The volatility detector (SPEC 7). Vectors are chosen so that every mean,
// deviation and z is exactly representable: history {1, 2, 3} has mean 2 and
// sample standard deviation exactly 1.
#include "vixbreaker/core/detector.h"

#include <cmath>
#include <limits>
#include <vector>

#include "gtest/gtest.h"

namespace vix {
namespace {

constexpr int64_t kT0 = 1'764'000'000 * kNanosPerSecond;

ZScore Z(std::vector<double> history, double current) {
  absl::StatusOr<ZScore> z = ComputeZScore(history, current);
  EXPECT_TRUE(z.ok()) << z.status();
  return z.value_or(ZScore{-1, Status::kNormal});
}

TEST(ZScoreTest, ExactTwoIsPanic) {
  const ZScore z = Z({1, 2, 3}, 4);
  EXPECT_EQ(z.z, 2.0);
  EXPECT_EQ(z.status, Status::kPanic);
}

TEST(ZScoreTest, ExactOneAndAHalfIsWarning) {
  const ZScore z = Z({1, 2, 3}, 3.5);
  EXPECT_EQ(z.z, 1.5);
  EXPECT_EQ(z.status, Status::kWarning);
}

TEST(ZScoreTest, JustBelowEachThresholdIsTheLowerStatus) {
  // 2 + (1.5 - 2^-40) keeps z exact and just under 1.5.
  const double just_under = 1.5 - std::ldexp(1.0, -40);
  const ZScore warning_edge = Z({1, 2, 3}, 2 + just_under);
  EXPECT_EQ(warning_edge.z, just_under);
  EXPECT_EQ(warning_edge.status, Status::kNormal);
  const double under_two = 2 - std::ldexp(1.0, -40);
  const ZScore panic_edge = Z({1, 2, 3}, 2 + under_two);
  EXPECT_EQ(panic_edge.z, under_two);
  EXPECT_EQ(panic_edge.status, Status::kWarning);
}

TEST(ZScoreTest, NegativeDeviationsCountByTheirSize) {
  EXPECT_EQ(Z({1, 2, 3}, 0.5).z, 1.5);
  EXPECT_EQ(Z({1, 2, 3}, 0.5).status, Status::kWarning);
  EXPECT_EQ(Z({2, 4, 6}, 0.125).z, 1.9375);  // mean 4, s 2
  EXPECT_EQ(Z({2, 4, 6}, 0.125).status, Status::kWarning);
  EXPECT_EQ(Z({2, 4, 6}, 3).status, Status::kNormal);
  const ZScore z = Z({4, 6, 8}, 0.25);  // mean 6, s 2
  EXPECT_EQ(z.z, 2.875);
  EXPECT_EQ(z.status, Status::kPanic);
}

TEST(ZScoreTest, FewerThanThreeSamplesGiveZero) {
  EXPECT_EQ(Z({1.5}, 100).z, 0);
  const ZScore two = Z({1.5, 2.5}, 100);
  EXPECT_EQ(two.z, 0);
  EXPECT_EQ(two.status, Status::kNormal);
}

TEST(ZScoreTest, ZeroDeviationGivesZero) {
  const ZScore z = Z({2.5, 2.5, 2.5, 2.5}, 40);
  EXPECT_EQ(z.z, 0);
  EXPECT_EQ(z.status, Status::kNormal);
  // 0.1 * 3 / 3 rounds to a mean that is not 0.1; still no deviation.
  EXPECT_EQ(Z({0.1, 0.1, 0.1}, 0.1).z, 0);
  EXPECT_EQ(Z({0.1, 0.1, 0.1}, 0.2).z, 0);
}

TEST(ZScoreTest, UsesOnlyTheNewestMaxSamples) {
  // 97 far-off samples then {1, 2, 3}: with max_samples 3 only the last
  // three count, so z is that of history {1, 2, 3} alone.
  std::vector<double> history(97, 1000.0);
  history.insert(history.end(), {1, 2, 3});
  DetectorConfig config;
  config.max_samples = 3;
  absl::StatusOr<ZScore> z = ComputeZScore(history, 4, config);
  ASSERT_TRUE(z.ok()) << z.status();
  EXPECT_EQ(z->z, 2.0);
}

TEST(ZScoreTest, RefusesBadOddsWithClearErrors) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double inf = std::numeric_limits<double>::infinity();
  struct Case {
    std::vector<double> history;
    double current;
    const char* must_name;
  };
  const Case cases[] = {
      {{}, 2, "history is empty"},          {{1, nan, 3}, 2, "history[1]"},
      {{1, 2, inf}, 2, "history[2]"},       {{-1, 2, 3}, 2, "history[0]"},
      {{0, 2, 3}, 2, "history[0]"},         {{1, 2, 3}, nan, "current odds"},
      {{1, 2, 3}, -2, "current odds = -2"}, {{1, 2, 3}, 0, "current odds = 0"},
      {{1, 2, 3}, -inf, "current odds"},    {{1, 2, 3}, 1e300, "current odds"},
  };
  for (const Case& c : cases) {
    absl::StatusOr<ZScore> z = ComputeZScore(c.history, c.current);
    ASSERT_FALSE(z.ok()) << c.must_name;
    EXPECT_TRUE(absl::IsInvalidArgument(z.status()));
    EXPECT_NE(z.status().message().find(c.must_name), absl::string_view::npos)
        << z.status().message();
  }
}

TEST(DetectorConfigTest, RejectsInconsistentConfigurations) {
  DetectorConfig swapped;
  swapped.warning_z = 2.0;
  swapped.panic_z = 1.5;
  DetectorConfig one_sample;
  one_sample.min_samples = 1;
  DetectorConfig cap_below_min;
  cap_below_min.max_samples = 2;
  DetectorConfig no_window;
  no_window.window_ns = 0;
  DetectorConfig nan_z;
  nan_z.panic_z = std::numeric_limits<double>::quiet_NaN();
  for (const DetectorConfig& c :
       {swapped, one_sample, cap_below_min, no_window, nan_z}) {
    EXPECT_TRUE(absl::IsInvalidArgument(ValidateDetectorConfig(c)));
    EXPECT_FALSE(VolatilityDetector::Create(c).ok());
  }
  EXPECT_TRUE(ValidateDetectorConfig({}).ok());
}

TEST(CombineMarketStatusesTest, AMatchIsInPanicIfAnyMarketIs) {
  using S = Status;
  EXPECT_EQ(CombineMarketStatuses({}), S::kNormal);
  EXPECT_EQ(CombineMarketStatuses({S::kNormal, S::kNormal}), S::kNormal);
  EXPECT_EQ(CombineMarketStatuses({S::kNormal, S::kWarning}), S::kWarning);
  EXPECT_EQ(CombineMarketStatuses({S::kWarning, S::kPanic, S::kNormal}),
            S::kPanic);
}

TEST(VolatilityDetectorTest, ScoresEachOddsAgainstThePreviousSamples) {
  VolatilityDetector d = *VolatilityDetector::Create({});
  for (double odds : {1.0, 2.0, 3.0}) {
    absl::StatusOr<ZScore> z = d.Observe("1x2", odds, kT0);
    ASSERT_TRUE(z.ok());
    EXPECT_EQ(z->z, 0) << "fewer than 3 samples before " << odds;
  }
  absl::StatusOr<ZScore> z = d.Observe("1x2", 4.0, kT0);
  ASSERT_TRUE(z.ok());
  EXPECT_EQ(z->z, 2.0);
  EXPECT_EQ(z->status, Status::kPanic);
  EXPECT_EQ(d.SampleCount("1x2"), 4u);
}

TEST(VolatilityDetectorTest, AMatchIsInPanicIfAnyMarketIs) {
  VolatilityDetector d = *VolatilityDetector::Create({});
  for (double odds : {1.0, 2.0, 3.0}) {
    ASSERT_TRUE(d.Observe("1x2", odds, kT0).ok());
    ASSERT_TRUE(d.Observe("over_under", odds, kT0).ok());
  }
  ASSERT_EQ(d.Observe("1x2", 2.0, kT0)->status, Status::kNormal);
  EXPECT_EQ(d.MatchStatus(kT0), Status::kNormal);
  ASSERT_EQ(d.Observe("over_under", 6.0, kT0)->status, Status::kPanic);
  EXPECT_EQ(d.MatchStatus(kT0), Status::kPanic);
  // The panicking market's last observation leaves the 30-minute window.
  EXPECT_EQ(d.MatchStatus(kT0 + 30 * kNanosPerMinute), Status::kNormal);
}

TEST(VolatilityDetectorTest, ForgetsSamplesOlderThanThirtyMinutes) {
  VolatilityDetector d = *VolatilityDetector::Create({});
  for (double odds : {1.0, 2.0, 3.0}) {
    ASSERT_TRUE(d.Observe("m", odds, kT0).ok());
  }
  // Just inside the window the three samples still count.
  const int64_t inside = kT0 + 30 * kNanosPerMinute - 1;
  EXPECT_EQ(d.Observe("m", 4.0, inside)->z, 2.0);
  // At exactly 30 minutes the first three are gone: one sample left, z 0.
  absl::StatusOr<ZScore> z = d.Observe("m", 9.0, kT0 + 30 * kNanosPerMinute);
  ASSERT_TRUE(z.ok());
  EXPECT_EQ(z->z, 0);
  EXPECT_EQ(d.SampleCount("m"), 2u);
}

TEST(VolatilityDetectorTest, KeepsAtMostOneHundredSamples) {
  VolatilityDetector d = *VolatilityDetector::Create({});
  // 250 samples a nanosecond apart: all inside the window, so only the cap
  // drops the oldest.
  for (int i = 0; i < 250; ++i) {
    ASSERT_TRUE(d.Observe("m", i % 2 == 0 ? 1.0 : 3.0, kT0 + i).ok());
  }
  EXPECT_EQ(d.SampleCount("m"), 100u);
}

TEST(VolatilityDetectorTest, RefusesBadOddsAndKeepsNothing) {
  VolatilityDetector d = *VolatilityDetector::Create({});
  const double nan = std::numeric_limits<double>::quiet_NaN();
  for (double bad : {nan, -1.0, 0.0, std::numeric_limits<double>::infinity()}) {
    absl::StatusOr<ZScore> z = d.Observe("1x2", bad, kT0);
    ASSERT_FALSE(z.ok());
    EXPECT_TRUE(absl::IsInvalidArgument(z.status()));
    EXPECT_NE(z.status().message().find("odds for market \"1x2\""),
              absl::string_view::npos)
        << z.status().message();
  }
  EXPECT_EQ(d.SampleCount("1x2"), 0u);
}

}  // namespace
}  // namespace vix
