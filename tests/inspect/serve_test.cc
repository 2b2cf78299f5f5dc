// `vixctl serve`: the exposition on GET /metrics, scraped by curl, and the
// server's behaviour with wrong paths, malformed, oversized and slow
// clients, and SIGTERM.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "inspect_test_util.h"

namespace vix::testing {
namespace {

constexpr char kCurlMissing[] =
    "curl is not installed; install the Debian package: apt-get install -y "
    "curl";

// A raw TCP client, for what curl will not send.
class RawClient {
 public:
  explicit RawClient(int port) {
    fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ =
        connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  }
  ~RawClient() { close(fd_); }
  bool connected() const { return connected_; }
  bool Send(const std::string& data) {
    return send(fd_, data.data(), data.size(), MSG_NOSIGNAL) ==
           static_cast<ssize_t>(data.size());
  }
  // Reads until the server closes the connection; false on timeout.
  bool ReadUntilClosed(std::string* out,
                       absl::Duration timeout = absl::Seconds(10)) {
    const absl::Time deadline = absl::Now() + timeout;
    while (absl::Now() < deadline) {
      pollfd p{fd_, POLLIN, 0};
      const int left = static_cast<int>(
          absl::ToInt64Milliseconds(deadline - absl::Now()) + 1);
      if (poll(&p, 1, left) <= 0) continue;
      char buf[4096];
      const ssize_t n = recv(fd_, buf, sizeof(buf), 0);
      if (n <= 0) return true;  // closed (or reset) by the server
      out->append(buf, static_cast<size_t>(n));
    }
    return false;
  }

 private:
  int fd_ = -1;
  bool connected_ = false;
};

class ServeTest : public ::testing::Test {
 protected:
  // Starts `vixctl serve` on an ephemeral port of 127.0.0.1, its stderr
  // in `log_path` if given. The client timeout is long unless a test is
  // about it: a server that a loaded sanitizer build stalls for a moment
  // must not cut off an ordinary request.
  void StartServer(const std::string& segment,
                   const std::string& client_timeout_ms = "10000",
                   const std::string& log_path = "") {
    std::vector<std::string> argv = {
        kVixctl,          "serve", "--listen", "127.0.0.1:0",
        "--segment",      segment, "--json",   "--client-timeout-ms",
        client_timeout_ms};
    if (!log_path.empty()) {
      // exec: the shell becomes vixctl, so signals reach it.
      argv = {"/bin/sh", "-c", absl::StrCat("exec \"$@\" 2>", log_path), "sh"};
      argv.insert(argv.end(), {kVixctl, "serve", "--listen", "127.0.0.1:0",
                               "--segment", segment, "--json",
                               "--client-timeout-ms", client_timeout_ms});
    }
    server_ = std::make_unique<Child>(argv);
    std::string line;
    ASSERT_TRUE(server_->ReadLine(&line)) << "serve printed no address";
    const std::string key = "\"listen\":\"127.0.0.1:";
    const size_t at = line.find(key);
    ASSERT_NE(at, std::string::npos) << line;
    port_ = std::stoi(line.substr(at + key.size()));
    ASSERT_GT(port_, 0) << line;
  }

  std::string Url(const std::string& path) const {
    return absl::StrCat("http://127.0.0.1:", port_, path);
  }

