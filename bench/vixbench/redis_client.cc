#include "redis_client.h"

#include <hiredis/hiredis.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace vix::bench {

absl::StatusOr<std::unique_ptr<RedisClient>> RedisClient::Connect(
    const std::string& url) {
  absl::StatusOr<persist::RedisEndpoint> ep = persist::ParseRedisUrl(url);
  if (!ep.ok()) return ep.status();
  const timeval timeout{2, 0};
  redisContext* c =
      ep->transport == persist::RedisEndpoint::Transport::kUnix
          ? redisConnectUnixWithTimeout(ep->unix_path.c_str(), timeout)
          : redisConnectWithTimeout(ep->host.c_str(), ep->port, timeout);
  if (c == nullptr || c->err != 0) {
    std::string why = c == nullptr ? "out of memory" : c->errstr;
    if (c != nullptr) redisFree(c);
    return absl::UnavailableError(
        absl::StrCat("cannot connect to Redis at ", ep->Redacted(), ": ", why));
  }
  redisSetTimeout(c, timeout);
  std::unique_ptr<RedisClient> client(new RedisClient(c, ep->Redacted()));
  if (!ep->password.empty()) {
    std::vector<std::string> auth = {"AUTH"};
    if (!ep->user.empty()) auth.push_back(ep->user);
    auth.push_back(ep->password);
    if (absl::Status s = client->Command(auth).status(); !s.ok()) return s;
  }
  if (ep->db != 0) {
    absl::Status s = client->Command({"SELECT", absl::StrCat(ep->db)}).status();
    if (!s.ok()) return s;
  }
  return client;
}

RedisClient::~RedisClient() { redisFree(context_); }

absl::StatusOr<std::string> RedisClient::Command(
    const std::vector<std::string>& argv) {
  std::vector<const char*> ptrs;
  std::vector<size_t> lengths;
  for (const std::string& a : argv) {
    ptrs.push_back(a.data());
    lengths.push_back(a.size());
  }
  auto* reply = static_cast<redisReply*>(redisCommandArgv(
      context_, static_cast<int>(argv.size()), ptrs.data(), lengths.data()));
  if (reply == nullptr) {
    return absl::UnavailableError(absl::StrCat("Redis at ", redacted_url_,
                                               " failed during ", argv[0], ": ",
                                               context_->errstr));
  }
  std::string text;
  absl::Status status;
  switch (reply->type) {
    case REDIS_REPLY_ERROR:
      status = absl::FailedPreconditionError(
          absl::StrCat("Redis refused ", argv[0], ": ",
                       std::string(reply->str, reply->len)));
      break;
    case REDIS_REPLY_INTEGER:
      text = absl::StrCat(reply->integer);
      break;
    case REDIS_REPLY_STRING:
    case REDIS_REPLY_STATUS:
      text.assign(reply->str, reply->len);
      break;
    default:
      break;
  }
  freeReplyObject(reply);
  if (!status.ok()) return status;
  return text;
}

absl::StatusOr<std::map<std::string, std::string>> RedisClient::Info(
    const std::string& section) {
  absl::StatusOr<std::string> text = Command({"INFO", section});
  if (!text.ok()) return text.status();
  std::map<std::string, std::string> fields;
  for (absl::string_view line : absl::StrSplit(*text, '\n')) {
    line = absl::StripTrailingAsciiWhitespace(line);
    const size_t colon = line.find(':');
    if (line.empty() || line[0] == '#' || colon == line.npos) continue;
    fields[std::string(line.substr(0, colon))] =
        std::string(line.substr(colon + 1));
  }
  return fields;
}

}  // namespace vix::bench
