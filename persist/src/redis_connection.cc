#include "redis_connection.h"

#include <hiredis/hiredis.h>
#include <signal.h>
#include <sys/time.h>

#include <cerrno>

#include "absl/strings/cord.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace vix::persist::internal {
namespace {

Reply Convert(const redisReply* r) {
  Reply out;
  switch (r->type) {
    case REDIS_REPLY_STRING:
      out.type = Reply::Type::kString;
      out.str.assign(r->str, r->len);
      break;
    case REDIS_REPLY_STATUS:
      out.type = Reply::Type::kStatus;
      out.str.assign(r->str, r->len);
      break;
    case REDIS_REPLY_ERROR:
      out.type = Reply::Type::kError;
      out.str.assign(r->str, r->len);
      break;
    case REDIS_REPLY_INTEGER:
      out.type = Reply::Type::kInteger;
      out.integer = r->integer;
      break;
    case REDIS_REPLY_ARRAY:
      out.type = Reply::Type::kArray;
      out.elements.reserve(r->elements);
      for (size_t i = 0; i < r->elements; ++i) {
        out.elements.push_back(Convert(r->element[i]));
      }
      break;
    default:
      out.type = Reply::Type::kNil;
  }
  return out;
}

// hiredis writes with write(2): a peer that went away raises SIGPIPE. The
// mirror thread blocks SIGPIPE; this discards one left pending so it is
// never delivered later.
void DiscardPendingSigpipe() {
  sigset_t pipe_set;
  sigemptyset(&pipe_set);
  sigaddset(&pipe_set, SIGPIPE);
  sigset_t pending;
  if (sigpending(&pending) == 0 && sigismember(&pending, SIGPIPE)) {
    timespec zero{0, 0};
    sigtimedwait(&pipe_set, nullptr, &zero);
  }
}

std::vector<size_t> Lengths(const std::vector<std::string>& argv,
                            std::vector<const char*>* ptrs) {
  std::vector<size_t> lengths;
  for (const std::string& a : argv) {
    ptrs->push_back(a.data());
    lengths.push_back(a.size());
  }
  return lengths;
}

constexpr absl::string_view kLogKindUrl = "type.vixbreaker/mirror-log-kind";

}  // namespace

absl::Status WithLogKind(absl::Status status, absl::string_view kind) {
  status.SetPayload(kLogKindUrl, absl::Cord(kind));
  return status;
}

std::string LogKindOf(const absl::Status& status, absl::string_view otherwise) {
  const auto kind = status.GetPayload(kLogKindUrl);
  return kind.has_value() ? std::string(*kind) : std::string(otherwise);
}

absl::StatusOr<std::unique_ptr<RedisConnection>> RedisConnection::Connect(
    const ConnectionOptions& options, uint64_t* commands) {
  const RedisEndpoint& ep = options.endpoint;
  if (ep.transport == RedisEndpoint::Transport::kSentinel) {
    return absl::InvalidArgumentError(absl::StrCat(
        "cannot connect to ", ep.Redacted(),
        " directly: a sentinel URL is resolved to its master first"));
  }
  const timeval tv = absl::ToTimeval(options.connect_timeout);
  redisContext* c = ep.transport == RedisEndpoint::Transport::kUnix
                        ? redisConnectUnixWithTimeout(ep.unix_path.c_str(), tv)
                        : redisConnectWithTimeout(ep.host.c_str(), ep.port, tv);
  if (c == nullptr) {
    return absl::ResourceExhaustedError(
        absl::StrCat("cannot allocate a Redis context for ", ep.Redacted()));
  }
  if (c->err != 0) {
    const std::string error = c->errstr;
    redisFree(c);
    return absl::UnavailableError(absl::StrCat(
        "cannot connect to ", ep.Redacted(), " within ",
        absl::FormatDuration(options.connect_timeout), ": ", error));
  }
  if (redisSetTimeout(c, absl::ToTimeval(options.command_timeout)) !=
      REDIS_OK) {
    redisFree(c);
    return absl::InternalError(
        absl::StrCat("cannot set the command timeout on ", ep.Redacted()));
  }
  std::unique_ptr<RedisConnection> conn(
      new RedisConnection(c, options, commands));
  absl::Status handshake = conn->Handshake();
  if (!handshake.ok()) return handshake;
  return conn;
}

RedisConnection::RedisConnection(redisContext* context,
                                 const ConnectionOptions& options,
                                 uint64_t* commands)
    : context_(context), options_(options), commands_(commands) {}

RedisConnection::~RedisConnection() { redisFree(context_); }

int RedisConnection::fd() const { return context_->fd; }

