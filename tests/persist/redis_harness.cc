#include "redis_harness.h"

#include <arpa/inet.h>
#include <hiredis/hiredis.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace vix::testing {
namespace {

constexpr absl::Duration kReadyTimeout = absl::Seconds(10);

TestReply Convert(const redisReply* r) {
  TestReply out;
  switch (r->type) {
    case REDIS_REPLY_STRING:
      out.type = TestReply::Type::kString;
      out.str.assign(r->str, r->len);
      break;
    case REDIS_REPLY_STATUS:
      out.type = TestReply::Type::kStatus;
      out.str.assign(r->str, r->len);
      break;
    case REDIS_REPLY_ERROR:
      out.type = TestReply::Type::kError;
      out.str.assign(r->str, r->len);
      break;
    case REDIS_REPLY_INTEGER:
      out.type = TestReply::Type::kInteger;
      out.integer = r->integer;
      break;
    case REDIS_REPLY_ARRAY:
      out.type = TestReply::Type::kArray;
      for (size_t i = 0; i < r->elements; ++i) {
        out.elements.push_back(Convert(r->element[i]));
      }
      break;
    default:
      out.type = TestReply::Type::kNil;
  }
  return out;
}

redisContext* ConnectTo(const RedisServer& server, absl::Duration timeout) {
  const timeval tv = absl::ToTimeval(timeout);
  redisContext* c =
      server.port() == 0
          ? redisConnectUnixWithTimeout(server.unix_path().c_str(), tv)
          : redisConnectWithTimeout("127.0.0.1", server.client_port(), tv);
  if (c == nullptr) return nullptr;
  if (c->err != 0) {
    redisFree(c);
    return nullptr;
  }
  redisSetTimeout(c, tv);
  return c;
}

}  // namespace

std::string FindRedisServer() { return FindProgram("redis-server"); }


int FreeLoopbackPort() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof(addr);
  int port = -1;
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  close(fd);
  return port;
}

RedisServer::RedisServer(RedisServerOptions options)
    : options_(std::move(options)) {}

RedisServer::~RedisServer() {
  if (child_ != nullptr) {
    child_->Signal(SIGCONT);  // a paused server must still die
    Kill();
  }
}

::testing::AssertionResult RedisServer::Start() {
  if (FindRedisServer().empty()) {
    return ::testing::AssertionFailure()
           << "redis-server not found on PATH: install the redis-server "
              "package (apt-get install redis-server); the persist tests need "
              "a real Redis and are never skipped";
  }
  // A picked port can be taken before redis binds it: try a few.
  ::testing::AssertionResult result = ::testing::AssertionFailure();
  for (int attempt = 0; attempt < 5; ++attempt) {
    if (options_.port == kUnixOnly) {
      port_ = 0;
    } else {
      port_ = options_.port != 0 ? options_.port : FreeLoopbackPort();
    }
    result = Launch();
    if (result || options_.port != 0) break;
  }
  return result;
}

::testing::AssertionResult RedisServer::Launch() {
  std::vector<std::string> argv = {FindRedisServer(),
                                   "--port",
                                   absl::StrCat(port_),
                                   "--bind",
                                   "127.0.0.1",
                                   "--save",
                                   "",
                                   "--appendonly",
                                   "no",
                                   "--dir",
                                   dir_.path(),
                                   "--logfile",
                                   dir_.path() + "/redis.log",
                                   "--daemonize",
                                   "no"};
  if (options_.unix_socket || port_ == 0) {
    argv.insert(argv.end(),
                {"--unixsocket", unix_path(), "--unixsocketperm", "700"});
  }
  argv.insert(argv.end(), options_.extra_args.begin(),
              options_.extra_args.end());
  child_ = std::make_unique<Child>(argv);
  const bool ready = WaitFor(
      [&] {
        redisContext* c = ConnectTo(*this, absl::Milliseconds(200));
        if (c == nullptr) return false;
        redisReply* r = static_cast<redisReply*>(redisCommand(c, "PING"));
        const bool answered = r != nullptr;  // NOAUTH is an answer too
        if (r != nullptr) freeReplyObject(r);
        redisFree(c);
        return answered;
      },
      kReadyTimeout);
  if (ready) return ::testing::AssertionSuccess();
  const int status = child_->Wait(absl::ZeroDuration());
  child_.reset();
  return ::testing::AssertionFailure()
         << "redis-server on port " << port_ << " did not answer PING within "
         << kReadyTimeout << (status != -1 ? " (it exited)" : "")
         << "; see its log in " << dir_.path() << "/redis.log";
}

