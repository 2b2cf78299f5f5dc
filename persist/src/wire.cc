#include "vixbreaker/persist/wire.h"

#include <algorithm>
#include <cctype>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "vixbreaker/core/parse.h"
#include "vixbreaker/shm/scope_name.h"

namespace vix::persist {
namespace {

constexpr size_t kMaxPrefixLength = 200;

// Only number characters: a parse failure then means "out of range".
bool OnlyNumberChars(absl::string_view text) {
  for (char c : text) {
    if (!(absl::ascii_isdigit(static_cast<unsigned char>(c)) || c == '.' ||
          c == 'e' || c == 'E' || c == '+' || c == '-')) {
      return false;
    }
  }
  return !text.empty();
}

ParsedValue Rejected(ValueProblem problem, std::string error) {
  ParsedValue v;
  v.problem = problem;
  v.error = std::move(error);
  return v;
}

}  // namespace

absl::Status ValidateKeyPrefix(absl::string_view prefix) {
  if (prefix.empty() || prefix.size() > kMaxPrefixLength) {
    return absl::InvalidArgumentError(absl::StrCat(
        "bad key prefix of ", prefix.size(), " bytes: expected 1..",
        kMaxPrefixLength, " printable characters (default ", kDefaultKeyPrefix,
        ")"));
  }
  for (char c : prefix) {
    if (c <= 0x20 || c >= 0x7f) {
      return absl::InvalidArgumentError(absl::StrCat(
          "bad key prefix: byte 0x",
          absl::Hex(static_cast<unsigned char>(c), absl::kZeroPad2),
          " is not a printable non-space ASCII character"));
    }
  }
  return absl::OkStatus();
}

std::string KeyForScope(absl::string_view prefix, absl::string_view scope) {
  if (scope == shm::kGlobalScopeName) return std::string(prefix);
  return absl::StrCat(prefix, ":", scope);
}

std::string ChannelForKey(absl::string_view key) {
  return absl::StrCat(key, kChannelSuffix);
}

std::string FormatUnixSeconds(int64_t unix_ns) {
  // Nearest microsecond, but a positive start never becomes 0 ("no
  // episode" to every reader; found by fuzz/redis_fuzzer).
  const int64_t micros = std::max<int64_t>((unix_ns + 500) / 1000, 1);
  return absl::StrFormat("%d.%06d", micros / 1'000'000, micros % 1'000'000);
}

absl::string_view ValueProblemName(ValueProblem problem) {
  switch (problem) {
    case ValueProblem::kNone:
      return "none";
    case ValueProblem::kGarbage:
      return "garbage";
    case ValueProblem::kNotFinite:
      return "not_finite";
    case ValueProblem::kNotPositive:
      return "not_positive";
    case ValueProblem::kFarFuture:
      return "far_future";
  }
  return "unknown";
}

ParsedValue ParseRedisValue(absl::string_view text, int64_t now_ns,
                            int64_t max_ahead_ns) {
  absl::StatusOr<double> seconds = ParseFiniteDouble(text, "Redis value");
  if (!seconds.ok()) {
    const std::string lower = absl::AsciiStrToLower(text.substr(0, 16));
    if (absl::StrContains(lower, "nan") || absl::StrContains(lower, "inf")) {
      return Rejected(ValueProblem::kNotFinite,
                      std::string(seconds.status().message()));
    }
    if (OnlyNumberChars(text) && text[0] == '-') {
      return Rejected(ValueProblem::kNotPositive,
                      std::string(seconds.status().message()));
    }
    return Rejected(OnlyNumberChars(text) ? ValueProblem::kNotFinite
                                          : ValueProblem::kGarbage,
                    std::string(seconds.status().message()));
  }
  absl::StatusOr<int64_t> ns = ParseUnixSecondsToNs(text);
  if (!ns.ok()) {
    return Rejected(
        *seconds <= 0 ? ValueProblem::kNotPositive : ValueProblem::kFarFuture,
        std::string(ns.status().message()));
  }
  if (*ns - now_ns > max_ahead_ns) {
    return Rejected(
        ValueProblem::kFarFuture,
        absl::StrCat("Redis value ", FormatUnixSeconds(*ns), " is ",
                     (*ns - now_ns) / 1'000'000'000,
                     " s in the future: more than clock skew explains"));
  }
  ParsedValue v;
  v.start_ns = *ns;
  return v;
}

}  // namespace vix::persist
