// vixbench's flags: `--name value`, `--name=value` and boolean `--name`.
// Unknown flags and missing or malformed values are errors naming the flag.
#ifndef VIXBREAKER_TOOLS_VIXBENCH_FLAGS_H_
#define VIXBREAKER_TOOLS_VIXBENCH_FLAGS_H_

#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace vix::bench {

class Flags {
 public:
  static absl::StatusOr<Flags> Parse(const std::vector<std::string>& args,
                                     const std::set<std::string>& with_value,
                                     const std::set<std::string>& boolean);
  bool Has(absl::string_view name) const;
  std::string Get(absl::string_view name, std::string fallback = "") const;
  absl::StatusOr<double> GetDouble(absl::string_view name, double fallback,
                                   double min, double max) const;
  absl::StatusOr<int64_t> GetInt(absl::string_view name, int64_t fallback,
                                 int64_t min, int64_t max) const;

 private:
  std::map<std::string, std::string, std::less<>> values_;
};

}  // namespace vix::bench

#endif  // VIXBREAKER_TOOLS_VIXBENCH_FLAGS_H_
