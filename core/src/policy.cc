#include "vixbreaker/core/policy.h"

#include <cmath>
#include <string_view>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "vixbreaker/core/parse.h"

namespace vix {
namespace {

// True if `needle` (already lower case) occurs in `haystack` compared with
// ASCII lower-casing, without allocating (for inputs too long to copy).
bool ContainsLowered(absl::string_view haystack, absl::string_view needle) {
  if (needle.size() > haystack.size()) return false;
  for (size_t start = 0; start + needle.size() <= haystack.size(); ++start) {
    size_t i = 0;
    while (i < needle.size() && absl::ascii_tolower(static_cast<unsigned char>(
                                    haystack[start + i])) == needle[i]) {
      ++i;
    }
    if (i == needle.size()) return true;
  }
  return false;
}

bool ContainsAny(absl::string_view text,
                 const std::vector<std::string>& keywords) {
  // Typical league names are short: lower them once into a stack buffer so
  // each keyword is a plain substring search (memchr-driven).
  constexpr size_t kStackBytes = 256;
  if (text.size() <= kStackBytes) {
    char lowered[kStackBytes];
    for (size_t i = 0; i < text.size(); ++i) {
      lowered[i] = absl::ascii_tolower(static_cast<unsigned char>(text[i]));
    }
    const std::string_view view(lowered, text.size());
    for (const std::string& k : keywords) {
      if (view.find(k) != std::string_view::npos) return true;
    }
    return false;
  }
  for (const std::string& k : keywords) {
    if (ContainsLowered(text, k)) return true;
  }
  return false;
}

absl::Status ValidateKeywords(std::vector<std::string>& keywords,
                              absl::string_view list) {
  for (std::string& k : keywords) {
    if (k.empty()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "empty keyword in ", list, " keywords: it would match everything"));
    }
    absl::AsciiStrToLower(&k);
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<Policy> Policy::Create(const PolicyConfig& config) {
  Policy policy;
  policy.config_ = config;
  policy.uncapped_mask_ =
      config.cap_at_base ? 0 : static_cast<int32_t>(BaseTtl::kMax);
  for (int s = 0; s < kStakesCount; ++s) {
    const TierRow& row = config.tiers[s];
    absl::string_view name = StakesName(static_cast<Stakes>(s));
    double previous = 0;
    int64_t previous_ns = 0;
    for (int i = 0; i < 3; ++i) {
      double minutes = row.from_minutes[i];
      if (!std::isfinite(minutes) || minutes <= previous) {
        return absl::InvalidArgumentError(absl::StrCat(
            "bad tier table for ", name, ": tier ", i + 2, " starts at ",
            minutes,
            " minutes; thresholds must be finite, positive and strictly "
            "increasing"));
      }
      previous = minutes;
      absl::StatusOr<int64_t> ns =
          SecondsToNs(minutes * 60, absl::StrCat(name, " tier threshold"));
      if (!ns.ok()) return ns.status();
      // The hot path compares nanoseconds: thresholds that differ only as
      // doubles would put age 0 above tier 1.
      if (*ns <= previous_ns) {
        return absl::InvalidArgumentError(absl::StrCat(
            "bad tier table for ", name, ": tier ", i + 2, " starts at ",
            minutes,
            " minutes, less than 1 ns after the previous tier; thresholds "
            "must be at least 1 ns apart and above 0"));
      }
      previous_ns = *ns;
      policy.rows_[s].from_ns[i] = *ns;

      BaseTtl ttl;
      if (!BaseTtl::FromSeconds(row.ttl_seconds[i], &ttl)) {
        return absl::InvalidArgumentError(absl::StrCat(
            "bad TTL for ", name, " tier ", i + 2, ": ", row.ttl_seconds[i],
            " (expected 0..", BaseTtl::kMax, " seconds)"));
      }
      policy.rows_[s].ttl_seconds[i + 1] = ttl.seconds();
    }
    policy.rows_[s].ttl_seconds[0] = 0;  // tier 1 always has TTL 0
  }
  absl::Status st = ValidateKeywords(policy.config_.high_keywords, "high");
  if (!st.ok()) return st;
  st = ValidateKeywords(policy.config_.medium_keywords, "medium");
  if (!st.ok()) return st;
  return policy;
}

Stakes Policy::Classify(absl::string_view league,
                        absl::string_view competition) const {
  if (ContainsAny(league, config_.high_keywords) ||
      ContainsAny(competition, config_.high_keywords)) {
    return Stakes::kHigh;
  }
  if (ContainsAny(league, config_.medium_keywords)) return Stakes::kMedium;
  return Stakes::kLow;
}

}  // namespace vix
