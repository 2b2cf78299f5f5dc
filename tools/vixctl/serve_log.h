// What `vixctl serve` logs on stderr (JSON lines): its start and stop, and
// each change of the segment's state (readable, missing, unreadable and
// why), once per change rather than once per scrape.
#ifndef VIXBREAKER_TOOLS_VIXCTL_SERVE_LOG_H_
#define VIXBREAKER_TOOLS_VIXCTL_SERVE_LOG_H_

#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace vix::ctl {

class SegmentStateLog {
 public:
  explicit SegmentStateLog(std::string segment)
      : segment_(std::move(segment)) {}

  void Started(absl::string_view url);
  void Stopped();
  // Logs `read` (the result of reading the segment) if it differs from the
  // last one logged.
  void Observe(const absl::Status& read);

 private:
  void Write(const std::string& line);

  std::string segment_;
  std::optional<std::string> last_;  // the last state logged
};

}  // namespace vix::ctl

#endif  // VIXBREAKER_TOOLS_VIXCTL_SERVE_LOG_H_
