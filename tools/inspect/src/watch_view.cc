#include "vixbreaker/inspect/watch_view.h"

#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "vixbreaker/inspect/text_table.h"

namespace vix::inspect {
namespace {

const ScopeView* FindScope(const Snapshot& s, absl::string_view name) {
  for (const ScopeView& scope : s.scopes) {
    if (scope.name == name) return &scope;
  }
  return nullptr;
}

const ProcessView* FindProcess(const Snapshot& s, uint32_t slot, int64_t pid) {
  for (const ProcessView& p : s.processes) {
    if (p.slot == slot && p.pid == pid) return &p;
  }
  return nullptr;
}

// Appends `line` clipped to `columns` visible characters; escape sequences
// are copied but not counted, and a clipped style is reset.
void AppendClipped(absl::string_view line, int columns, std::string* out) {
  int visible = 0;
  bool styled = false;
  for (size_t i = 0; i < line.size(); ++i) {
    if (line[i] == '\x1b') {
      size_t end = i + 1;
      while (end < line.size() &&
             !(line[end] >= '@' && line[end] <= '~' && end > i + 1)) {
        ++end;
      }
      absl::StrAppend(out, line.substr(i, end - i + 1));
      styled = true;
      i = end;
      continue;
    }
    if (visible == columns) break;
    out->push_back(line[i]);
    ++visible;
  }
  if (styled) absl::StrAppend(out, kStyleReset);
}

}  // namespace

ChangeTracker::ChangeTracker(int64_t hold_ns, size_t max_recent)
    : hold_ns_(hold_ns), max_recent_(max_recent) {}

void ChangeTracker::Observe(const Snapshot& snapshot) {
  if (last_.has_value() &&
      last_->header.generation == snapshot.header.generation) {
    CompareScopes(*last_, snapshot);
    CompareMirror(*last_, snapshot);
    CompareProcesses(*last_, snapshot);
  }
  last_ = snapshot;
}

void ChangeTracker::Note(int64_t at_ns, std::string key, bool worse,
                         std::string text) {
  recent_.push_front({at_ns, std::move(key), worse, std::move(text)});
  while (recent_.size() > max_recent_) recent_.pop_back();
}

void ChangeTracker::CompareScopes(const Snapshot& before,
                                  const Snapshot& after) {
  for (const ScopeView& now : after.scopes) {
    const ScopeView* was = FindScope(before, now.name);
    if (was == nullptr) continue;
    if (was->episode != now.episode) {
      Note(after.now_ns, EpisodeKey(now.name),
           now.episode != EpisodeState::kNone,
           absl::StrCat(now.name, ": episode ", EpisodeStateName(was->episode),
                        " -> ", EpisodeStateName(now.episode)));
    }
    for (int k = 0; k < kStakesCount; ++k) {
      const StakesView& a = was->stakes[k];
      const StakesView& b = now.stakes[k];
      if (a.tier == b.tier) continue;
      Note(after.now_ns, TierKey(now.name, b.stakes), b.tier > a.tier,
           absl::StrCat(now.name, " ", StakesName(b.stakes), ": tier ", a.tier,
                        " -> ", b.tier, " (", ModeName(b.mode), ")"));
    }
  }
}

void ChangeTracker::CompareMirror(const Snapshot& before,
                                  const Snapshot& after) {
  const MirrorView& a = before.mirror;
  const MirrorView& b = after.mirror;
  if (a.healthy == b.healthy) return;
  Note(after.now_ns, std::string(kMirrorKey), !b.healthy,
       b.healthy ? "mirror healthy again"
                 : absl::StrCat("mirror unhealthy: ", b.unhealthy_reason));
}

void ChangeTracker::CompareProcesses(const Snapshot& before,
                                     const Snapshot& after) {
  for (const ProcessView& p : after.processes) {
    const ProcessView* was = FindProcess(before, p.slot, p.pid);
    if (was == nullptr) {
      Note(after.now_ns, ProcessKey(p.slot), false,
           absl::StrCat("pid ", p.pid, " attached (slot ", p.slot, ")"));
    } else if (was->alive && !p.alive) {
      Note(after.now_ns, ProcessKey(p.slot), true,
           absl::StrCat("pid ", p.pid, " died holding slot ", p.slot));
    }
  }
}

Highlights ChangeTracker::Current(int64_t now_ns) const {
  Highlights highlights;
  // Oldest first, so the newest change of a key decides its colour.
  for (auto it = recent_.rbegin(); it != recent_.rend(); ++it) {
    if (now_ns - it->at_ns < hold_ns_) {
      highlights.worse_by_key[it->key] = it->worse;
    }
  }
  return highlights;
}

std::string RenderWatchFrame(const Snapshot& snapshot,
                             const ChangeTracker& tracker) {
  const Highlights highlights = tracker.Current(snapshot.now_ns);
  std::string frame = absl::StrCat(
      "vixctl watch: refreshed every second; q or Ctrl-C quits\n\n",
      FormatStatusTable(snapshot, &highlights), "\nRECENT CHANGES\n");
  if (tracker.recent().empty()) frame += "  (none yet)\n";
  for (const Change& c : tracker.recent()) {
    std::string text = c.text;
    if (snapshot.now_ns - c.at_ns < tracker.hold_ns()) {
      text =
          absl::StrCat(c.worse ? kStyleWorse : kStyleBetter, text, kStyleReset);
    }
    absl::StrAppend(&frame, "  ", TimeText(c.at_ns), "  ", text, "\n");
  }
  return frame;
}

std::string RenderWatchError(absl::string_view segment, absl::string_view error,
                             int64_t now_ns) {
  return absl::StrCat(
      "vixctl watch: refreshed every second; q or Ctrl-C quits\n\n", "segment ",
      segment, " cannot be read at ", TimeText(now_ns), ":\n  ", error,
      "\n\nwaiting for it to appear or be fixed...\n");
}

std::string ToScreenUpdate(absl::string_view text, int columns, int rows) {
  std::vector<absl::string_view> lines = absl::StrSplit(text, '\n');
  if (!lines.empty() && lines.back().empty()) lines.pop_back();
  std::string out = "\x1b[H";
  const size_t max_lines = rows > 0 ? static_cast<size_t>(rows) : 0;
  for (size_t i = 0; i < lines.size() && i < max_lines; ++i) {
    if (i > 0) out += "\r\n";  // no newline after the last: never scroll
    AppendClipped(lines[i], columns, &out);
    out += "\x1b[K";
  }
  out += "\x1b[J";
  return out;
}

}  // namespace vix::inspect
