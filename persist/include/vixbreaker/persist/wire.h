// The Redis wire format, shared with the Python predecessor so both can run
// against one Redis during a migration (SPEC 5).
//
//   key      brain:panic_start_ts            scope `global`
//            brain:panic_start_ts:<scope>    a named scope
//   value    Unix seconds as decimal float text, e.g. "1764420000.123456"
//   expiry   86400 s (the predecessor's 24 h dead-man's switch)
//   channel  <key>:events                    "set <value> <id>" / "del ..."
//
// Pure functions: no I/O, no clock (the caller passes `now`).
#ifndef VIXBREAKER_PERSIST_WIRE_H_
#define VIXBREAKER_PERSIST_WIRE_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace vix::persist {

inline constexpr absl::string_view kDefaultKeyPrefix = "brain:panic_start_ts";
inline constexpr int64_t kKeyTtlSeconds = 86400;
inline constexpr absl::string_view kChannelSuffix = ":events";

// 1..200 printable ASCII characters, no spaces.
absl::Status ValidateKeyPrefix(absl::string_view prefix);

// `prefix` for the global scope, `prefix:scope` otherwise.
std::string KeyForScope(absl::string_view prefix, absl::string_view scope);

// `key:events`: where publishes and ends are announced.
std::string ChannelForKey(absl::string_view key);

// Unix nanoseconds as seconds with six decimals ("1764420000.123456"):
// Python's float() reads it, and so does ParseRedisValue.
std::string FormatUnixSeconds(int64_t unix_ns);

// Why a value under the key was rejected; each kind is logged once.
enum class ValueProblem {
  kNone,
  kGarbage,      // not a decimal number at all
  kNotFinite,    // nan, inf, or too large to be a number
  kNotPositive,  // zero or negative
  kFarFuture,    // further ahead of `now` than clock skew explains
};
absl::string_view ValueProblemName(ValueProblem problem);

struct ParsedValue {
  int64_t start_ns = 0;  // valid when problem == kNone
  ValueProblem problem = ValueProblem::kNone;
  std::string error;  // names the bad value (bounded), for logs
};

// Reads a value written by vixbreaker or the predecessor. A start more than
// `max_ahead_ns` after `now_ns` is rejected as far future.
ParsedValue ParseRedisValue(absl::string_view text, int64_t now_ns,
                            int64_t max_ahead_ns);

}  // namespace vix::persist

#endif  // VIXBREAKER_PERSIST_WIRE_H_
