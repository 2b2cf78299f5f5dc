// The shared rolling window in one process, with an injected clock: the
// state machine from an empty window, exact thresholds, bucket recycling at
// the window's edge, the transition history and its log lines.
#include "vixbreaker/shm/window.h"

#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <future>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "test_util.h"

namespace vix::shm {
namespace {

using M = BreakerMode;
using vix::testing::ScopedSegmentName;

constexpr int64_t kSecond = kNanosPerSecond;
// Mid-second, so +/- a few ms stays in the same bucket.
constexpr int64_t kT0 = 1'764'000'000 * kSecond + kSecond / 2;
constexpr int64_t kWindowNs = int64_t{kWindowBuckets} * kSecond;

using vix::testing::LogFile;
using vix::testing::Ttl;

// An engine and a window on a fresh segment, both on `clock`.
class WindowTest : public ::testing::Test {
 protected:
  void SetUp() override {
    EngineOptions options;
    options.segment.name = segment_.name();
    options.clock = &clock_;
    options.log_fd = -1;
    absl::StatusOr<std::unique_ptr<Engine>> engine = Engine::Open(options);
    ASSERT_TRUE(engine.ok()) << engine.status();
    engine_ = *std::move(engine);
    ASSERT_TRUE(engine_->segment_status().ok()) << engine_->segment_status();
    WindowOptions window_options;
    window_options.log_fd = log_.fd();
    absl::StatusOr<std::unique_ptr<RollingWindow>> window =
        RollingWindow::Open(*engine_, window_options);
    ASSERT_TRUE(window.ok()) << window.status();
    window_ = *std::move(window);
  }

  // Records `status` and checks the mode now in force.
  void Expect(Status status, M mode, bool transitioned, const char* step) {
    SCOPED_TRACE(step);
    const WindowDecision d = window_->Record(status, Ttl(300));
    EXPECT_EQ(BreakerModeName(d.breaker.mode), BreakerModeName(mode))
        << "panic " << d.counts.panic << " of " << d.counts.total;
    EXPECT_EQ(d.transitioned, transitioned);
  }

