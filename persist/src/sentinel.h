// Finding the master behind Redis Sentinel (SPEC 14; internal to persist/).
// hiredis has no Sentinel support, so this is the small part of the
// protocol the mirror needs:
//   - SENTINEL get-master-addr-by-name MASTER, asked of each sentinel in
//     turn (the one that answered last first), with the mirror's timeouts;
//   - ROLE on the address a sentinel names: only a master is used, so a
//     sentinel with a stale view never points the mirror at a replica;
//   - SUBSCRIBE +switch-master on a sentinel, so a failover reconnects the
//     mirror at once instead of after its next failed command.
// The mirror resolves again on every reconnect.
#ifndef VIXBREAKER_PERSIST_SRC_SENTINEL_H_
#define VIXBREAKER_PERSIST_SRC_SENTINEL_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "redis_connection.h"
#include "vixbreaker/persist/redis_url.h"

namespace vix::persist::internal {

inline constexpr char kSwitchMasterChannel[] = "+switch-master";

// ---- pure steps -------------------------------------------------------------

// The address in a get-master-addr-by-name reply. NotFound: the sentinel
// does not know the master (nil); FailedPrecondition: an error reply (not a
// sentinel, NOAUTH, ...); DataLoss: anything else malformed.
absl::StatusOr<HostPort> ParseMasterAddrReply(const Reply& reply);

// OK if a ROLE reply says "master"; FailedPrecondition naming the role
// otherwise (a replica, a sentinel), DataLoss if malformed.
absl::Status CheckMasterRole(const Reply& reply);

// A +switch-master payload: "<name> <old-ip> <old-port> <new-ip> <new-port>".
struct MasterSwitch {
  std::string name;
  HostPort from, to;
};
std::optional<MasterSwitch> ParseSwitchMaster(absl::string_view payload);

// The order in which `count` sentinels are asked: the one that answered
// last (`last_good`), then the others in URL order after it, wrapping.
std::vector<size_t> SentinelOrder(size_t count, size_t last_good);

// The master at `address`, with the URL's master credentials and db.
RedisEndpoint MasterEndpoint(const RedisEndpoint& url, const HostPort& address);
// Sentinel `index` of the URL, with the sentinel credentials.
RedisEndpoint SentinelEndpoint(const RedisEndpoint& url, size_t index);

// ---- the resolver -----------------------------------------------------------

struct ResolvedMaster {
  HostPort address;
  size_t sentinel = 0;  // the index of the sentinel that named it
  std::unique_ptr<RedisConnection> connection;  // to the master, ROLE checked
};

class SentinelResolver {
 public:
  // `url` must be a kSentinel endpoint. `commands` (may be null) counts
  // every command sent, as RedisConnection does.
  SentinelResolver(RedisEndpoint url, absl::Duration connect_timeout,
                   absl::Duration command_timeout, std::string client_name,
                   uint64_t* commands);

  // Asks the sentinels in SentinelOrder, connects to the address named and
  // checks ROLE; the first master found wins and the next call starts with
  // its sentinel. `keep_going` runs before each sentinel (the mirror renews
  // its lease there) and stops the search when false (Cancelled). The
  // error (Unavailable) lists what every sentinel said, passwords redacted.
  absl::StatusOr<ResolvedMaster> Resolve(
      const std::function<bool()>& keep_going);

  // A connection to a sentinel (the last good one first) with SUBSCRIBE
  // +switch-master sent; the mirror reads it alongside its own.
  absl::StatusOr<std::unique_ptr<RedisConnection>> SubscribeSwitches();

  const RedisEndpoint& url() const { return url_; }

 private:
  absl::StatusOr<std::unique_ptr<RedisConnection>> ConnectTo(
      const RedisEndpoint& endpoint, absl::string_view suffix);
  // One sentinel: its answer, then the master it names, ROLE checked.
  absl::StatusOr<ResolvedMaster> AskOne(size_t index);

  const RedisEndpoint url_;
  const absl::Duration connect_timeout_, command_timeout_;
  const std::string client_name_;
  uint64_t* commands_;
  size_t last_good_ = 0;
};

}  // namespace vix::persist::internal

#endif  // VIXBREAKER_PERSIST_SRC_SENTINEL_H_
