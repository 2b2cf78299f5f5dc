// Flag values vixctl converts: each error quotes the value as typed and
// states the limit in the flag's own unit.
#ifndef VIXBREAKER_TOOLS_VIXCTL_VALUES_H_
#define VIXBREAKER_TOOLS_VIXCTL_VALUES_H_

#include <cstdint>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace vix::ctl {

// A time in Unix seconds (decimal), finite and > 0, up to year 2262 (what
// int64 nanoseconds hold); e.g. flag "--now".
absl::StatusOr<int64_t> ParseUnixSecondsFlag(absl::string_view flag,
                                             absl::string_view text);

// `panic start --at`: a Unix time as above, at most `max_ahead_ns` after
// `now_ns` (what the mirror would reject as far future).
absl::StatusOr<int64_t> ParseStartFlag(absl::string_view text, int64_t now_ns,
                                       int64_t max_ahead_ns);

// `policy --age-min`: minutes, finite, |value| up to what int64 ns hold.
absl::StatusOr<double> ParseAgeMinutes(absl::string_view text);

// A duration flag in decimal seconds, > 0.
absl::StatusOr<double> ParsePositiveSeconds(absl::string_view flag,
                                            absl::string_view text);

}  // namespace vix::ctl

#endif  // VIXBREAKER_TOOLS_VIXCTL_VALUES_H_
