#include "vixbreaker/core/types.h"

namespace vix {

absl::string_view StatusName(Status s) {
  switch (s) {
    case Status::kNormal:
      return "normal";
    case Status::kWarning:
      return "warning";
    case Status::kPanic:
      return "panic";
  }
  return "invalid_status";
}

absl::string_view StakesName(Stakes s) {
  switch (s) {
    case Stakes::kHigh:
      return "high_stakes";
    case Stakes::kMedium:
      return "medium_stakes";
    case Stakes::kLow:
      return "low_stakes";
  }
  return "invalid_stakes";
}

absl::string_view ModeName(Mode m) {
  switch (m) {
    case Mode::kNormal:
      return "NORMAL";
    case Mode::kPanicFull:
      return "PANIC_FULL";
    case Mode::kPanicPartial:
      return "PANIC_PARTIAL";
    case Mode::kDegraded:
      return "DEGRADED";
    case Mode::kNewNormal:
      return "NEW_NORMAL";
  }
  return "INVALID_MODE";
}

absl::string_view ReasonName(Reason r) {
  switch (r) {
    case Reason::kTier:
      return "tier";
    case Reason::kNoEpisode:
      return "no_episode";
    case Reason::kFailsafe:
      return "failsafe";
    case Reason::kForced:
      return "forced";
  }
  return "invalid_reason";
}

}  // namespace vix
