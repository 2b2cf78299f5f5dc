// Fuzzes the Redis mirror's pure parsers (persist/): the Redis URL (all
// three schemes) and the value under the key, which any writer (the
// predecessor, a person with redis-cli) controls. Checks what a successful
// parse promises.
#include <cstdint>
#include <string>

#include "fuzz_check.h"
#include "vixbreaker/persist/redis_url.h"
#include "vixbreaker/persist/wire.h"

namespace vix::fuzz {
namespace {

constexpr int64_t kNow = 1'764'420'000'000'000'000;  // 2025-11-29
constexpr int64_t kMaxAhead = 60'000'000'000;        // 1 min

void CheckUrl(absl::string_view text) {
  absl::StatusOr<persist::RedisEndpoint> endpoint =
      persist::ParseRedisUrl(text);
  if (!endpoint.ok()) {
    VIX_FUZZ_CHECK(!endpoint.status().message().empty(), text);
    return;
  }
  using Transport = persist::RedisEndpoint::Transport;
  if (endpoint->transport == Transport::kTcp) {
    VIX_FUZZ_CHECK(endpoint->port >= 1 && endpoint->port <= 65535, text);
    VIX_FUZZ_CHECK(!endpoint->host.empty(), text);
  } else if (endpoint->transport == Transport::kSentinel) {
    VIX_FUZZ_CHECK(!endpoint->sentinels.empty(), text);
    VIX_FUZZ_CHECK(endpoint->sentinels.size() <= 16, text);
    for (const persist::HostPort& s : endpoint->sentinels) {
      VIX_FUZZ_CHECK(!s.host.empty(), text);
      VIX_FUZZ_CHECK(s.port >= 1 && s.port <= 65535, text);
    }
    VIX_FUZZ_CHECK(!endpoint->master_name.empty(), text);
    // What Redacted() prints parses again to the same place.
    absl::StatusOr<persist::RedisEndpoint> again =
        persist::ParseRedisUrl(endpoint->Redacted());
    VIX_FUZZ_CHECK(!again.ok() || again->master_name == endpoint->master_name,
                   text);
  } else {
    VIX_FUZZ_CHECK(
        !endpoint->unix_path.empty() && endpoint->unix_path[0] == '/', text);
  }
  VIX_FUZZ_CHECK(endpoint->db >= 0, text);
  // No password reaches the output: Redacted() reads the same whatever the
  // passwords are (only whether one is set shows). Exact where a substring
  // search is not: a password may also be spelled by the scheme or a host.
  persist::RedisEndpoint other = *endpoint;
  for (std::string* secret : {&other.password, &other.sentinel_password}) {
    if (!secret->empty()) *secret = *secret == "x" ? "y" : "x";
  }
  VIX_FUZZ_CHECK(other.Redacted() == endpoint->Redacted(), text);
}

void CheckValue(absl::string_view text) {
  const persist::ParsedValue value =
      persist::ParseRedisValue(text, kNow, kMaxAhead);
  if (value.problem != persist::ValueProblem::kNone) {
    VIX_FUZZ_CHECK(!value.error.empty(), text);
    VIX_FUZZ_CHECK(value.error.size() <= kMaxErrorMessage, text);
    return;
  }
  VIX_FUZZ_CHECK(value.start_ns > 0, text);
  VIX_FUZZ_CHECK(value.start_ns <= kNow + kMaxAhead, text);
  // What we write back reads as the same start, to the microsecond.
  const persist::ParsedValue again = persist::ParseRedisValue(
      persist::FormatUnixSeconds(value.start_ns), kNow, kMaxAhead);
  VIX_FUZZ_CHECK(again.problem == persist::ValueProblem::kNone, text);
  const int64_t diff = again.start_ns - value.start_ns;
  VIX_FUZZ_CHECK(diff >= -1000 && diff <= 1000, text);
}

}  // namespace
}  // namespace vix::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view text(reinterpret_cast<const char*>(data), size);
  vix::fuzz::CheckUrl(text);
  vix::fuzz::CheckValue(text);
  return 0;
}
