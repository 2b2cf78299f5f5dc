// Where the mirror finds Redis (SPEC 5): a strictly parsed URL.
//
//   redis://[user:password@]host[:port][/db]     TCP; port 6379, db 0 if absent
//   unix://[user:password@]/absolute/path[?db=N] a Unix socket
//
// `user` may be empty (`redis://:secret@host`) for the `default` user.
// Userinfo may be percent-encoded (%40 for '@'). IPv6 hosts go in brackets.
// Anything else (other schemes, queries, fragments, spaces, a bare userinfo
// without ':') is an error naming the problem. Passwords never appear in
// error messages or in Redacted().
#ifndef VIXBREAKER_PERSIST_REDIS_URL_H_
#define VIXBREAKER_PERSIST_REDIS_URL_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace vix::persist {

struct RedisEndpoint {
  enum class Transport { kTcp, kUnix };
  Transport transport = Transport::kTcp;
  std::string host;       // kTcp: name or address (IPv6 without brackets)
  int port = 6379;        // kTcp
  std::string unix_path;  // kUnix: absolute
  std::string user;       // empty: AUTH with the password only
  std::string password;   // empty: no AUTH
  int db = 0;

  // The URL with the password replaced by "***": safe for logs and output.
  std::string Redacted() const;
};

// Pure and total: any byte string gives an endpoint or an error (fuzzed).
absl::StatusOr<RedisEndpoint> ParseRedisUrl(absl::string_view url);

}  // namespace vix::persist

#endif  // VIXBREAKER_PERSIST_REDIS_URL_H_
