// What the engine tests in tests/shm share: an injected clock's epoch, an
// engine opened on a unique real segment, and the slots' counts.
#ifndef VIXBREAKER_TESTS_SHM_ENGINE_FIXTURE_H_
#define VIXBREAKER_TESTS_SHM_ENGINE_FIXTURE_H_

#include <cstdint>
#include <memory>
#include <string>

#include "gtest/gtest.h"
#include "test_util.h"
#include "vixbreaker/shm/engine.h"

namespace vix::shm::testing_fixture {

inline constexpr int64_t kSecond = 1'000'000'000;
inline constexpr int64_t kMinute = 60 * kSecond;
inline constexpr int64_t kHour = 60 * kMinute;
inline constexpr int64_t kT0 = 1'764'420'000 * kSecond;  // 2025-11-29T12:40Z

using testing::LogFile;
using testing::Ttl;

// Opens an engine on `segment`, logging to `log`; `clock` null for the
// engine's own (real) clock. Fails the test if the segment is unavailable.
inline std::unique_ptr<Engine> OpenTestEngine(
    const std::string& segment, const LogFile& log, CachedClock* clock,
    uint32_t scope_capacity = kDefaultScopeCapacity, Config config = {}) {
  EngineOptions options;
  options.segment.name = segment;
  options.segment.scope_capacity = scope_capacity;
  options.config = config;
  options.clock = clock;
  options.log_fd = log.fd();
  absl::StatusOr<std::unique_ptr<Engine>> engine = Engine::Open(options);
  EXPECT_TRUE(engine.ok()) << engine.status();
  if (!engine.ok()) return nullptr;
  EXPECT_TRUE((*engine)->segment_status().ok()) << (*engine)->segment_status();
  return *std::move(engine);
}

// An engine on its own segment and log, with the injected clock at kT0 or
// (real_clock) the engine's own. `engine` is null if opening failed.
struct EngineOnSegment {
  explicit EngineOnSegment(const std::string& tag, bool real_clock = false)
      : segment(tag),
        engine(OpenTestEngine(segment.name(), log,
                              real_clock ? nullptr : &clock)) {}
  testing::ScopedSegmentName segment;
  LogFile log;
  CachedClock clock{kT0};
  std::unique_ptr<Engine> engine;
};

// One slot's decision counters, summed over modes.
inline uint64_t DecisionsIn(const ProcessSlot& slot) {
  uint64_t sum = 0;
  for (const AtomicU64& d : slot.decisions) {
    sum += d.load(std::memory_order_relaxed);
  }
  return sum;
}

// Sum of every slot's decision counters (what an inspector's total reads).
inline uint64_t TotalDecisions(const SegmentLayout& layout) {
  uint64_t total = 0;
  for (const ProcessSlot& slot : layout.slots) total += DecisionsIn(slot);
  return total;
}

// Slots whose owner word is set (claimed, or being reclaimed).
inline int OwnedSlots(const SegmentLayout& layout) {
  int owned = 0;
  for (const ProcessSlot& slot : layout.slots) {
    owned += slot.owner.load(std::memory_order_relaxed) != 0;
  }
  return owned;
}

}  // namespace vix::shm::testing_fixture

#endif  // VIXBREAKER_TESTS_SHM_ENGINE_FIXTURE_H_
