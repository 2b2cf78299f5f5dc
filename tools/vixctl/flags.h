// vixctl's flags: the shared parser (vix::cli::Flags) plus the flags every
// command takes, --segment NAME and --json.
#ifndef VIXBREAKER_TOOLS_VIXCTL_FLAGS_H_
#define VIXBREAKER_TOOLS_VIXCTL_FLAGS_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "vixbreaker/cli/flags.h"

namespace vix::ctl {

using cli::FlagSpec;

class Flags : public cli::Flags {
 public:
  // Parses args (after the command words); adds --segment and --json.
  static absl::StatusOr<Flags> Parse(const std::vector<std::string>& args,
                                     FlagSpec spec);

  bool json() const { return Has("json"); }
  // --segment, else VIX_SEGMENT, else "vixbreaker".
  std::string segment() const;

 private:
  explicit Flags(cli::Flags flags) : cli::Flags(std::move(flags)) {}
};

}  // namespace vix::ctl

#endif  // VIXBREAKER_TOOLS_VIXCTL_FLAGS_H_
