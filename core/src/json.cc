#include "vixbreaker/core/json.h"

#include <cmath>
#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"

namespace vix {
namespace {

// The shortest of %.15g and %.17g that reads back as the same double, so
// 8.84 prints as 8.84 and 0.1 + 0.2 still round-trips.
std::string NumberText(std::optional<double> value) {
  if (!value || !std::isfinite(*value)) return "null";
  std::string text = absl::StrFormat("%.15g", *value);
  if (std::strtod(text.c_str(), nullptr) != *value) {
    text = absl::StrFormat("%.17g", *value);
  }
  return text;
}

}  // namespace

void AppendJsonString(absl::string_view text, std::string* out) {
  out->push_back('"');
  for (unsigned char c : text) {
    switch (c) {
      case '"':
        out->append("\\\"");
        break;
      case '\\':
        out->append("\\\\");
        break;
      case '\n':
        out->append("\\n");
        break;
      case '\t':
        out->append("\\t");
        break;
      default:
        if (c < 0x20 || c >= 0x7f) {
          absl::StrAppendFormat(out, "\\u%04x", c);
        } else {
          out->push_back(static_cast<char>(c));
        }
    }
  }
  out->push_back('"');
}

void JsonObject::Key(absl::string_view key) {
  if (out_.size() > 1) out_ += ",";
  AppendJsonString(key, &out_);
  out_ += ":";
}

JsonObject& JsonObject::Str(absl::string_view key, absl::string_view value) {
  Key(key);
  AppendJsonString(value, &out_);
  return *this;
}

JsonObject& JsonObject::Int(absl::string_view key, int64_t value) {
  Key(key);
  absl::StrAppend(&out_, value);
  return *this;
}

JsonObject& JsonObject::UInt(absl::string_view key, uint64_t value) {
  Key(key);
  absl::StrAppend(&out_, value);
  return *this;
}

JsonObject& JsonObject::Num(absl::string_view key,
                            std::optional<double> value) {
  Key(key);
  out_ += NumberText(value);
  return *this;
}

JsonObject& JsonObject::Nums(absl::string_view key,
                             const std::vector<double>& values) {
  std::vector<std::string> texts;
  for (double v : values) texts.push_back(NumberText(v));
  return Raw(key, JsonArray(texts));
}

JsonObject& JsonObject::Bool(absl::string_view key, bool value) {
  Key(key);
  out_ += value ? "true" : "false";
  return *this;
}

JsonObject& JsonObject::Bool(absl::string_view key, std::optional<bool> value) {
  if (!value) return Null(key);
  return Bool(key, *value);
}

JsonObject& JsonObject::Null(absl::string_view key) {
  Key(key);
  out_ += "null";
  return *this;
}

JsonObject& JsonObject::UnixSeconds(absl::string_view key, int64_t unix_ns) {
  return unix_ns == 0 ? Null(key) : Seconds(key, unix_ns);
}

JsonObject& JsonObject::Seconds(absl::string_view key, int64_t ns) {
  Key(key);
  absl::StrAppendFormat(&out_, "%.6f", static_cast<double>(ns) / 1e9);
  return *this;
}

JsonObject& JsonObject::Timestamp(absl::string_view key, int64_t unix_ns) {
  return Str(key, FormatTimestamp(unix_ns));
}

JsonObject& JsonObject::IdOrNull(absl::string_view key, int64_t id) {
  return id == 0 ? Null(key) : Int(key, id);
}

JsonObject& JsonObject::Obj(absl::string_view key, const JsonObject& object) {
  return Raw(key, object.Done());
}

JsonObject& JsonObject::Raw(absl::string_view key, absl::string_view json) {
  Key(key);
  absl::StrAppend(&out_, json);
  return *this;
}

std::string JsonArray(const std::vector<std::string>& items) {
  return absl::StrCat("[", absl::StrJoin(items, ","), "]");
}

std::string FormatTimestamp(int64_t unix_ns) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E6SZ", absl::FromUnixNanos(unix_ns),
                          absl::UTCTimeZone());
}

JsonObject LogLine(int64_t unix_ns, absl::string_view event,
                   absl::string_view segment) {
  JsonObject line;
  line.Timestamp("ts", unix_ns).Str("event", event).Str("segment", segment);
  return line;
}

}  // namespace vix
