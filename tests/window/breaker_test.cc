// The breaker's pure state machine and TTL table (SPEC 6).
#include "vixbreaker/core/breaker.h"

#include <cmath>
#include <limits>

#include "gtest/gtest.h"

namespace vix {
namespace {

using M = BreakerMode;

Breaker Default() { return *Breaker::Create({}); }

TEST(BreakerThresholdsTest, DefaultsAreSpecSix) {
  BreakerThresholds t;
  EXPECT_EQ(t.high_enter, 0.50);
  EXPECT_EQ(t.high_exit, 0.30);
  EXPECT_EQ(t.open_enter, 0.80);
  EXPECT_EQ(t.open_exit, 0.60);
  EXPECT_TRUE(ValidateBreakerThresholds(t).ok());
}

TEST(BreakerThresholdsTest, RejectsOscillatingOrderings) {
  struct Case {
    BreakerThresholds t;
    const char* names;  // the fields the message must name
  };
  const Case cases[] = {
      {{0.5, 0.5, 0.8, 0.6}, "high_exit"},   // exit == enter
      {{0.5, 0.6, 0.8, 0.6}, "high_exit"},   // exit above enter
      {{0.8, 0.3, 0.8, 0.6}, "high_enter"},  // enter == open
      {{0.9, 0.3, 0.8, 0.6}, "high_enter"},  // enter above open
      {{0.5, 0.3, 0.8, 0.8}, "open_exit"},   // open-exit == open
      {{0.5, 0.3, 0.8, 0.9}, "open_exit"},   // open-exit above open
  };
  for (const Case& c : cases) {
    absl::Status s = ValidateBreakerThresholds(c.t);
    EXPECT_TRUE(absl::IsInvalidArgument(s)) << c.names;
    EXPECT_NE(s.message().find(c.names), absl::string_view::npos)
        << s.message();
    EXPECT_NE(s.message().find("oscillate"), absl::string_view::npos)
        << s.message();
    EXPECT_FALSE(Breaker::Create(c.t).ok());
  }
}

TEST(BreakerThresholdsTest, RejectsRatiosOutsideTheOpenUnitInterval) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double inf = std::numeric_limits<double>::infinity();
  for (double bad : {0.0, 1.0, -0.1, 1.5, nan, inf, -inf}) {
    BreakerThresholds t;
    t.open_enter = bad;
    absl::Status s = ValidateBreakerThresholds(t);
    EXPECT_TRUE(absl::IsInvalidArgument(s)) << bad;
    EXPECT_NE(s.message().find("open_enter"), absl::string_view::npos)
        << s.message();
  }
}

TEST(BreakerTest, MovesAtMostOneStepPerUpdate) {
  const Breaker b = Default();
  EXPECT_EQ(b.Next(M::kNormal, 1.0), M::kHighVolatility);
  EXPECT_EQ(b.Next(M::kHighVolatility, 1.0), M::kCircuitOpen);
  EXPECT_EQ(b.Next(M::kCircuitOpen, 0.0), M::kHighVolatility);
  EXPECT_EQ(b.Next(M::kHighVolatility, 0.0), M::kNormal);
  EXPECT_EQ(b.Next(M::kNormal, 0.0), M::kNormal);
  EXPECT_EQ(b.Next(M::kCircuitOpen, 1.0), M::kCircuitOpen);
}

TEST(BreakerTest, RatiosExactlyOnAThresholdDoNotMove) {
  const Breaker b = Default();
  EXPECT_EQ(b.Next(M::kNormal, 0.5), M::kNormal);
  EXPECT_EQ(b.Next(M::kHighVolatility, 0.8), M::kHighVolatility);
  EXPECT_EQ(b.Next(M::kHighVolatility, 0.3), M::kHighVolatility);
  EXPECT_EQ(b.Next(M::kCircuitOpen, 0.6), M::kCircuitOpen);
  // The next representable ratio past each threshold moves.
  EXPECT_EQ(b.Next(M::kNormal, std::nextafter(0.5, 1.0)), M::kHighVolatility);
  EXPECT_EQ(b.Next(M::kHighVolatility, std::nextafter(0.8, 1.0)),
            M::kCircuitOpen);
  EXPECT_EQ(b.Next(M::kHighVolatility, std::nextafter(0.3, 0.0)), M::kNormal);
  EXPECT_EQ(b.Next(M::kCircuitOpen, std::nextafter(0.6, 0.0)),
            M::kHighVolatility);
}

TEST(BreakerTest, HysteresisHoldsBetweenEnterAndExit) {
  const Breaker b = Default();
  // 0.4: below enter, above exit: each mode stays where it is.
  EXPECT_EQ(b.Next(M::kNormal, 0.4), M::kNormal);
  EXPECT_EQ(b.Next(M::kHighVolatility, 0.4), M::kHighVolatility);
  // 0.7: below open, above open-exit.
  EXPECT_EQ(b.Next(M::kHighVolatility, 0.7), M::kHighVolatility);
  EXPECT_EQ(b.Next(M::kCircuitOpen, 0.7), M::kCircuitOpen);
}

TEST(BreakerTest, UsesConfiguredThresholds) {
  const Breaker b = *Breaker::Create({0.2, 0.1, 0.4, 0.3});
  EXPECT_EQ(b.Next(M::kNormal, 0.25), M::kHighVolatility);
  EXPECT_EQ(b.Next(M::kHighVolatility, 0.45), M::kCircuitOpen);
  EXPECT_EQ(b.Next(M::kCircuitOpen, 0.35), M::kCircuitOpen);
  EXPECT_EQ(b.Next(M::kCircuitOpen, 0.25), M::kHighVolatility);
  EXPECT_EQ(b.Next(M::kHighVolatility, 0.05), M::kNormal);
}

TEST(BreakerTest, TtlTableForEveryModeAndStatus) {
  BaseTtl base;
  ASSERT_TRUE(BaseTtl::FromSeconds(77, &base));
  struct Row {
    M mode;
    Status status;
    int32_t ttl;
    const char* strategy;
  };
  const Row table[] = {
      {M::kNormal, Status::kPanic, 0, "bypass"},
      {M::kNormal, Status::kWarning, 77, "normal"},
      {M::kNormal, Status::kNormal, 77, "normal"},
      {M::kHighVolatility, Status::kPanic, 5, "adaptive"},
      {M::kHighVolatility, Status::kWarning, 10, "adaptive"},
      {M::kHighVolatility, Status::kNormal, 77, "normal"},
      {M::kCircuitOpen, Status::kPanic, 10, "adaptive"},
      {M::kCircuitOpen, Status::kWarning, 30, "adaptive"},
      {M::kCircuitOpen, Status::kNormal, 60, "normal"},  // base ignored
  };
  for (const Row& row : table) {
    const BreakerDecision d = Breaker::Decide(row.mode, row.status, base);
    SCOPED_TRACE(std::string(BreakerModeName(row.mode)) + "/" +
                 std::string(StatusName(row.status)));
    EXPECT_EQ(d.ttl_seconds, row.ttl);
    EXPECT_EQ(CacheStrategyName(d.strategy), row.strategy);
    EXPECT_EQ(d.mode, row.mode);
  }
}

TEST(BreakerTest, BaseTtlPassesThroughOnlyWhereTheTableSaysBase) {
  BaseTtl zero, max;
  ASSERT_TRUE(BaseTtl::FromSeconds(0, &zero));
  ASSERT_TRUE(BaseTtl::FromSeconds(BaseTtl::kMax, &max));
  EXPECT_EQ(Breaker::Decide(M::kNormal, Status::kNormal, max).ttl_seconds,
            BaseTtl::kMax);
  EXPECT_EQ(Breaker::Decide(M::kNormal, Status::kWarning, zero).ttl_seconds, 0);
  EXPECT_EQ(Breaker::Decide(M::kCircuitOpen, Status::kNormal, zero).ttl_seconds,
            60);
  EXPECT_EQ(Breaker::Decide(M::kCircuitOpen, Status::kNormal, max).ttl_seconds,
            60);
}

TEST(BreakerTest, NamesAreTheCliStrings) {
  EXPECT_EQ(BreakerModeName(M::kNormal), "normal");
  EXPECT_EQ(BreakerModeName(M::kHighVolatility), "high_volatility");
  EXPECT_EQ(BreakerModeName(M::kCircuitOpen), "circuit_open");
  EXPECT_EQ(CacheStrategyName(CacheStrategy::kBypass), "bypass");
  EXPECT_EQ(CacheStrategyName(CacheStrategy::kAdaptive), "adaptive");
  EXPECT_EQ(CacheStrategyName(CacheStrategy::kNormal), "normal");
}

}  // namespace
}  // namespace vix
