// A blocking hiredis connection with a timeout on connect and on every
// command (internal to persist/). Replies are copied into plain values so
// no hiredis object outlives a call.
//
// Why the synchronous API: the mirror is one dedicated thread doing a few
// commands per second; blocking calls bounded by SO_RCVTIMEO/SO_SNDTIMEO
// keep its logic sequential (no callbacks, no event loop library), and no
// deciding thread ever touches a connection.
#ifndef VIXBREAKER_PERSIST_SRC_REDIS_CONNECTION_H_
#define VIXBREAKER_PERSIST_SRC_REDIS_CONNECTION_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "vixbreaker/persist/redis_url.h"

struct redisContext;

namespace vix::persist::internal {

struct Reply {
  enum class Type { kNil, kString, kStatus, kInteger, kArray, kError };
  Type type = Type::kNil;
  std::string str;  // kString, kStatus, kError
  int64_t integer = 0;
  std::vector<Reply> elements;

  bool IsError() const { return type == Type::kError; }
  bool IsNil() const { return type == Type::kNil; }
};

struct ConnectionOptions {
  RedisEndpoint endpoint;
  absl::Duration connect_timeout = absl::Milliseconds(500);
  absl::Duration command_timeout = absl::Milliseconds(500);
  std::string client_name;  // CLIENT SETNAME; empty: none
};

// The kind under which the mirror logs a failed exchange (the "kind" of
// REDIS_ERROR_PANIC_TS: "timeout", "auth", "select", "protocol"), attached
// where the failure is known as a status payload, so it is never guessed
// from the status code and each code keeps its own meaning.
absl::Status WithLogKind(absl::Status status, absl::string_view kind);
// The kind WithLogKind attached to `status`, else `otherwise`.
std::string LogKindOf(const absl::Status& status, absl::string_view otherwise);

class RedisConnection {
 public:
  // Connects, then AUTH, SELECT and CLIENT SETNAME as configured. Errors
  // name the redacted URL; Redis's own AUTH reply never holds the password.
  // A refused AUTH is PermissionDenied (kind "auth"); a refused SELECT is
  // FailedPrecondition, or PermissionDenied for an ACL's NOPERM (kind
  // "select").
  // `commands` (may be null) counts every command sent.
  static absl::StatusOr<std::unique_ptr<RedisConnection>> Connect(
      const ConnectionOptions& options, uint64_t* commands);
  ~RedisConnection();
  RedisConnection(const RedisConnection&) = delete;
  RedisConnection& operator=(const RedisConnection&) = delete;

  // Sends one command and waits (bounded) for its reply. An error reply is
  // a Reply of type kError; a timeout is DeadlineExceeded (kind "timeout")
  // and any other transport failure Unavailable: the connection is then
  // unusable.
  absl::StatusOr<Reply> Command(const std::vector<std::string>& argv);

  // For a subscribed connection: queue and write a command without waiting
  // for its reply, then read replies as they come.
  absl::Status Send(const std::vector<std::string>& argv);
  // Reads what the socket has (call when poll() says readable).
  absl::Status ReadSocket();
  // The next complete reply already read, if any; DataLoss (kind
  // "protocol") for bytes that are not the Redis protocol.
  absl::StatusOr<std::optional<Reply>> NextBufferedReply();

  int fd() const;

 private:
  RedisConnection(redisContext* context, const ConnectionOptions& options,
                  uint64_t* commands);
  absl::Status TransportError(absl::string_view doing, int saved_errno);
  absl::Status Handshake();

  redisContext* context_;
  ConnectionOptions options_;
  uint64_t* commands_;
};

}  // namespace vix::persist::internal

#endif  // VIXBREAKER_PERSIST_SRC_REDIS_CONNECTION_H_
