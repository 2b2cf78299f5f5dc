// vixctl commands (SPEC 12). Each takes the arguments after its command
// words and returns the process exit code. Errors print one line on stderr.
#ifndef VIXBREAKER_TOOLS_VIXCTL_COMMANDS_H_
#define VIXBREAKER_TOOLS_VIXCTL_COMMANDS_H_

#include <string>
#include <vector>

#include "absl/status/status.h"

namespace vix::ctl {

// Exit codes a script can use (SPEC 9, 12).
inline constexpr int kExitOk = 0;
inline constexpr int kExitError = 1;         // failed (see stderr)
inline constexpr int kExitUsage = 2;         // bad flags or values
inline constexpr int kExitNoSegment = 3;     // the segment does not exist
inline constexpr int kExitIncompatible = 4;  // corrupt or foreign version
inline constexpr int kExitMirrorUnhealthy = 5;
inline constexpr int kExitPermission = 6;  // another user's, or open to all

using Args = std::vector<std::string>;

int RunPolicy(const Args& args);
int RunDecide(const Args& args);
int RunPanic(const Args& args);  // args[0] is "start" or "end"
int RunDestroy(const Args& args);
int RunStatus(const Args& args);
int RunWatch(const Args& args);
int RunMetrics(const Args& args);
int RunServe(const Args& args);
int RunMirror(const Args& args);
int RunWindow(const Args& args);
int RunZscore(const Args& args);
int RunScope(const Args& args);  // args[0] is "list" or "rm"

// Prints "vixctl: <message>" on stderr and returns `exit_code`.
int Fail(int exit_code, absl::string_view message);
int Fail(int exit_code, const absl::Status& status);

// The exit code for a segment that could not be opened, one per status
// code: kExitNoSegment for NotFound; kExitIncompatible for DataLoss
// (corrupt, truncated, not a segment), FailedPrecondition (another layout
// version, not a regular file, empty) and DeadlineExceeded (never made
// ready); kExitPermission for PermissionDenied (owner or mode); else
// kExitError.
int ExitCodeForSegmentError(const absl::Status& status);

}  // namespace vix::ctl

#endif  // VIXBREAKER_TOOLS_VIXCTL_COMMANDS_H_
