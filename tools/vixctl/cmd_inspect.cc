// Placeholder until the inspector lands (issue 5): status, watch, metrics,
// serve. Each fails loudly rather than pretending to work.
#include "commands.h"

namespace vix::ctl {
int RunStatus(const Args&) { return Fail(kExitError, "status: not built yet"); }
int RunWatch(const Args&) { return Fail(kExitError, "watch: not built yet"); }
int RunMetrics(const Args&) { return Fail(kExitError, "metrics: not built yet"); }
int RunServe(const Args&) { return Fail(kExitError, "serve: not built yet"); }
}  // namespace vix::ctl
