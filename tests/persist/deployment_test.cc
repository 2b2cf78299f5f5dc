// SPEC 14: the mirror in the deployments production runs, against real
// programs on loopback: Redis Sentinel (three redis-sentinel processes, a
// master and a replica), a Redis that stops answering behind a blackholing
// proxy, and a TLS-only redis-server behind a stunnel4 tunnel. Two or three
// Hosts (segments with their own mirrors) stand for machines.
#include <algorithm>
#include <atomic>
#include <cstdio>
#include <thread>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "host.h"
#include "redis_harness.h"
#include "vixbreaker/persist/wire.h"
#include "vixbreaker/shm/process.h"

namespace vix::testing {
namespace {

constexpr char kKey[] = "brain:panic_start_ts";
constexpr char kChannel[] = "brain:panic_start_ts:events";
constexpr char kMasterPassword[] = "master-pw-7f3a";
constexpr char kSentinelPassword[] = "sentinel-pw-91c2";

double MillisSince(absl::Time t0) {
  return absl::ToDoubleMilliseconds(absl::Now() - t0);
}

std::string MasterField(const RedisServer& server) {
  return absl::StrCat("\"master\":\"127.0.0.1:", server.port(), "\"");
}

// Every host connected, and `count` subscribers on the channel of `server`.
::testing::AssertionResult Listening(std::vector<Host*> hosts,
                                     const RedisServer& server, int count) {
  RedisClient client(server);
  if (WaitFor([&] {
        for (Host* h : hosts) {
          if (!h->Connected()) return false;
        }
        return client.Subscribers(kChannel) >= count;
      })) {
    return ::testing::AssertionSuccess();
  }
  std::string errors;
  for (Host* h : hosts) {
    absl::StrAppend(&errors, " ", h->segment(), ": \"", h->Health().last_error_text,
                    "\"");
  }
  return ::testing::AssertionFailure()
         << "mirrors not connected and subscribed on port " << server.port()
         << " within 10 s;" << errors;
}

// Decides panic on every host from a thread of its own until stopped, and
// keeps the slowest decision and any reason that is not plain `tier`.
class DecisionLoad {
 public:
  explicit DecisionLoad(std::vector<Host*> hosts)
      : hosts_(std::move(hosts)), thread_([this] { Run(); }) {}
  ~DecisionLoad() { Stop(); }
  void Stop() {
    stop_.store(true, std::memory_order_relaxed);
    if (thread_.joinable()) thread_.join();
  }
  int64_t slowest_ns() const { return slowest_ns_; }
  int64_t decisions() const { return decisions_; }
  int64_t not_tier() const { return not_tier_; }

