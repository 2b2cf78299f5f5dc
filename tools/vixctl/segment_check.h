// What vixctl says about a segment it cannot use: the file checked before
// anything attaches (so a directory or an empty file is named at once, with
// no wait for a creator), and hints added to attach errors (who owns it,
// how to read it, how to fix its mode).
#ifndef VIXBREAKER_TOOLS_VIXCTL_SEGMENT_CHECK_H_
#define VIXBREAKER_TOOLS_VIXCTL_SEGMENT_CHECK_H_

#include <memory>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "flags.h"
#include "vixbreaker/shm/engine.h"

namespace vix::ctl {

// NotFound if /dev/shm/NAME does not exist; FailedPrecondition for a
// directory, a special file or an empty file; OK for a non-empty regular
// file (which may still fail validation).
absl::Status CheckSegmentFile(const std::string& name);

// CheckSegmentFile, then a read-only attach that validates the header, so
// a corrupt or foreign segment is one error (no engine log lines). NotFound
// if it does not exist.
absl::Status CheckSegmentUsable(const std::string& name);

// Whether the file at `path` starts with a vixbreaker header: the magic,
// or for a creator that died before publishing it, the layout major it had
// already written. An unreadable file counts as one (its removal or attach
// then says why).
bool LooksLikeSegment(const std::string& path);

// `status` (an error attaching `name`) with a hint for permission problems
// (the owner and mode, and how to read it) and, for a file that is not a
// segment, what to do instead of `vixctl destroy` (which refuses it).
absl::Status WithHints(const std::string& name, const absl::Status& status);

// For a command that may create the segment: nullopt when the segment is
// missing or usable; otherwise prints the one error line and returns the
// exit code.
std::optional<int> RefuseUnusableSegment(const std::string& name);

// An engine on --segment with the configuration of VIX_CONFIG (creating
// the segment if it is missing: check first where that must not happen).
absl::StatusOr<std::unique_ptr<shm::Engine>> OpenEngine(const Flags& flags);

// What a command that changes the segment works on: the engine, or (engine
// null) the exit code after the one error line was printed.
struct CommandEngine {
  std::unique_ptr<shm::Engine> engine;
  int exit_code = 0;
};
enum class IfMissing { kCreate, kRefuse };
// Refuses an unusable segment (and a missing one under kRefuse), then opens
// the engine with OpenEngine and refuses a segment it could not attach.
CommandEngine OpenCommandEngine(const Flags& flags, IfMissing if_missing);

}  // namespace vix::ctl

#endif  // VIXBREAKER_TOOLS_VIXCTL_SEGMENT_CHECK_H_
