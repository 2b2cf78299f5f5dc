// `vixctl watch`: what changed between two snapshots, and frames that
// redraw a terminal in place without flicker (cursor home, overwrite each
// line, clear what is left; never a full clear).
#ifndef VIXBREAKER_INSPECT_WATCH_VIEW_H_
#define VIXBREAKER_INSPECT_WATCH_VIEW_H_

#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "vixbreaker/inspect/snapshot.h"
#include "vixbreaker/inspect/status_format.h"
#include "vixbreaker/inspect/terminal.h"

namespace vix::inspect {

struct Change {
  int64_t at_ns = 0;   // the snapshot's `now`
  std::string key;     // as in status_format.h (TierKey, kMirrorKey, ...)
  bool worse = false;  // a tier moving up, a mirror going unhealthy, ...
  std::string text;    // "global high_stakes: tier 1 -> 2"
};

// Remembers the last snapshot and the recent changes.
class ChangeTracker {
 public:
  // Changes stay highlighted for `hold_ns`; the last `max_recent` are listed.
  explicit ChangeTracker(int64_t hold_ns = 5'000'000'000,
                         size_t max_recent = 6);

  // Records what differs from the previous snapshot (nothing the first
  // time, or after the segment was re-created: a new generation).
  void Observe(const Snapshot& snapshot);

  // Keys changed within the hold time before `now_ns`.
  Highlights Current(int64_t now_ns) const;
  const std::deque<Change>& recent() const { return recent_; }
  int64_t hold_ns() const { return hold_ns_; }

 private:
  void Note(int64_t at_ns, std::string key, bool worse, std::string text);
  void CompareScopes(const Snapshot& before, const Snapshot& after);
  void CompareMirror(const Snapshot& before, const Snapshot& after);
  void CompareProcesses(const Snapshot& before, const Snapshot& after);

  int64_t hold_ns_;
  size_t max_recent_;
  std::optional<Snapshot> last_;
  std::deque<Change> recent_;  // newest first
};

// Scopes with a running episode first, then expired ones, then idle ones,
// each group in table order.
std::vector<ScopeView> ScopesActiveFirst(const std::vector<ScopeView>& scopes);

// The text of one frame for a screen of `size`. From kFullDetailColumns
// columns: a title, the status table with changed cells highlighted, and
// the recent changes. Narrower: a compact frame that fits `size.rows` (the
// health, mirror, breaker and process lines, then as many scopes as fit,
// active first, the rest summarised as "+N idle scopes", then the latest
// changes).
inline constexpr int kFullDetailColumns = 150;
std::string RenderWatchFrame(const Snapshot& snapshot,
                             const ChangeTracker& tracker, ScreenSize size);

// The frame shown while the segment cannot be read.
std::string RenderWatchError(absl::string_view segment, absl::string_view error,
                             int64_t now_ns);

// Terminal bytes that draw `text` over the previous frame: cursor home; each
// line clipped to `columns` visible characters (a clipped line ends in '>')
// and followed by clear to end of line; at most `rows` lines; then clear to
// end of screen.
std::string ToScreenUpdate(absl::string_view text, int columns, int rows);

}  // namespace vix::inspect

#endif  // VIXBREAKER_INSPECT_WATCH_VIEW_H_
