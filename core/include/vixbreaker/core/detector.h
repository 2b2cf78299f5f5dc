// The volatility detector (SPEC 7): turns odds into a status by the z-score
// of the latest odds against the market's recent samples. Pure: callers pass
// the time, nothing is read from a clock.
//
//   vix::VolatilityDetector detector = *vix::VolatilityDetector::Create({});
//   absl::StatusOr<vix::ZScore> z = detector.Observe("1x2", 2.15, now_ns);
//   vix::Status match = detector.MatchStatus(now_ns);  // panic if any market
//
// z = |current - mean| / s, where mean and s (the sample standard deviation,
// n - 1) are taken over the market's samples before `current`; fewer than 3
// samples, or s == 0, give z = 0. The status is decided on the exact z:
// z >= 2.0 panic, z >= 1.5 warning, else normal.
#ifndef VIXBREAKER_CORE_DETECTOR_H_
#define VIXBREAKER_CORE_DETECTOR_H_

#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "vixbreaker/core/types.h"

namespace vix {

// Defaults are SPEC 7.
struct DetectorConfig {
  int64_t window_ns = 30 * kNanosPerMinute;  // samples older are forgotten
  size_t max_samples = 100;                  // per market; oldest dropped
  size_t min_samples = 3;                    // fewer give z = 0
  double panic_z = 2.0;
  double warning_z = 1.5;
};

// Requires window_ns > 0, 2 <= min_samples <= max_samples (a sample
// deviation needs two samples), finite 0 < warning_z < panic_z.
absl::Status ValidateDetectorConfig(const DetectorConfig& config);

struct ZScore {
  double z = 0;
  Status status = Status::kNormal;
};

// Odds must be finite and > 0; the error names `what` and the value.
absl::Status ValidateOdds(double odds, absl::string_view what);

// The status for an exact z under `config`'s thresholds.
Status StatusForZ(double z, const DetectorConfig& config = {});

// One market, no state: `current` against `history` (oldest first, at most
// config.max_samples are used, the newest). An empty history, or any odds
// that fail ValidateOdds, is InvalidArgument.
absl::StatusOr<ZScore> ComputeZScore(absl::Span<const double> history,
                                     double current,
                                     const DetectorConfig& config = {});

// A match's status from its markets' statuses: the most severe one, so a
// match is in panic if any market is. No markets: normal.
Status CombineMarketStatuses(absl::Span<const Status> market_statuses);

// Per-market samples of one match (or any set of markets). Not thread-safe:
// one detector per match, owned by the thread that feeds it.
class VolatilityDetector {
 public:
  static absl::StatusOr<VolatilityDetector> Create(
      const DetectorConfig& config);

  // Forgets the market's samples older than the window, scores `odds`
  // against those left, then keeps `odds` as a sample at `now_ns`. Bad odds
  // are refused (InvalidArgument) and not kept.
  absl::StatusOr<ZScore> Observe(absl::string_view market, double odds,
                                 int64_t now_ns);

  // CombineMarketStatuses over the last status of each market observed
  // within the window ending at now_ns.
  Status MatchStatus(int64_t now_ns) const;

  // Samples currently kept for `market` (0 if unknown).
  size_t SampleCount(absl::string_view market) const;

  const DetectorConfig& config() const { return config_; }

 private:
  struct Sample {
    int64_t at_ns;
    double odds;
  };
  struct Market {
    std::deque<Sample> samples;
    Status last_status = Status::kNormal;
    int64_t last_at_ns = 0;
  };
  explicit VolatilityDetector(const DetectorConfig& config) : config_(config) {}

  DetectorConfig config_;
  std::map<std::string, Market, std::less<>> markets_;
};

}  // namespace vix

#endif  // VIXBREAKER_CORE_DETECTOR_H_
