// The configuration the inspector computes tiers with: the file named by
// VIX_CONFIG (the same file the deciding processes read), else the defaults.
//
// Same behaviour as vixctl's episode commands, so `status` shows the tiers
// that `decide` would return.
#ifndef VIXBREAKER_INSPECT_CONFIG_FILE_H_
#define VIXBREAKER_INSPECT_CONFIG_FILE_H_

#include "absl/status/statusor.h"
#include "vixbreaker/core/config.h"

namespace vix::inspect {

// NotFound if VIX_CONFIG names a file that cannot be read; InvalidArgument
// (prefixed with the path) if its content is invalid.
absl::StatusOr<Config> LoadConfigFromEnv();

}  // namespace vix::inspect

#endif  // VIXBREAKER_INSPECT_CONFIG_FILE_H_
