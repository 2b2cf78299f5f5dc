// Scope names as they are stored in the segment: up to 47 bytes of
// [A-Za-z0-9_.:-] in six atomic words, NUL padded.
#ifndef VIXBREAKER_SHM_SCOPE_NAME_H_
#define VIXBREAKER_SHM_SCOPE_NAME_H_

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "vixbreaker/shm/layout.h"

namespace vix::shm {

inline constexpr absl::string_view kGlobalScopeName = "global";

// 1..47 characters of [A-Za-z0-9_.:-].
absl::Status ValidateScopeName(absl::string_view name);

// Relaxed stores: the caller publishes the scope with a release store of
// its state word afterwards.
void WriteScopeName(Scope& scope, absl::string_view name);

// Reads the name (relaxed loads; call after an acquire load of the state).
std::string ReadScopeName(const Scope& scope);

}  // namespace vix::shm

#endif  // VIXBREAKER_SHM_SCOPE_NAME_H_