absl::Status RedisConnection::Handshake() {
  const RedisEndpoint& ep = options_.endpoint;
  if (!ep.password.empty()) {
    std::vector<std::string> auth = {"AUTH"};
    if (!ep.user.empty()) auth.push_back(ep.user);
    auth.push_back(ep.password);
    absl::StatusOr<Reply> reply = Command(auth);
    if (!reply.ok()) return reply.status();
    if (reply->IsError()) {
      return WithLogKind(
          absl::PermissionDeniedError(absl::StrCat(
              "Redis at ", ep.Redacted(), " refused AUTH",
              ep.user.empty() ? "" : " for user ", ep.user, ": ", reply->str,
              "; check the user and password in the URL")),
          "auth");
    }
  }
  if (ep.db != 0) {
    absl::StatusOr<Reply> reply = Command({"SELECT", absl::StrCat(ep.db)});
    if (!reply.ok()) return reply.status();
    if (reply->IsError()) {
      // The server has no such database, or an ACL forbids it.
      std::string text =
          absl::StrCat("Redis at ", ep.Redacted(), " refused SELECT ", ep.db,
                       ": ", reply->str);
      return WithLogKind(absl::StartsWith(reply->str, "NOPERM")
                             ? absl::PermissionDeniedError(text)
                             : absl::FailedPreconditionError(text),
                         "select");
    }
  }
  if (!options_.client_name.empty()) {
    // Only a label for CLIENT LIST; an ACL that forbids it is no failure.
    absl::StatusOr<Reply> reply =
        Command({"CLIENT", "SETNAME", options_.client_name});
    if (!reply.ok()) return reply.status();
  }
  return absl::OkStatus();
}

absl::Status RedisConnection::TransportError(absl::string_view doing,
                                             int saved_errno) {
  if (saved_errno == EPIPE) DiscardPendingSigpipe();
  const std::string where = options_.endpoint.Redacted();
  if (context_->err == REDIS_ERR_IO &&
      (saved_errno == EAGAIN || saved_errno == EWOULDBLOCK)) {
    return WithLogKind(
        absl::DeadlineExceededError(absl::StrCat(
            "Redis at ", where, " did not answer ", doing, " within ",
            absl::FormatDuration(options_.command_timeout),
            " (command timeout)")),
        "timeout");
  }
  if (context_->err == REDIS_ERR_EOF) {
    return absl::UnavailableError(absl::StrCat(
        "Redis at ", where, " closed the connection (", doing, ")"));
  }
  return absl::UnavailableError(absl::StrCat("Redis at ", where, " failed (",
                                             doing, "): ", context_->errstr));
}

absl::StatusOr<Reply> RedisConnection::Command(
    const std::vector<std::string>& argv) {
  if (context_->err != 0) return TransportError(argv[0], 0);
  std::vector<const char*> ptrs;
  std::vector<size_t> lengths = Lengths(argv, &ptrs);
  if (commands_ != nullptr) ++*commands_;
  errno = 0;
  void* raw = redisCommandArgv(context_, static_cast<int>(argv.size()),
                               ptrs.data(), lengths.data());
  const int saved_errno = errno;
  if (raw == nullptr) return TransportError(argv[0], saved_errno);
  Reply reply = Convert(static_cast<redisReply*>(raw));
  freeReplyObject(raw);
  return reply;
}

absl::Status RedisConnection::Send(const std::vector<std::string>& argv) {
  std::vector<const char*> ptrs;
  std::vector<size_t> lengths = Lengths(argv, &ptrs);
  if (commands_ != nullptr) ++*commands_;
  if (redisAppendCommandArgv(context_, static_cast<int>(argv.size()),
                             ptrs.data(), lengths.data()) != REDIS_OK) {
    return TransportError(argv[0], errno);
  }
  int done = 0;
  while (!done) {
    errno = 0;
    if (redisBufferWrite(context_, &done) != REDIS_OK) {
      return TransportError(argv[0], errno);
    }
  }
  return absl::OkStatus();
}

absl::Status RedisConnection::ReadSocket() {
  errno = 0;
  if (redisBufferRead(context_) != REDIS_OK) {
    return TransportError("a subscription read", errno);
  }
  return absl::OkStatus();
}

absl::StatusOr<std::optional<Reply>> RedisConnection::NextBufferedReply() {
  void* raw = nullptr;
  if (redisGetReplyFromReader(context_, &raw) != REDIS_OK) {
    return WithLogKind(
        absl::DataLossError(absl::StrCat("protocol error from Redis at ",
                                         options_.endpoint.Redacted(), ": ",
                                         context_->errstr)),
        "protocol");
  }
  if (raw == nullptr) return std::optional<Reply>();
  Reply reply = Convert(static_cast<redisReply*>(raw));
  freeReplyObject(raw);
  return std::optional<Reply>(std::move(reply));
}

}  // namespace vix::persist::internal
