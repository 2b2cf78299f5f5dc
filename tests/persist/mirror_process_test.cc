// `vixctl mirror` as real processes sharing one segment: flags, SIGTERM,
// the lease handed over on SIGKILL, and never two publishers at once.
#include <signal.h>
#include <sys/wait.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <set>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
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

// SPEC 15: log lines are written without blocking, and what cannot be
// written is dropped and counted (SPEC 9). A mirror whose stderr is a pipe
// nobody reads takes the lease, mirrors, and stops on SIGTERM.
TEST(VixctlMirrorTest, AStalledLogReaderNeverStallsTheMirror) {
  RedisServer redis;
  ASSERT_TRUE(redis.Start());
  Host host("stalled-log");
  FullPipe pipe;
  ASSERT_GE(pipe.write_fd(), 0) << "cannot make the pipe";
  Child mirror({"/bin/sh", "-c",
                absl::StrCat("exec \"$0\" \"$@\" 2>&", pipe.write_fd()),
                kVixctl, "mirror", "--redis", redis.Url(), "--segment",
                host.segment(), "--poll-interval", "0.2", "--lease", "1",
                "--connect-timeout", "0.1", "--command-timeout", "0.1"});
  ASSERT_TRUE(WaitFor([&] {
    return Holder(host) == mirror.pid() && host.Health().connected;
  })) << "a mirror that cannot write its log never took the lease";
  RedisClient client(redis);
  StartAndPublish(host, client);
  EndAndUnpublish(host, client);
  EXPECT_GT(host.layout().counters.log_events_dropped.load(), 0u)
      << "the lines the pipe could not take are not counted";

  mirror.Signal(SIGTERM);
  const int status = mirror.Wait(absl::Seconds(10));
  if (status == -1) pipe.Drain();  // let it go, then fail
  ASSERT_NE(status, -1) << "vixctl mirror did not stop on SIGTERM";
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  EXPECT_EQ(Holder(host), 0) << "the lease was not given up";
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

// A process's hold on the lease, from its MIRROR_LEASE_ACQUIRED log line
// (stamped after the winning CAS, before any write it makes).
struct Tenure {
  int64_t from_us;
  std::string client;  // vixmirror-<pid>
};

void AddTenures(const std::string& log, pid_t pid,
                std::vector<Tenure>* tenures) {
  for (absl::string_view line : absl::StrSplit(log, '\n')) {
    if (!absl::StrContains(line, "\"MIRROR_LEASE_ACQUIRED\"")) continue;
    const size_t begin = line.find("\"ts\":\"");
    const size_t end = line.find('"', begin + 6);
    absl::Time t;
    std::string error;
    ASSERT_TRUE(
        begin != absl::string_view::npos && end != absl::string_view::npos &&
        absl::ParseTime("%Y-%m-%dT%H:%M:%E*SZ",
                        line.substr(begin + 6, end - begin - 6), &t, &error))
        << "no ts in " << line << " " << error;
    tenures->push_back(
        {absl::ToUnixMicros(t), absl::StrCat("vixmirror-", pid)});
  }
}

// One write Redis executed, from MONITOR: 1700000000.123456 [0 addr] "SET" ..
struct Write {
  int64_t at_us;
  std::string client;
  std::string line;
};

std::vector<Write> WritesOf(const std::vector<std::string>& lines,
                            const std::map<std::string, std::string>& names) {
  const std::set<std::string> writes = {"SET", "EXPIRE", "EVAL", "PUBLISH",
                                        "DEL"};
  std::vector<Write> out;
  for (const std::string& line : lines) {
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
    EXPECT_NE(name, names.end()) << "write from an unknown client: " << line;
    if (name == names.end()) continue;
    std::pair<absl::string_view, absl::string_view> when =
        absl::StrSplit(absl::string_view(line).substr(0, open), '.');
    int64_t seconds = 0, micros = 0;
    EXPECT_TRUE(absl::SimpleAtoi(when.first, &seconds) &&
                absl::SimpleAtoi(when.second, &micros))
        << line;
    out.push_back({seconds * 1'000'000 + micros, name->second, line});
  }
  return out;
}

TEST(VixctlMirrorTest, TwoConfiguredProcessesNeverBothPublish) {
  RedisServer redis;
  ASSERT_TRUE(redis.Start());
  Host host("onewriter");
  TempDir logs;
  const std::string log[2] = {logs.path() + "/0.log", logs.path() + "/1.log"};
  std::unique_ptr<Child> p[2] = {
      StartMirrorProcess(redis.Url(), host.segment(), log[0]),
      StartMirrorProcess(redis.Url(), host.segment(), log[1])};
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
  ASSERT_TRUE(WaitFor([&] {
    return ReadFile(log[h]).find("MIRROR_LEASE_LOST") != std::string::npos;
  })) << ReadFile(log[h]);
  EndAndUnpublish(host, client);
  StartAndPublish(host, client);
  EndAndUnpublish(host, client);
  RecordClientNames(client, &names);
  monitor.Stop();

  // Never both. A holder checks the lease before every command, so one
  // stopped between that check and its send (as this SIGSTOP, sent the
  // moment the key is gone, often lands: between the delete and its
  // announcement) delivers that one command late; the next is refused.
  // Each is conditional or idempotent (SET NX, compare-and-delete,
  // EXPIRE, PUBLISH of what it did). Anything more is two writers. A
  // holder the loaded machine stalls past its lease loses it the same way;
  // that is a handover, not a double write.
  std::vector<Tenure> tenures;
  for (int i = 0; i < 2; ++i) {
    AddTenures(ReadFile(log[i]), p[i]->pid(), &tenures);
  }
  std::sort(
      tenures.begin(), tenures.end(),
      [](const Tenure& a, const Tenure& b) { return a.from_us < b.from_us; });
  std::string timeline;
  for (const Tenure& t : tenures) {
    absl::StrAppend(&timeline, t.from_us, " ", t.client, " took the lease\n");
  }
  const std::string taker = absl::StrCat("vixmirror-", p[1 - h]->pid());
  int taker_writes = 0;
  std::set<std::pair<std::string, int64_t>> late;  // (writer, tenure)
  for (const Write& w : WritesOf(monitor.lines(), names)) {
    // Strictly before: a write Redis ran in the same microsecond as a
    // takeover was checked before it.
    auto holder =
        std::find_if(tenures.rbegin(), tenures.rend(),
                     [&](const Tenure& t) { return t.from_us < w.at_us; });
    ASSERT_NE(holder, tenures.rend())
        << "a write before any lease was taken: " << w.line << "\n"
        << timeline;
    if (w.client == taker) ++taker_writes;
    if (w.client == holder->client) continue;
    EXPECT_TRUE(late.insert({w.client, holder->from_us}).second)
        << "a second write from a process that lost the lease: " << w.line
        << "\n"
        << timeline;
  }
  EXPECT_GT(taker_writes, 0) << "the taker never published\n" << timeline;
}

}  // namespace
}  // namespace vix::testing
