// Strict parsers for everything that crosses a process boundary: CLI flags,
// configuration text, Redis values. Each error names the bad value.
//
// Nothing is trimmed, nothing is case-folded: "Panic", " 60" and "0x10" are
// errors, never "not panic" or 0 (SPEC 2.3, difference 4).
#ifndef VIXBREAKER_CORE_PARSE_H_
#define VIXBREAKER_CORE_PARSE_H_

#include <cstdint>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "vixbreaker/core/types.h"

namespace vix {

// `normal`, `warning` or `panic`, lower case.
absl::StatusOr<Status> ParseStatus(absl::string_view text);

// `high`, `medium`, `low` or the full names `high_stakes`, ...
absl::StatusOr<Stakes> ParseStakes(absl::string_view text);

// A decimal integer 0..2^31-1.
absl::StatusOr<BaseTtl> ParseBaseTtl(absl::string_view text);

// A decimal integer with optional leading '-', no spaces, within int64.
absl::StatusOr<int64_t> ParseInt64(absl::string_view text);

// A finite decimal number (digits, one optional '.', optional exponent and
// leading '-'); no hex, no inf/nan, no spaces. `what` names the value in
// errors ("--age-min", "Redis value").
absl::StatusOr<double> ParseFiniteDouble(absl::string_view text,
                                         absl::string_view what);

// Unix seconds as a decimal float (Python's float text, e.g.
// "1764420000.123456"), finite and > 0, returned as Unix nanoseconds.
absl::StatusOr<int64_t> ParseUnixSecondsToNs(absl::string_view text);

// Converts a finite, non-negative number of seconds or minutes to
// nanoseconds, failing (naming `what`) if it overflows int64.
absl::StatusOr<int64_t> SecondsToNs(double seconds, absl::string_view what);

}  // namespace vix

#endif  // VIXBREAKER_CORE_PARSE_H_
