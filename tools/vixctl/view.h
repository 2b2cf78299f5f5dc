// What every read-only view (status, watch, metrics, serve, scope list)
// sets up: its flags, the segment name and an inspector configured like
// the deciding processes (VIX_CONFIG). Failures print one line and yield
// the exit code.
#ifndef VIXBREAKER_TOOLS_VIXCTL_VIEW_H_
#define VIXBREAKER_TOOLS_VIXCTL_VIEW_H_

#include <cstdint>
#include <optional>
#include <string>
#include <variant>

#include "commands.h"
#include "flags.h"
#include "vixbreaker/inspect/snapshot.h"

namespace vix::ctl {

struct ViewSetup {
  Flags flags;
  std::string segment;
  std::optional<inspect::Inspector> inspector;
};

// Parses flags and builds the inspector; returns an exit code on failure.
std::variant<ViewSetup, int> SetUpView(const Args& args, FlagSpec spec);

// --now UNIX_SECONDS (reproducible output), else the real time.
absl::StatusOr<int64_t> NowFrom(const Flags& flags);

// Reads the segment (checked first: a directory or an empty file is named
// at once) at --now; the error, with hints, on failure.
absl::StatusOr<inspect::Snapshot> Inspect(const ViewSetup& setup,
                                          int64_t now_ns);

// Inspect at --now for a one-shot command; on failure, the exit code.
std::variant<inspect::Snapshot, int> OneSnapshot(const ViewSetup& setup);

// A one-shot view (status, metrics, scope list): its flags, --now among
// them, and the snapshot at --now; on failure, the exit code.
struct OneShot {
  ViewSetup view;
  inspect::Snapshot snapshot;
};
std::variant<OneShot, int> OneShotView(const Args& args);

}  // namespace vix::ctl

#endif  // VIXBREAKER_TOOLS_VIXCTL_VIEW_H_
