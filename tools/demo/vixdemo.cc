// vixdemo: several worker processes share one panic clock through the
// segment, on the embedded default (shared memory only, no Redis).
//
// The parent starts the workers (fork/exec of itself), every worker decides
// `panic` in a loop, the first one to CAS the start wins; a compressed tier
// table (seconds instead of minutes) walks the episode through tiers 1..4 in
// about 20 s; the parent then forces a week-old episode on a named scope,
// calms the market so the episode ends, prints `vixctl status`, and removes
// the segment.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "vixbreaker/core/parse.h"
#include "vixbreaker/shm/engine.h"
#include "vixbreaker/shm/process.h"

namespace {

using namespace vix;
using Clock = std::chrono::steady_clock;

constexpr int kWorkers = 4;
constexpr const char* kStakesOfWorker[kWorkers] = {"high", "medium", "low",
                                                   "high"};

std::atomic<bool> g_calm{false};
std::atomic<bool> g_stop{false};

// Tiers in seconds rather than minutes, so the demo fits in half a minute.
Config DemoConfig() {
  Config config;
  config.policy.tiers[0].from_minutes = {6 / 60.0, 12 / 60.0, 18 / 60.0};
  config.policy.tiers[1].from_minutes = {4 / 60.0, 8 / 60.0, 12 / 60.0};
  config.policy.tiers[2].from_minutes = {2 / 60.0, 4 / 60.0, 6 / 60.0};
  return config;
}

int RunWorker(const std::string& segment, const std::string& stakes_name) {
  signal(SIGUSR1, [](int) { g_calm.store(true); });
  signal(SIGTERM, [](int) { g_stop.store(true); });
  shm::EngineOptions options;
  options.segment.name = segment;
  options.config = DemoConfig();
  std::unique_ptr<shm::Engine> engine = *shm::Engine::Open(options);
  if (!engine->segment_status().ok()) {
    std::fprintf(stderr, "worker: %s\n",
                 engine->segment_status().ToString().c_str());
    return 1;
  }
  const Stakes stakes = *ParseStakes(stakes_name);
  BaseTtl base;
  BaseTtl::FromSeconds(60, &base);
  const shm::ScopeHandle scope = engine->global_scope();
  uint64_t decisions = 0;
  bool first_writer = false;
  while (!g_stop.load(std::memory_order_relaxed)) {
    const Status status = g_calm.load(std::memory_order_relaxed)
                              ? Status::kNormal
                              : Status::kPanic;
    for (int i = 0; i < 1000; ++i) {
      first_writer |= engine->Decide(scope, status, base, stakes).first_writer;
    }
    decisions += 1000;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  std::printf("  worker pid %d (%s stakes): %llu decisions%s\n", getpid(),
              stakes_name.c_str(), static_cast<unsigned long long>(decisions),
              first_writer ? ", won the CAS that started the episode" : "");
  return 0;
}

// What the parent prints: the global episode and each stakes' tier.
std::string DescribeGlobal(const shm::SegmentLayout& layout,
                           const Policy& policy, int64_t now) {
  const shm::Scope& scope = shm::ScopesOf(layout)[shm::kGlobalScopeIndex];
  const int64_t word = scope.episode.load(std::memory_order_acquire);
  if (word == 0) return "no episode";
  const int64_t start = shm::EpisodeWord::StartNs(word);
  std::string text;
  BaseTtl base;
  BaseTtl::FromSeconds(60, &base);
  for (Stakes stakes : {Stakes::kHigh, Stakes::kMedium, Stakes::kLow}) {
    Decision d =
        policy.DecideForAge(std::max<int64_t>(now - start, 0), base, stakes);
    absl::StrAppendFormat(
        &text, " %s: tier %d %-13s ttl %2d |",
        StakesName(stakes).substr(0, StakesName(stakes).find('_')), d.tier,
        ModeName(d.mode), d.ttl_seconds);
  }
  return text;
}

pid_t Spawn(const std::string& self, const std::vector<std::string>& args) {
  pid_t pid = fork();
  if (pid == 0) {
    std::vector<char*> argv;
    argv.push_back(const_cast<char*>(self.c_str()));
    for (const std::string& a : args)
      argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    execv(self.c_str(), argv.data());
    _exit(127);
  }
  return pid;
}

int RunVixctl(const std::vector<std::string>& args) {
  pid_t pid = Spawn(VIXCTL_PATH, args);
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

int RunDemo(const std::string& self) {
  const std::string segment = absl::StrCat("vixdemo-", getpid());
  std::printf("vixbreaker demo: %d worker processes, segment /dev/shm/%s\n",
              kWorkers, segment.c_str());
  std::printf(
      "tiers compressed to seconds: high 6/12/18 s, medium 4/8/12 s, "
      "low 2/4/6 s\n");
  std::printf(
      "worker logs (JSON lines, one per transition per host) go to "
      "stderr\n\n");
  // The parent's own engine creates the segment and is used for admin.
  shm::EngineOptions options;
  options.segment.name = segment;
  options.config = DemoConfig();
  std::unique_ptr<shm::Engine> admin = *shm::Engine::Open(options);
  if (!admin->segment_status().ok()) {
    std::fprintf(stderr, "vixdemo: %s\n",
                 admin->segment_status().ToString().c_str());
    return 1;
  }
  const Policy& policy = admin->policy();
  std::vector<pid_t> workers;
  for (int i = 0; i < kWorkers; ++i) {
    workers.push_back(Spawn(self, {"--worker", segment, kStakesOfWorker[i]}));
  }
  const Clock::time_point t0 = Clock::now();
  auto elapsed = [&] {
    return std::chrono::duration<double>(Clock::now() - t0).count();
  };
  const shm::SegmentLayout& layout = admin->segment()->layout();
  std::string last;
  // Phase 1: panic until every stakes reaches tier 4 (about 20 s).
  while (elapsed() < 40) {
    const int64_t now = shm::RealtimeNowNs();
    std::string line = DescribeGlobal(layout, policy, now);
    if (line != last) {  // print tier changes only
      std::printf("[+%5.1fs] %s\n", elapsed(), line.c_str());
      std::fflush(stdout);
      last = line;
    }
    if (line.find("low: tier 4") != std::string::npos &&
        line.find("medium: tier 4") != std::string::npos &&
        line.find("high: tier 4") != std::string::npos) {
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  // Phase 2: an operator forces a week-old episode on a named scope.
  std::printf(
      "\n[+%5.1fs] admin: vixctl panic start --scope ucl-final --at "
      "<7 days ago>\n",
      elapsed());
  std::fflush(stdout);
  const std::string week_ago =
      absl::StrFormat("%.3f", shm::RealtimeNowNs() / 1e9 - 7 * 24 * 3600.0);
  RunVixctl({"panic", "start", "--segment", segment, "--scope", "ucl-final",
             "--at", week_ago, "--json"});
  RunVixctl({"decide", "--segment", segment, "--scope", "ucl-final", "--status",
             "normal", "--stakes", "high", "--json"});
  // Phase 3: the market calms down; the first calm decision ends the episode.
  std::printf("\n[+%5.1fs] market calms: workers now observe `normal`\n",
              elapsed());
  for (pid_t pid : workers) kill(pid, SIGUSR1);
  for (int i = 0; i < 50 && last != "no episode"; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    last = DescribeGlobal(layout, policy, shm::RealtimeNowNs());
  }
  std::printf("[+%5.1fs] global: %s\n\n", elapsed(), last.c_str());
  std::fflush(stdout);
  RunVixctl({"status", "--segment", segment});
  std::printf("\nstopping workers\n");
  std::fflush(stdout);
  for (pid_t pid : workers) kill(pid, SIGTERM);
  int failures = 0;
  for (pid_t pid : workers) {
    int status = 0;
    waitpid(pid, &status, 0);
    failures += !(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  }
  admin.reset();
  (void)shm::Segment::Destroy(segment);
  std::printf("removed /dev/shm/%s; demo %s\n", segment.c_str(),
              failures == 0 && last == "no episode" ? "done" : "FAILED");
  return failures == 0 && last == "no episode" ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 4 && std::strcmp(argv[1], "--worker") == 0) {
    return RunWorker(argv[2], argv[3]);
  }
  char self[4096];
  ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
  if (n <= 0) return 1;
  self[n] = '\0';
  return RunDemo(self);
}
