#include "vixbreaker/cli/values.h"

#include <cmath>
#include <limits>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "vixbreaker/core/parse.h"

namespace vix::ctl {
namespace {

// Whole seconds int64 nanoseconds hold (2262-04-11); kept below by one.
constexpr int64_t kMaxSeconds =
    std::numeric_limits<int64_t>::max() / 1'000'000'000 - 1;

std::string Quoted(absl::string_view text) {
  return absl::StrCat("\"", text.substr(0, 64), text.size() > 64 ? "..." : "",
                      "\"");
}

}  // namespace

absl::StatusOr<int64_t> ParseUnixSecondsFlag(absl::string_view flag,
                                             absl::string_view text) {
  absl::StatusOr<double> seconds = ParseFiniteDouble(text, flag);
  if (!seconds.ok()) return seconds.status();
  if (!(*seconds > 0) || *seconds > static_cast<double>(kMaxSeconds)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "bad ", flag, " ", Quoted(text),
        ": expected Unix seconds greater than 0 and at most ", kMaxSeconds));
  }
  return static_cast<int64_t>(std::llround(*seconds * 1e9));
}

absl::StatusOr<int64_t> ParseStartFlag(absl::string_view text, int64_t now_ns,
                                       int64_t max_ahead_ns) {
  absl::StatusOr<int64_t> at = ParseUnixSecondsFlag("--at", text);
  if (!at.ok()) return at.status();
  if (*at - now_ns > max_ahead_ns) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "bad --at %s: %d s in the future; a start may be at most %d s ahead "
        "of now (%d), the clock lead the Redis mirror accepts",
        Quoted(text), (*at - now_ns) / 1'000'000'000,
        max_ahead_ns / 1'000'000'000, now_ns / 1'000'000'000));
  }
  return *at;
}

absl::StatusOr<double> ParseAgeMinutes(absl::string_view text) {
  absl::StatusOr<double> minutes = ParseFiniteDouble(text, "--age-min");
  if (!minutes.ok()) return minutes.status();
  const int64_t max_minutes = kMaxSeconds / 60;
  if (std::fabs(*minutes) > static_cast<double>(max_minutes)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "bad --age-min ", Quoted(text), ": expected minutes from -",
        max_minutes, " to ", max_minutes));
  }
  return *minutes;
}

absl::StatusOr<double> ParsePositiveSeconds(absl::string_view flag,
                                            absl::string_view text) {
  absl::StatusOr<double> seconds = ParseFiniteDouble(text, flag);
  if (!seconds.ok()) return seconds.status();
  if (!(*seconds > 0)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "bad ", flag, " ", Quoted(text), ": expected seconds greater than 0"));
  }
  return *seconds;
}

}  // namespace vix::ctl
