// Command-line flags for vixctl: `--name value`, `--name=value` and boolean
// `--name`. Unknown flags, missing values and repeated flags are errors that
// name the flag.
#ifndef VIXBREAKER_TOOLS_VIXCTL_FLAGS_H_
#define VIXBREAKER_TOOLS_VIXCTL_FLAGS_H_

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace vix::ctl {

struct FlagSpec {
  std::set<std::string> with_value;  // e.g. "status", "base-ttl"
  std::set<std::string> boolean;     // e.g. "json"
};

class Flags {
 public:
  // Parses args (after the command words). Every command also accepts
  // --segment NAME and --json.
  static absl::StatusOr<Flags> Parse(const std::vector<std::string>& args,
                                     FlagSpec spec);

  bool Has(absl::string_view name) const;
  std::optional<std::string> Get(absl::string_view name) const;
  bool json() const { return Has("json"); }
  // --segment, else VIX_SEGMENT, else "vixbreaker".
  std::string segment() const;

 private:
  std::map<std::string, std::string, std::less<>> values_;
};

}  // namespace vix::ctl

#endif  // VIXBREAKER_TOOLS_VIXCTL_FLAGS_H_
