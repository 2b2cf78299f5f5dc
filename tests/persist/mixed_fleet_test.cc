// A mixed fleet on one real redis-server: vixbreaker hosts beside workers of
// the Python predecessor, whose exact command sequences (SPEC 5) a test
// client issues (predecessor.h). Covers the remote cache of SPEC 3 (version
// 2): the cache dies with the mirror and with Redis, a bare DEL never makes
// a host less cautious, an idle host's calm ends a remote episode as a
// predecessor worker's does, and an adopted start survives a Redis restart.
#include <signal.h>
#include <sys/wait.h>

#include <cmath>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "gtest/gtest.h"
#include "host.h"
#include "mirror_child.h"
#include "monitor.h"
#include "predecessor.h"
#include "redis_harness.h"
#include "vixbreaker/persist/wire.h"
#include "worker_client.h"

namespace vix::testing {
namespace {

constexpr char kKey[] = "brain:panic_start_ts";
constexpr double kHourS = 3600;
constexpr Stakes kAllStakes[] = {Stakes::kHigh, Stakes::kMedium, Stakes::kLow};

// Polls so rare that a cache the mirror has just renewed stays valid for
// the whole test: only a clear (stop, disconnect) or a command the test
// sends can change what the host knows.
persist::MirrorOptions RarePolls(const std::string& url) {
  persist::MirrorOptions o = FastMirrorOptions(url);
  o.poll_interval = absl::Seconds(30);
  return o;
}

int64_t Ns(double seconds) {
  return static_cast<int64_t>(std::llround(seconds * 1e9));
}

// Waits until `host` has cached the remote start `start_s` (to a µs).
::testing::AssertionResult Cached(Host& host, double start_s) {
  if (WaitFor([&] {
        return std::llabs(host.Episode().remote_start_ns - Ns(start_s)) < 1000;
      })) {
    return ::testing::AssertionSuccess();
  }
  return ::testing::AssertionFailure()
         << "the host never cached the predecessor's start " << start_s
         << "; it has " << host.Episode().remote_start_ns
         << " ns, mirror error \"" << host.Health().last_error_text << "\"";
}

// `vixctl decide --status panic` as its own process: what the issue's
// operator ran on a vixbreaker host.
FlatJson VixctlPanic(const std::string& segment, const std::string& stakes) {
  RunResult r = Run({kVixctl, "decide", "--segment", segment, "--status",
                     "panic", "--stakes", stakes, "--json"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  const std::string line(absl::StripTrailingAsciiWhitespace(r.out));
  std::optional<FlatJson> json = FlatJson::Parse(line);
  return json.has_value() ? *json : FlatJson::Problem("not JSON: " + r.out);
}

// A fresh episode: this host's own start, within `slack_s` of now, tier 1.
void ExpectFreshEpisode(const Decision& d, double slack_s,
                        const std::string& when) {
  EXPECT_TRUE(d.first_writer) << when;
  EXPECT_EQ(d.tier, 1) << when;
  EXPECT_EQ(d.mode, Mode::kPanicFull) << when;
  EXPECT_NEAR(static_cast<double>(d.episode_start_ns) / 1e9, PythonTime(),
              slack_s)
      << when << ": the start is not this host's own";
}

// What any text of the start `start_s` begins with (whole seconds): the
// predecessor's repr and the host's six decimals alike.
std::string SecondsPrefix(double start_s) {
  return PythonFloatRepr(start_s).substr(0, 11);
}

// TTL_STATE_CHANGE lines that raise a tier above 1 (a less cautious TTL).
int RaisedTierLines(Host& host) {
  return host.CountLogLinesNow({"TTL_STATE_CHANGE", "\"to_tier\":2"}) +
         host.CountLogLinesNow({"TTL_STATE_CHANGE", "\"to_tier\":3"}) +
         host.CountLogLinesNow({"TTL_STATE_CHANGE", "\"to_tier\":4"});
}

// Stops `monitor`; no command it saw carried the `deleted` start.
void ExpectNeverWrittenBack(Monitor& monitor, const std::string& deleted) {
  monitor.Stop();
  EXPECT_TRUE(monitor.Matching(deleted).empty())
      << "the deleted start was written back: "
      << absl::StrJoin(monitor.Matching(deleted), "\n");
}

class MixedFleetTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(redis_.Start()); }
  // A predecessor worker wrote `start_s`; `host`'s mirror (rare polls)
  // caches it. Use with ASSERT_NO_FATAL_FAILURE.
  void CacheRemoteStart(Host& host, PredecessorWorker& predecessor,
                        double start_s) {
    ASSERT_FALSE(predecessor.StartedAt(start_s).empty());
    ASSERT_TRUE(host.StartMirror(RarePolls(redis_.Url())).ok());
    ASSERT_TRUE(Cached(host, start_s));
  }
  RedisServer redis_;
};

// ---- a stopped mirror or a lost Redis leaves no cache behind ---------------

TEST_F(MixedFleetTest, SigtermedVixctlMirrorLeavesNoCachedStartBehind) {
  Host host("term");
  PredecessorWorker predecessor(redis_);
  const double five_hours_ago = PythonTime() - 5 * kHourS;
  ASSERT_FALSE(predecessor.StartedAt(five_hours_ago).empty());
  TempDir logs;
  const std::string log = logs.path() + "/mirror.log";
  std::unique_ptr<Child> mirror =
      StartMirrorProcess(redis_.Url(), host.segment(), log, "30");
  ASSERT_TRUE(Cached(host, five_hours_ago)) << ReadFile(log);

  mirror->Signal(SIGTERM);
  const int status = mirror->Wait(absl::Seconds(10));
  ASSERT_TRUE(status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 0)
      << "vixctl mirror did not stop cleanly: " << status << "\n"
      << ReadFile(log);
  predecessor.Calm();

  // Another process of the host decides first: a fresh episode, for every
  // stakes (the 5 h old start was tier 3 for high, 4 for medium).
  const FlatJson first = VixctlPanic(host.segment(), "high");
  EXPECT_TRUE(first.Bool("first_writer")) << first.text();
  EXPECT_EQ(first.Int("tier"), 1) << first.text();
  EXPECT_EQ(first.Str("mode"), "PANIC_FULL") << first.text();
  EXPECT_NEAR(first.Num("episode_start"), PythonTime(), 30) << first.text();
  EXPECT_EQ(VixctlPanic(host.segment(), "medium").Int("tier"), 1);
  EXPECT_EQ(host.Episode().remote_start_ns, 0) << "the cache outlived it";
}

TEST_F(MixedFleetTest, StoppedInProcessMirrorLeavesNoCachedStartBehind) {
  Host host("stop");
  PredecessorWorker predecessor(redis_);
  ASSERT_NO_FATAL_FAILURE(
      CacheRemoteStart(host, predecessor, PythonTime() - 5 * kHourS));

  host.StopMirror();
  predecessor.Calm();
  ExpectFreshEpisode(host.Panic(Stakes::kMedium), 5, "after Stop");
  for (Stakes stakes : kAllStakes) EXPECT_EQ(host.Panic(stakes).tier, 1);
  EXPECT_EQ(host.CountLogLines(
                {"PANIC_TIMESTAMP_INITIALIZED", "\"adopted_remote\":false"}),
            1);
}

TEST_F(MixedFleetTest, KilledRedisLeavesNoCachedStartBehind) {
  Host host("outage");
  PredecessorWorker predecessor(redis_);
  ASSERT_NO_FATAL_FAILURE(
      CacheRemoteStart(host, predecessor, PythonTime() - 5 * kHourS));

  redis_.Kill();  // whether the key survives is unknown now
  ASSERT_TRUE(WaitFor([&] { return !host.Connected(); }))
      << "the mirror never noticed the outage";
  const Decision d = host.Panic(Stakes::kHigh);
  ExpectFreshEpisode(d, 5, "during the outage");
  EXPECT_EQ(host.Panic(Stakes::kMedium).tier, 1);

  // Redis back, empty: the host publishes its own start, never the 5 h old
  // one it had cached.
  ASSERT_TRUE(redis_.Restart());
  RedisClient client(redis_);
  ASSERT_TRUE(WaitFor([&] {
    return client.Get(kKey) == persist::FormatUnixSeconds(d.episode_start_ns);
  })) << "Redis holds "
      << client.Get(kKey).value_or("nothing");
}

TEST_F(MixedFleetTest, SigkilledMirrorsCacheIsNeitherKeptNorWrittenBack) {
  Host host("kill");
  PredecessorWorker predecessor(redis_);
  const double five_hours_ago = PythonTime() - 5 * kHourS;
  ASSERT_FALSE(predecessor.StartedAt(five_hours_ago).empty());
  const std::string deleted = SecondsPrefix(five_hours_ago);
  TempDir logs;
  std::unique_ptr<Child> mirror = StartMirrorProcess(
      redis_.Url(), host.segment(), logs.path() + "/mirror.log", "30");
  ASSERT_TRUE(Cached(host, five_hours_ago));
  Monitor monitor(redis_);

  // A dead holder clears nothing: its cache stays valid to its deadline,
  // and a panic meanwhile adopts it (unconfirmed, so tier 1).
  mirror->Signal(SIGKILL);
  mirror->Wait();
  predecessor.Calm();
  ASSERT_EQ(host.Panic(Stakes::kMedium).tier, 1);
  ASSERT_TRUE(host.Episode().unconfirmed);

  // The next holder cannot vouch for that start: it only confirms it,
  // finds it gone, and publishes this host's own.
  ASSERT_TRUE(host.StartMirror(RarePolls(redis_.Url())).ok());
  ASSERT_TRUE(WaitFor([&] {
    const shm::EpisodeSnapshot e = host.Episode();
    return !e.unconfirmed && predecessor.client().Get(kKey) ==
                                 persist::FormatUnixSeconds(e.start_ns);
  })) << "the new holder never settled on this host's own start";
  EXPECT_NEAR(static_cast<double>(host.Episode().start_ns) / 1e9, PythonTime(),
              30);
  EXPECT_EQ(host.Episode().remote_start_ns, 0);
  ExpectNeverWrittenBack(monitor, deleted);
}

// ---- a bare DEL (the predecessor never publishes) -------------------------

TEST_F(MixedFleetTest, BareDelNeverYieldsALessCautiousDecisionOrTierLog) {
  Host host("bare-del");
  PredecessorWorker predecessor(redis_);
  const double five_hours_ago = PythonTime() - 5 * kHourS;
  const std::string deleted = SecondsPrefix(five_hours_ago);
  ASSERT_NO_FATAL_FAILURE(CacheRemoteStart(host, predecessor, five_hours_ago));
  Monitor monitor(redis_);

  predecessor.Calm();  // the episode ends: DEL, and no channel message
  const double deleted_at = PythonTime();
  // Right after it, with the deleted start still cached here.
  for (Stakes stakes : kAllStakes) {
    const Decision d = host.Panic(stakes);
    EXPECT_EQ(d.tier, 1) << "stakes " << static_cast<int>(stakes)
                         << " decided from the deleted start";
    EXPECT_EQ(d.ttl_seconds, 0);
  }
  const FlatJson other = VixctlPanic(host.segment(), "medium");
  EXPECT_EQ(other.Int("tier"), 1) << other.text();

  // The mirror finds the key gone: the episode is this host's own, from
  // when it first saw the panic, and that is what Redis gets.
  ASSERT_TRUE(WaitFor([&] {
    const shm::EpisodeSnapshot e = host.Episode();
    return e.active && !e.unconfirmed &&
           predecessor.client().Get(kKey) ==
               persist::FormatUnixSeconds(e.start_ns);
  })) << "the host never settled on its own start";
  const int64_t own = host.Episode().start_ns;
  EXPECT_NEAR(static_cast<double>(own) / 1e9, deleted_at, 5);
  for (Stakes stakes : kAllStakes) EXPECT_EQ(host.Panic(stakes).tier, 1);
  // The predecessor's next panic joins that episode, at tier 1 too.
  EXPECT_EQ(predecessor.Panic(Stakes::kMedium), 1);
  EXPECT_NEAR(predecessor.last_start_s(), static_cast<double>(own) / 1e9, 1e-6);

  // Logged: the start of an episode (tier 1), never tiers 2-4 for the
  // deleted one. Wait for the tier-1 line so the scanner has looked.
  EXPECT_GE(host.CountLogLines({"TTL_STATE_CHANGE", "\"to_tier\":1"}), 1);
  EXPECT_EQ(RaisedTierLines(host), 0) << host.Log();
  ExpectNeverWrittenBack(monitor, deleted);
}

// ---- calm on an idle host ends a cached remote episode ---------------------

TEST_F(MixedFleetTest, IdleHostsCalmEndsTheRemoteEpisodeAsAPredecessorsDoes) {
  Host host("idle-calm");
  ASSERT_TRUE(host.StartMirror(FastMirrorOptions(redis_.Url())).ok());
  ASSERT_TRUE(WaitFor([&] { return host.Connected(); }));
  PredecessorWorker worker(redis_);
  ASSERT_EQ(worker.Panic(Stakes::kHigh), 1);  // a predecessor episode begins
  ASSERT_TRUE(Cached(host, worker.last_start_s()));

  const Decision calm = host.Calm();  // this host never panicked itself
  EXPECT_TRUE(calm.ended_episode);
  EXPECT_EQ(calm.mode, Mode::kNormal);
  ASSERT_TRUE(WaitFor([&] { return !worker.client().Get(kKey).has_value(); }))
      << "the idle host's calm left the key in Redis";
  EXPECT_EQ(host.CountLogLines({"PANIC_TIMESTAMP_CLEARED", "calm_remote"}), 1);
  // So the next panic anywhere is a new episode, as after a worker's DEL.
  const double before = PythonTime();
  EXPECT_EQ(worker.Panic(Stakes::kHigh), 1);
  EXPECT_GE(worker.last_start_s(), before - 1e-3);
}

TEST_F(MixedFleetTest, IdleHostsCalmNeverDeletesANewerStart) {
  Host host("idle-newer");
  PredecessorWorker first(redis_), second(redis_);
  ASSERT_NO_FATAL_FAILURE(CacheRemoteStart(host, first, PythonTime() - 600));
  // Unseen by the host (no channel message, no poll due): that episode
  // ends and a newer one begins.
  first.Calm();
  ASSERT_EQ(second.Panic(Stakes::kHigh), 1);
  const std::string newer = PythonFloatRepr(second.last_start_s());
  Monitor monitor(redis_);

  EXPECT_TRUE(host.Calm().ended_episode) << "the cached episode was not ended";
  ASSERT_TRUE(WaitFor([&] { return !monitor.Matching("\"EVAL\"").empty(); }))
      << "the mirror never tried to end the cached episode in Redis";
  EXPECT_EQ(second.client().Get(kKey), newer)
      << "the idle host's calm deleted another worker's newer episode";
}

TEST_F(MixedFleetTest, IdleHostsCalmWaitsForClearAfterLikeALocalEpisode) {
  Config config;
  config.episode.clear_after_s = 1;
  Host host("idle-clear", config);
  ASSERT_TRUE(host.StartMirror(FastMirrorOptions(redis_.Url())).ok());
  ASSERT_TRUE(WaitFor([&] { return host.Connected(); }));
  PredecessorWorker worker(redis_);
  ASSERT_EQ(worker.Panic(Stakes::kHigh), 1);
  const std::string text = PythonFloatRepr(worker.last_start_s());
  ASSERT_TRUE(Cached(host, worker.last_start_s()));

  // An intermittent panic elsewhere must be able to escalate: one calm
  // observation here is not yet the end (SPEC 3, clear_after).
  const absl::Time first_calm = absl::Now();
  EXPECT_FALSE(host.Calm().ended_episode)
      << "a single calm ended the remote episode despite clear_after 1 s";
  bool ended = false;
  ASSERT_TRUE(WaitFor([&] {
    ended = host.Calm().ended_episode;
    return ended || absl::Now() - first_calm > absl::Seconds(1.5);
  }));
  const absl::Duration calm_for = absl::Now() - first_calm;
  EXPECT_TRUE(ended) << "calm for " << calm_for << " never ended it";
  EXPECT_GE(calm_for, absl::Seconds(1)) << "ended before clear_after";
  ASSERT_TRUE(WaitFor([&] { return !worker.client().Get(kKey).has_value(); }))
      << "the key " << text << " outlived the end";
}

// ---- the mixed fleet agrees ------------------------------------------------

TEST_F(MixedFleetTest, HostAdoptsThePredecessorsFloatStartAndAgreesOnTiers) {
  Host host("agree");
  ASSERT_TRUE(host.StartMirror(FastMirrorOptions(redis_.Url())).ok());
  ASSERT_TRUE(WaitFor([&] { return host.Connected(); }));
  PredecessorWorker worker(redis_);
  // Two hours and a fraction: tier 2 high, 3 medium, 4 low.
  double start = PythonTime() - 2 * kHourS - 0.123456789;
  // A float whose repr needs seven decimals, more than the host writes.
  while (PythonFloatRepr(start).size() < 18) start = std::nextafter(start, 0);
  const std::string text = worker.StartedAt(start);
  ASSERT_FALSE(text.empty());
  ASSERT_TRUE(Cached(host, start));

  EXPECT_EQ(host.Panic().tier, 1) << "unconfirmed: cautious";
  ASSERT_TRUE(WaitFor([&] { return !host.Episode().unconfirmed; }))
      << "the mirror never confirmed the adopted start";
  for (Stakes stakes : kAllStakes) {
    const Decision mine = host.Panic(stakes);
    const int theirs = worker.Panic(stakes);
    EXPECT_EQ(mine.tier, theirs) << "stakes " << static_cast<int>(stakes);
    EXPECT_EQ(mine.tier, PredecessorTier(PythonTime() - start, stakes));
    EXPECT_NEAR(static_cast<double>(mine.episode_start_ns) / 1e9,
                worker.last_start_s(), 1e-6);
  }
  EXPECT_EQ(worker.client().Get(kKey), text) << "the host rewrote the value";
}

TEST_F(MixedFleetTest, PredecessorReadsTheHostsStartAndAgreesOnTiers) {
  Host host("agree-back");
  ASSERT_TRUE(host.StartMirror(FastMirrorOptions(redis_.Url())).ok());
  ASSERT_TRUE(WaitFor([&] { return host.Connected(); }));
  PredecessorWorker worker(redis_);
  host.Panic();
  ASSERT_TRUE(WaitFor([&] {
    return worker.client().Get(kKey) ==
           persist::FormatUnixSeconds(host.Episode().start_ns);
  })) << "the host's episode was not published";
  for (Stakes stakes : kAllStakes) {
    EXPECT_EQ(worker.Panic(stakes), host.Panic(stakes).tier);
  }
  EXPECT_NEAR(worker.last_start_s(),
              static_cast<double>(host.Episode().start_ns) / 1e9, 1e-6);
  // And the predecessor's calm (a bare DEL) ends the host's episode within
  // one poll, as it ended its other workers'.
  worker.Calm();
  ASSERT_TRUE(WaitFor([&] { return !host.Episode().active; }))
      << "the predecessor's DEL did not end the host's episode";
}

// ---- an adopted start that Redis lost before the mirror confirmed it -------

TEST_F(MixedFleetTest, UnconfirmedAdoptedStartSurvivesARedisRestart) {
  Host host("restart");
  PredecessorWorker worker(redis_);
  const double start = PythonTime() - 2 * kHourS;  // tier 2 for high stakes
  ASSERT_NO_FATAL_FAILURE(CacheRemoteStart(host, worker, start));

  // Redis stops answering just as the host adopts the start: the mirror's
  // confirming GET times out, and Redis comes back empty (a restart, or a
  // replica promoted before it had the key).
  redis_.Pause();
  const Decision adopted = host.Panic();
  ASSERT_NEAR(static_cast<double>(adopted.episode_start_ns) / 1e9, start, 1e-6)
      << "the cached start was not adopted";
  ASSERT_EQ(adopted.tier, 1) << "unconfirmed: cautious";
  ASSERT_TRUE(WaitFor([&] { return !host.Connected(); }))
      << "the confirming GET did not time out";
  ASSERT_TRUE(host.Episode().unconfirmed);
  redis_.Kill();
  ASSERT_TRUE(redis_.Restart());

  // The fleet's start goes back into Redis and the host decides from it;
  // nothing here showed it deleted, so it is not replaced by this host's.
  RedisClient client(redis_);
  ASSERT_TRUE(WaitFor([&] {
    const shm::EpisodeSnapshot e = host.Episode();
    return e.active && !e.unconfirmed && client.Get(kKey).has_value();
  })) << "the host never settled after the restart";
  EXPECT_EQ(client.Get(kKey), persist::FormatUnixSeconds(Ns(start)))
      << "Redis holds another start than the fleet's";
  EXPECT_NEAR(static_cast<double>(host.Episode().start_ns) / 1e9, start, 1e-6);
  EXPECT_EQ(host.Panic(Stakes::kHigh).tier, 2);
  PredecessorWorker reconnected(redis_);
  EXPECT_EQ(reconnected.Panic(Stakes::kHigh), 2) << "the predecessor disagrees";
  EXPECT_EQ(host.CountLogLines({"PANIC_TIMESTAMP_REPUBLISHED"}), 1);
}

}  // namespace
}  // namespace vix::testing
