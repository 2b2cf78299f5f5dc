// Command-line flags shared by vixctl and vixbench: `--name value`,
// `--name=value` and boolean `--name`.
//
//   absl::StatusOr<vix::cli::Flags> flags =
//       vix::cli::Flags::Parse(args, {{"status", "base-ttl"}, {"json"}});
//   std::string status = flags->GetOr("status", "normal");
//
// Unknown flags, missing values and repeated flags are errors that name the
// flag. A flag is never taken as another flag's value: `--status --json` is
// a forgotten value (`--name=--x` passes a value starting with "--").
#ifndef VIXBREAKER_CLI_FLAGS_H_
#define VIXBREAKER_CLI_FLAGS_H_

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace vix::cli {

struct FlagSpec {
  std::set<std::string> with_value;  // e.g. "status", "base-ttl"
  std::set<std::string> boolean;     // e.g. "json"
};

class Flags {
 public:
  // Parses `args` (the words after the command) against `spec`.
  static absl::StatusOr<Flags> Parse(const std::vector<std::string>& args,
                                     const FlagSpec& spec);

  bool Has(absl::string_view name) const;
  // The value as typed; empty for a boolean flag.
  std::optional<std::string> Get(absl::string_view name) const;
  std::string GetOr(absl::string_view name, absl::string_view fallback) const;

  // A number in [min, max], or `fallback` when absent. The error quotes the
  // value as typed and the range in the flag's own unit.
  absl::StatusOr<double> GetDouble(absl::string_view name, double fallback,
                                   double min, double max) const;
  absl::StatusOr<int64_t> GetInt(absl::string_view name, int64_t fallback,
                                 int64_t min, int64_t max) const;

 private:
  std::map<std::string, std::string, std::less<>> values_;
};

}  // namespace vix::cli

#endif  // VIXBREAKER_CLI_FLAGS_H_
