#include "sentinel.h"

#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace vix::persist::internal {
namespace {

bool ParsePort(absl::string_view text, int* port) {
  return absl::SimpleAtoi(text, port) && *port >= 1 && *port <= 65535;
}

bool IsText(const Reply& r) {
  return r.type == Reply::Type::kString || r.type == Reply::Type::kStatus;
}

}  // namespace

absl::StatusOr<HostPort> ParseMasterAddrReply(const Reply& reply) {
  if (reply.IsNil()) {
    return absl::NotFoundError("does not know the master");
  }
  if (reply.IsError()) {
    return absl::FailedPreconditionError(
        absl::StrCat("answered with an error: ", reply.str.substr(0, 200)));
  }
  HostPort out;
  if (reply.type != Reply::Type::kArray || reply.elements.size() != 2 ||
      !IsText(reply.elements[0]) || !IsText(reply.elements[1]) ||
      reply.elements[0].str.empty() ||
      !ParsePort(reply.elements[1].str, &out.port)) {
    return absl::DataLossError(
        "answered get-master-addr-by-name with something other than [ip, "
        "port]");
  }
  out.host = reply.elements[0].str;
  return out;
}

absl::Status CheckMasterRole(const Reply& reply) {
  if (reply.IsError()) {
    return absl::FailedPreconditionError(
        absl::StrCat("refused ROLE: ", reply.str.substr(0, 200)));
  }
  if (reply.type != Reply::Type::kArray || reply.elements.empty() ||
      !IsText(reply.elements[0])) {
    return absl::DataLossError("answered ROLE with a malformed reply");
  }
  const std::string& role = reply.elements[0].str;
  if (role == "master") return absl::OkStatus();
  return absl::FailedPreconditionError(absl::StrCat(
      "is not a master (ROLE says ", role.substr(0, 32),
      "): the sentinel's view is stale or a failover is under way"));
}

std::optional<MasterSwitch> ParseSwitchMaster(absl::string_view payload) {
  std::vector<absl::string_view> parts =
      absl::StrSplit(payload, ' ', absl::SkipEmpty());
  if (parts.size() != 5) return std::nullopt;
  MasterSwitch out;
  out.name = std::string(parts[0]);
  out.from.host = std::string(parts[1]);
  out.to.host = std::string(parts[3]);
  if (!ParsePort(parts[2], &out.from.port) ||
      !ParsePort(parts[4], &out.to.port)) {
    return std::nullopt;
  }
  return out;
}

std::vector<size_t> SentinelOrder(size_t count, size_t last_good) {
  std::vector<size_t> order;
  if (count == 0) return order;
  const size_t first = last_good < count ? last_good : 0;
  for (size_t i = 0; i < count; ++i) order.push_back((first + i) % count);
  return order;
}

RedisEndpoint MasterEndpoint(const RedisEndpoint& url,
                             const HostPort& address) {
  RedisEndpoint ep;
  ep.transport = RedisEndpoint::Transport::kTcp;
  ep.host = address.host;
  ep.port = address.port;
  ep.user = url.user;
  ep.password = url.password;
  ep.db = url.db;
  return ep;
}

RedisEndpoint SentinelEndpoint(const RedisEndpoint& url, size_t index) {
  RedisEndpoint ep;
  ep.transport = RedisEndpoint::Transport::kTcp;
  ep.host = url.sentinels[index].host;
  ep.port = url.sentinels[index].port;
  ep.user = url.sentinel_user;
  ep.password = url.sentinel_password;
  return ep;  // db 0: a sentinel has no SELECT
}

SentinelResolver::SentinelResolver(RedisEndpoint url,
                                   absl::Duration connect_timeout,
                                   absl::Duration command_timeout,
                                   std::string client_name, uint64_t* commands)
    : url_(std::move(url)),
      connect_timeout_(connect_timeout),
      command_timeout_(command_timeout),
      client_name_(std::move(client_name)),
      commands_(commands) {}

absl::StatusOr<std::unique_ptr<RedisConnection>> SentinelResolver::ConnectTo(
    const RedisEndpoint& endpoint, absl::string_view suffix) {
  ConnectionOptions co;
  co.endpoint = endpoint;
  co.connect_timeout = connect_timeout_;
  co.command_timeout = command_timeout_;
  co.client_name = absl::StrCat(client_name_, suffix);
  return RedisConnection::Connect(co, commands_);
}

absl::StatusOr<ResolvedMaster> SentinelResolver::AskOne(size_t index) {
  absl::StatusOr<std::unique_ptr<RedisConnection>> sentinel =
      ConnectTo(SentinelEndpoint(url_, index), "-sentinel");
  if (!sentinel.ok()) return sentinel.status();
  absl::StatusOr<Reply> reply = (*sentinel)->Command(
      {"SENTINEL", "get-master-addr-by-name", url_.master_name});
  if (!reply.ok()) return reply.status();
  absl::StatusOr<HostPort> address = ParseMasterAddrReply(*reply);
  if (!address.ok()) return address.status();
  ResolvedMaster found;
  found.address = *address;
  found.sentinel = index;
  const RedisEndpoint master = MasterEndpoint(url_, *address);
  absl::StatusOr<std::unique_ptr<RedisConnection>> conn = ConnectTo(master, "");
  if (!conn.ok()) return conn.status();
  absl::StatusOr<Reply> role = (*conn)->Command({"ROLE"});
  if (!role.ok()) return role.status();
  absl::Status is_master = CheckMasterRole(*role);
  if (!is_master.ok()) {
    return absl::FailedPreconditionError(
        absl::StrCat("named ", FormatHostPort(address->host, address->port),
                     ", which ", is_master.message()));
  }
  found.connection = *std::move(conn);
  return found;
}

absl::StatusOr<ResolvedMaster> SentinelResolver::Resolve(
    const std::function<bool()>& keep_going) {
  std::string said;
  for (size_t index : SentinelOrder(url_.sentinels.size(), last_good_)) {
    if (!keep_going()) {
      return absl::CancelledError("sentinel resolution stopped");
    }
    absl::StatusOr<ResolvedMaster> found = AskOne(index);
    if (found.ok()) {
      last_good_ = index;
      return found;
    }
    const HostPort& s = url_.sentinels[index];
    absl::StrAppend(&said, said.empty() ? "" : "; ",
                    FormatHostPort(s.host, s.port), " ",
                    found.status().message());
  }
  // Short and most telling first: the segment keeps 128 bytes of it.
  return absl::UnavailableError(
      absl::StrCat("no master from the sentinels: ", said));
}

absl::StatusOr<std::unique_ptr<RedisConnection>>
SentinelResolver::SubscribeSwitches() {
  absl::Status last = absl::UnavailableError("no sentinel in the URL");
  for (size_t index : SentinelOrder(url_.sentinels.size(), last_good_)) {
    absl::StatusOr<std::unique_ptr<RedisConnection>> conn =
        ConnectTo(SentinelEndpoint(url_, index), "-switches");
    if (!conn.ok()) {
      last = conn.status();
      continue;
    }
    absl::Status sent = (*conn)->Send({"SUBSCRIBE", kSwitchMasterChannel});
    if (sent.ok()) return conn;
    last = sent;
  }
  return last;
}

}  // namespace vix::persist::internal
