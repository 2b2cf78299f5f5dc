// A real redis-server per test, and a plain hiredis client to look at it.
//
//   RedisServer redis;
//   ASSERT_TRUE(redis.Start());          // free loopback port, own temp dir
//   RedisClient client(redis);
//   EXPECT_EQ(client.Get("k"), "v");
//
// No persistence (--save '' --appendonly no), so a restart is empty. A
// missing redis-server fails the test with a message; nothing is skipped.
//
// Also, for the deployments of SPEC 14: real redis-sentinel processes
// (RedisSentinel), a TCP proxy that can blackhole (TcpProxy), and a TLS-only
// redis-server behind a stunnel4 client tunnel (TlsTunnel). All loopback.
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
  // Where clients (readiness PING, RedisClient) connect instead of `port`:
  // a tunnel in front of a TLS-only server. 0: `port` itself.
  int client_port = 0;
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
  // Where plain clients connect: port(), or the tunnel in front of it.
  int client_port() const {
    return options_.client_port != 0 ? options_.client_port : port_;
  }
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
  // Any loopback TCP port (a sentinel), with AUTH if `password` is set.
  explicit RedisClient(int port, const std::string& password = "");
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
  void Authenticate(const std::string& password);
  redisContext* context_ = nullptr;
};


// ---- Sentinel ---------------------------------------------------------------

struct SentinelOptions {
  std::string master_name = "vixmaster";
  int quorum = 2;
  int down_after_ms = 400;
  int failover_timeout_ms = 3000;
  std::string master_password;    // sentinel auth-pass for the master
  std::string sentinel_password;  // requirepass of the sentinel itself
};

// One redis-sentinel process monitoring `master` (a RedisServer on TCP).
class RedisSentinel {
 public:
  RedisSentinel(const RedisServer& master, SentinelOptions options = {});
  ~RedisSentinel();
  ::testing::AssertionResult Start();
  void Kill();
  int port() const { return port_; }
  const SentinelOptions& options() const { return options_; }

 private:
  SentinelOptions options_;
  int master_port_;
  TempDir dir_;
  int port_ = 0;
  std::unique_ptr<Child> child_;
};

// Three sentinels, a master and one replica: what SPEC 14's failover tests
// run against. Ready() waits until every sentinel knows the replica and the
// two other sentinels, so a killed master can actually be failed over.
class SentinelCluster {
 public:
  explicit SentinelCluster(SentinelOptions options = {});
  ::testing::AssertionResult Start();
  ::testing::AssertionResult Ready(absl::Duration timeout = absl::Seconds(20));
  // redis-sentinel://[creds@]127.0.0.1:P1,...:P3/NAME[?query]
  std::string Url(const std::string& credentials = "",
                  const std::string& query = "") const;
  RedisServer& master() { return *master_; }
  RedisServer& replica() { return *replica_; }
  RedisSentinel& sentinel(int i) { return *sentinels_[i]; }
  // The master address sentinel `i` reports (port), or -1.
  int ReportedMasterPort(int i);

 private:
  SentinelOptions options_;
  std::unique_ptr<RedisServer> master_, replica_;
  std::vector<std::unique_ptr<RedisSentinel>> sentinels_;
};

// Clients subscribed to +switch-master on every sentinel of a cluster: the
// moment a failover is first announced (the leader announces it at once,
// the others when they hear of it, up to a hello period later).
class SwitchWatcher {
 public:
  explicit SwitchWatcher(SentinelCluster& cluster);
  // Waits for the first +switch-master; its payload, or nullopt on timeout.
  std::optional<std::string> Next(absl::Duration timeout);

 private:
  std::vector<std::unique_ptr<RedisClient>> clients_;
};

// ---- a proxy that can blackhole
// ----------------------------------------------

// Forwards loopback TCP connections to `upstream_port` on a thread of its
// own. Blackholed, it still accepts connections but forwards nothing in
// either direction (data waits in the kernel; nothing is closed): a Redis
// that stops answering without closing the connection.
class TcpProxy {
 public:
  explicit TcpProxy(int upstream_port);
  ~TcpProxy();
  ::testing::AssertionResult Start();
  void SetBlackhole(bool blackhole);
  int port() const { return port_; }
  int connections_accepted() const;

 private:
  struct State;
  void Run();
  std::unique_ptr<State> state_;
  int upstream_port_;
  int port_ = 0;
};

// ---- TLS through stunnel
// -------------------------------------------------------

// A throwaway CA and a server certificate for localhost/127.0.0.1 (openssl),
// and a stunnel4 client tunnel: plaintext on port(), TLS (verified against
// the CA) to `tls_port`. ServerArgs() are what a TLS-only redis-server needs.
class TlsTunnel {
 public:
  explicit TlsTunnel(int tls_port);
  ~TlsTunnel();
  ::testing::AssertionResult Start();
  std::vector<std::string> ServerArgs() const;
  int port() const { return port_; }
  const std::string& dir() const { return dir_.path(); }

 private:
  TempDir dir_;
  int tls_port_;
  int port_ = 0;
  std::unique_ptr<Child> child_;
};

}  // namespace vix::testing

#endif  // VIXBREAKER_TESTS_PERSIST_REDIS_HARNESS_H_
