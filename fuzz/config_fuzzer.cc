// Fuzzes ParseConfig and checks that whatever it accepts is a policy the
// rest of the system can rely on: Policy::Create accepts it, age 0 is tier 1
// and every threshold is a strict tier boundary.
#include <cstdint>
#include <limits>

#include "fuzz_check.h"
#include "vixbreaker/core/config.h"
#include "vixbreaker/core/policy.h"

namespace vix::fuzz {
namespace {

void CheckTiers(const Policy& policy, Stakes stakes, absl::string_view text) {
  BaseTtl base;
  VIX_FUZZ_CHECK(BaseTtl::FromSeconds(60, &base), text);
  VIX_FUZZ_CHECK(policy.DecideForAge(0, base, stakes).tier == 1, text);
  VIX_FUZZ_CHECK(policy.DecideForAge(0, base, stakes).ttl_seconds == 0, text);
  VIX_FUZZ_CHECK(
      policy.DecideForAge(std::numeric_limits<int64_t>::max(), base, stakes)
              .tier == 4,
      text);
  int64_t previous_ns = 0;
  for (int tier = 2; tier <= 4; ++tier) {
    const int64_t start_ns = policy.TierStartNs(stakes, tier);
    VIX_FUZZ_CHECK(start_ns > previous_ns, text);
    VIX_FUZZ_CHECK(policy.DecideForAge(start_ns, base, stakes).tier == tier,
                   text);
    VIX_FUZZ_CHECK(
        policy.DecideForAge(start_ns - 1, base, stakes).tier == tier - 1, text);
    const Decision d = policy.DecideForAge(start_ns, base, stakes);
    VIX_FUZZ_CHECK(d.ttl_seconds >= 0, text);
    VIX_FUZZ_CHECK(d.mode == ModeForTier(tier) && d.reason == Reason::kTier,
                   text);
    previous_ns = start_ns;
  }
}

void CheckConfig(absl::string_view text) {
  absl::StatusOr<Config> config = ParseConfig(text);
  if (!config.ok()) {
    VIX_FUZZ_CHECK(!config.status().message().empty(), text);
    VIX_FUZZ_CHECK(config.status().message().size() <= kMaxErrorMessage, text);
    return;
  }
  VIX_FUZZ_CHECK(ValidateEpisodeConfig(config->episode).ok(), text);
  absl::StatusOr<Policy> policy = Policy::Create(config->policy);
  VIX_FUZZ_CHECK(policy.ok(), text);
  for (const std::string& k : config->policy.high_keywords) {
    VIX_FUZZ_CHECK(!k.empty(), text);
  }
  for (const std::string& k : config->policy.medium_keywords) {
    VIX_FUZZ_CHECK(!k.empty(), text);
  }
  for (int s = 0; s < kStakesCount; ++s) {
    CheckTiers(*policy, static_cast<Stakes>(s), text);
  }
  // Classification of the text itself must not crash either.
  (void)policy->Classify(text, text);
}

}  // namespace
}  // namespace vix::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  vix::fuzz::CheckConfig(
      absl::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
