// A real redis-server per test, and a plain hiredis client to look at it.
//
//   RedisServer redis;
//   ASSERT_TRUE(redis.Start());          // free loopback port, own temp dir
//   RedisClient client(redis);
//   EXPECT_EQ(client.Get("k"), "v");
//
// No persistence (--save '' --appendonly no), so a restart is empty. A
// missing redis-server fails the test with a message; nothing is skipped.
#ifndef VIXBREAKER_TESTS_PERSIST_REDIS_HARNESS_H_
#define VIXBREAKER_TESTS_PERSIST_REDIS_HARNESS_H_

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "test_util.h"

struct redisContext;

namespace vix::testing {

struct RedisServerOptions {
  bool unix_socket = false;             // also listen on <dir>/redis.sock
  std::vector<std::string> extra_args;  // e.g. {"--requirepass", "pw"}
  int port = 0;  // 0: pick a free loopback port; kUnixOnly: no TCP at all
};
inline constexpr int kUnixOnly = -1;

class RedisServer {
 public:
  explicit RedisServer(RedisServerOptions options = {});
  ~RedisServer();

  // Starts redis-server and waits (bounded) until it answers PING.
  ::testing::AssertionResult Start();
  // SIGKILL and reap: no shutdown, no goodbye to clients.
  void Kill();
  // Starts again on the same port and socket, empty.
  ::testing::AssertionResult Restart();
  void Pause();   // SIGSTOP
  void Resume();  // SIGCONT

  int port() const { return port_; }
  pid_t pid() const { return child_ ? child_->pid() : -1; }
  std::string unix_path() const { return dir_.path() + "/redis.sock"; }
  // redis://127.0.0.1:PORT/0, with credentials if given ("user:pass").
  std::string Url(const std::string& credentials = "") const;
  const std::string& dir() const { return dir_.path(); }
  // Password for the test's own clients when --requirepass is set.
  void set_admin_password(const std::string& pw) { admin_password_ = pw; }
  const std::string& admin_password() const { return admin_password_; }

 private:
  ::testing::AssertionResult Launch();
  RedisServerOptions options_;
  TempDir dir_;
  int port_ = 0;
  std::string admin_password_;
  std::unique_ptr<Child> child_;
};

// The path of redis-server on PATH, or empty.
std::string FindRedisServer();

// A free TCP port on 127.0.0.1 (bound and released; good enough for tests).
int FreeLoopbackPort();

struct TestReply {
  enum class Type { kNone, kNil, kString, kStatus, kInteger, kArray, kError };
  Type type = Type::kNone;  // kNone: no reply (connection failed)
  std::string str;
  int64_t integer = 0;
  std::vector<TestReply> elements;
};

// A blocking client with a 5 s timeout, for assertions only.
class RedisClient {
 public:
  explicit RedisClient(const RedisServer& server);
  ~RedisClient();
  bool connected() const;
  TestReply Command(const std::vector<std::string>& argv);
  // GET as text; nullopt for nil (and for errors, with a test failure).
  std::optional<std::string> Get(const std::string& key);
  int64_t Ttl(const std::string& key);
  // Sum of `calls` over INFO commandstats.
  int64_t TotalCommandCalls();
  // Subscribers of a channel (PUBSUB NUMSUB).
  int64_t Subscribers(const std::string& channel);
  // For MONITOR: the next reply, waiting up to `timeout`.
  std::optional<TestReply> ReadReply(absl::Duration timeout);

 private:
  redisContext* context_ = nullptr;
};

}  // namespace vix::testing

#endif  // VIXBREAKER_TESTS_PERSIST_REDIS_HARNESS_H_
