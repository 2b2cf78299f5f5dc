// Configuration of policy and episodes, and its text form.
//
// The text form is one `key = value` per line; `#` starts a comment that runs
// to the end of the line (so keywords cannot contain `#`).
//   tiers.high      = 60, 180, 360     # minutes at which tiers 2, 3, 4 start
//   ttls.high       = 5, 30, 60        # TTL seconds of tiers 2, 3, 4
//   keywords.high   = champions league, ucl, final
//   keywords.medium = premier league, la liga
//   cap_at_base     = false
//   clear_after_s   = 0
//   deadman_s       = 86400
// Unknown keys, duplicate keys and bad values are errors that name the line.
#ifndef VIXBREAKER_CORE_CONFIG_H_
#define VIXBREAKER_CORE_CONFIG_H_

#include <cstdint>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "vixbreaker/core/policy.h"

namespace vix {

// How episodes behave (SPEC 3).
struct EpisodeConfig {
  // Non-panic observations needed for this long before an episode ends.
  double clear_after_s = 0;
  // An episode whose last panic observation is older than this has expired.
  double deadman_s = 86400;
};

struct Config {
  PolicyConfig policy;
  EpisodeConfig episode;
};

// Validates an EpisodeConfig: both finite, clear_after_s >= 0,
// deadman_s > 0.
absl::Status ValidateEpisodeConfig(const EpisodeConfig& config);

// Parses the text form above, starting from the defaults; validates the
// result (Policy::Create and ValidateEpisodeConfig).
absl::StatusOr<Config> ParseConfig(absl::string_view text);

}  // namespace vix

#endif  // VIXBREAKER_CORE_CONFIG_H_
