// The engine's log events (SPEC 8, 9): each kind is one JSON line with the
// fields every line has; a full scope table names the scope that did not
// fit; an event the log could not take is counted once, in the segment,
// and that count is the one vixctl shows.
#include "vixbreaker/shm/event_log.h"

#include <fcntl.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "engine_fixture.h"
#include "gtest/gtest.h"
#include "test_paths.h"
#include "test_util.h"
#include "worker_client.h"

namespace vix::shm {
namespace {

using namespace testing_fixture;  // NOLINT: the fixture's constants
using testing::FlatJson;

constexpr EventKind kKinds[] = {EventKind::kPanicTimestampInitialized,
                                EventKind::kPanicTimestampCleared,
                                EventKind::kTtlStateChange,
                                EventKind::kNegativePanicDuration,
                                EventKind::kPanicWithoutReliableTimestamp,
                                EventKind::kForcedStart,
                                EventKind::kScopeTableFull,
                                EventKind::kSlotTableFull,
                                EventKind::kPanicTimestampAdopted};

TEST(EventLogTest, EveryKindIsOneFlatJsonLineWithTheCommonFields) {
  for (EventKind kind : kKinds) {
    Event e{kind};
    e.at_ns = kT0;
    e.start_ns = kT0 - kMinute;
    e.to_tier = 1;
    const std::string line = EventLogLine(e, "seg", "ucl:final", 77);
    std::optional<FlatJson> json = FlatJson::Parse(line);
    ASSERT_TRUE(json.has_value()) << line;
    EXPECT_EQ(json->Str("ts"), "2025-11-29T12:40:00.000000Z") << line;
    EXPECT_EQ(json->Str("event"), EventName(kind)) << line;
    EXPECT_EQ(json->Str("segment"), "seg") << line;
    EXPECT_EQ(json->Str("scope"), "ucl:final") << line;
    EXPECT_EQ(json->Int("pid"), 77) << line;
  }
}

TEST(EventLogTest, AnEventNamesItsScopeByEntryUnlessItCarriesAName) {
  Event by_index{EventKind::kPanicTimestampInitialized};
  EXPECT_EQ(EventScopeName(by_index, nullptr), "global");
  Event named{EventKind::kScopeTableFull};
  named.SetScopeName(std::string(kScopeNameMax + 5, 'n'));
  EXPECT_EQ(EventScopeName(named, nullptr), std::string(kScopeNameMax, 'n'))
      << "cut to the longest scope name";
}

// A table of kMinScopeCapacity entries: global and one named scope.
std::unique_ptr<Engine> FullTableEngine(const testing::ScopedSegmentName& s,
                                        int log_fd) {
  EngineOptions options;
  options.segment.name = s.name();
  options.segment.scope_capacity = kMinScopeCapacity;
  options.log_fd = log_fd;
  absl::StatusOr<std::unique_ptr<Engine>> engine = Engine::Open(options);
  EXPECT_TRUE(engine.ok()) << engine.status();
  if (!engine.ok()) return nullptr;
  EXPECT_TRUE((*engine)->FindOrCreateScope("the-only-one").ok());
  return *std::move(engine);
}

TEST(EventLogTest, AFullScopeTableNamesTheScopeThatDidNotFit) {
  testing::ScopedSegmentName segment("table-full-log");
  LogFile log;
  std::unique_ptr<Engine> engine = FullTableEngine(segment, log.fd());
  ASSERT_NE(engine, nullptr);
  absl::StatusOr<ScopeHandle> full = engine->FindOrCreateScope("ucl:final");
  ASSERT_TRUE(absl::IsResourceExhausted(full.status())) << full.status();
  engine->FlushLogs();
  std::vector<std::string> lines;
  for (const std::string& line : log.Lines()) {
    if (absl::StrContains(line, "SCOPE_TABLE_FULL")) lines.push_back(line);
  }
  ASSERT_EQ(lines.size(), 1u) << absl::StrJoin(log.Lines(), "\n");
  std::optional<FlatJson> json = FlatJson::Parse(lines[0]);
  ASSERT_TRUE(json.has_value()) << lines[0];
  EXPECT_EQ(json->Str("scope"), "ucl:final") << lines[0];
}

// A pipe nobody reads until the engine is gone: the queue fills, then the
// pipe; every event is either a line in the pipe or one count.
TEST(EventLogTest, EveryEventIsWrittenOrCountedOnceAndVixctlShowsTheCount) {
  testing::ScopedSegmentName segment("dropped-count");
  int fds[2];
  ASSERT_EQ(pipe2(fds, O_CLOEXEC | O_NONBLOCK), 0);
  constexpr int kEvents = 3 * 1024;  // three queues' worth
  {
    std::unique_ptr<Engine> engine = FullTableEngine(segment, fds[1]);
    ASSERT_NE(engine, nullptr);
    for (int i = 0; i < kEvents; ++i) {
      ASSERT_FALSE(engine->FindOrCreateScope(absl::StrCat("s", i)).ok());
    }
  }
  close(fds[1]);
  std::string written;
  char buf[65536];
  for (ssize_t n; (n = read(fds[0], buf, sizeof buf)) > 0;) {
    written.append(buf, static_cast<size_t>(n));
  }
  close(fds[0]);
  const std::vector<std::string> lines =
      absl::StrSplit(written, '\n', absl::SkipEmpty());
  for (const std::string& line : lines) {
    ASSERT_TRUE(FlatJson::Parse(line).has_value()) << "torn line: " << line;
  }
  absl::StatusOr<std::unique_ptr<Segment>> view =
      testing::OpenSegmentView(segment.name());
  ASSERT_TRUE(view.ok()) << view.status();
  const uint64_t dropped = (*view)->layout().counters.log_events_dropped.load();
  EXPECT_GT(dropped, 0u) << "the pipe took every line: nothing was tested";
  EXPECT_EQ(lines.size() + dropped, static_cast<uint64_t>(kEvents))
      << lines.size() << " lines written, " << dropped << " counted dropped";

  testing::RunResult status = testing::Run(
      {testing::kVixctl, "status", "--json", "--segment", segment.name()});
  ASSERT_EQ(status.exit_code, 0) << status.err;
  EXPECT_TRUE(absl::StrContains(
      status.out, absl::StrCat("\"log_events_dropped\":", dropped)))
      << status.out;
}

}  // namespace
}  // namespace vix::shm