  ScopedSegmentName segment_{"window"};
  CachedClock clock_{kT0};
  LogFile log_;
  std::unique_ptr<Engine> engine_;
  std::unique_ptr<RollingWindow> window_;
};

// SPEC 15: a window whose log reader stopped reading blocks neither a
// flush nor its close; the transition lines it could not write are dropped
// and counted in the segment (SPEC 9).
TEST(WindowLogTest, AStalledLogReaderNeverBlocksAFlushOrTheClose) {
  ScopedSegmentName segment("window-stalled");
  CachedClock clock(kT0);
  EngineOptions options;
  options.segment.name = segment.name();
  options.clock = &clock;
  options.log_fd = -1;
  absl::StatusOr<std::unique_ptr<Engine>> engine = Engine::Open(options);
  ASSERT_TRUE(engine.ok() && (*engine)->segment_status().ok());
  vix::testing::FullPipe pipe;
  ASSERT_GE(pipe.write_fd(), 0) << "cannot make the pipe";
  WindowOptions window_options;
  window_options.log_fd = pipe.write_fd();
  absl::StatusOr<std::unique_ptr<RollingWindow>> window =
      RollingWindow::Open(**engine, window_options);
  ASSERT_TRUE(window.ok()) << window.status();
  ASSERT_TRUE((*window)->Record(Status::kPanic, Ttl(300)).transitioned);

  // On another thread: if either waits on the pipe, the test drains it
  // and fails instead of hanging.
  std::promise<void> closed;
  std::future<void> done = closed.get_future();
  std::thread closer([&] {
    (*window)->FlushLogs();
    window->reset();
    closed.set_value();
  });
  const bool returned =
      done.wait_for(std::chrono::seconds(10)) == std::future_status::ready;
  if (!returned) pipe.Drain();
  closer.join();
  EXPECT_TRUE(returned) << "a flush or the close waited on the log reader";
  EXPECT_GT((*engine)->segment()->layout().counters.log_events_dropped.load(),
            0u)
      << "the transition line the pipe could not take is not counted";
}

TEST_F(WindowTest, StateMachineFromAnEmptyWindow) {
  const WindowSnapshot empty = window_->Snapshot();
  EXPECT_EQ(empty.mode, M::kNormal);
  EXPECT_EQ(empty.counts.total, 0u);
  EXPECT_EQ(empty.window_ns, 30 * kNanosPerMinute);

  WindowDecision d = window_->Record(Status::kPanic, Ttl(300));
  EXPECT_EQ(d.breaker.mode, M::kHighVolatility) << "one panic: ratio 1/1";
  EXPECT_EQ(d.breaker.ttl_seconds, 5);
  EXPECT_EQ(d.breaker.strategy, CacheStrategy::kAdaptive);
  EXPECT_TRUE(d.transitioned);
  EXPECT_EQ(d.counts.panic, 1u);
  EXPECT_EQ(d.counts.total, 1u);

  d = window_->Record(Status::kPanic, Ttl(300));
  EXPECT_EQ(d.breaker.mode, M::kCircuitOpen) << "a second panic";
  EXPECT_EQ(d.breaker.ttl_seconds, 10);

  // Recovery, one step at a time, on strict comparisons.
  Expect(Status::kNormal, M::kCircuitOpen, false, "2/3 = 0.67");
  Expect(Status::kNormal, M::kHighVolatility, true, "2/4 = 0.5 < 0.6");
  Expect(Status::kNormal, M::kHighVolatility, false, "2/5 = 0.4");
  Expect(Status::kNormal, M::kHighVolatility, false, "2/6 = 0.33");
  d = window_->Record(Status::kNormal, Ttl(300));
  EXPECT_EQ(d.breaker.mode, M::kNormal) << "2/7 = 0.29 < 0.3";
  EXPECT_EQ(d.breaker.ttl_seconds, 300);
  EXPECT_EQ(d.breaker.strategy, CacheStrategy::kNormal);

  const WindowSnapshot s = window_->Snapshot();
  EXPECT_EQ(s.mode, M::kNormal);
  EXPECT_EQ(s.transitions, 4u);
  EXPECT_EQ(s.counts.panic, 2u);
  EXPECT_EQ(s.counts.total, 7u);
  ASSERT_EQ(s.history.size(), 4u);
  const M expected[][2] = {{M::kNormal, M::kHighVolatility},
                           {M::kHighVolatility, M::kCircuitOpen},
                           {M::kCircuitOpen, M::kHighVolatility},
                           {M::kHighVolatility, M::kNormal}};
  for (size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(s.history[i].sequence, i + 1);
    EXPECT_EQ(s.history[i].from, expected[i][0]);
    EXPECT_EQ(s.history[i].to, expected[i][1]);
    EXPECT_EQ(s.history[i].at_ns, kT0);
    EXPECT_EQ(s.history[i].pid, getpid());
  }
  EXPECT_EQ(s.history[2].panic_ratio, 0.5);
  EXPECT_EQ(s.history[2].total_samples, 4u);
}

TEST_F(WindowTest, RatiosExactlyOnAThresholdDoNotMove) {
  Expect(Status::kNormal, M::kNormal, false, "0/1");
  Expect(Status::kPanic, M::kNormal, false, "1/2 = 0.5 exactly");
  Expect(Status::kPanic, M::kHighVolatility, true, "2/3 > 0.5");
  Expect(Status::kPanic, M::kHighVolatility, false, "3/4 = 0.75");
  Expect(Status::kPanic, M::kHighVolatility, false, "4/5 = 0.8 exactly");
  Expect(Status::kPanic, M::kCircuitOpen, true, "5/6 > 0.8");
  Expect(Status::kPanic, M::kCircuitOpen, false, "6/7");
  Expect(Status::kNormal, M::kCircuitOpen, false, "6/8");
  Expect(Status::kNormal, M::kCircuitOpen, false, "6/9");
  Expect(Status::kNormal, M::kCircuitOpen, false, "6/10 = 0.6 exactly");
  Expect(Status::kNormal, M::kHighVolatility, true, "6/11 < 0.6");
  for (int total = 12; total <= 20; ++total) {
    Expect(Status::kNormal, M::kHighVolatility, false,
           total == 20 ? "6/20 = 0.3 exactly" : "6/12..6/19");
  }
  Expect(Status::kNormal, M::kNormal, true, "6/21 < 0.3");
}

TEST_F(WindowTest, WarningCountsAsNotPanicButGetsTheAdaptiveTtl) {
  window_->Record(Status::kPanic, Ttl(300));  // high_volatility
  const WindowDecision d = window_->Record(Status::kWarning, Ttl(300));
  EXPECT_EQ(d.counts.panic, 1u);
  EXPECT_EQ(d.counts.total, 2u);
  EXPECT_EQ(d.breaker.mode, M::kHighVolatility);  // 0.5: no move
  EXPECT_EQ(d.breaker.ttl_seconds, 10);
  EXPECT_EQ(d.breaker.strategy, CacheStrategy::kAdaptive);
}

TEST_F(WindowTest, BucketsAreRecycledAcrossTheWindowEdge) {
  for (int i = 0; i < 3; ++i) window_->Record(Status::kPanic, Ttl(60));
  clock_.SetNs(kT0 + kWindowNs - kSecond);  // the last second that sees kT0
  WindowDecision d = window_->Record(Status::kNormal, Ttl(60));
  EXPECT_EQ(d.counts.panic, 3u);
  EXPECT_EQ(d.counts.total, 4u);

  // One window after kT0: its bucket has left the window before anyone
  // reuses it, and reading alone does not count it.
  clock_.SetNs(kT0 + kWindowNs);
  WindowSnapshot s = window_->Snapshot();
  EXPECT_EQ(s.counts.panic, 0u);
  EXPECT_EQ(s.counts.total, 1u);

  // Recording reuses kT0's slot: the old counts are replaced, not added to.
  d = window_->Record(Status::kPanic, Ttl(60));
  EXPECT_EQ(d.counts.panic, 1u);
  EXPECT_EQ(d.counts.total, 2u);
  const uint64_t slot = static_cast<uint64_t>(kT0 / kSecond) % kWindowBuckets;
  const uint64_t packed =
      engine_->segment()->layout().window.buckets[slot].packed.load();
  EXPECT_EQ(packed & ((1u << 22) - 1), 1u) << "total of the reused bucket";
  EXPECT_EQ((packed >> 22) & ((1u << 22) - 1), 1u) << "its panic count";

  // Much later, everything has expired.
  clock_.SetNs(kT0 + 5 * kWindowNs + 17 * kSecond);
  d = window_->Record(Status::kNormal, Ttl(60));
  EXPECT_EQ(d.counts.panic, 0u);
  EXPECT_EQ(d.counts.total, 1u);
}

TEST_F(WindowTest, ASampleOlderThanItsReusedBucketIsDroppedAndCounted) {
  clock_.SetNs(kT0 + kWindowNs);
  window_->Record(Status::kNormal, Ttl(60));

  // Another process whose clock is a whole window behind.
  CachedClock behind(kT0);
  EngineOptions options;
  options.segment.name = segment_.name();
  options.clock = &behind;
  options.log_fd = -1;
  std::unique_ptr<Engine> engine = *Engine::Open(options);
  std::unique_ptr<RollingWindow> late =
      *RollingWindow::Open(*engine, WindowOptions{{}, -1});
  late->Record(Status::kPanic, Ttl(60));

  const WindowSnapshot s = window_->Snapshot();
  EXPECT_EQ(s.late_samples, 1u);
  EXPECT_EQ(s.counts.total, 1u);
  EXPECT_EQ(s.counts.panic, 0u);
}

TEST_F(WindowTest, ALaggingProcessSampleIsSeenFromTheNextBucketOn) {
  clock_.SetNs(kT0 + kSecond);
  window_->Record(Status::kNormal, Ttl(60));

  // A process whose clock is still in the previous second.
  CachedClock lagging(kT0);
  EngineOptions options;
  options.segment.name = segment_.name();
  options.clock = &lagging;
  options.log_fd = -1;
  std::unique_ptr<Engine> engine = *Engine::Open(options);
  std::unique_ptr<RollingWindow> other =
      *RollingWindow::Open(*engine, WindowOptions{{}, -1});
  other->Record(Status::kPanic, Ttl(60));

  // A full read sees it at once; Record re-reads past buckets per bucket.
  EXPECT_EQ(window_->Snapshot().counts.panic, 1u);
  clock_.SetNs(kT0 + 2 * kSecond);
  const WindowDecision d = window_->Record(Status::kNormal, Ttl(60));
  EXPECT_EQ(d.counts.panic, 1u);
  EXPECT_EQ(d.counts.total, 3u);
}

TEST_F(WindowTest, EachTransitionIsLoggedOnceAsJson) {
  window_->Record(Status::kPanic, Ttl(60));
  window_->Record(Status::kPanic, Ttl(60));
  window_->Record(Status::kPanic, Ttl(60));  // no transition: already open
  window_->FlushLogs();
  const std::vector<std::string> lines = log_.Lines();
  ASSERT_EQ(lines.size(), 2u);
  const std::string pid = "\"pid\":" + std::to_string(getpid());
  EXPECT_NE(lines[0].find("\"event\":\"BREAKER_MODE_CHANGE\""),
            std::string::npos)
      << lines[0];
  EXPECT_NE(lines[0].find("\"sequence\":1,\"from\":\"normal\",\"to\":\"high_"
                          "volatility\",\"panic_ratio\":1.000000"),
            std::string::npos)
      << lines[0];
  EXPECT_NE(lines[0].find(pid), std::string::npos) << lines[0];
  EXPECT_NE(lines[0].find("\"segment\":\"" + segment_.name() + "\""),
            std::string::npos)
      << lines[0];
  EXPECT_NE(lines[1].find("\"sequence\":2,\"from\":\"high_volatility\",\"to\":"
                          "\"circuit_open\""),
            std::string::npos)
      << lines[1];
  EXPECT_EQ(lines[1].front(), '{');
  EXPECT_EQ(lines[1].back(), '}');
}

TEST_F(WindowTest, TheBackgroundThreadWritesTheLogWithoutAFlush) {
  window_->Record(Status::kPanic, Ttl(60));
  ASSERT_TRUE(vix::testing::WaitFor([&] { return !log_.Lines().empty(); }))
      << "no BREAKER_MODE_CHANGE line within 10 s without FlushLogs()";
}

TEST_F(WindowTest, HistoryKeepsTheLastSixtyFourTransitions) {
  // Alternate whole-window panics and calms: each second's single sample
  // is the whole window, so every update moves one step.
  int64_t now = kT0;
  uint64_t transitions = 0;
  for (int i = 0; i < 100; ++i) {
    now += kWindowNs;  // the previous sample has left the window
    clock_.SetNs(now);
    const Status status = (i / 2) % 2 == 0 ? Status::kPanic : Status::kNormal;
    transitions += window_->Record(status, Ttl(60)).transitioned;
  }
  const WindowSnapshot s = window_->Snapshot();
  EXPECT_EQ(s.transitions, transitions);
  ASSERT_GT(transitions, kTransitionHistory);
  ASSERT_EQ(s.history.size(), kTransitionHistory);
  for (size_t i = 0; i < s.history.size(); ++i) {
    EXPECT_EQ(s.history[i].sequence, transitions - kTransitionHistory + 1 + i);
    if (i > 0) {
      EXPECT_EQ(s.history[i].from, s.history[i - 1].to);
    }
  }
}

TEST_F(WindowTest, ThreadsOfOneProcessCountExactly) {
  constexpr int kThreads = 4;
  constexpr int kEach = 2000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        window_->Record(t == 0 ? Status::kPanic : Status::kNormal, Ttl(60));
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  const WindowSnapshot s = window_->Snapshot();
  EXPECT_EQ(s.counts.total, uint64_t{kThreads * kEach});
  EXPECT_EQ(s.counts.panic, uint64_t{kEach});
  // The transitions form one chain, each logged once.
  window_->FlushLogs();
  EXPECT_EQ(log_.Lines().size(), s.transitions);
  for (size_t i = 1; i < s.history.size(); ++i) {
    EXPECT_EQ(s.history[i].from, s.history[i - 1].to);
  }
}

TEST_F(WindowTest, DecideMatchFeedsTheMatchStatusToBothPaths) {
  const Status markets[] = {Status::kNormal, Status::kPanic, Status::kWarning};
  const MatchDecision d =
      DecideMatch(*engine_, engine_->global_scope(), *window_, markets,
                  Ttl(120), Stakes::kHigh);
  EXPECT_EQ(d.match_status, Status::kPanic);
  EXPECT_EQ(d.window.breaker.mode, M::kHighVolatility);
  EXPECT_EQ(d.window.breaker.ttl_seconds, 5);
  EXPECT_EQ(d.quota.mode, Mode::kPanicFull);  // a panic starts an episode
  EXPECT_EQ(d.quota.tier, 1);
  EXPECT_TRUE(d.quota.first_writer);

  const Status calm[] = {Status::kNormal, Status::kWarning};
  const MatchDecision w = DecideMatch(*engine_, engine_->global_scope(),
                                      *window_, calm, Ttl(120), Stakes::kHigh);
  EXPECT_EQ(w.match_status, Status::kWarning);
  EXPECT_EQ(w.window.breaker.ttl_seconds, 10);  // high_volatility, warning
  EXPECT_EQ(w.quota.mode, Mode::kNormal);       // warning ends the episode
  EXPECT_EQ(w.quota.ttl_seconds, 120);
}

TEST(WindowOpenTest, RefusesBadThresholds) {
  ScopedSegmentName segment("window-bad");
  EngineOptions options;
  options.segment.name = segment.name();
  options.log_fd = -1;
  std::unique_ptr<Engine> engine = *Engine::Open(options);
  WindowOptions window_options;
  window_options.thresholds.open_exit = 0.9;
  absl::StatusOr<std::unique_ptr<RollingWindow>> window =
      RollingWindow::Open(*engine, window_options);
  ASSERT_FALSE(window.ok());
  EXPECT_TRUE(absl::IsInvalidArgument(window.status()));
  EXPECT_NE(window.status().message().find("open_exit = 0.9"),
            absl::string_view::npos)
      << window.status();
}

TEST(WindowOpenTest, RefusesAnEngineWithoutASegment) {
  EngineOptions options;
  options.segment.name = "bad/name";  // cannot be attached: fail-safe engine
  options.log_fd = -1;
  std::unique_ptr<Engine> engine = *Engine::Open(options);
  ASSERT_FALSE(engine->segment_status().ok());
  absl::StatusOr<std::unique_ptr<RollingWindow>> window =
      RollingWindow::Open(*engine, {});
  ASSERT_FALSE(window.ok());
  EXPECT_TRUE(absl::IsFailedPrecondition(window.status()));
  EXPECT_NE(window.status().message().find("shared segment"),
            absl::string_view::npos)
      << window.status();
}

}  // namespace
}  // namespace vix::shm
