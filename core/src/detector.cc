#include "vixbreaker/core/detector.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "absl/strings/str_cat.h"

namespace vix {
namespace {

// Far above any real odds; keeps sums of squares of 100 samples finite.
constexpr double kMaxOdds = 1e9;

// The z of `current` against values(begin..end). All-equal samples are
// caught before dividing: rounding in the mean would otherwise turn a zero
// deviation into a tiny one and a calm market into a panic.
template <typename It, typename OddsOf>
double ZAgainst(It begin, It end, double current, size_t min_samples,
                OddsOf odds_of) {
  const size_t n = static_cast<size_t>(std::distance(begin, end));
  if (n < min_samples) return 0;
  double sum = 0;
  double low = odds_of(*begin);
  double high = low;
  for (It it = begin; it != end; ++it) {
    const double v = odds_of(*it);
    sum += v;
    low = std::min(low, v);
    high = std::max(high, v);
  }
  if (low == high) return 0;
  const double mean = sum / static_cast<double>(n);
  double squares = 0;
  for (It it = begin; it != end; ++it) {
    const double deviation = odds_of(*it) - mean;
    squares += deviation * deviation;
  }
  const double stddev = std::sqrt(squares / static_cast<double>(n - 1));
  if (stddev == 0) return 0;  // deviations too small to square
  return std::fabs(current - mean) / stddev;
}

// Samples at or before this time are out of the window ending at now_ns.
int64_t WindowCutoff(int64_t now_ns, int64_t window_ns) {
  if (now_ns < std::numeric_limits<int64_t>::min() + window_ns) {
    return std::numeric_limits<int64_t>::min();
  }
  return now_ns - window_ns;
}

bool IsValidOdds(double odds) {
  return std::isfinite(odds) && odds > 0 && odds <= kMaxOdds;
}

}  // namespace

absl::Status ValidateDetectorConfig(const DetectorConfig& c) {
  if (c.window_ns <= 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "detector window_ns = ", c.window_ns, " must be positive"));
  }
  if (c.min_samples < 2 || c.min_samples > c.max_samples) {
    return absl::InvalidArgumentError(absl::StrCat(
        "detector min_samples = ", c.min_samples,
        " must be at least 2 (a sample deviation needs two samples) and at "
        "most max_samples = ",
        c.max_samples));
  }
  if (!std::isfinite(c.warning_z) || !std::isfinite(c.panic_z) ||
      c.warning_z <= 0 || c.warning_z >= c.panic_z) {
    return absl::InvalidArgumentError(absl::StrCat(
        "detector thresholds warning_z = ", c.warning_z, ", panic_z = ",
        c.panic_z, " must be finite with 0 < warning_z < panic_z"));
  }
  return absl::OkStatus();
}

absl::Status ValidateOdds(double odds, absl::string_view what) {
  if (IsValidOdds(odds)) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat(what, " = ", odds,
                   " is not valid odds: odds must be a "
                   "finite number above 0 and at most ",
                   kMaxOdds));
}

Status StatusForZ(double z, const DetectorConfig& config) {
  if (z >= config.panic_z) return Status::kPanic;
  if (z >= config.warning_z) return Status::kWarning;
  return Status::kNormal;
}

absl::StatusOr<ZScore> ComputeZScore(absl::Span<const double> history,
                                     double current,
                                     const DetectorConfig& config) {
  absl::Status valid = ValidateDetectorConfig(config);
  if (!valid.ok()) return valid;
  if (history.empty()) {
    return absl::InvalidArgumentError(
        "odds history is empty: pass the market's previous odds, oldest "
        "first");
  }
  for (size_t i = 0; i < history.size(); ++i) {
    if (!IsValidOdds(history[i])) {
      return ValidateOdds(history[i], absl::StrCat("history[", i, "]"));
    }
  }
  valid = ValidateOdds(current, "current odds");
  if (!valid.ok()) return valid;
  if (history.size() > config.max_samples) {
    history.remove_prefix(history.size() - config.max_samples);
  }
  ZScore result;
  result.z = ZAgainst(history.begin(), history.end(), current,
                      config.min_samples, [](double v) { return v; });
  result.status = StatusForZ(result.z, config);
  return result;
}

Status CombineMarketStatuses(absl::Span<const Status> market_statuses) {
  Status worst = Status::kNormal;
  for (Status s : market_statuses) worst = std::max(worst, s);
  return worst;
}

absl::StatusOr<VolatilityDetector> VolatilityDetector::Create(
    const DetectorConfig& config) {
  absl::Status valid = ValidateDetectorConfig(config);
  if (!valid.ok()) return valid;
  return VolatilityDetector(config);
}

absl::StatusOr<ZScore> VolatilityDetector::Observe(absl::string_view market,
                                                   double odds,
                                                   int64_t now_ns) {
  if (!IsValidOdds(odds)) {
    return ValidateOdds(odds, absl::StrCat("odds for market \"", market, "\""));
  }
  auto it = markets_.find(market);
  if (it == markets_.end()) {
    it = markets_.emplace(std::string(market), Market{}).first;
  }
  Market& m = it->second;
  const int64_t cutoff = WindowCutoff(now_ns, config_.window_ns);
  while (!m.samples.empty() && m.samples.front().at_ns <= cutoff) {
    m.samples.pop_front();
  }
  ZScore result;
  result.z =
      ZAgainst(m.samples.begin(), m.samples.end(), odds, config_.min_samples,
               [](const Sample& s) { return s.odds; });
  result.status = StatusForZ(result.z, config_);
  if (m.samples.size() >= config_.max_samples) m.samples.pop_front();
  m.samples.push_back({now_ns, odds});
  m.last_status = result.status;
  m.last_at_ns = now_ns;
  return result;
}

Status VolatilityDetector::MatchStatus(int64_t now_ns) const {
  const int64_t cutoff = WindowCutoff(now_ns, config_.window_ns);
  Status worst = Status::kNormal;
  for (const auto& [name, market] : markets_) {
    if (market.last_at_ns > cutoff) worst = std::max(worst, market.last_status);
  }
  return worst;
}

size_t VolatilityDetector::SampleCount(absl::string_view market) const {
  auto it = markets_.find(market);
  return it == markets_.end() ? 0 : it->second.samples.size();
}

}  // namespace vix
