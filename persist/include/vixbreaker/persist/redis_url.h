// Where the mirror finds Redis (SPEC 5): a strictly parsed URL.
//
//   redis://[user:password@]host[:port][/db]     TCP; port 6379, db 0 if absent
//   unix://[user:password@]/absolute/path[?db=N] a Unix socket
//   redis-sentinel://[user:password@]host[:port][,host[:port]...]/MASTER
//       [?db=N&sentinel_user=U&sentinel_password=P]
//       the master named MASTER, as the listed sentinels (port 26379 if
//       absent) report it (SPEC 14). The userinfo is the master's; the
//       sentinels get AUTH only with sentinel_password (and sentinel_user).
//
// `user` may be empty (`redis://:secret@host`) for the `default` user.
// Userinfo may be percent-encoded (%40 for '@'). IPv6 hosts go in brackets.
// Anything else (other schemes, other queries, fragments, spaces, a bare
// userinfo without ':') is an error naming the problem. Passwords never appear
// in error messages or in Redacted().
#ifndef VIXBREAKER_PERSIST_REDIS_URL_H_
#define VIXBREAKER_PERSIST_REDIS_URL_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace vix::persist {

struct HostPort {
  std::string host;  // name or address (IPv6 without brackets)
  int port = 0;
};

struct RedisEndpoint {
  enum class Transport { kTcp, kUnix, kSentinel };
  Transport transport = Transport::kTcp;
  std::string host;       // kTcp: name or address (IPv6 without brackets)
  int port = 6379;        // kTcp
  std::string unix_path;  // kUnix: absolute
  std::string user;       // empty: AUTH with the password only
  std::string password;   // empty: no AUTH
  int db = 0;
  // kSentinel: where to ask, whom to ask for, and the sentinels' AUTH.
  std::vector<HostPort> sentinels;
  std::string master_name;
  std::string sentinel_user;
  std::string sentinel_password;  // empty: no AUTH to the sentinels

  // The URL with the password replaced by "***": safe for logs and output.
  std::string Redacted() const;
};

// Pure and total: any byte string gives an endpoint or an error (fuzzed).
absl::StatusOr<RedisEndpoint> ParseRedisUrl(absl::string_view url);

// "host:port", with brackets for IPv6: for logs and error messages.
std::string FormatHostPort(absl::string_view host, int port);

}  // namespace vix::persist

#endif  // VIXBREAKER_PERSIST_REDIS_URL_H_
