// A small writer for one-line JSON objects: log lines, CLI outputs, the
// inspector's and the benchmark's reports. Pure string building, no I/O.
// Every string goes through AppendJsonString, so any bytes give one line of
// valid JSON.
//
//   std::string line = vix::LogLine(now_ns, "PANIC_TIMESTAMP_INITIALIZED",
//                                   segment)
//                          .Int("pid", pid)
//                          .UnixSeconds("episode_start", start_ns)
//                          .Done();
#ifndef VIXBREAKER_CORE_JSON_H_
#define VIXBREAKER_CORE_JSON_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace vix {

// Appends `text` as a JSON string literal (quoted; control and non-ASCII
// bytes escaped as \u00XX, so any input gives valid ASCII JSON).
void AppendJsonString(absl::string_view text, std::string* out);

class JsonObject {
 public:
  JsonObject& Str(absl::string_view key, absl::string_view value);
  JsonObject& Int(absl::string_view key, int64_t value);
  JsonObject& UInt(absl::string_view key, uint64_t value);
  // Not finite or absent: null ("not measured"), never 0.
  JsonObject& Num(absl::string_view key, std::optional<double> value);
  JsonObject& Nums(absl::string_view key, const std::vector<double>& values);
  JsonObject& Bool(absl::string_view key, bool value);
  // Absent: null ("not known").
  JsonObject& Bool(absl::string_view key, std::optional<bool> value);
  JsonObject& Null(absl::string_view key);
  // Unix nanoseconds as seconds with microseconds (the wire format of
  // timestamps); null when `unix_ns` is 0 ("unset").
  JsonObject& UnixSeconds(absl::string_view key, int64_t unix_ns);
  // A duration in nanoseconds as seconds with microseconds (0 is 0).
  JsonObject& Seconds(absl::string_view key, int64_t ns);
  // Unix nanoseconds as a string, FormatTimestamp's (a log line's "ts").
  JsonObject& Timestamp(absl::string_view key, int64_t unix_ns);
  // An id such as a pid; 0 means unset and is written as null.
  JsonObject& IdOrNull(absl::string_view key, int64_t id);
  JsonObject& Obj(absl::string_view key, const JsonObject& object);
  // `json` must already be valid JSON.
  JsonObject& Raw(absl::string_view key, absl::string_view json);
  std::string Done() const { return out_ + "}"; }

 private:
  void Key(absl::string_view key);
  std::string out_ = "{";
};

// "[a,b,...]" from items that are already JSON.
std::string JsonArray(const std::vector<std::string>& items);

// Unix nanoseconds as "2026-11-29T16:30:00.123456Z" (UTC).
std::string FormatTimestamp(int64_t unix_ns);

// The start of every JSON log line (SPEC 8): {"ts":..,"event":..,"segment":..
// Callers add the event's fields (a process's own "pid" first, by
// convention) and write Done() with shm's WriteLogLine, one line per event.
JsonObject LogLine(int64_t unix_ns, absl::string_view event,
                   absl::string_view segment);

}  // namespace vix

#endif  // VIXBREAKER_CORE_JSON_H_
