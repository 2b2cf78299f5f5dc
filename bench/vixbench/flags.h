// vixbench's flags: the parser vixctl uses (vix::cli::Flags), with a
// string-returning Get for the harness's call sites.
#ifndef VIXBREAKER_BENCH_VIXBENCH_FLAGS_H_
#define VIXBREAKER_BENCH_VIXBENCH_FLAGS_H_

#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "vixbreaker/cli/flags.h"

namespace vix::bench {

class Flags : public cli::Flags {
 public:
  static absl::StatusOr<Flags> Parse(const std::vector<std::string>& args,
                                     const std::set<std::string>& with_value,
                                     const std::set<std::string>& boolean);
  // The value, or `fallback` when the flag is absent.
  std::string Get(absl::string_view name, std::string fallback = "") const {
    return GetOr(name, fallback);
  }

 private:
  explicit Flags(cli::Flags flags) : cli::Flags(std::move(flags)) {}
};

}  // namespace vix::bench

#endif  // VIXBREAKER_BENCH_VIXBENCH_FLAGS_H_
