// The harness for SPEC 14's deployments (see redis_harness.h): sentinels,
// a blackholing proxy, a TLS tunnel. All real programs on loopback ports.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <thread>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "redis_harness.h"

namespace vix::testing {
namespace {

bool WriteFile(const std::string& path, const std::string& text) {
  std::ofstream out(path);
  out << text;
  return static_cast<bool>(out);
}

int ConnectLoopback(int port) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

bool Answers(int port, const std::string& password) {
  const int fd = ConnectLoopback(port);
  if (fd < 0) return false;
  close(fd);
  RedisClient client(port, password);
  return client.Command({"PING"}).type != TestReply::Type::kNone;
}

// A field of a flat [key, value, ...] reply (SENTINEL MASTER), or "".
std::string Field(const TestReply& r, const std::string& name) {
  for (size_t i = 0; i + 1 < r.elements.size(); i += 2) {
    if (r.elements[i].str == name) return r.elements[i + 1].str;
  }
  return "";
}

}  // namespace

// ---- RedisSentinel
// ------------------------------------------------------------

RedisSentinel::RedisSentinel(const RedisServer& master, SentinelOptions options)
    : options_(std::move(options)), master_port_(master.port()) {}

RedisSentinel::~RedisSentinel() { Kill(); }

::testing::AssertionResult RedisSentinel::Start() {
  const std::string program = FindProgram("redis-sentinel");
  if (program.empty()) {
    return ::testing::AssertionFailure()
           << "redis-sentinel not found: install the redis-sentinel package "
              "(apt-get install redis-sentinel); the Sentinel tests are never "
              "skipped";
  }
  port_ = FreeLoopbackPort();
  const std::string& name = options_.master_name;
  std::string conf = absl::StrCat(
      "port ", port_, "\nbind 127.0.0.1\ndir ", dir_.path(), "\nlogfile ",
      dir_.path(), "/sentinel.log\n", "sentinel monitor ", name, " 127.0.0.1 ",
      master_port_, " ", options_.quorum, "\n",
      "sentinel down-after-milliseconds ", name, " ", options_.down_after_ms,
      "\nsentinel failover-timeout ", name, " ", options_.failover_timeout_ms,
      "\nsentinel parallel-syncs ", name, " 1\n");
  if (!options_.master_password.empty()) {
    absl::StrAppend(&conf, "sentinel auth-pass ", name, " ",
                    options_.master_password, "\n");
  }
  if (!options_.sentinel_password.empty()) {
    // Sentinels authenticate to each other with the same password.
    absl::StrAppend(&conf, "requirepass ", options_.sentinel_password,
                    "\nsentinel sentinel-pass ", options_.sentinel_password,
                    "\n");
  }
  const std::string path = dir_.path() + "/sentinel.conf";
  if (!WriteFile(path, conf)) {
    return ::testing::AssertionFailure() << "cannot write " << path;
  }
  child_ = std::make_unique<Child>(std::vector<std::string>{program, path});
  if (WaitFor([&] { return Answers(port_, options_.sentinel_password); },
              absl::Seconds(10))) {
    return ::testing::AssertionSuccess();
  }
  return ::testing::AssertionFailure() << "redis-sentinel on port " << port_
                                       << " did not answer within 10 s; see "
                                       << dir_.path() << "/sentinel.log";
}

void RedisSentinel::Kill() {
  if (child_ == nullptr) return;
  child_->Signal(SIGKILL);
  child_->Wait();
  child_.reset();
}

// ---- SentinelCluster
// ------------------------------------------------------------

SentinelCluster::SentinelCluster(SentinelOptions options)
    : options_(std::move(options)) {}

::testing::AssertionResult SentinelCluster::Start() {
  const std::string& pw = options_.master_password;
  std::vector<std::string> auth;
  if (!pw.empty()) auth = {"--requirepass", pw, "--masterauth", pw};
  RedisServerOptions mo;
  mo.extra_args = auth;
  master_ = std::make_unique<RedisServer>(mo);
  master_->set_admin_password(pw);
  ::testing::AssertionResult started = master_->Start();
  if (!started) return started;
  RedisServerOptions ro;
  ro.extra_args = auth;
  ro.extra_args.insert(ro.extra_args.end(), {"--replicaof", "127.0.0.1",
                                             absl::StrCat(master_->port())});
  replica_ = std::make_unique<RedisServer>(ro);
  replica_->set_admin_password(pw);
  started = replica_->Start();
  if (!started) return started;
  for (int i = 0; i < 3; ++i) {
    sentinels_.push_back(std::make_unique<RedisSentinel>(*master_, options_));
    started = sentinels_.back()->Start();
    if (!started) return started;
  }
  return ::testing::AssertionSuccess();
}

::testing::AssertionResult SentinelCluster::Ready(absl::Duration timeout) {
  std::string last;
  const bool ready = WaitFor(
      [&] {
        RedisClient replica(*replica_);
        const TestReply info = replica.Command({"INFO", "replication"});
        if (info.str.find("master_link_status:up") == std::string::npos) {
          last = "the replica is not in sync with the master";
          return false;
        }
        for (const auto& s : sentinels_) {
          RedisClient client(s->port(), options_.sentinel_password);
          const TestReply r =
              client.Command({"SENTINEL", "MASTER", options_.master_name});
          if (Field(r, "num-slaves") != "1" ||
              Field(r, "num-other-sentinels") != "2" ||
              Field(r, "flags") != "master") {
            last = absl::StrCat(
                "sentinel on ", s->port(),
                " sees replicas=", Field(r, "num-slaves"),
                " other sentinels=", Field(r, "num-other-sentinels"),
                " flags=", Field(r, "flags"), " ", r.str);
            return false;
          }
        }
        return true;
      },
      timeout);
  if (ready) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure()
         << "sentinels not ready within " << timeout << ": " << last;
}

std::string SentinelCluster::Url(const std::string& credentials,
                                 const std::string& query) const {
  std::string url = absl::StrCat("redis-sentinel://", credentials,
                                 credentials.empty() ? "" : "@");
  for (size_t i = 0; i < sentinels_.size(); ++i) {
    absl::StrAppend(&url, i == 0 ? "" : ",",
                    "127.0.0.1:", sentinels_[i]->port());
  }
  absl::StrAppend(&url, "/", options_.master_name, query.empty() ? "" : "?",
                  query);
  return url;
}

int SentinelCluster::ReportedMasterPort(int i) {
  RedisClient client(sentinels_[i]->port(), options_.sentinel_password);
  const TestReply r = client.Command(
      {"SENTINEL", "get-master-addr-by-name", options_.master_name});
  int port = -1;
  if (r.elements.size() != 2 || !absl::SimpleAtoi(r.elements[1].str, &port)) {
    return -1;
  }
  return port;
}

SwitchWatcher::SwitchWatcher(SentinelCluster& cluster) {
  for (int i = 0; i < 3; ++i) {
    const RedisSentinel& s = cluster.sentinel(i);
    clients_.push_back(
        std::make_unique<RedisClient>(s.port(), s.options().sentinel_password));
    const TestReply r =
        clients_.back()->Command({"SUBSCRIBE", "+switch-master"});
    EXPECT_EQ(r.type, TestReply::Type::kArray) << "SUBSCRIBE: " << r.str;
  }
}

std::optional<std::string> SwitchWatcher::Next(absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (absl::Now() < deadline) {
    for (auto& client : clients_) {
      std::optional<TestReply> r = client->ReadReply(absl::Milliseconds(1));
      if (r.has_value() && r->elements.size() == 3 &&
          r->elements[0].str == "message") {
        return r->elements[2].str;
      }
    }
  }
  return std::nullopt;
}

// ---- TcpProxy
// -----------------------------------------------------------------

struct TcpProxy::State {
  int listen_fd = -1;
  std::atomic<bool> blackhole{false};
  std::atomic<bool> stop{false};
  std::atomic<int> accepted{0};
  std::thread thread;
};

TcpProxy::TcpProxy(int upstream_port)
    : state_(std::make_unique<State>()), upstream_port_(upstream_port) {}

TcpProxy::~TcpProxy() {
  state_->stop.store(true, std::memory_order_relaxed);
  if (state_->thread.joinable()) state_->thread.join();
  if (state_->listen_fd >= 0) close(state_->listen_fd);
}

::testing::AssertionResult TcpProxy::Start() {
  state_->listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  if (bind(state_->listen_fd, reinterpret_cast<sockaddr*>(&addr),
           sizeof(addr)) != 0 ||
      listen(state_->listen_fd, 64) != 0 ||
      getsockname(state_->listen_fd, reinterpret_cast<sockaddr*>(&addr),
                  &len) != 0) {
    return ::testing::AssertionFailure() << "proxy cannot listen on loopback";
  }
  port_ = ntohs(addr.sin_port);
  state_->thread = std::thread(&TcpProxy::Run, this);
  return ::testing::AssertionSuccess();
}

void TcpProxy::SetBlackhole(bool blackhole) {
  state_->blackhole.store(blackhole, std::memory_order_relaxed);
}

int TcpProxy::connections_accepted() const {
  return state_->accepted.load(std::memory_order_relaxed);
}

void TcpProxy::Run() {
  // pairs[i] = {client, upstream}; fds of a pair are closed together.
  std::vector<std::pair<int, int>> pairs;
  auto close_pair = [&](size_t i) {
    close(pairs[i].first);
    close(pairs[i].second);
    pairs.erase(pairs.begin() + static_cast<std::ptrdiff_t>(i));
  };
  while (!state_->stop.load(std::memory_order_relaxed)) {
    const bool hole = state_->blackhole.load(std::memory_order_relaxed);
    // Blackholed: read nothing, but notice a peer that hangs up.
    const short wanted = hole ? POLLRDHUP : (POLLIN | POLLRDHUP);
    std::vector<pollfd> fds = {{state_->listen_fd, POLLIN, 0}};
    for (const auto& [a, b] : pairs) {
      fds.push_back({a, wanted, 0});
      fds.push_back({b, wanted, 0});
    }
    if (poll(fds.data(), fds.size(), 10) <= 0) continue;
    for (size_t i = pairs.size(); i-- > 0;) {
      const pollfd& pa = fds[1 + 2 * i];
      const pollfd& pb = fds[2 + 2 * i];
      bool dead = ((pa.revents | pb.revents) & (POLLHUP | POLLERR)) != 0;
      for (const pollfd* p : {&pa, &pb}) {
        if (dead || hole || !(p->revents & POLLIN)) continue;
        char buffer[65536];
        const ssize_t n = read(p->fd, buffer, sizeof(buffer));
        const int to = p == &pa ? pairs[i].second : pairs[i].first;
        dead = n <= 0 ||
               send(to, buffer, static_cast<size_t>(n), MSG_NOSIGNAL) != n;
      }
      if (!dead && hole) dead = ((pa.revents | pb.revents) & POLLRDHUP) != 0;
      if (dead) close_pair(i);
    }
    // Last, so the pairs above match the descriptors polled.
    if (fds[0].revents & POLLIN) {
      const int client =
          accept4(state_->listen_fd, nullptr, nullptr, SOCK_CLOEXEC);
      if (client >= 0) {
        state_->accepted.fetch_add(1, std::memory_order_relaxed);
        const int upstream = ConnectLoopback(upstream_port_);
        if (upstream < 0) {
          close(client);
        } else {
          pairs.push_back({client, upstream});
        }
      }
    }
  }
  for (size_t i = pairs.size(); i-- > 0;) close_pair(i);
}

// ---- TlsTunnel
// ------------------------------------------------------------------

TlsTunnel::TlsTunnel(int tls_port) : tls_port_(tls_port) {}

TlsTunnel::~TlsTunnel() {
  if (child_ == nullptr) return;
  child_->Signal(SIGKILL);
  child_->Wait();
}

std::vector<std::string> TlsTunnel::ServerArgs() const {
  const std::string& d = dir_.path();
  return {"--port",
          "0",
          "--tls-port",
          absl::StrCat(tls_port_),
          "--tls-cert-file",
          d + "/server.crt",
          "--tls-key-file",
          d + "/server.key",
          "--tls-ca-cert-file",
          d + "/ca.crt",
          "--tls-auth-clients",
          "no"};
}

::testing::AssertionResult TlsTunnel::Start() {
  const std::string openssl = FindProgram("openssl");
  const std::string stunnel = FindProgram("stunnel4");
  if (openssl.empty() || stunnel.empty()) {
    return ::testing::AssertionFailure()
           << "openssl or stunnel4 not found: install the openssl and "
              "stunnel4 packages; the TLS test is never skipped";
  }
  const std::string& d = dir_.path();
  const std::vector<std::string> ec = {
      "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"};
  auto req = [&](std::vector<std::string> args) {
    std::vector<std::string> argv = {openssl, "req"};
    argv.insert(argv.end(), ec.begin(), ec.end());
    argv.insert(argv.end(), args.begin(), args.end());
    return argv;
  };
  WriteFile(d + "/ext.cnf", "subjectAltName=DNS:localhost,IP:127.0.0.1\n");
  const std::vector<std::vector<std::string>> steps = {
      req({"-x509", "-keyout", d + "/ca.key", "-out", d + "/ca.crt", "-days",
           "2", "-subj", "/CN=vixbreaker-test-ca"}),
      req({"-keyout", d + "/server.key", "-out", d + "/server.csr", "-subj",
           "/CN=localhost"}),
      {openssl, "x509", "-req", "-in", d + "/server.csr", "-CA", d + "/ca.crt",
       "-CAkey", d + "/ca.key", "-CAcreateserial", "-out", d + "/server.crt",
       "-days", "2", "-extfile", d + "/ext.cnf"}};
  for (const auto& step : steps) {
    RunResult r = Run(step);
    if (r.exit_code != 0) {
      return ::testing::AssertionFailure()
             << "openssl failed (" << r.exit_code << "): " << r.err;
    }
  }
  port_ = FreeLoopbackPort();
  const std::string conf = absl::StrCat(
      "foreground = quiet\npid =\noutput = ", d, "/stunnel.log\n",
      "[redis]\nclient = yes\naccept = 127.0.0.1:", port_,
      "\nconnect = 127.0.0.1:", tls_port_, "\nverifyChain = yes\nCAfile = ", d,
      "/ca.crt\ncheckHost = localhost\nsslVersionMin = TLSv1.2\n");
  WriteFile(d + "/stunnel.conf", conf);
  child_ = std::make_unique<Child>(
      std::vector<std::string>{stunnel, d + "/stunnel.conf"});
  if (WaitFor(
          [&] {
            const int fd = ConnectLoopback(port_);
            if (fd >= 0) close(fd);
            return fd >= 0;
          },
          absl::Seconds(10))) {
    return ::testing::AssertionSuccess();
  }
  return ::testing::AssertionFailure()
         << "stunnel4 did not listen on " << port_ << " within 10 s; see " << d
         << "/stunnel.log";
}

}  // namespace vix::testing
