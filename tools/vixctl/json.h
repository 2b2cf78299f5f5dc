// A tiny JSON object writer for vixctl's one-object outputs.
#ifndef VIXBREAKER_TOOLS_VIXCTL_JSON_H_
#define VIXBREAKER_TOOLS_VIXCTL_JSON_H_

#include <cstdint>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/string_view.h"
#include "vixbreaker/shm/event_log.h"

namespace vix::ctl {

class JsonObject {
 public:
  JsonObject& Str(absl::string_view key, absl::string_view value) {
    Key(key);
    shm::AppendJsonString(value, &out_);
    return *this;
  }
  JsonObject& Int(absl::string_view key, int64_t value) {
    Key(key);
    absl::StrAppend(&out_, value);
    return *this;
  }
  JsonObject& Num(absl::string_view key, double value) {
    Key(key);
    absl::StrAppendFormat(&out_, "%.17g", value);
    return *this;
  }
  JsonObject& Bool(absl::string_view key, bool value) {
    Key(key);
    out_ += value ? "true" : "false";
    return *this;
  }
  JsonObject& Null(absl::string_view key) {
    Key(key);
    out_ += "null";
    return *this;
  }
  // `json` must already be valid JSON (an object or array).
  JsonObject& Raw(absl::string_view key, absl::string_view json) {
    Key(key);
    absl::StrAppend(&out_, json);
    return *this;
  }
  std::string Done() const { return out_ + "}"; }

 private:
  void Key(absl::string_view key) {
    out_ += out_.size() == 1 ? "" : ",";
    shm::AppendJsonString(key, &out_);
    out_ += ":";
  }
  std::string out_ = "{";
};

// Unix nanoseconds as JSON seconds with microsecond precision.
inline std::string UnixSecondsJson(int64_t ns) {
  return absl::StrFormat("%.6f", static_cast<double>(ns) / 1e9);
}

}  // namespace vix::ctl

#endif  // VIXBREAKER_TOOLS_VIXCTL_JSON_H_
