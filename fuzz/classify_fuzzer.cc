// Fuzzes Policy::Classify against a plain reference (lower-case copies and
// std::string::find), with the default keywords and with keywords taken from
// the input. Input: league '\n' competition ['\n' high,kw '\n' medium,kw].
#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_split.h"
#include "fuzz_check.h"
#include "vixbreaker/core/policy.h"

namespace vix::fuzz {
namespace {

bool ContainsAny(const std::string& lowered,
                 const std::vector<std::string>& keywords) {
  for (const std::string& k : keywords) {
    if (lowered.find(absl::AsciiStrToLower(k)) != std::string::npos) {
      return true;
    }
  }
  return false;
}

// SPEC 2.1 written the slow, obvious way.
Stakes ReferenceClassify(const PolicyConfig& config, absl::string_view league,
                         absl::string_view competition) {
  const std::string l = absl::AsciiStrToLower(league);
  const std::string c = absl::AsciiStrToLower(competition);
  if (ContainsAny(l, config.high_keywords) ||
      ContainsAny(c, config.high_keywords)) {
    return Stakes::kHigh;
  }
  if (ContainsAny(l, config.medium_keywords)) return Stakes::kMedium;
  return Stakes::kLow;
}

void CheckClassify(const Policy& policy, const PolicyConfig& config,
                   absl::string_view league, absl::string_view competition,
                   absl::string_view input) {
  const Stakes stakes = policy.Classify(league, competition);
  VIX_FUZZ_CHECK(stakes == ReferenceClassify(config, league, competition),
                 input);
  // ASCII case does not matter.
  VIX_FUZZ_CHECK(policy.Classify(absl::AsciiStrToUpper(league),
                                 absl::AsciiStrToUpper(competition)) == stakes,
                 input);
}

std::vector<std::string> SplitKeywords(absl::string_view text) {
  return absl::StrSplit(text, ',');
}

}  // namespace
}  // namespace vix::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace vix;
  const absl::string_view input(reinterpret_cast<const char*>(data), size);
  std::vector<absl::string_view> parts =
      absl::StrSplit(input, absl::MaxSplits('\n', 3));
  parts.resize(4);
  static const Policy* const kDefault =
      new Policy(*Policy::Create(PolicyConfig{}));
  fuzz::CheckClassify(*kDefault, PolicyConfig{}, parts[0], parts[1], input);

  if (!parts[2].empty()) {
    PolicyConfig config;
    config.high_keywords = fuzz::SplitKeywords(parts[2]);
    config.medium_keywords = fuzz::SplitKeywords(parts[3]);
    absl::StatusOr<Policy> custom = Policy::Create(config);
    bool any_empty = false;
    for (const auto* list : {&config.high_keywords, &config.medium_keywords}) {
      for (const std::string& k : *list) any_empty |= k.empty();
    }
    VIX_FUZZ_CHECK(custom.ok() == !any_empty, input);
    if (custom.ok()) {
      fuzz::CheckClassify(*custom, config, parts[0], parts[1], input);
    }
  }
  return 0;
}
