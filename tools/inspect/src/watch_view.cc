#include "vixbreaker/inspect/watch_view.h"

#include <algorithm>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
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

// The index of the last byte of the escape sequence starting at `i`.
size_t EscapeEnd(absl::string_view line, size_t i) {
  size_t end = i + 1;
  while (end < line.size() &&
         !(line[end] >= '@' && line[end] <= '~' && end > i + 1)) {
    ++end;
  }
  return end;
}

int VisibleLength(absl::string_view line) {
  int visible = 0;
  for (size_t i = 0; i < line.size(); ++i) {
    if (line[i] == '\x1b') {
      i = EscapeEnd(line, i);
    } else {
      ++visible;
    }
  }
  return visible;
}

// Appends `line` clipped to `columns` visible characters, the last one a
// '>' when the line was cut; escape sequences are copied but not counted,
// and a clipped style is reset.
void AppendClipped(absl::string_view line, int columns, std::string* out) {
  const bool cut = VisibleLength(line) > columns;
  if (cut) --columns;
  int visible = 0;
  bool styled = false;
  for (size_t i = 0; i < line.size(); ++i) {
    if (line[i] == '\x1b') {
      const size_t end = EscapeEnd(line, i);
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
  if (cut && columns >= 0) out->push_back('>');
}

std::string ChangeLine(const Snapshot& snapshot, const ChangeTracker& tracker,
                       const Change& c) {
  std::string text = c.text;
  if (snapshot.now_ns - c.at_ns < tracker.hold_ns()) {
    text =
        absl::StrCat(c.worse ? kStyleWorse : kStyleBetter, text, kStyleReset);
  }
  return absl::StrCat(TimeText(c.at_ns), "  ", text);
}

std::string Styled(absl::string_view style, std::string text) {
  if (style.empty()) return text;
  return absl::StrCat(style, text, kStyleReset);
}

// One compact scope row: name, episode, age and the tier per stakes.
std::string CompactScopeRow(const Snapshot& s, const ScopeView& v,
                            const Highlights& hl) {
  std::string age = "-";
  if (v.running()) age = v.future_start ? "future" : DurationText(v.age_ns);
  std::string row = absl::StrFormat(
      "  %-24s %s %-9s",
      v.name.size() > 24 ? v.name.substr(0, 23) + ">" : v.name,
      Styled(hl.StyleFor(EpisodeKey(v.name)),
             absl::StrFormat("%-8s", EpisodeStateName(v.episode))),
      age);
  for (const StakesView& k : v.stakes) {
    absl::StrAppend(
        &row, " ",
        Styled(
            hl.StyleFor(TierKey(v.name, k.stakes)),
            absl::StrFormat("%-6s", v.running() ? absl::StrCat(k.tier) : "0")));
  }
  (void)s;
  return row;
}

// "+12 idle scopes", or with the active and expired ones counted.
std::string HiddenScopesLine(const std::vector<ScopeView>& hidden) {
  size_t idle = 0, running = 0;
  for (const ScopeView& v : hidden) {
    if (v.running()) {
      ++running;
    } else if (v.episode == EpisodeState::kNone) {
      ++idle;
    }
  }
  if (idle == hidden.size()) {
    return absl::StrCat("  +", idle, " idle scope", idle == 1 ? "" : "s");
  }
  return absl::StrCat("  +", hidden.size(), " more scopes (", running,
                      " active, ", idle, " idle); widen the terminal");
}

std::string RenderCompactFrame(const Snapshot& s, const ChangeTracker& tracker,
                               int rows) {
  const Highlights hl = tracker.Current(s.now_ns);
  std::vector<std::string> lines = {
      absl::StrCat("vixctl watch ", s.header.segment, "  ", TimeText(s.now_ns),
                   "  q quits"),
      absl::StrCat("HEALTH  ", HealthOf(s) == Health::kHealthy
                                   ? "healthy"
                                   : "mirror configured but unhealthy"),
      Styled(hl.StyleFor(std::string(kMirrorKey)), MirrorSummary(s)),
      BreakerSummary(s),
      ProcessesSummary(s),
      "SCOPES  active first; tier by stakes",
      absl::StrFormat("  %-24s %-8s %-9s %-6s %-6s %-6s", "SCOPE", "EPISODE",
                      "AGE", "HIGH", "MEDIUM", "LOW")};
  const size_t changes =
      std::min<size_t>(std::max<size_t>(tracker.recent().size(), 1), 3);
  // Rows left for scope rows: the fixed lines, the changes and their title.
  const int room = rows - static_cast<int>(lines.size() + changes + 1);
  const std::vector<ScopeView> scopes = ScopesActiveFirst(s.scopes);
  size_t shown = scopes.size();
  if (room < static_cast<int>(scopes.size())) {
    shown = room > 1 ? static_cast<size_t>(room - 1) : 0;  // + summary line
  }
  for (size_t i = 0; i < shown; ++i) {
    lines.push_back(CompactScopeRow(s, scopes[i], hl));
  }
  if (shown < scopes.size()) {
    lines.push_back(HiddenScopesLine(
        std::vector<ScopeView>(scopes.begin() + shown, scopes.end())));
  }
  lines.push_back("RECENT CHANGES");
  if (tracker.recent().empty()) lines.push_back("  (none yet)");
  for (size_t i = 0; i < tracker.recent().size() && i < changes; ++i) {
    lines.push_back(
        absl::StrCat("  ", ChangeLine(s, tracker, tracker.recent()[i])));
  }
  return absl::StrCat(absl::StrJoin(lines, "\n"), "\n");
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

std::vector<ScopeView> ScopesActiveFirst(const std::vector<ScopeView>& scopes) {
  std::vector<ScopeView> sorted = scopes;
  auto rank = [](const ScopeView& v) {
    if (v.running()) return 0;
    return v.episode == EpisodeState::kExpired ? 1 : 2;
  };
  std::stable_sort(sorted.begin(), sorted.end(),
                   [&](const ScopeView& a, const ScopeView& b) {
                     return rank(a) < rank(b);
                   });
  return sorted;
}

std::string RenderWatchFrame(const Snapshot& snapshot,
                             const ChangeTracker& tracker, ScreenSize size) {
  if (size.columns < kFullDetailColumns) {
    return RenderCompactFrame(snapshot, tracker, size.rows);
  }
  const Highlights highlights = tracker.Current(snapshot.now_ns);
  Snapshot sorted = snapshot;
  sorted.scopes = ScopesActiveFirst(snapshot.scopes);
  std::string frame = absl::StrCat(
      "vixctl watch: refreshed every second; q or Ctrl-C quits\n\n",
      FormatStatusTable(sorted, &highlights), "\nRECENT CHANGES\n");
  if (tracker.recent().empty()) frame += "  (none yet)\n";
  for (const Change& c : tracker.recent()) {
    absl::StrAppend(&frame, "  ", ChangeLine(snapshot, tracker, c), "\n");
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
