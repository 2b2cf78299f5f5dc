// vixctl's usage text: one entry per command, printed by `vixctl help
// [COMMAND]`, `vixctl COMMAND --help` (or -h) and, for the overview, on a
// bad command line.
#ifndef VIXBREAKER_TOOLS_VIXCTL_HELP_H_
#define VIXBREAKER_TOOLS_VIXCTL_HELP_H_

#include <optional>
#include <string>

#include "absl/strings/string_view.h"

namespace vix::ctl {

// Every command with its one-line synopsis, and the global flags.
std::string OverviewHelp();

// The command's synopsis, every flag it takes and its exit codes;
// nullopt for an unknown command.
std::optional<std::string> CommandHelp(absl::string_view command);

// "vixctl 0.1.0 (segment layout 1.0)".
std::string VersionText();

}  // namespace vix::ctl

#endif  // VIXBREAKER_TOOLS_VIXCTL_HELP_H_
