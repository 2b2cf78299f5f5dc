// The rolling-window breaker in the status views (SPEC 6, 9): the table's
// BREAKER section, its JSON object and the one-line summary.
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "vixbreaker/core/breaker.h"
#include "vixbreaker/core/json.h"
#include "vixbreaker/inspect/status_format.h"

namespace vix::inspect {
namespace {

std::string RatioText(const shm::WindowCounts& c) {
  return absl::StrFormat("panic ratio %.3f (%d of %d samples)", c.PanicRatio(),
                         c.panic, c.total);
}

}  // namespace

// The rolling-window breaker (SPEC 6): mode, ratio, recent transitions.
std::string FormatBreakerSection(const Snapshot& s) {
  const shm::WindowSnapshot& w = s.window;
  std::string out =
      absl::StrFormat("\nBREAKER  %s, %s in the last %s, %d transitions\n",
                      BreakerModeName(w.mode), RatioText(w.counts),
                      DurationText(w.window_ns), w.transitions);
  const size_t first = w.history.size() > 5 ? w.history.size() - 5 : 0;
  for (size_t i = w.history.size(); i-- > first;) {
    const shm::WindowTransitionRecord& r = w.history[i];
    absl::StrAppendFormat(&out, "  %s  %s -> %s at ratio %.3f (pid %d)\n",
                          TimeText(r.at_ns), BreakerModeName(r.from),
                          BreakerModeName(r.to), r.panic_ratio, r.pid);
  }
  return out;
}

std::string FormatBreakerJson(const shm::WindowSnapshot& w) {
  std::vector<std::string> history;
  for (const shm::WindowTransitionRecord& r : w.history) {
    history.push_back(JsonObject()
                          .UInt("sequence", r.sequence)
                          .UnixSeconds("at", r.at_ns)
                          .Str("from", BreakerModeName(r.from))
                          .Str("to", BreakerModeName(r.to))
                          .Num("panic_ratio", r.panic_ratio)
                          .UInt("panic_samples", r.panic_samples)
                          .UInt("total_samples", r.total_samples)
                          .Int("pid", r.pid)
                          .Done());
  }
  return JsonObject()
      .Str("mode", BreakerModeName(w.mode))
      .Num("panic_ratio", w.counts.PanicRatio())
      .UInt("panic_samples", w.counts.panic)
      .UInt("total_samples", w.counts.total)
      .Seconds("window_s", w.window_ns)
      .UInt("transitions", w.transitions)
      .UInt("late_samples", w.late_samples)
      .UInt("saturated_samples", w.saturated_samples)
      .Raw("recent_transitions", JsonArray(history))
      .Done();
}

std::string BreakerSummary(const Snapshot& s) {
  return absl::StrFormat("BREAKER %s, %s", BreakerModeName(s.window.mode),
                         RatioText(s.window.counts));
}

}  // namespace vix::inspect
