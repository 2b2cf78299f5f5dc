#include "vixbreaker/shm/process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>

namespace vix::shm {

namespace {

enum class StatRead { kOk, kMissing, kUnreadable };

// Reads the state (field 3) and start time (field 22) of /proc/PID/stat.
// open/read, not stdio: no allocation, and errno says why it failed.
StatRead ReadStat(pid_t pid, char* state, uint64_t* start_ticks) {
  char path[64];
  std::snprintf(path, sizeof(path), "/proc/%d/stat", static_cast<int>(pid));
  const int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return errno == ENOENT || errno == ESRCH ? StatRead::kMissing
                                             : StatRead::kUnreadable;
  }
  char buf[1024];
  ssize_t n;
  do {
    n = read(fd, buf, sizeof(buf) - 1);
  } while (n < 0 && errno == EINTR);
  // A process that exits while we read leaves an empty or failing read.
  const int read_errno = errno;
  close(fd);
  if (n <= 0) {
    return n == 0 || read_errno == ESRCH ? StatRead::kMissing
                                         : StatRead::kUnreadable;
  }
  buf[n] = '\0';
  // The command name (field 2) may contain spaces and ')': count fields
  // from the last ')'.
  const char* p = std::strrchr(buf, ')');
  if (p == nullptr) return StatRead::kUnreadable;
  unsigned long long ticks = 0;
  // Fields 3..21 are skipped with %*s; field 22 is the start time.
  if (std::sscanf(p + 1,
                  " %c %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s "
                  "%*s %*s %*s %*s %*s %llu",
                  state, &ticks) != 2) {
    return StatRead::kUnreadable;
  }
  *start_ticks = ticks;
  return StatRead::kOk;
}

// kill(pid, 0): ESRCH is the kernel saying the pid is gone; success or
// EPERM (another user's process) say it exists.
bool NoSuchPid(pid_t pid) { return kill(pid, 0) != 0 && errno == ESRCH; }

int64_t ClockNs(clockid_t clock) noexcept {
  timespec ts;
  clock_gettime(clock, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

}  // namespace

uint64_t ProcessStartTicks(pid_t pid) {
  char state = 0;
  uint64_t ticks = 0;
  return ReadStat(pid, &state, &ticks) == StatRead::kOk ? ticks : 0;
}

uint64_t SelfStartTicks() {
  // Cached per pid: a child of fork() must not stamp its parent's start
  // time on its slots (they would look dead and be reclaimed under it).
  static std::atomic<uint64_t> cached_pid{0};
  static std::atomic<uint64_t> cached_ticks{0};
  const uint64_t pid = static_cast<uint64_t>(getpid());
  if (cached_pid.load(std::memory_order_acquire) != pid) {
    const uint64_t ticks = ProcessStartTicks(getpid());
    if (ticks == 0) return 0;  // unreadable now: do not cache the failure
    cached_ticks.store(ticks, std::memory_order_relaxed);
    cached_pid.store(pid, std::memory_order_release);
  }
  return cached_ticks.load(std::memory_order_relaxed);
}

Liveness ProcessLiveness(pid_t pid, uint64_t start_ticks) {
  if (pid <= 0 || NoSuchPid(pid)) return Liveness::kDead;
  char state = 0;
  uint64_t actual = 0;
  switch (ReadStat(pid, &state, &actual)) {
    case StatRead::kOk:
      break;
    case StatRead::kMissing:
      // Exited since kill(2), or hidden from us (hidepid): ask again.
      return NoSuchPid(pid) ? Liveness::kDead : Liveness::kUnknown;
    case StatRead::kUnreadable:
      return Liveness::kUnknown;
  }
  // A zombie has finished: its slots and leases are free to take.
  if (state == 'Z' || state == 'X') return Liveness::kDead;
  if (start_ticks != 0 && actual != start_ticks) return Liveness::kDead;
  return Liveness::kAlive;
}

pid_t CurrentTid() { return static_cast<pid_t>(syscall(SYS_gettid)); }

int64_t RealtimeNowNs() noexcept { return ClockNs(CLOCK_REALTIME); }

int64_t MonotonicNowNs() noexcept { return ClockNs(CLOCK_MONOTONIC); }

int64_t MonotonicCoarseNowNs() noexcept {
  return ClockNs(CLOCK_MONOTONIC_COARSE);
}

}  // namespace vix::shm
