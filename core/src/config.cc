#include "vixbreaker/core/config.h"

#include <cmath>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "vixbreaker/core/parse.h"

namespace vix {
namespace {

constexpr size_t kMaxConfigBytes = 1 << 20;

absl::Status LineError(int line, absl::string_view message) {
  return absl::InvalidArgumentError(
      absl::StrCat("config line ", line, ": ", message));
}

absl::StatusOr<std::vector<absl::string_view>> SplitList(
    absl::string_view value, size_t expected) {
  std::vector<absl::string_view> items;
  for (absl::string_view item : absl::StrSplit(value, ',')) {
    items.push_back(absl::StripAsciiWhitespace(item));
  }
  if (expected != 0 && items.size() != expected) {
    return absl::InvalidArgumentError(absl::StrCat(
        "expected ", expected, " comma-separated values, got ", items.size()));
  }
  return items;
}

absl::Status ApplyKey(absl::string_view key, absl::string_view value,
                      Config& config) {
  const bool is_ttl = absl::StartsWith(key, "ttls.");
  if (is_ttl || absl::StartsWith(key, "tiers.")) {
    key.remove_prefix(is_ttl ? 5 : 6);
    absl::StatusOr<Stakes> stakes = ParseStakes(key);
    if (!stakes.ok()) return stakes.status();
    absl::StatusOr<std::vector<absl::string_view>> items = SplitList(value, 3);
    if (!items.ok()) return items.status();
    TierRow& row = config.policy.tiers[static_cast<int>(*stakes)];
    for (int i = 0; i < 3; ++i) {
      if (is_ttl) {
        absl::StatusOr<int64_t> ttl = ParseInt64((*items)[i]);
        if (!ttl.ok()) return ttl.status();
        row.ttl_seconds[i] = *ttl;
      } else {
        absl::StatusOr<double> minutes =
            ParseFiniteDouble((*items)[i], "tier threshold");
        if (!minutes.ok()) return minutes.status();
        row.from_minutes[i] = *minutes;
      }
    }
    return absl::OkStatus();
  }
  if (key == "keywords.high" || key == "keywords.medium") {
    absl::StatusOr<std::vector<absl::string_view>> items = SplitList(value, 0);
    if (!items.ok()) return items.status();
    auto& list = key == "keywords.high" ? config.policy.high_keywords
                                        : config.policy.medium_keywords;
    list.clear();
    for (absl::string_view item : *items) list.emplace_back(item);
    return absl::OkStatus();
  }
  if (key == "cap_at_base") {
    if (value != "true" && value != "false") {
      return absl::InvalidArgumentError(
          absl::StrCat("cap_at_base must be true or false, got \"",
                       value.substr(0, 32), "\""));
    }
    config.policy.cap_at_base = value == "true";
    return absl::OkStatus();
  }
  if (key == "clear_after_s" || key == "deadman_s") {
    absl::StatusOr<double> seconds = ParseFiniteDouble(value, key);
    if (!seconds.ok()) return seconds.status();
    (key == "clear_after_s" ? config.episode.clear_after_s
                            : config.episode.deadman_s) = *seconds;
    return absl::OkStatus();
  }
  return absl::InvalidArgumentError(
      absl::StrCat("unknown key \"", key.substr(0, 64), "\""));
}

}  // namespace

absl::Status ValidateEpisodeConfig(const EpisodeConfig& config) {
  if (!std::isfinite(config.clear_after_s) || config.clear_after_s < 0 ||
      !SecondsToNs(config.clear_after_s, "clear_after_s").ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("bad clear_after_s ", config.clear_after_s,
                     ": expected finite seconds >= 0"));
  }
  if (!std::isfinite(config.deadman_s) || config.deadman_s <= 0 ||
      !SecondsToNs(config.deadman_s, "deadman_s").ok()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "bad deadman_s ", config.deadman_s, ": expected finite seconds > 0"));
  }
  return absl::OkStatus();
}

absl::StatusOr<Config> ParseConfig(absl::string_view text) {
  if (text.size() > kMaxConfigBytes) {
    return absl::InvalidArgumentError(absl::StrCat(
        "config is ", text.size(), " bytes; at most ", kMaxConfigBytes));
  }
  Config config;
  std::set<std::string> seen;
  int line_number = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    ++line_number;
    // '#' starts a comment that runs to the end of the line.
    line = absl::StripAsciiWhitespace(line.substr(0, line.find('#')));
    if (line.empty()) continue;
    size_t eq = line.find('=');
    if (eq == absl::string_view::npos) {
      return LineError(line_number, "expected key = value");
    }
    absl::string_view key = absl::StripAsciiWhitespace(line.substr(0, eq));
    absl::string_view value = absl::StripAsciiWhitespace(line.substr(eq + 1));
    if (!seen.insert(std::string(key)).second) {
      return LineError(line_number, absl::StrCat("duplicate key \"",
                                                 key.substr(0, 64), "\""));
    }
    absl::Status st = ApplyKey(key, value, config);
    if (!st.ok()) return LineError(line_number, st.message());
  }
  absl::StatusOr<Policy> policy = Policy::Create(config.policy);
  if (!policy.ok()) return policy.status();
  absl::Status st = ValidateEpisodeConfig(config.episode);
  if (!st.ok()) return st;
  return config;
}

}  // namespace vix
