#include "vixbreaker/core/parse.h"

#include <charconv>
#include <cmath>
#include <limits>

#include "absl/strings/str_cat.h"

namespace vix {
namespace {

// Quotes user text for an error message, bounded so a huge input cannot
// produce a huge message.
std::string Quote(absl::string_view text) {
  constexpr size_t kMaxShown = 64;
  std::string out = "\"";
  for (char c : text.substr(0, kMaxShown)) {
    if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
      out.push_back(c);
    } else {
      absl::StrAppend(
          &out, "\\x",
          absl::Hex(static_cast<unsigned char>(c), absl::kZeroPad2));
    }
  }
  if (text.size() > kMaxShown) absl::StrAppend(&out, "...");
  out.push_back('"');
  return out;
}

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// [-]digits[.digits][(e|E)[+-]digits]; no leading '+', no spaces, no inf/nan.
bool LooksLikeDecimal(absl::string_view t) {
  size_t i = 0;
  if (i < t.size() && t[i] == '-') ++i;
  size_t int_digits = 0, frac_digits = 0;
  while (i < t.size() && IsDigit(t[i])) ++i, ++int_digits;
  if (i < t.size() && t[i] == '.') {
    ++i;
    while (i < t.size() && IsDigit(t[i])) ++i, ++frac_digits;
  }
  if (int_digits + frac_digits == 0) return false;
  if (i < t.size() && (t[i] == 'e' || t[i] == 'E')) {
    ++i;
    if (i < t.size() && (t[i] == '+' || t[i] == '-')) ++i;
    size_t exp_digits = 0;
    while (i < t.size() && IsDigit(t[i])) ++i, ++exp_digits;
    if (exp_digits == 0) return false;
  }
  return i == t.size();
}

}  // namespace

absl::StatusOr<Status> ParseStatus(absl::string_view text) {
  if (text == "normal") return Status::kNormal;
  if (text == "warning") return Status::kWarning;
  if (text == "panic") return Status::kPanic;
  return absl::InvalidArgumentError(
      absl::StrCat("unknown status ", Quote(text),
                   ": expected normal, warning or panic (lower case)"));
}

absl::StatusOr<Stakes> ParseStakes(absl::string_view text) {
  if (text == "high" || text == "high_stakes") return Stakes::kHigh;
  if (text == "medium" || text == "medium_stakes") return Stakes::kMedium;
  if (text == "low" || text == "low_stakes") return Stakes::kLow;
  return absl::InvalidArgumentError(absl::StrCat(
      "unknown stakes ", Quote(text),
      ": expected high, medium or low (or high_stakes, medium_stakes, "
      "low_stakes)"));
}

absl::StatusOr<int64_t> ParseInt64(absl::string_view text) {
  int64_t value = 0;
  const char* end = text.data() + text.size();
  bool digits_only = !text.empty();
  for (size_t i = 0; i < text.size(); ++i) {
    if (!(IsDigit(text[i]) || (i == 0 && text[i] == '-' && text.size() > 1))) {
      digits_only = false;
    }
  }
  if (!digits_only) {
    return absl::InvalidArgumentError(
        absl::StrCat("not an integer: ", Quote(text)));
  }
  auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (ec == std::errc::result_out_of_range) {
    return absl::OutOfRangeError(
        absl::StrCat("integer out of range: ", Quote(text)));
  }
  if (ec != std::errc() || ptr != end) {
    return absl::InvalidArgumentError(
        absl::StrCat("not an integer: ", Quote(text)));
  }
  return value;
}

absl::StatusOr<BaseTtl> ParseBaseTtl(absl::string_view text) {
  absl::StatusOr<int64_t> n = ParseInt64(text);
  BaseTtl ttl;
  if (!n.ok() || !BaseTtl::FromSeconds(*n, &ttl)) {
    return absl::InvalidArgumentError(
        absl::StrCat("bad base TTL ", Quote(text),
                     ": expected whole seconds 0..", BaseTtl::kMax));
  }
  return ttl;
}

absl::StatusOr<double> ParseFiniteDouble(absl::string_view text,
                                         absl::string_view what) {
  if (!LooksLikeDecimal(text)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "bad ", what, " ", Quote(text), ": expected a finite decimal number"));
  }
  double value = 0;
  auto [ptr, ec] =
      std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || ptr != text.data() + text.size() ||
      !std::isfinite(value)) {
    return absl::InvalidArgumentError(
        absl::StrCat("bad ", what, " ", Quote(text),
                     ": not a finite number (out of range?)"));
  }
  return value;
}

absl::StatusOr<int64_t> SecondsToNs(double seconds, absl::string_view what) {
  // 9.2e9 s is year 2262: the last instant int64 nanoseconds can hold.
  constexpr double kMaxSeconds =
      static_cast<double>(std::numeric_limits<int64_t>::max()) / 1e9 - 1;
  if (!std::isfinite(seconds) || seconds < 0 || seconds > kMaxSeconds) {
    return absl::OutOfRangeError(absl::StrCat(
        "bad ", what, " ", seconds,
        ": expected a finite number of seconds from 0 to ", kMaxSeconds));
  }
  return static_cast<int64_t>(std::llround(seconds * 1e9));
}

absl::StatusOr<int64_t> ParseUnixSecondsToNs(absl::string_view text) {
  absl::StatusOr<double> seconds = ParseFiniteDouble(text, "Unix time");
  if (!seconds.ok()) return seconds.status();
  absl::StatusOr<int64_t> ns = SecondsToNs(*seconds, "Unix time");
  if (!ns.ok()) return ns.status();
  // 0 ns means "no episode" downstream, so a time that rounds to it is bad.
  if (*ns <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("bad Unix time ", Quote(text),
                     ": must be at least 1 ns after the Unix epoch"));
  }
  return ns;
}

}  // namespace vix
