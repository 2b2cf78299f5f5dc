#include "vixbreaker/shm/process.h"

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

// Reads the state (field 3) and start time (field 22) of /proc/PID/stat.
bool ReadStat(pid_t pid, char* state, uint64_t* start_ticks) {
  char path[64];
  std::snprintf(path, sizeof(path), "/proc/%d/stat", static_cast<int>(pid));
  FILE* f = std::fopen(path, "re");
  if (f == nullptr) return false;
  char buf[1024];
  size_t n = std::fread(buf, 1, sizeof(buf) - 1, f);
  std::fclose(f);
  buf[n] = '\0';
  // The command name (field 2) may contain spaces and ')': count fields
  // from the last ')'.
  const char* p = std::strrchr(buf, ')');
  if (p == nullptr) return false;
  unsigned long long ticks = 0;
  // Fields 3..21 are skipped with %*s; field 22 is the start time.
  if (std::sscanf(p + 1,
                  " %c %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s "
                  "%*s %*s %*s %*s %*s %llu",
                  state, &ticks) != 2) {
    return false;
  }
  *start_ticks = ticks;
  return true;
}

}  // namespace

uint64_t ProcessStartTicks(pid_t pid) {
  char state = 0;
  uint64_t ticks = 0;
  return ReadStat(pid, &state, &ticks) ? ticks : 0;
}

uint64_t SelfStartTicks() {
  // Cached per pid: a child of fork() must not stamp its parent's start
  // time on its slots (they would look dead and be reclaimed under it).
  static std::atomic<uint64_t> cached_pid{0};
  static std::atomic<uint64_t> cached_ticks{0};
  const uint64_t pid = static_cast<uint64_t>(getpid());
  if (cached_pid.load(std::memory_order_acquire) != pid) {
    cached_ticks.store(ProcessStartTicks(getpid()), std::memory_order_relaxed);
    cached_pid.store(pid, std::memory_order_release);
  }
  return cached_ticks.load(std::memory_order_relaxed);
}

bool ProcessAlive(pid_t pid, uint64_t start_ticks) {
  if (pid <= 0) return false;
  if (kill(pid, 0) != 0 && errno == ESRCH) return false;
  char state = 0;
  uint64_t actual = 0;
  if (!ReadStat(pid, &state, &actual)) return false;
  // A zombie has finished: its slots and leases are free to take.
  if (state == 'Z' || state == 'X') return false;
  return start_ticks == 0 || actual == start_ticks;
}

pid_t CurrentTid() { return static_cast<pid_t>(syscall(SYS_gettid)); }

int64_t RealtimeNowNs() {
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

}  // namespace vix::shm
