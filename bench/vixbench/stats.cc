#include "stats.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/numbers.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

namespace vix::bench {

void LogBuckets::Add(double ns, uint64_t count) {
  int i = 0;
  if (ns > kLowestNs) {
    i = static_cast<int>(std::floor(std::log10(ns / kLowestNs) * kPerDecade));
  }
  counts_[std::clamp(i, 0, kCount - 1)] += count;
}

void LogBuckets::Merge(const LogBuckets& other) {
  for (int i = 0; i < kCount; ++i) counts_[i] += other.counts_[i];
}

double LogBuckets::LowerNs(int i) {
  return kLowestNs * std::pow(10.0, static_cast<double>(i) / kPerDecade);
}

std::string LogBuckets::Serialize() const {
  return absl::StrJoin(counts_, " ");
}

bool LogBuckets::Parse(const std::string& line) {
  std::vector<absl::string_view> parts =
      absl::StrSplit(line, ' ', absl::SkipEmpty());
  if (parts.size() != counts_.size()) return false;
  for (size_t i = 0; i < parts.size(); ++i) {
    if (!absl::SimpleAtoi(parts[i], &counts_[i])) return false;
  }
  return true;
}

namespace {

double PerCallNs(uint64_t ticks, double ticks_per_ns, int calls,
                 uint64_t overhead_ticks) {
  const uint64_t net = ticks > overhead_ticks ? ticks - overhead_ticks : 0;
  return static_cast<double>(net) / ticks_per_ns / calls;
}

}  // namespace

TickHistogram::TickHistogram(uint32_t dense_limit) : dense_(dense_limit) {
  outliers_.reserve(1 << 16);  // so recording never allocates in practice
}

uint64_t TickHistogram::Quantile(double q) const {
  const uint64_t rank = std::max<uint64_t>(
      1, static_cast<uint64_t>(std::ceil(q * static_cast<double>(count_))));
  uint64_t seen = 0;
  for (size_t t = 0; t < dense_.size(); ++t) {
    seen += dense_[t];
    if (seen >= rank) return t;
  }
  std::vector<uint64_t> sorted = outliers_;
  std::sort(sorted.begin(), sorted.end());
  return sorted[rank - seen - 1];
}

Summary TickHistogram::Summarize(double ticks_per_ns, int calls,
                                 uint64_t overhead_ticks) const {
  Summary s;
  s.samples = count_;
  if (count_ == 0) return s;
  auto per_call = [&](uint64_t ticks) {
    return PerCallNs(ticks, ticks_per_ns, calls, overhead_ticks);
  };
  s.min = per_call(Quantile(0));
  s.p50 = per_call(Quantile(0.50));
  s.p90 = per_call(Quantile(0.90));
  s.p99 = per_call(Quantile(0.99));
  s.p999 = per_call(Quantile(0.999));
  s.max = per_call(Quantile(1.0));
  return s;
}

void TickHistogram::AddTo(LogBuckets* buckets, double ticks_per_ns, int calls,
                          uint64_t overhead_ticks) const {
  auto per_call = [&](uint64_t ticks) {
    return PerCallNs(ticks, ticks_per_ns, calls, overhead_ticks);
  };
  for (size_t t = 0; t < dense_.size(); ++t) {
    if (dense_[t] != 0) buckets->Add(per_call(t), dense_[t]);
  }
  for (uint64_t t : outliers_) buckets->Add(per_call(t));
}

Summary SummarizeNs(std::vector<double> samples) {
  Summary s;
  s.samples = samples.size();
  if (samples.empty()) return s;
  std::sort(samples.begin(), samples.end());
  auto at = [&](double q) {
    const size_t rank =
        static_cast<size_t>(std::ceil(q * static_cast<double>(samples.size())));
    return samples[std::clamp<size_t>(rank, 1, samples.size()) - 1];
  };
  s.min = samples.front();
  s.p50 = at(0.50);
  s.p90 = at(0.90);
  s.p99 = at(0.99);
  s.p999 = at(0.999);
  s.max = samples.back();
  return s;
}

double Median(std::vector<double> values) {
  if (values.empty()) return NAN;
  std::sort(values.begin(), values.end());
  const size_t n = values.size();
  return n % 2 == 1 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

}  // namespace vix::bench
