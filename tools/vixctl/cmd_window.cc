// Placeholder until the rolling-window breaker lands (issue 6).
#include "commands.h"

namespace vix::ctl {
int RunWindow(const Args&) { return Fail(kExitError, "window: not built yet"); }
int RunZscore(const Args&) { return Fail(kExitError, "zscore: not built yet"); }
}  // namespace vix::ctl
