#include "idle.h"

#include <dirent.h>
#include <time.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "child.h"
#include "decide_loop.h"
#include "stats.h"
#include "vixbreaker/shm/segment.h"

namespace vix::bench {
namespace {

bool ReadSchedstat(const std::string& dir, ThreadTotals* t) {
  std::ifstream in(dir + "/schedstat");
  uint64_t run_ns = 0, wait_ns = 0, slices = 0;
  if (!(in >> run_ns >> wait_ns >> slices)) return false;
  t->run_ns += run_ns;
  t->timeslices += slices;
  return true;
}

bool ReadSwitches(const std::string& dir, ThreadTotals* t) {
  std::ifstream in(dir + "/status");
  std::string line;
  int found = 0;
  while (std::getline(in, line)) {
    uint64_t n = 0;
    if (std::sscanf(line.c_str(), "voluntary_ctxt_switches: %lu", &n) == 1) {
      t->voluntary_switches += n;
      ++found;
    } else if (std::sscanf(line.c_str(), "nonvoluntary_ctxt_switches: %lu",
                           &n) == 1) {
      t->involuntary_switches += n;
      ++found;
    }
  }
  return found == 2;
}

int64_t MonotonicNs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

// One window: the idle process's totals before and after `window_ms`.
struct Window {
  double wakeups_per_s = 0;
  double switches_per_s = 0;  // voluntary + involuntary: a cross-check
  double cpu_pct = 0;
  int threads = 0;
};

absl::StatusOr<Window> MeasureWindow(pid_t pid, double window_ms) {
  const std::optional<ThreadTotals> before = ReadThreadTotals(pid);
  const int64_t t0 = MonotonicNs();
  // The window itself: the idle process is measured over wall time.
  std::this_thread::sleep_for(
      std::chrono::microseconds(static_cast<int64_t>(window_ms * 1e3)));
  const std::optional<ThreadTotals> after = ReadThreadTotals(pid);
  const int64_t t1 = MonotonicNs();
  if (!before || !after) {
    return absl::UnavailableError(
        absl::StrCat("cannot read /proc/", pid, "/task/*/schedstat"));
  }
  const double seconds = static_cast<double>(t1 - t0) / 1e9;
  auto per_s = [&](uint64_t ThreadTotals::*field) {
    return static_cast<double>((*after).*field - (*before).*field) / seconds;
  };
  Window w;
  w.wakeups_per_s = per_s(&ThreadTotals::timeslices);
  w.switches_per_s = per_s(&ThreadTotals::voluntary_switches) +
                     per_s(&ThreadTotals::involuntary_switches);
  w.cpu_pct = 100.0 * per_s(&ThreadTotals::run_ns) / 1e9;
  w.threads = after->threads;
  return w;
}

}  // namespace

std::optional<ThreadTotals> ReadThreadTotals(pid_t pid) {
  const std::string tasks = absl::StrCat("/proc/", pid, "/task");
  DIR* dir = opendir(tasks.c_str());
  if (dir == nullptr) return std::nullopt;
  ThreadTotals totals;
  bool ok = true;
  while (dirent* entry = readdir(dir)) {
    if (entry->d_name[0] == '.') continue;
    const std::string task = absl::StrCat(tasks, "/", entry->d_name);
    ok = ok && ReadSchedstat(task, &totals) && ReadSwitches(task, &totals);
    ++totals.threads;
  }
  closedir(dir);
  if (!ok || totals.threads == 0) return std::nullopt;
  return totals;
}

IdleCost MeasureIdleEngine(const Settings& settings) {
  IdleCost cost;
  const std::string segment = BenchSegmentName("idle");
  absl::StatusOr<std::unique_ptr<Child>> child = Child::StartSelf(
      {"--worker", "idle", "--segment", segment, "--duration-ms", "0"});
  if (!child.ok()) {
    cost.note = child.status().ToString();
    return cost;
  }
  absl::StatusOr<std::string> ready = (*child)->ReadLine(absl::Seconds(20));
  if (!ready.ok() || *ready != "ready") {
    cost.note = absl::StrCat("idle worker did not start: ",
                             ready.ok() ? *ready : ready.status().ToString());
    return cost;
  }
  const double window_ms = std::max(100.0, 1000 * settings.duration_scale);
  // Let the open settle (first reclaim pass, thread start-up).
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  std::vector<double> switches;
  for (int r = 0; r < settings.repetitions; ++r) {
    absl::StatusOr<Window> w = MeasureWindow((*child)->pid(), window_ms);
    if (!w.ok()) {
      cost.note = w.status().ToString();
      return cost;
    }
    cost.wakeups_by_repetition.push_back(w->wakeups_per_s);
    cost.cpu_pct_by_repetition.push_back(w->cpu_pct);
    switches.push_back(w->switches_per_s);
    cost.threads = w->threads;
  }
  absl::Status finished = (*child)->Finish(absl::Seconds(10));
  (void)shm::Segment::Destroy(segment);
  if (!finished.ok()) {
    cost.note = finished.ToString();
    return cost;
  }
  cost.wakeups_per_s = Median(cost.wakeups_by_repetition);
  cost.cpu_pct = Median(cost.cpu_pct_by_repetition);
  cost.note = absl::StrFormat(
      "a worker process opens an engine (own segment, logging off), makes "
      "no decision and blocks on stdin; over %d windows of %.0f ms (after "
      "200 ms of settling) vixbench sums /proc/PID/task/*/schedstat over its "
      "%d threads: wake-ups = timeslices run, CPU = run time / window, "
      "medians over windows (context switches from task/*/status: %.4g/s)",
      settings.repetitions, window_ms, cost.threads, Median(switches));
  return cost;
}

}  // namespace vix::bench
