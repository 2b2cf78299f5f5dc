#include "serve_log.h"

#include <unistd.h>

#include "absl/strings/str_cat.h"
#include "vixbreaker/core/json.h"
#include "vixbreaker/shm/event_log.h"
#include "vixbreaker/shm/process.h"

namespace vix::ctl {
namespace {

JsonObject Line(absl::string_view event, absl::string_view segment) {
  JsonObject json = LogLine(shm::RealtimeNowNs(), event, segment);
  json.Int("pid", getpid());
  return json;
}

}  // namespace

void SegmentStateLog::Started(absl::string_view url) {
  Write(Line("SERVE_STARTED", segment_).Str("url", url).Done());
}

void SegmentStateLog::Stopped() {
  Write(Line("SERVE_STOPPED", segment_).Done());
}

void SegmentStateLog::Observe(const absl::Status& read) {
  const std::string state =
      read.ok()
          ? "up"
          : absl::StrCat(static_cast<int>(read.code()), ":", read.message());
  if (last_ == state) return;
  last_ = state;
  JsonObject json = Line("SERVE_SEGMENT_STATE", segment_);
  json.Bool("up", read.ok());
  if (!read.ok()) json.Str("error", read.message());
  Write(json.Done());
}

void SegmentStateLog::Write(const std::string& line) {
  // Best effort: a closed stderr must not stop the scrapes.
  // Never waits on a stalled stderr reader: the server answers scrapes
  // first. (Read-only: nowhere to count what is dropped.)
  shm::TryWriteLogLine(STDERR_FILENO, line);
}

}  // namespace vix::ctl
