// fork() after Engine::Open, as gunicorn --preload and multiprocessing's
// fork do (SPEC 15): children decide with the inherited engine, no re-open,
// on their own slots and clock; the parent's slot is never touched.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <memory>
#include <thread>
#include <vector>

#include "absl/time/clock.h"
#include "engine_fixture.h"
#include "gtest/gtest.h"
#include "test_util.h"
#include "vixbreaker/shm/engine.h"
#include "vixbreaker/shm/process.h"
#include "worker_client.h"

namespace vix::shm {
namespace {

constexpr int kParentBefore = 1000;
constexpr int kParentAfter = 500;
constexpr int kChildren = 3;
constexpr int kChildMain = 1000;
constexpr int kChildThread = 700;

// What a child reports through its exit code.
enum ChildResult {
  kChildOk = 0,
  kClockFrozen = 10,
  kNoOwnSlot = 11,
  kParentSlotTouched = 12,
  kParentSlotReleased = 13,
};

uint64_t Token(pid_t pid, pid_t tid) {
  return static_cast<uint64_t>(pid) << 32 | static_cast<uint32_t>(tid);
}

using testing_fixture::DecisionsIn;
using testing_fixture::TotalDecisions;
using testing_fixture::Ttl;

void DecideN(Engine& engine, int n, Status status) {
  for (int i = 0; i < n; ++i) {
    engine.Decide(engine.global_scope(), status, Ttl(60), Stakes::kHigh);
  }
}

// The child's whole life: decide from two threads with the inherited
// engine, check its clock and slots, close the engine, exit.
// `layout` is the test's own view, which outlives the engine.
int ChildMain(std::unique_ptr<Engine> engine, const SegmentLayout& layout,
              uint32_t parent_slot, uint64_t parent_token,
              uint64_t parent_count) {
  const int64_t clock_at_fork = engine->clock().NowNs();
  DecideN(*engine, kChildMain, Status::kPanic);
  std::thread worker([&] { DecideN(*engine, kChildThread, Status::kNormal); });
  worker.join();
  // The cached clock must move in the child (its own background work).
  const absl::Time deadline = absl::Now() + absl::Seconds(5);
  while (engine->clock().NowNs() < clock_at_fork + 50'000'000) {
    if (absl::Now() > deadline) return kClockFrozen;
    DecideN(*engine, 0, Status::kPanic);
    absl::SleepFor(absl::Milliseconds(1));
  }
  bool own_slot = false;
  for (const ProcessSlot& slot : layout.slots) {
    own_slot |= slot.owner.load() == Token(getpid(), CurrentTid());
  }
  if (!own_slot) return kNoOwnSlot;
  if (DecisionsIn(layout.slots[parent_slot]) != parent_count) {
    return kParentSlotTouched;
  }
  engine.reset();  // returns the child's slots, and only those
  if (layout.slots[parent_slot].owner.load() != parent_token) {
    return kParentSlotReleased;
  }
  return kChildOk;
}

// Children not reaped yet, killed and reaped however the test ends: a hung
// child would keep ctest's output pipe open until its timeout. Only pids
// not yet reaped, so a reused pid is never signalled.
struct UnreapedChildren {
  ~UnreapedChildren() {
    for (pid_t pid : pids) kill(pid, SIGKILL);
    for (pid_t pid : pids) waitpid(pid, nullptr, 0);
  }
  std::vector<pid_t> pids;
};

TEST(ForkTest, ChildrenOfAnOpenEngineDecideOnTheirOwnSlots) {
#if defined(__SANITIZE_THREAD__)
  // GCC 12's libtsan keeps the parent's threads registered in the child, so
  // the child's background thread (same pthread_t as the parent's) dies
  // with "dup thread with used id", even with die_after_fork=0.
  GTEST_SKIP() << "ThreadSanitizer cannot run a thread started in the child "
                  "of a multi-threaded fork; this test runs under Release";
#elif defined(__SANITIZE_ADDRESS__)
  // GCC 12's libasan: threads started in the child of a fork taken while
  // the parent had a second thread can block forever in the allocator
  // (SizeClassAllocator64::GetFromAllocator, from pthread_getattr_np at
  // thread start; seen in gdb in a CI run). The same happens with no
  // vixbreaker code: tests/shm/asan_fork_threads_repro.cc (a parent
  // thread idle on a condition variable, four children starting two
  // threads each) hangs 2 to 5 runs in 40; with the parent single-threaded
  // at fork, 0 in 60. Parking the engine's thread across fork did not
  // help, so it is the runtime, not the engine.
  GTEST_SKIP() << "AddressSanitizer's allocator can hang threads started in "
                  "the child of a multi-threaded fork; this test runs under "
                  "Release";
#endif
  testing::ScopedSegmentName segment("fork");
  EngineOptions options;
  options.segment.name = segment.name();
  options.log_fd = -1;
  absl::StatusOr<std::unique_ptr<Engine>> opened = Engine::Open(options);
  ASSERT_TRUE(opened.ok()) << opened.status();
  std::unique_ptr<Engine> engine = *std::move(opened);
  ASSERT_TRUE(engine->segment_status().ok()) << engine->segment_status();
  absl::StatusOr<std::unique_ptr<Segment>> view =
      testing::OpenSegmentView(segment.name());
  ASSERT_TRUE(view.ok()) << view.status();
  const SegmentLayout& layout = (*view)->layout();

  DecideN(*engine, kParentBefore, Status::kPanic);
  const uint64_t parent_token = Token(getpid(), CurrentTid());
  int parent_slot = -1;
  for (uint32_t i = 0; i < kSlotCapacity; ++i) {
    if (layout.slots[i].owner.load() == parent_token) parent_slot = i;
  }
  ASSERT_GE(parent_slot, 0) << "the parent thread claimed no slot";
  ASSERT_EQ(DecisionsIn(layout.slots[parent_slot]), uint64_t{kParentBefore});

  UnreapedChildren children;
  for (int c = 0; c < kChildren; ++c) {
    const pid_t pid = fork();
    ASSERT_GE(pid, 0) << "fork failed";
    if (pid == 0) {
      // The child's copy of the engine (no re-open); _exit skips gtest.
      _exit(ChildMain(std::move(engine), layout, parent_slot, parent_token,
                      kParentBefore));
    }
    children.pids.push_back(pid);
  }
  while (!children.pids.empty()) {
    const pid_t pid = children.pids.front();
    int status = 0;
    const absl::Time deadline = absl::Now() + absl::Seconds(30);
    pid_t done = 0;
    while ((done = waitpid(pid, &status, WNOHANG)) == 0 &&
           absl::Now() < deadline) {
      absl::SleepFor(absl::Milliseconds(5));
    }
    ASSERT_EQ(done, pid) << "child " << pid << " did not exit in 30 s";
    children.pids.erase(children.pids.begin());
    ASSERT_TRUE(WIFEXITED(status))
        << "child " << pid << " died, status " << status;
    EXPECT_EQ(WEXITSTATUS(status), kChildOk)
        << "child " << pid << " (10 clock frozen, 11 no own slot, 12 wrote "
        << "the parent's slot, 13 released the parent's slot)";
  }

  EXPECT_EQ(DecisionsIn(layout.slots[parent_slot]), uint64_t{kParentBefore})
      << "children never write the parent's slot";
  DecideN(*engine, kParentAfter, Status::kPanic);
  EXPECT_EQ(layout.slots[parent_slot].owner.load(), parent_token)
      << "the parent's slot is still the parent's";
  EXPECT_EQ(DecisionsIn(layout.slots[parent_slot]),
            uint64_t{kParentBefore + kParentAfter});
  EXPECT_EQ(TotalDecisions(layout),
            uint64_t{kParentBefore + kParentAfter +
                     kChildren * (kChildMain + kChildThread)})
      << "every decision of parent and children is counted";
}

}  // namespace
}  // namespace vix::shm
