// Placeholder until the Redis mirror lands (issue 3).
#include "commands.h"

namespace vix::ctl {
int RunMirror(const Args&) { return Fail(kExitError, "mirror: not built yet"); }
}  // namespace vix::ctl
