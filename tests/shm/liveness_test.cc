// ProcessLiveness (SPEC 4): dead only when the kernel says so; unknown,
// never dead, when /proc cannot be read.
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>

#include "gtest/gtest.h"
#include "vixbreaker/shm/process.h"

namespace vix::shm {
namespace {

constexpr pid_t kNoSuchPid = 99'999'999;  // beyond any pid_max

TEST(LivenessTest, ThisProcessIsAliveWithItsOwnStartTime) {
  EXPECT_EQ(ProcessLiveness(getpid(), 0), Liveness::kAlive);
  EXPECT_EQ(ProcessLiveness(getpid(), SelfStartTicks()), Liveness::kAlive);
  EXPECT_FALSE(ProcessGone(getpid(), SelfStartTicks()));
}

TEST(LivenessTest, AnotherStartTimeReadIsAnotherProcess) {
  EXPECT_EQ(ProcessLiveness(getpid(), SelfStartTicks() + 1), Liveness::kDead);
}

TEST(LivenessTest, NoSuchPidAndNoPidAreDead) {
  EXPECT_EQ(ProcessLiveness(kNoSuchPid, 0), Liveness::kDead);
  EXPECT_EQ(ProcessLiveness(0, 0), Liveness::kDead);
  EXPECT_EQ(ProcessLiveness(-1, 0), Liveness::kDead);
}

TEST(LivenessTest, AZombieIsDead) {
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) _exit(0);
  // Not reaped yet: a zombie once it has exited.
  siginfo_t info{};
  ASSERT_EQ(waitid(P_PID, child, &info, WEXITED | WNOWAIT), 0);
  EXPECT_EQ(ProcessLiveness(child, 0), Liveness::kDead);
  ASSERT_EQ(waitpid(child, nullptr, 0), child);
}

// In a child out of descriptors: the parent (alive) is unknown, a pid the
// kernel does not know is still dead. The exit code carries the verdicts.
TEST(LivenessTest, OutOfDescriptorsIsUnknownNeverDead) {
  const pid_t parent = getpid();
  const uint64_t parent_ticks = SelfStartTicks();
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    rlimit limit{16, 16};
    if (setrlimit(RLIMIT_NOFILE, &limit) != 0) _exit(10);
    while (open("/dev/null", O_RDONLY) >= 0) {
    }
    if (errno != EMFILE) _exit(11);
    int code = 0;
    if (ProcessLiveness(parent, parent_ticks) != Liveness::kUnknown) code |= 1;
    if (ProcessLiveness(parent, parent_ticks + 1) != Liveness::kUnknown) {
      code |= 2;  // a start time not read proves nothing
    }
    if (ProcessGone(parent, 0)) code |= 4;
    if (ProcessLiveness(kNoSuchPid, 0) != Liveness::kDead) code |= 8;
    _exit(code);
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0)
      << "bits: 1 alive parent not unknown, 2 unread start time judged, "
         "4 judged gone, 8 no-such-pid not dead, 10/11 setup failed";
}

TEST(ClockTest, MonotonicNeverGoesBackAndIsNotWallTime) {
  const int64_t a = MonotonicNowNs();
  const int64_t b = MonotonicNowNs();
  EXPECT_LE(a, b);
  EXPECT_GT(a, 0);
  // Seconds since boot, not since 1970.
  EXPECT_LT(a, RealtimeNowNs() / 2);
}

}  // namespace
}  // namespace vix::shm