 private:
  void Run() {
    while (!stop_.load(std::memory_order_relaxed)) {
      for (Host* h : hosts_) {
        const int64_t t0 = shm::RealtimeNowNs();
        const Decision d = h->Panic();
        slowest_ns_ = std::max(slowest_ns_, shm::RealtimeNowNs() - t0);
        not_tier_ += d.reason != Reason::kTier;
        ++decisions_;
      }
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
  }
  std::vector<Host*> hosts_;
  std::atomic<bool> stop_{false};
  int64_t slowest_ns_ = 0, decisions_ = 0, not_tier_ = 0;
  std::thread thread_;
};

// Starts an episode on `a`, waits until `b` joined it, returns the start.
int64_t SharedEpisode(Host& a, Host& b, RedisClient& master) {
  a.Panic();
  EXPECT_TRUE(WaitFor([&] {
    const int64_t s = a.Global().mirror_published_ns.load();
    return s != 0 && master.Get(kKey) == persist::FormatUnixSeconds(s) &&
           b.Episode().remote_start_ns == s;
  })) << "host B never cached host A's published start";
  b.Panic();
  const int64_t start = a.Episode().start_ns;
  EXPECT_EQ(b.Episode().start_ns, start) << "B did not join A's episode";
  // Steady state: B's mirror has confirmed the adopted start in Redis too.
  EXPECT_TRUE(WaitFor([&] {
    return b.Global().mirror_published_ns.load() == start;
  })) << "B's mirror never confirmed the start it adopted";
  return start;
}

// ---- Sentinel
// ----------------------------------------------------------------

SentinelOptions WithPasswords() {
  SentinelOptions o;
  o.master_password = kMasterPassword;
  o.sentinel_password = kSentinelPassword;
  return o;
}

std::string SentinelQuery() {
  return absl::StrCat("sentinel_password=", kSentinelPassword);
}

TEST(SentinelTest, FindsTheMasterPastADeadSentinelWithPasswordsForBoth) {
  SentinelCluster cluster(WithPasswords());
  ASSERT_TRUE(cluster.Start());
  // A dead sentinel first: the resolver must move on to the next.
  const std::string url = absl::StrCat(
      "redis-sentinel://:", kMasterPassword, "@127.0.0.1:", FreeLoopbackPort(),
      ",127.0.0.1:", cluster.sentinel(1).port(), "/vixmaster?",
      SentinelQuery());
  Host a("sentinel-find");
  ASSERT_TRUE(a.StartMirror(FastMirrorOptions(url)).ok());
  ASSERT_TRUE(Listening({&a}, cluster.master(), 1));
  EXPECT_EQ(a.CountLogLines({"REDIS_CONNECTED", MasterField(cluster.master())}),
            1);
  a.Panic();
  RedisClient master(cluster.master());
  ASSERT_TRUE(WaitFor([&] { return master.Get(kKey).has_value(); }))
      << "the episode never reached the master";
  const std::string log = a.Log();
  EXPECT_EQ(log.find(kMasterPassword), std::string::npos) << log;
  EXPECT_EQ(log.find(kSentinelPassword), std::string::npos) << log;
  EXPECT_NE(log.find("sentinel_password=***"), std::string::npos) << log;
}

TEST(SentinelTest, UnknownMasterOrWrongPasswordIsReportedPerSentinel) {
  SentinelCluster cluster(WithPasswords());
  ASSERT_TRUE(cluster.Start());
  const std::string base =
      absl::StrCat("redis-sentinel://:", kMasterPassword,
                   "@127.0.0.1:", cluster.sentinel(0).port(),
                   ",127.0.0.1:", cluster.sentinel(2).port());
  Host unknown("sentinel-unknown"), noauth("sentinel-noauth");
  ASSERT_TRUE(unknown
                  .StartMirror(FastMirrorOptions(
                      absl::StrCat(base, "/nosuchmaster?", SentinelQuery())))
                  .ok());
  ASSERT_TRUE(
      noauth.StartMirror(FastMirrorOptions(absl::StrCat(base, "/vixmaster")))
          .ok());
  ASSERT_TRUE(WaitFor([&] {
    return unknown.Health().last_error_text.find("does not know") !=
               std::string::npos &&
           noauth.Health().last_error_text.find("NOAUTH") != std::string::npos;
  })) << "unknown: "
      << unknown.Health().last_error_text
      << "\nnoauth: " << noauth.Health().last_error_text;
  // Each sentinel's answer, logged once (not once per attempt).
  EXPECT_EQ(unknown.CountLogLines(
                {"REDIS_ERROR_PANIC_TS", "\"kind\":\"sentinel\"",
                 absl::StrCat("127.0.0.1:", cluster.sentinel(0).port(),
                              " does not know the master"),
                 absl::StrCat("127.0.0.1:", cluster.sentinel(2).port(),
                              " does not know the master")}),
            1)
      << unknown.Log();
  EXPECT_FALSE(unknown.Connected());
}

TEST(SentinelTest, ADemotedMasterIsNeverWrittenTo) {
  SentinelCluster cluster(WithPasswords());
  ASSERT_TRUE(cluster.Start());
  const std::string url =
      cluster.Url(absl::StrCat(":", kMasterPassword), SentinelQuery());
  Host a("sentinel-demoted");
  ASSERT_TRUE(a.StartMirror(FastMirrorOptions(url)).ok());
  ASSERT_TRUE(Listening({&a}, cluster.master(), 1));
  // Swap the roles behind the sentinels' backs: they keep naming the old
  // master (they look again only every few seconds), which is a replica now.
  {
    RedisClient replica(cluster.replica());
    ASSERT_EQ(replica.Command({"REPLICAOF", "NO", "ONE"}).str, "OK");
    RedisClient master(cluster.master());
    ASSERT_EQ(master
                  .Command({"REPLICAOF", "127.0.0.1",
                            absl::StrCat(cluster.replica().port())})
                  .str,
              "OK");
  }
  a.Panic();  // its SET meets READONLY: the mirror resolves again
  ASSERT_TRUE(WaitFor([&] {
    return a.CountLogLinesNow(
               {"REDIS_ERROR_PANIC_TS", "\"kind\":\"not_master\""}) == 1 &&
           a.Health().last_error_text.find("ROLE says slave") != std::string::npos;
  })) << "a demoted master went unnoticed: "
      << a.Log();
  EXPECT_FALSE(a.Connected()) << "connected to a replica";
  EXPECT_TRUE(a.Episode().active) << "the local episode goes on";
  EXPECT_EQ(cluster.ReportedMasterPort(0), cluster.master().port())
      << "the sentinels caught up too soon for this test to mean anything";
}

TEST(SentinelFailoverTest, TwoHostsFollowThePromotedReplicaAndKeepTheEpisode) {
  SentinelCluster cluster(WithPasswords());
  ASSERT_TRUE(cluster.Start());
  ASSERT_TRUE(cluster.Ready());
  const std::string url =
      cluster.Url(absl::StrCat(":", kMasterPassword), SentinelQuery());
  Host a("failover-a"), b("failover-b");
  ASSERT_TRUE(a.StartMirror(FastMirrorOptions(url)).ok());
  ASSERT_TRUE(b.StartMirror(FastMirrorOptions(url)).ok());
  ASSERT_TRUE(Listening({&a, &b}, cluster.master(), 2));
  int64_t start = 0;
  {
    RedisClient master(cluster.master());
    start = SharedEpisode(a, b, master);
  }
  const std::string text = persist::FormatUnixSeconds(start);
  // The replica loses the key (as if replication lagged behind the crash):
  // the promoted master must get the episode republished, same start.
  RedisClient replica(cluster.replica());
  ASSERT_TRUE(WaitFor([&] { return replica.Get(kKey) == text; }))
      << "the key never reached the replica";
  ASSERT_EQ(replica.Command({"CONFIG", "SET", "replica-read-only", "no"}).str,
            "OK");
  ASSERT_EQ(replica.Command({"DEL", kKey}).integer, 1);

  SwitchWatcher watcher(cluster);
  DecisionLoad load({&a, &b});
  const absl::Time killed = absl::Now();
  cluster.master().Kill();
  std::optional<std::string> change = watcher.Next(absl::Seconds(20));
  ASSERT_TRUE(change.has_value()) << "no +switch-master within 20 s";
  const absl::Time switched = absl::Now();
  EXPECT_NE(change->find(absl::StrCat(" ", cluster.replica().port())),
            std::string::npos)
      << "promoted something else: " << *change;
  // Sentinel kills the promoted replica's clients: look with fresh ones.
  auto on_new_master = [&](auto look) {
    RedisClient fresh(cluster.replica());
    return look(fresh);
  };
  ASSERT_TRUE(WaitFor(
      [&] {
        return a.Connected() && b.Connected() &&
               a.CountLogLinesNow(
                   {"REDIS_CONNECTED", MasterField(cluster.replica())}) > 0 &&
               b.CountLogLinesNow(
                   {"REDIS_CONNECTED", MasterField(cluster.replica())}) > 0 &&
               on_new_master([&](RedisClient& c) {
                 return c.Get(kKey) == text && c.Subscribers(kChannel) >= 2;
               });
      },
      absl::Seconds(5)))
      << "mirrors did not move to the promoted replica (port "
      << cluster.replica().port() << "), key holds "
      << on_new_master(
             [&](RedisClient& c) { return c.Get(kKey).value_or("nothing"); })
      << " not " << text << "; A's log:\n"
      << a.Log() << "B's log:\n"
      << b.Log();
  const double follow_ms = MillisSince(switched);
  load.Stop();
  std::printf(
      "[ measured ] +switch-master %.0f ms after the kill; both mirrors "
      "working against the new master %.1f ms after it (bar 2000 ms); %lld "
      "decisions meanwhile, slowest %.3f ms\n",
      absl::ToDoubleMilliseconds(switched - killed), follow_ms,
      static_cast<long long>(load.decisions()), load.slowest_ns() / 1e6);
  EXPECT_LT(follow_ms, 2000.0);
  EXPECT_EQ(load.not_tier(), 0) << "local policy: decisions never fail safe";
  EXPECT_LT(load.slowest_ns(), 50'000'000) << "a decision stalled";
  // The episode survived with its start, on both hosts and in Redis.
  EXPECT_EQ(a.Episode().start_ns, start);
  EXPECT_EQ(b.Episode().start_ns, start);
  EXPECT_TRUE(WaitFor([&] {
    return a.CountLogLinesNow({"REDIS_MASTER_SWITCHED"}) +
               b.CountLogLinesNow({"REDIS_MASTER_SWITCHED"}) >=
           1;
  })) << "no mirror heard +switch-master";
  EXPECT_GE(a.CountLogLinesNow({"PANIC_TIMESTAMP_REPUBLISHED"}) +
                b.CountLogLinesNow({"PANIC_TIMESTAMP_REPUBLISHED"}),
            1)
      << "the start the promoted replica lost was not published again";
  // And they still agree through the new master: A's end reaches B.
  a.Calm();
  ASSERT_TRUE(WaitFor([&] { return !b.Episode().active; }))
      << "B never saw A's end through the promoted master";
  EXPECT_FALSE(
      on_new_master([&](RedisClient& c) { return c.Get(kKey).has_value(); }));
}

// ---- a Redis that stops answering
// ---------------------------------------------

TEST(BlackholeTest, TimeoutFiresDecisionsGoOnAndTheFleetAgreesAfterHealing) {
  RedisServer redis;
  ASSERT_TRUE(redis.Start());
  TcpProxy proxy(redis.port());
  ASSERT_TRUE(proxy.Start());
  const std::string via_proxy =
      absl::StrCat("redis://127.0.0.1:", proxy.port(), "/0");
  Host cut("hole-cut"), strict("hole-strict"), direct("hole-direct");
  const persist::MirrorOptions fast = FastMirrorOptions(via_proxy);
  ASSERT_TRUE(cut.StartMirror(fast).ok());
  persist::MirrorOptions strict_options = fast;
  strict_options.policy = persist::UnhealthyPolicy::kStrict;
  ASSERT_TRUE(strict.StartMirror(strict_options).ok());
  ASSERT_TRUE(direct.StartMirror(FastMirrorOptions(redis.Url())).ok());
  ASSERT_TRUE(Listening({&cut, &strict, &direct}, redis, 3));
  RedisClient client(redis);
  SharedEpisode(direct, cut, client);
  ASSERT_EQ(strict.Panic().reason, Reason::kTier);

  // 30 s, as long as a real network hole that outlives every timeout: 300
  // command timeouts, 150 maximal reconnect backoffs, 30 lease periods and
  // 60 health windows of these options (see docs/mirror.md).
  constexpr absl::Duration kHole = absl::Seconds(30);
  proxy.SetBlackhole(true);
  const absl::Time holed = absl::Now();
  ASSERT_TRUE(WaitFor([&] {
    return cut.Health().last_error_text.find("did not answer") !=
               std::string::npos &&
           !cut.Connected();
  })) << "no command timeout: \""
      << cut.Health().last_error_text << "\"";
  const double timeout_ms = MillisSince(holed);
  ASSERT_TRUE(WaitFor([&] {
    return strict.Panic().reason == Reason::kFailsafe;
  })) << "the strict host kept trusting a silent Redis";
  // Meanwhile the healthy host ends the episode and starts another.
  direct.Calm();
  const int64_t accepted_before = proxy.connections_accepted();
  direct.Panic();
  int64_t next_start = 0;
  ASSERT_TRUE(WaitFor([&] {
    next_start = direct.Global().mirror_published_ns.load();
    return next_start == direct.Episode().start_ns &&
           client.Get(kKey) == persist::FormatUnixSeconds(next_start);
  })) << "the healthy host's new episode never reached Redis";
  {
    DecisionLoad load({&cut});
    // The outage lasts kHole: a period to sit out, not a condition.
    absl::SleepFor(kHole - (absl::Now() - holed));
    load.Stop();
    EXPECT_EQ(load.not_tier(), 0) << "local policy keeps deciding by tier";
    EXPECT_LT(load.slowest_ns(), 50'000'000) << "a decision stalled";
    std::printf(
        "[ measured ] blackholed %.0f ms: command timeout reported after "
        "%.0f ms; %lld decisions on the cut host, slowest %.3f ms\n",
        MillisSince(holed), timeout_ms,
        static_cast<long long>(load.decisions()), load.slowest_ns() / 1e6);
  }
  const persist::HealthSnapshot health = cut.Health();
  EXPECT_FALSE(health.connected);
  EXPECT_LT(health.healthy_until_ns, shm::RealtimeNowNs()) << "still healthy";
  EXPECT_GT(proxy.connections_accepted(), accepted_before)
      << "the mirror stopped trying to reconnect";
  EXPECT_TRUE(cut.mirror()->holds_lease()) << "a stall cost the lease";
  EXPECT_NE(cut.Episode().start_ns, next_start) << "saw Redis through a hole";

  proxy.SetBlackhole(false);
  const absl::Time healed = absl::Now();
  ASSERT_TRUE(WaitFor(
      [&] {
        return cut.Episode().start_ns == next_start &&
               strict.Panic().reason == Reason::kTier;
      },
      absl::Seconds(5)))
      << "the fleet never agreed again: \"" << cut.Health().last_error_text
      << "\"; the cut host's log:\n"
      << cut.Log();
  const double agree_ms = MillisSince(healed);
  std::printf(
      "[ measured ] hosts agree again %.1f ms after the proxy healed (poll "
      "interval %lld ms)\n",
      agree_ms,
      static_cast<long long>(absl::ToInt64Milliseconds(fast.poll_interval)));
  EXPECT_LT(agree_ms, absl::ToDoubleMilliseconds(fast.poll_interval) + 50.0);
  EXPECT_TRUE(cut.Connected());
  EXPECT_EQ(cut.CountLogLinesNow({"MIRROR_LEASE_LOST"}), 0);
}

// ---- TLS through stunnel4
// -------------------------------------------------------

TEST(TlsTunnelTest, MirrorPublishesThroughStunnelToATlsOnlyRedis) {
  const int tls_port = FreeLoopbackPort();
  TlsTunnel tunnel(tls_port);
  ASSERT_TRUE(tunnel.Start());
  RedisServerOptions options;
  options.port = tls_port;
  options.client_port = tunnel.port();
  options.extra_args = tunnel.ServerArgs();
  RedisServer redis(options);
  ASSERT_TRUE(redis.Start());
  {
    // Plaintext straight to the TLS port gets nowhere: TLS-only.
    RedisClient plain(tls_port);
    EXPECT_EQ(plain.Command({"PING"}).type, TestReply::Type::kNone);
  }
  const std::string url =
      absl::StrCat("redis://127.0.0.1:", tunnel.port(), "/0");
  Host a("tls-a"), b("tls-b");
  ASSERT_TRUE(a.StartMirror(FastMirrorOptions(url)).ok());
  ASSERT_TRUE(b.StartMirror(FastMirrorOptions(url)).ok());
  ASSERT_TRUE(Listening({&a, &b}, redis, 2));
  RedisClient client(redis);
  const int64_t start = SharedEpisode(a, b, client);
  EXPECT_EQ(client.Get(kKey), persist::FormatUnixSeconds(start));
}

}  // namespace
}  // namespace vix::testing
