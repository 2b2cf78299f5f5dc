// A small JSON object writer for vixbench's one-object output. A figure
// that was not measured is written as null, never as 0.
#ifndef VIXBREAKER_TOOLS_VIXBENCH_JSON_H_
#define VIXBREAKER_TOOLS_VIXBENCH_JSON_H_

#include <cmath>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"
#include "vixbreaker/shm/event_log.h"

namespace vix::bench {

class Json {
 public:
  Json& Str(absl::string_view key, absl::string_view value) {
    Key(key);
    shm::AppendJsonString(value, &out_);
    return *this;
  }
  Json& Int(absl::string_view key, int64_t value) {
    Key(key);
    absl::StrAppend(&out_, value);
    return *this;
  }
  // NaN and nullopt become null: "not measured".
  Json& Num(absl::string_view key, std::optional<double> value) {
    Key(key);
    out_ += NumberText(value);
    return *this;
  }
  Json& Bool(absl::string_view key, std::optional<bool> value) {
    Key(key);
    out_ += !value ? "null" : *value ? "true" : "false";
    return *this;
  }
  Json& Nums(absl::string_view key, const std::vector<double>& values) {
    Key(key);
    std::vector<std::string> texts;
    for (double v : values) texts.push_back(NumberText(v));
    absl::StrAppend(&out_, "[", absl::StrJoin(texts, ","), "]");
    return *this;
  }
  Json& Obj(absl::string_view key, const Json& object) {
    Key(key);
    out_ += object.Done();
    return *this;
  }
  // `json` must already be valid JSON.
  Json& Raw(absl::string_view key, absl::string_view json) {
    Key(key);
    absl::StrAppend(&out_, json);
    return *this;
  }
  std::string Done() const { return out_ + "}"; }

  static std::string NumberText(std::optional<double> value) {
    if (!value || !std::isfinite(*value)) return "null";
    return absl::StrFormat("%.6g", *value);
  }

 private:
  void Key(absl::string_view key) {
    out_ += out_.size() == 1 ? "" : ",";
    shm::AppendJsonString(key, &out_);
    out_ += ":";
  }
  std::string out_ = "{";
};

}  // namespace vix::bench

#endif  // VIXBREAKER_TOOLS_VIXBENCH_JSON_H_
