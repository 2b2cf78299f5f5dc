#include "figures.h"

#include <algorithm>
#include <cmath>

namespace vix::bench {

Summary MedianSummary(const std::vector<Summary>& runs) {
  auto median_of = [&](double Summary::*field) {
    std::vector<double> values;
    for (const Summary& s : runs) values.push_back(s.*field);
    return Median(values);
  };
  Summary m;
  for (const Summary& s : runs) m.samples += s.samples;
  m.min = median_of(&Summary::min);
  m.p50 = median_of(&Summary::p50);
  m.p90 = median_of(&Summary::p90);
  m.p99 = median_of(&Summary::p99);
  m.p999 = median_of(&Summary::p999);
  m.max = median_of(&Summary::max);
  return m;
}

Figure NotMeasured(std::string why) {
  Figure f;
  f.note = std::move(why);
  return f;
}

Figure MakeFigure(const std::vector<Summary>& runs, LogBuckets buckets,
                  std::string note) {
  Figure f;
  f.measured = !runs.empty();
  f.median = MedianSummary(runs);
  for (const Summary& s : runs) f.p50_by_repetition.push_back(s.p50);
  f.buckets = buckets;
  f.note = std::move(note);
  return f;
}

int Scaled(const Settings& settings, double base, int floor) {
  return std::max(
      floor, static_cast<int>(std::lround(base * settings.duration_scale)));
}

}  // namespace vix::bench