void RedisServer::Kill() {
  if (child_ == nullptr) return;
  child_->Signal(SIGKILL);
  child_->Wait();
  child_.reset();
}

::testing::AssertionResult RedisServer::Restart() {
  Kill();
  return Launch();
}

void RedisServer::Pause() {
  if (child_) child_->Signal(SIGSTOP);
}

void RedisServer::Resume() {
  if (child_) child_->Signal(SIGCONT);
}

std::string RedisServer::Url(const std::string& credentials) const {
  return absl::StrCat("redis://", credentials, credentials.empty() ? "" : "@",
                      "127.0.0.1:", port_, "/0");
}

RedisClient::RedisClient(const RedisServer& server) {
  context_ = ConnectTo(server, absl::Seconds(5));
  Authenticate(server.admin_password());
  EXPECT_TRUE(context_ != nullptr)
      << "test client cannot connect to redis-server on port " << server.port();
}

RedisClient::RedisClient(int port, const std::string& password) {
  const timeval tv = absl::ToTimeval(absl::Seconds(5));
  context_ = redisConnectWithTimeout("127.0.0.1", port, tv);
  if (context_ != nullptr && context_->err != 0) {
    redisFree(context_);
    context_ = nullptr;
  }
  if (context_ != nullptr) redisSetTimeout(context_, tv);
  Authenticate(password);
  EXPECT_TRUE(context_ != nullptr)
      << "test client cannot connect to 127.0.0.1:" << port;
}

void RedisClient::Authenticate(const std::string& password) {
  if (context_ == nullptr || password.empty()) return;
  TestReply auth = Command({"AUTH", password});
  EXPECT_EQ(auth.type, TestReply::Type::kStatus) << auth.str;
}

RedisClient::~RedisClient() {
  if (context_ != nullptr) redisFree(context_);
}

bool RedisClient::connected() const {
  return context_ != nullptr && context_->err == 0;
}

TestReply RedisClient::Command(const std::vector<std::string>& argv) {
  if (!connected()) return TestReply{};
  std::vector<const char*> ptrs;
  std::vector<size_t> lengths;
  for (const std::string& a : argv) {
    ptrs.push_back(a.data());
    lengths.push_back(a.size());
  }
  void* raw = redisCommandArgv(context_, static_cast<int>(argv.size()),
                               ptrs.data(), lengths.data());
  if (raw == nullptr) return TestReply{};
  TestReply reply = Convert(static_cast<redisReply*>(raw));
  freeReplyObject(raw);
  return reply;
}

std::optional<std::string> RedisClient::Get(const std::string& key) {
  TestReply r = Command({"GET", key});
  if (r.type == TestReply::Type::kString) return r.str;
  EXPECT_EQ(r.type, TestReply::Type::kNil) << "GET " << key << ": " << r.str;
  return std::nullopt;
}

int64_t RedisClient::Ttl(const std::string& key) {
  return Command({"TTL", key}).integer;
}

int64_t RedisClient::TotalCommandCalls() {
  TestReply r = Command({"INFO", "commandstats"});
  int64_t total = 0;
  for (absl::string_view line : absl::StrSplit(r.str, "\r\n")) {
    const size_t calls = line.find(":calls=");
    if (calls == absl::string_view::npos) continue;
    absl::string_view rest = line.substr(calls + 7);
    int64_t n = 0;
    if (absl::SimpleAtoi(rest.substr(0, rest.find(',')), &n)) total += n;
  }
  return total;
}

int64_t RedisClient::Subscribers(const std::string& channel) {
  TestReply r = Command({"PUBSUB", "NUMSUB", channel});
  if (r.type != TestReply::Type::kArray || r.elements.size() != 2) return -1;
  return r.elements[1].integer;
}

std::optional<TestReply> RedisClient::ReadReply(absl::Duration timeout) {
  if (!connected()) return std::nullopt;
  void* raw = nullptr;
  if (redisGetReplyFromReader(context_, &raw) == REDIS_OK && raw != nullptr) {
    TestReply reply = Convert(static_cast<redisReply*>(raw));
    freeReplyObject(raw);
    return reply;
  }
  pollfd p{context_->fd, POLLIN, 0};
  if (poll(&p, 1, static_cast<int>(absl::ToInt64Milliseconds(timeout))) <= 0) {
    return std::nullopt;
  }
  if (redisBufferRead(context_) != REDIS_OK) return std::nullopt;
  if (redisGetReplyFromReader(context_, &raw) != REDIS_OK || raw == nullptr) {
    return std::nullopt;
  }
  TestReply reply = Convert(static_cast<redisReply*>(raw));
  freeReplyObject(raw);
  return reply;
}

}  // namespace vix::testing
