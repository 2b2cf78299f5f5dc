// Latency distributions. Samples are recorded between timed windows, never
// inside one, so recording costs the measured code nothing; summaries and
// plot buckets are computed afterwards.
#ifndef VIXBREAKER_TOOLS_VIXBENCH_STATS_H_
#define VIXBREAKER_TOOLS_VIXBENCH_STATS_H_

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace vix::bench {

// Percentiles of one distribution, in nanoseconds.
struct Summary {
  uint64_t samples = 0;
  double min = 0;
  double p50 = 0;
  double p90 = 0;
  double p99 = 0;
  double p999 = 0;
  double max = 0;
};

// Log-spaced buckets shared by every figure so they overlay on one plot:
// 20 per decade from 0.1 ns to 100 s.
class LogBuckets {
 public:
  static constexpr int kPerDecade = 20;
  static constexpr double kLowestNs = 0.1;
  static constexpr int kCount = 12 * kPerDecade;

  void Add(double ns, uint64_t count = 1);
  void Merge(const LogBuckets& other);
  // Lower edge of bucket i; bucket i covers [LowerNs(i), LowerNs(i + 1)).
  static double LowerNs(int i);
  uint64_t count(int i) const { return counts_[i]; }
  // "c0 c1 ... cN": a line a worker sends its parent.
  std::string Serialize() const;
  bool Parse(const std::string& line);

 private:
  std::array<uint64_t, kCount> counts_{};
};

// Exact distribution of small integer samples (timer ticks of one batch):
// one increment per sample in a dense array, a list for the rare outliers.
class TickHistogram {
 public:
  explicit TickHistogram(uint32_t dense_limit = 1u << 16);
  void Add(uint64_t ticks) {
    if (ticks < dense_.size()) {
      ++dense_[ticks];
    } else {
      outliers_.push_back(ticks);
    }
    ++count_;
  }
  uint64_t count() const { return count_; }
  // Summary in ns per call: each sample covers `calls` calls and includes
  // `overhead_ticks` of timer cost, which is subtracted.
  Summary Summarize(double ticks_per_ns, int calls,
                    uint64_t overhead_ticks) const;
  void AddTo(LogBuckets* buckets, double ticks_per_ns, int calls,
             uint64_t overhead_ticks) const;

 private:
  // The smallest sample with at least q * count samples at or below it.
  uint64_t Quantile(double q) const;
  std::vector<uint64_t> dense_;
  std::vector<uint64_t> outliers_;
  uint64_t count_ = 0;
};

// Summary of samples already in ns (slow figures: Redis, propagation).
Summary SummarizeNs(std::vector<double> samples);

// Median of per-repetition values (the figure vixbench reports).
double Median(std::vector<double> values);

}  // namespace vix::bench

#endif  // VIXBREAKER_TOOLS_VIXBENCH_STATS_H_
