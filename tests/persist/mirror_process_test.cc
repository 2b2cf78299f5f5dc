// `vixctl mirror` as real processes sharing one segment: flags, SIGTERM,
// the lease handed over on SIGKILL, and never two publishers at once.
#include <signal.h>
#include <sys/wait.h>

#include <cstdio>
#include <map>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "host.h"
#include "mirror_child.h"
#include "monitor.h"
#include "redis_harness.h"
#include "vixbreaker/persist/wire.h"

namespace vix::testing {
namespace {

constexpr char kKey[] = "brain:panic_start_ts";
constexpr absl::Duration kLease = absl::Seconds(1);

int64_t Holder(Host& host) { return host.Health().lease_holder_pid; }

void StartAndPublish(Host& host, RedisClient& client) {
  host.Panic();
  // Until the mirror confirmed (and adopted the value read back), a calm
  // observation could race with that adoption.
  ASSERT_TRUE(WaitFor([&] {
    const int64_t published =
        shm::ScopesOf(host.layout())[0].mirror_published_ns.load();
    return published != 0 && published == host.Episode().start_ns &&
           client.Get(kKey) == persist::FormatUnixSeconds(published);
  })) << "episode not published";
}

void EndAndUnpublish(Host& host, RedisClient& client) {
  host.Calm();
  ASSERT_TRUE(WaitFor([&] { return !client.Get(kKey).has_value(); }))
      << "end not mirrored";
}

TEST(VixctlMirrorTest, BadFlagsFailWithUsageAndNeverEchoThePassword) {
  ScopedSegmentName segment("flags");
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
      {{"--redis", "redis://u:topsecret@h:99999/0"}, "1..65535"},
      {{"--redis", "redis://u:top/secret@h:1/0"}, "bad Redis URL"},
      {{}, "--redis URL (or VIX_REDIS_URL) is required"},
      {{"--redis", "redis://h:1/0", "--policy", "lenient"}, "local"},
      {{"--redis", "redis://h:1/0", "--lease", "0.5"}, "lease period"},
      {{"--redis", "redis://h:1/0", "--poll-interval", "-1"},
       "--poll-interval"},
  };
  for (const auto& [flags, expected] : cases) {
    std::vector<std::string> argv = {kVixctl, "mirror", "--segment",
                                     segment.name()};
    argv.insert(argv.end(), flags.begin(), flags.end());
    RunResult r = vix::testing::Run(argv);
    EXPECT_EQ(r.exit_code, 2) << r.err;
    EXPECT_NE(r.err.find(expected), std::string::npos) << r.err;
    EXPECT_EQ(r.err.find("secret"), std::string::npos) << r.err;
    EXPECT_TRUE(r.out.empty()) << r.out;
  }
}

TEST(VixctlMirrorTest, RunsUntilSigtermThenReleasesTheLease) {
  RedisServer redis;
  ASSERT_TRUE(redis.Start());
  redis.set_admin_password("");
  Host host("sigterm");
  TempDir logs;
  const std::string log = logs.path() + "/mirror.log";
  // Password from the environment: nothing secret on the command line.
  std::vector<std::string> argv = {
      "/bin/sh",     "-c",     "exec \"$0\" \"$@\" 2>>\"$VIX_TEST_LOG\"",
      kVixctl,       "mirror", "--segment",
      host.segment()};
  Child mirror(argv, {"VIX_TEST_LOG=" + log, "VIX_REDIS_URL=" + redis.Url()});
  ASSERT_TRUE(WaitFor([&] {
    return Holder(host) == mirror.pid() && host.Health().connected;
  })) << ReadFile(log);
  RedisClient client(redis);
  StartAndPublish(host, client);

  mirror.Signal(SIGTERM);
  const int status = mirror.Wait(absl::Seconds(10));
  ASSERT_NE(status, -1) << "vixctl mirror did not stop on SIGTERM";
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  EXPECT_EQ(Holder(host), 0) << "the lease was not given up";
  EXPECT_FALSE(host.Health().connected);
  EXPECT_NE(ReadFile(log).find("MIRROR_LEASE_RELEASED"), std::string::npos);
}

TEST(VixctlMirrorTest, SigkilledHolderHandsTheLeaseOverWithinTwoLeasePeriods) {
  RedisServer redis;
  ASSERT_TRUE(redis.Start());
  Host host("sigkill");
  TempDir logs;
  auto first =
      StartMirrorProcess(redis.Url(), host.segment(), logs.path() + "/1.log");
  auto second =
      StartMirrorProcess(redis.Url(), host.segment(), logs.path() + "/2.log");
  ASSERT_TRUE(WaitFor([&] {
    const int64_t h = Holder(host);
    return (h == first->pid() || h == second->pid()) && host.Health().connected;
  })) << "no vixctl mirror took the lease";
  const bool first_holds = Holder(host) == first->pid();
  Child& holder = first_holds ? *first : *second;
  Child& standby = first_holds ? *second : *first;
  RedisClient client(redis);
  StartAndPublish(host, client);

  const absl::Time t0 = absl::Now();
  holder.Signal(SIGKILL);
  holder.Wait();
  ASSERT_TRUE(WaitFor([&] { return Holder(host) == standby.pid(); },
                      2 * kLease + absl::Seconds(5)))
      << "the standby never took over";
  const double ms = absl::ToDoubleMilliseconds(absl::Now() - t0);
  std::printf(
      "[ measured ] lease taken over %.1f ms after SIGKILL of the "
      "holder (bar: two lease periods = %.0f ms)\n",
      ms, absl::ToDoubleMilliseconds(2 * kLease));
  EXPECT_LT(ms, absl::ToDoubleMilliseconds(2 * kLease));
  EXPECT_GE(host.Health().lease_takeovers, 1u);

  // The new holder carries on with the dead holder's episode.
  EndAndUnpublish(host, client);
  StartAndPublish(host, client);
}

// addr -> client name, from CLIENT LIST (names are vixmirror-<pid>[-sub]).
void RecordClientNames(RedisClient& client,
                       std::map<std::string, std::string>* names) {
  for (absl::string_view line :
       absl::StrSplit(client.Command({"CLIENT", "LIST"}).str, '\n')) {
    std::string addr, name;
    for (absl::string_view field : absl::StrSplit(line, ' ')) {
      if (absl::StartsWith(field, "addr=")) addr = std::string(field.substr(5));
      if (absl::StartsWith(field, "name=")) name = std::string(field.substr(5));
    }
    if (!addr.empty() && !name.empty()) (*names)[addr] = name;
  }
}

TEST(VixctlMirrorTest, TwoConfiguredProcessesNeverBothPublish) {
  RedisServer redis;
  ASSERT_TRUE(redis.Start());
  Host host("onewriter");
  TempDir logs;
  std::unique_ptr<Child> p[2] = {
      StartMirrorProcess(redis.Url(), host.segment(), logs.path() + "/0.log"),
      StartMirrorProcess(redis.Url(), host.segment(), logs.path() + "/1.log")};
  Monitor monitor(redis);
  RedisClient client(redis);
  std::map<std::string, std::string> names;
  ASSERT_TRUE(WaitFor([&] {
    return (Holder(host) == p[0]->pid() || Holder(host) == p[1]->pid()) &&
           host.Health().connected;
  }));
  const int h = Holder(host) == p[0]->pid() ? 0 : 1;
  RecordClientNames(client, &names);
  for (int i = 0; i < 3; ++i) {
    StartAndPublish(host, client);
    EndAndUnpublish(host, client);
  }
  // The holder stalls past its lease: the other takes over...
  p[h]->Signal(SIGSTOP);
  ASSERT_TRUE(WaitFor([&] { return Holder(host) == p[1 - h]->pid(); }))
      << "no takeover from a stopped holder";
  ASSERT_TRUE(WaitFor([&] { return host.Health().connected; }));
  RecordClientNames(client, &names);
  StartAndPublish(host, client);
  // ...and the old holder, resumed, steps down instead of writing.
  p[h]->Signal(SIGCONT);
  const std::string old_log = logs.path() + "/" + std::to_string(h) + ".log";
  ASSERT_TRUE(WaitFor([&] {
    return ReadFile(old_log).find("MIRROR_LEASE_LOST") != std::string::npos;
  })) << ReadFile(old_log);
  EndAndUnpublish(host, client);
  StartAndPublish(host, client);
  EndAndUnpublish(host, client);
  RecordClientNames(client, &names);
  monitor.Stop();

  // Every write, in order, with the process that sent it. MONITOR lines
  // read: 1700000000.123456 [0 127.0.0.1:53422] "SET" "key" ...
  const std::set<std::string> writes = {"SET", "EXPIRE", "EVAL", "PUBLISH",
                                        "DEL"};
  std::vector<std::string> writers;
  for (const std::string& line : monitor.lines()) {
    const size_t open = line.find(" [");
    const size_t close = line.find("] \"");
    if (open == std::string::npos || close == std::string::npos) continue;
    const std::string source = line.substr(open + 2, close - open - 2);
    const std::string addr = source.substr(source.find(' ') + 1);
    const size_t begin = close + 3;
    std::string command = line.substr(begin, line.find('"', begin) - begin);
    for (char& c : command) c = static_cast<char>(toupper(c));
    if (addr == "lua" || writes.count(command) == 0) continue;
    auto name = names.find(addr);
    ASSERT_NE(name, names.end()) << "write from an unknown client: " << line;
    if (writers.empty() || writers.back() != name->second) {
      writers.push_back(name->second);
    }
  }
  const std::string first = absl::StrCat("vixmirror-", p[h]->pid());
  const std::string second = absl::StrCat("vixmirror-", p[1 - h]->pid());
  ASSERT_EQ(writers.size(), 2u)
      << "writes must come from one process, then the other, never "
         "interleaved; writer runs: "
      << absl::StrJoin(writers, ", ");
  EXPECT_EQ(writers[0], first);
  EXPECT_EQ(writers[1], second);
}

}  // namespace
}  // namespace vix::testing
