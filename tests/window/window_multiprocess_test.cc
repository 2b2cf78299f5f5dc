// Many real processes (fork/exec of window_driver) feed one shared window:
// the counts add up exactly and every mode transition happens, and is
// logged, exactly once across the host.
#include <sys/wait.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "test_util.h"
#include "vixbreaker/shm/window.h"

namespace vix::shm {
namespace {

using vix::testing::Child;
using vix::testing::ScopedSegmentName;

constexpr int64_t kT0 = int64_t{1'764'000'000} * kNanosPerSecond;
constexpr int kProcesses = 6;
constexpr int kPanics = 2000;  // per process, in phase 1
constexpr int kCalms = 8000;   // per process, in phase 2

struct PhaseResult {
  std::vector<std::string> log_lines;  // BREAKER_MODE_CHANGE lines
  int transitions_won = 0;
};

// Starts kProcesses drivers, releases them together, collects their output.
PhaseResult RunPhase(const std::string& segment, int64_t at_ns,
                     const std::string& status, int count) {
  std::vector<std::unique_ptr<Child>> children;
  for (int i = 0; i < kProcesses; ++i) {
    children.push_back(std::make_unique<Child>(std::vector<std::string>{
        vix::testing::kWindowDriver, segment, absl::StrCat(at_ns), status,
        absl::StrCat(count)}));
  }
  std::string line;
  for (auto& child : children) {
    EXPECT_TRUE(child->ReadLine(&line))
        << "driver " << child->pid() << " did not print ready in 10 s";
    EXPECT_EQ(line, "ready");
  }
  for (auto& child : children) child->Write("go\n");
  PhaseResult result;
  for (auto& child : children) {
    while (true) {
      if (!child->ReadLine(&line, absl::Seconds(120))) {
        ADD_FAILURE() << "driver " << child->pid()
                      << " did not print done within 120 s";
        break;
      }
      if (absl::StartsWith(line, "done ")) {
        result.transitions_won += std::stoi(line.substr(5));
        break;
      }
      EXPECT_TRUE(absl::StrContains(line, "\"event\":\"BREAKER_MODE_CHANGE\""))
          << line;
      result.log_lines.push_back(line);
    }
    const int status = child->Wait();
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
        << "driver " << child->pid() << " wait status " << status;
  }
  return result;
}

// The "sequence":N of every line, with how often each appears.
std::map<int, int> SequenceCounts(const std::vector<std::string>& lines) {
  std::map<int, int> counts;
  for (const std::string& line : lines) {
    const size_t at = line.find("\"sequence\":");
    EXPECT_NE(at, std::string::npos) << line;
    if (at != std::string::npos) ++counts[std::stoi(line.substr(at + 11))];
  }
  return counts;
}

TEST(WindowMultiprocessTest, CountsAddUpAndTransitionsAreLoggedOnce) {
  ScopedSegmentName segment("window-mp");
  CachedClock clock(kT0 + kNanosPerSecond);
  EngineOptions options;
  options.segment.name = segment.name();
  options.clock = &clock;
  options.log_fd = -1;
  std::unique_ptr<Engine> engine = *Engine::Open(options);
  ASSERT_TRUE(engine->segment_status().ok()) << engine->segment_status();

  // Phase 1: all panic, contending for one bucket: normal ->
  // high_volatility -> circuit_open, whoever wins each CAS.
  const PhaseResult panic = RunPhase(segment.name(), kT0, "panic", kPanics);
  // Phase 2, one second later: all normal; the ratio falls to 1/5,
  // so circuit_open -> high_volatility -> normal.
  const PhaseResult calm =
      RunPhase(segment.name(), kT0 + kNanosPerSecond, "normal", kCalms);

  const WindowSnapshot s =
      ReadWindow(engine->segment()->layout(), kT0 + kNanosPerSecond);
  EXPECT_EQ(s.counts.panic, uint64_t{kProcesses * kPanics});
  EXPECT_EQ(s.counts.total, uint64_t{kProcesses * (kPanics + kCalms)});
  EXPECT_EQ(s.late_samples, 0u);
  EXPECT_EQ(s.saturated_samples, 0u);

  EXPECT_EQ(panic.transitions_won, 2);
  EXPECT_EQ(calm.transitions_won, 2);
  std::vector<std::string> lines = panic.log_lines;
  lines.insert(lines.end(), calm.log_lines.begin(), calm.log_lines.end());
  const std::map<int, int> expected = {{1, 1}, {2, 1}, {3, 1}, {4, 1}};
  EXPECT_EQ(SequenceCounts(lines), expected)
      << "each transition must be logged by exactly one process";

  EXPECT_EQ(s.mode, BreakerMode::kNormal);
  EXPECT_EQ(s.transitions, 4u);
  ASSERT_EQ(s.history.size(), 4u);
  const BreakerMode chain[] = {
      BreakerMode::kNormal, BreakerMode::kHighVolatility,
      BreakerMode::kCircuitOpen, BreakerMode::kHighVolatility,
      BreakerMode::kNormal};
  for (size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(s.history[i].from, chain[i]) << "transition " << i + 1;
    EXPECT_EQ(s.history[i].to, chain[i + 1]) << "transition " << i + 1;
  }
  // The ratio that made each recovery step is on the right side of its
  // threshold.
  EXPECT_LT(s.history[2].panic_ratio, 0.6);
  EXPECT_LT(s.history[3].panic_ratio, 0.3);
}

}  // namespace
}  // namespace vix::shm
