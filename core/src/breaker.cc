#include "vixbreaker/core/breaker.h"

#include <cmath>

#include "absl/strings/str_cat.h"

namespace vix {
namespace {

absl::Status CheckRatio(absl::string_view name, double value) {
  if (std::isfinite(value) && value > 0 && value < 1) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat("breaker threshold ", name, " = ", value,
                   " must be a finite ratio strictly between 0 and 1"));
}

absl::Status CheckBelow(absl::string_view lower, double lower_value,
                        absl::string_view upper, double upper_value) {
  if (lower_value < upper_value) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat("breaker threshold ", lower, " = ", lower_value,
                   " must be below ", upper, " = ", upper_value,
                   ", or a steady panic ratio would make the mode "
                   "oscillate; lower it"));
}

}  // namespace

absl::string_view BreakerModeName(BreakerMode mode) {
  switch (mode) {
    case BreakerMode::kNormal:
      return "normal";
    case BreakerMode::kHighVolatility:
      return "high_volatility";
    case BreakerMode::kCircuitOpen:
      return "circuit_open";
  }
  return "invalid_breaker_mode";
}

absl::string_view CacheStrategyName(CacheStrategy strategy) {
  switch (strategy) {
    case CacheStrategy::kBypass:
      return "bypass";
    case CacheStrategy::kAdaptive:
      return "adaptive";
    case CacheStrategy::kNormal:
      return "normal";
  }
  return "invalid_strategy";
}

absl::Status ValidateBreakerThresholds(const BreakerThresholds& t) {
  for (absl::Status s :
       {CheckRatio("high_enter", t.high_enter),
        CheckRatio("high_exit", t.high_exit),
        CheckRatio("open_enter", t.open_enter),
        CheckRatio("open_exit", t.open_exit),
        CheckBelow("high_exit", t.high_exit, "high_enter", t.high_enter),
        CheckBelow("high_enter", t.high_enter, "open_enter", t.open_enter),
        CheckBelow("open_exit", t.open_exit, "open_enter", t.open_enter)}) {
    if (!s.ok()) return s;
  }
  return absl::OkStatus();
}

absl::StatusOr<Breaker> Breaker::Create(const BreakerThresholds& thresholds) {
  absl::Status valid = ValidateBreakerThresholds(thresholds);
  if (!valid.ok()) return valid;
  return Breaker(thresholds);
}

BreakerMode Breaker::Next(BreakerMode current,
                          double panic_ratio) const noexcept {
  const BreakerThresholds& t = thresholds_;
  switch (current) {
    case BreakerMode::kNormal:
      return panic_ratio > t.high_enter ? BreakerMode::kHighVolatility
                                        : BreakerMode::kNormal;
    case BreakerMode::kHighVolatility:
      if (panic_ratio > t.open_enter) return BreakerMode::kCircuitOpen;
      if (panic_ratio < t.high_exit) return BreakerMode::kNormal;
      return BreakerMode::kHighVolatility;
    case BreakerMode::kCircuitOpen:
      return panic_ratio < t.open_exit ? BreakerMode::kHighVolatility
                                       : BreakerMode::kCircuitOpen;
  }
  return current;
}

BreakerDecision Breaker::Decide(BreakerMode mode, Status status,
                                BaseTtl base_ttl) noexcept {
  constexpr CacheStrategy kBypass = CacheStrategy::kBypass;
  constexpr CacheStrategy kAdaptive = CacheStrategy::kAdaptive;
  constexpr CacheStrategy kNormal = CacheStrategy::kNormal;
  constexpr int32_t kBase = -1;  // placeholder for the caller's base TTL
  struct Cell {
    int32_t ttl;
    CacheStrategy strategy;
  };
  // [mode][status]; status order: normal, warning, panic.
  static constexpr Cell kTable[kBreakerModeCount][kStatusCount] = {
      {{kBase, kNormal}, {kBase, kNormal}, {0, kBypass}},
      {{kBase, kNormal}, {10, kAdaptive}, {5, kAdaptive}},
      {{60, kNormal}, {30, kAdaptive}, {10, kAdaptive}},
  };
  const Cell& cell = kTable[static_cast<int>(mode)][static_cast<int>(status)];
  BreakerDecision d;
  d.ttl_seconds = cell.ttl == kBase ? base_ttl.seconds() : cell.ttl;
  d.strategy = cell.strategy;
  d.mode = mode;
  return d;
}

}  // namespace vix
