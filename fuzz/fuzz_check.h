// Invariant checks for the fuzz targets: a broken invariant is a crash, so
// libFuzzer saves the input that broke it.
#ifndef VIXBREAKER_FUZZ_FUZZ_CHECK_H_
#define VIXBREAKER_FUZZ_FUZZ_CHECK_H_

#include <cstdio>
#include <cstdlib>

#include "absl/strings/string_view.h"

namespace vix::fuzz {

[[noreturn]] inline void InvariantFailed(const char* condition,
                                         const char* file, int line,
                                         absl::string_view detail) {
  std::fprintf(stderr, "%s:%d: invariant failed: %s (%.*s)\n", file, line,
               condition, static_cast<int>(detail.size()), detail.data());
  std::abort();
}

// Error messages quote at most 64 bytes of input (core/src/parse.cc), so a
// longer message means user text leaked into it unbounded.
inline constexpr size_t kMaxErrorMessage = 512;

}  // namespace vix::fuzz

// VIX_FUZZ_CHECK(condition, detail): aborts naming the condition and detail.
#define VIX_FUZZ_CHECK(condition, detail)                                   \
  do {                                                                      \
    if (!(condition)) {                                                     \
      ::vix::fuzz::InvariantFailed(#condition, __FILE__, __LINE__, detail); \
    }                                                                       \
  } while (0)

#endif  // VIXBREAKER_FUZZ_FUZZ_CHECK_H_
