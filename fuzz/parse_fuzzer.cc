// Fuzzes the strict parsers of core/parse.h with one input each, and checks
// what a successful parse promises.
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "fuzz_check.h"
#include "vixbreaker/core/parse.h"

namespace vix::fuzz {
namespace {

// `text` is `value` in decimal, give or take leading zeros and "-0".
bool IsDecimalOf(absl::string_view text, int64_t value) {
  const bool negative = absl::ConsumePrefix(&text, "-");
  while (text.size() > 1 && text[0] == '0') text.remove_prefix(1);
  const bool zero = text == "0";
  return absl::StrCat(negative && !zero ? "-" : "", text) ==
         absl::StrCat(value);
}

template <typename T>
void CheckError(const absl::StatusOr<T>& result, absl::string_view text) {
  if (result.ok()) return;
  VIX_FUZZ_CHECK(!result.status().message().empty(), text);
  VIX_FUZZ_CHECK(result.status().message().size() <= kMaxErrorMessage, text);
}

void CheckStatus(absl::string_view text) {
  absl::StatusOr<Status> status = ParseStatus(text);
  CheckError(status, text);
  if (status.ok()) VIX_FUZZ_CHECK(StatusName(*status) == text, text);
}

void CheckStakes(absl::string_view text) {
  absl::StatusOr<Stakes> stakes = ParseStakes(text);
  CheckError(stakes, text);
  if (!stakes.ok()) return;
  absl::string_view full = StakesName(*stakes);
  absl::string_view brief = full.substr(0, full.find('_'));
  VIX_FUZZ_CHECK(text == full || text == brief, text);
}

void CheckIntegers(absl::string_view text) {
  absl::StatusOr<int64_t> n = ParseInt64(text);
  CheckError(n, text);
  if (n.ok()) VIX_FUZZ_CHECK(IsDecimalOf(text, *n), text);

  absl::StatusOr<BaseTtl> ttl = ParseBaseTtl(text);
  CheckError(ttl, text);
  const bool in_range = n.ok() && *n >= 0 && *n <= BaseTtl::kMax;
  VIX_FUZZ_CHECK(ttl.ok() == in_range, text);
  if (ttl.ok()) VIX_FUZZ_CHECK(ttl->seconds() == *n, text);
}

void CheckDoubles(absl::string_view text) {
  absl::StatusOr<double> value = ParseFiniteDouble(text, "value");
  CheckError(value, text);
  if (value.ok()) {
    VIX_FUZZ_CHECK(std::isfinite(*value), text);
    // Agrees with strtod, which also consumes the whole text.
    const std::string copy(text);
    char* end = nullptr;
    const double expected = std::strtod(copy.c_str(), &end);
    VIX_FUZZ_CHECK(end == copy.c_str() + copy.size(), text);
    VIX_FUZZ_CHECK(expected == *value, text);
    if (*value >= 0) {
      absl::StatusOr<int64_t> ns = SecondsToNs(*value, "value");
      if (ns.ok()) {
        VIX_FUZZ_CHECK(*ns >= 0, text);
        const double error = std::fabs(static_cast<double>(*ns) / 1e9 - *value);
        VIX_FUZZ_CHECK(error <= 1e-9 + *value * 1e-15, text);
      }
    }
  }

  absl::StatusOr<int64_t> unix_ns = ParseUnixSecondsToNs(text);
  CheckError(unix_ns, text);
  if (unix_ns.ok()) {
    VIX_FUZZ_CHECK(value.ok() && *value > 0, text);
    // 0 means "no episode" everywhere downstream.
    VIX_FUZZ_CHECK(*unix_ns > 0, text);
  }
}

}  // namespace
}  // namespace vix::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view text(reinterpret_cast<const char*>(data), size);
  vix::fuzz::CheckStatus(text);
  vix::fuzz::CheckStakes(text);
  vix::fuzz::CheckIntegers(text);
  vix::fuzz::CheckDoubles(text);
  return 0;
}