  // curl's body, then a last line "CODE CONTENT-TYPE".
  RunResult Curl(std::vector<std::string> extra) {
    std::vector<std::string> argv = {"/usr/bin/curl",
                                     "-sS",
                                     "--max-time",
                                     "10",
                                     "-w",
                                     "\n%{http_code} %{content_type}"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    return vix::testing::Run(argv);
  }

  void StopServer() {
    server_->Signal(SIGTERM);
    const int status = server_->Wait();
    ASSERT_NE(status, -1) << "serve did not stop on SIGTERM";
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
        << "wait status " << status;
  }

  ScopedSegmentName name_{"serve"};
  std::unique_ptr<Child> server_;
  int port_ = 0;
};

TEST_F(ServeTest, ServesMetricsAndRejectsTheRest) {
  ASSERT_TRUE(OnPath("curl")) << kCurlMissing;
  auto segment = BuildFixtureSegment(name_.name());
  StartServer(name_.name());

  RunResult ok = Curl({Url("/metrics")});
  ASSERT_EQ(ok.exit_code, 0) << ok.err;
  EXPECT_TRUE(
      absl::EndsWith(ok.out, "\n200 text/plain; version=0.0.4; charset=utf-8"))
      << ok.out;
  // Counters, not tiers: serve uses the real time, the fixture another.
  EXPECT_TRUE(absl::StrContains(
      ok.out, "vixbreaker_decisions_total{segment=\"" + name_.name() +
                  "\",mode=\"NORMAL\"} 1107\n"))
      << ok.out;

  RunResult missing = Curl({Url("/")});
  EXPECT_TRUE(absl::StrContains(missing.out, "\n404 ")) << missing.out;
  RunResult other = Curl({Url("/metricsx")});
  EXPECT_TRUE(absl::StrContains(other.out, "\n404 ")) << other.out;
  RunResult post = Curl({"-X", "POST", Url("/metrics")});
  EXPECT_TRUE(absl::StrContains(post.out, "\n405 ")) << post.out;

  StopServer();
  RawClient after(port_);
  EXPECT_FALSE(after.connected()) << "the port is closed after SIGTERM";
}

TEST_F(ServeTest, MalformedAndOversizedRequestsGetErrors) {
  ASSERT_TRUE(OnPath("curl")) << kCurlMissing;
  auto segment = BuildFixtureSegment(name_.name());
  StartServer(name_.name());

  RawClient garbage(port_);
  ASSERT_TRUE(garbage.connected());
  ASSERT_TRUE(garbage.Send("THIS IS NOT HTTP\r\n\r\n"));
  std::string reply;
  ASSERT_TRUE(garbage.ReadUntilClosed(&reply)) << "server kept it open";
  EXPECT_TRUE(absl::StartsWith(reply, "HTTP/1.1 400 ")) << reply;

  RawClient huge(port_);
  ASSERT_TRUE(huge.connected());
  ASSERT_TRUE(huge.Send("GET /metrics HTTP/1.1\r\nHost: x\r\nX-Big: " +
                        std::string(16 * 1024, 'a') + "\r\n\r\n"));
  reply.clear();
  ASSERT_TRUE(huge.ReadUntilClosed(&reply)) << "server kept it open";
  EXPECT_TRUE(absl::StartsWith(reply, "HTTP/1.1 431 ")) << reply;

  RawClient with_body(port_);
  ASSERT_TRUE(with_body.connected());
  ASSERT_TRUE(with_body.Send(
      "GET /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello"));
  reply.clear();
  ASSERT_TRUE(with_body.ReadUntilClosed(&reply)) << "server kept it open";
  EXPECT_TRUE(absl::StartsWith(reply, "HTTP/1.1 400 ")) << reply;

  // The server is still serving.
  RunResult ok = Curl({Url("/metrics")});
  EXPECT_TRUE(absl::StrContains(ok.out, "\n200 ")) << ok.out << ok.err;
  StopServer();
}

TEST_F(ServeTest, SlowClientIsCutOffWithoutBlockingOthers) {
  ASSERT_TRUE(OnPath("curl")) << kCurlMissing;
  auto segment = BuildFixtureSegment(name_.name());
  StartServer(name_.name(), /*client_timeout_ms=*/"300");

  RawClient slow(port_);
  ASSERT_TRUE(slow.connected());
  ASSERT_TRUE(slow.Send("GET /metr"));  // and never the rest
  RunResult ok = Curl({Url("/metrics")});
  EXPECT_TRUE(absl::StrContains(ok.out, "\n200 "))
      << "a slow client must not block others: " << ok.out << ok.err;
  std::string reply;
  EXPECT_TRUE(slow.ReadUntilClosed(&reply))
      << "the server did not drop a client that stopped sending";
  EXPECT_FALSE(absl::StrContains(reply, "200 OK")) << reply;
  StopServer();
}

TEST_F(ServeTest, ScrapedExpositionPassesPromtool) {
  ASSERT_TRUE(OnPath("curl")) << kCurlMissing;
  ASSERT_TRUE(OnPath("promtool"))
      << "promtool is not installed; install the Debian package: "
         "apt-get install -y prometheus";
  auto segment = BuildFixtureSegment(name_.name());
  StartServer(name_.name());
  TempDir dir;
  const std::string file = dir.path() + "/scrape.prom";
  RunResult scrape = vix::testing::Run({"/usr/bin/curl", "-sS", "--max-time",
                                        "10", "-o", file, Url("/metrics")});
  ASSERT_EQ(scrape.exit_code, 0) << scrape.err;
  RunResult check = vix::testing::Run(
      {"/bin/sh", "-c", "promtool check metrics < \"$0\" 2>&1", file});
  EXPECT_EQ(check.exit_code, 0) << check.out;
  EXPECT_EQ(check.out, "") << "promtool lint findings";
  StopServer();
}

TEST_F(ServeTest, MissingSegmentIsReportedAsDown) {
  ASSERT_TRUE(OnPath("curl")) << kCurlMissing;
  StartServer(name_.name());  // never created
  RunResult down = Curl({Url("/metrics")});
  EXPECT_TRUE(absl::StrContains(
      down.out, "vixbreaker_segment_up{segment=\"" + name_.name() + "\"} 0\n"))
      << down.out;
  EXPECT_TRUE(absl::StrContains(down.out, "\n200 ")) << down.out;
  // Created later: the next scrape follows it.
  auto segment = CreateEmptySegment(name_.name());
  RunResult up = Curl({Url("/metrics")});
  EXPECT_TRUE(absl::StrContains(
      up.out, "vixbreaker_segment_up{segment=\"" + name_.name() + "\"} 1\n"))
      << up.out;
  StopServer();
}

TEST_F(ServeTest, HeadGetsTheHeadersWithoutABody) {
  auto segment = CreateEmptySegment(name_.name());
  StartServer(name_.name());
  RawClient head(port_);
  ASSERT_TRUE(head.connected());
  ASSERT_TRUE(head.Send("HEAD /metrics HTTP/1.1\r\nHost: x\r\n\r\n"));
  std::string reply;
  ASSERT_TRUE(head.ReadUntilClosed(&reply)) << "server kept it open";
  EXPECT_TRUE(absl::StartsWith(reply, "HTTP/1.1 200 ")) << reply;
  EXPECT_TRUE(absl::StrContains(reply, "Content-Length: ")) << reply;
  EXPECT_TRUE(absl::EndsWith(reply, "\r\n\r\n")) << "a body after HEAD:\n"
                                                 << reply;
  StopServer();
}

// 64 connections that never send a request (the old cap) must not lock a
// scraper out while they wait for their deadline.
TEST_F(ServeTest, IdleConnectionsNeverLockScrapersOut) {
  ASSERT_TRUE(OnPath("curl")) << kCurlMissing;
  auto segment = CreateEmptySegment(name_.name());
  StartServer(name_.name(), /*client_timeout_ms=*/"20000");
  std::vector<std::unique_ptr<RawClient>> idle;
  for (int i = 0; i < 64; ++i) {
    idle.push_back(std::make_unique<RawClient>(port_));
    ASSERT_TRUE(idle.back()->connected()) << "connection " << i;
  }
  for (int i = 0; i < 3; ++i) {
    RunResult scrape = Curl({Url("/metrics")});
    EXPECT_TRUE(absl::StrContains(scrape.out, "\n200 "))
        << "scrape " << i << " with 64 idle connections open: " << scrape.out
        << scrape.err;
  }
  StopServer();
}

TEST_F(ServeTest, LogsItsStartAndEachSegmentStateOnce) {
  ASSERT_TRUE(OnPath("curl")) << kCurlMissing;
  TempDir dir;
  const std::string log = dir.path() + "/serve.log";
  StartServer(name_.name(), "300", log);  // the segment does not exist yet
  for (int i = 0; i < 3; ++i) Curl({Url("/metrics")});
  auto segment = CreateEmptySegment(name_.name());
  for (int i = 0; i < 3; ++i) Curl({Url("/metrics")});
  StopServer();
  const std::string text = ReadFileOrDie(log);
  auto count = [&](const std::string& needle) {
    size_t n = 0;
    for (size_t at = text.find(needle); at != std::string::npos;
         at = text.find(needle, at + 1)) {
      ++n;
    }
    return n;
  };
  EXPECT_EQ(count("\"event\":\"SERVE_STARTED\""), 1u) << text;
  EXPECT_EQ(count("\"up\":false,\"error\":\"no segment"), 1u) << text;
  EXPECT_EQ(count("\"up\":true"), 1u) << text;
  EXPECT_EQ(count("\"event\":\"SERVE_STOPPED\""), 1u) << text;
}

TEST(ServeFlagsTest, BadListenAddressExitsTwo) {
  for (const char* bad : {"nope", ":80", "127.0.0.1:99999", "127.0.0.1:x"}) {
    RunResult r = vix::testing::Run({kVixctl, "serve", "--listen", bad});
    EXPECT_EQ(r.exit_code, 2) << bad << ": " << r.err;
    EXPECT_TRUE(absl::StrContains(r.err, bad)) << r.err;
  }
  EXPECT_EQ(vix::testing::Run({kVixctl, "serve"}).exit_code, 2)
      << "--listen is required";
}

}  // namespace
}  // namespace vix::testing
