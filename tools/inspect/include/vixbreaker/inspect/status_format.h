// `vixctl status` output: the human table and the JSON object (SPEC 9, 12).
//
// JSON (schema_version 1, see docs/inspector.md): times are Unix seconds
// with microseconds (null when unset), durations are seconds, the
// generation is a decimal string (it does not fit a double).
#ifndef VIXBREAKER_INSPECT_STATUS_FORMAT_H_
#define VIXBREAKER_INSPECT_STATUS_FORMAT_H_

#include <cstdint>
#include <map>
#include <string>

#include "absl/strings/string_view.h"
#include "vixbreaker/core/types.h"
#include "vixbreaker/inspect/snapshot.h"

namespace vix::inspect {

// Cells that changed recently and how (`vixctl watch`), by key.
struct Highlights {
  std::map<std::string, bool> worse_by_key;  // key -> changed for the worse
  // kStyleWorse / kStyleBetter for a highlighted key, else empty.
  absl::string_view StyleFor(const std::string& key) const;
};
std::string TierKey(absl::string_view scope, Stakes stakes);
std::string EpisodeKey(absl::string_view scope);
std::string ProcessKey(uint32_t slot);
inline constexpr absl::string_view kMirrorKey = "mirror";

// "1h30m00s", "2m05s", "45s", "3d04h"; sub-second values round down.
std::string DurationText(int64_t ns);
// "2026-11-29T16:30:00Z" (UTC, seconds), or "-" for 0.
std::string TimeText(int64_t unix_ns);

// One-line summaries (the compact watch frame): "MIRROR  healthy, ...",
// "BREAKER normal, panic ratio ...", "PROCESSES 2 alive of 3 slots, ...".
std::string MirrorSummary(const Snapshot& snapshot);
std::string BreakerSummary(const Snapshot& snapshot);
std::string ProcessesSummary(const Snapshot& snapshot);

// The table's BREAKER section and the "breaker" object of the JSON.
std::string FormatBreakerSection(const Snapshot& snapshot);
std::string FormatBreakerJson(const shm::WindowSnapshot& window);

// The multi-section table; `highlights` (may be null) colours changed cells.
std::string FormatStatusTable(const Snapshot& snapshot,
                              const Highlights* highlights = nullptr);

// One JSON object, no trailing newline.
std::string FormatStatusJson(const Snapshot& snapshot);

// One scope as in the "scopes" array of FormatStatusJson.
std::string FormatScopeJson(const ScopeView& scope);

}  // namespace vix::inspect

#endif  // VIXBREAKER_INSPECT_STATUS_FORMAT_H_
