// Worker processes: vixbench runs copies of itself (fork + exec of
// /proc/self/exe, so each worker maps the segment as any other process
// would) and talks to them one text line at a time over pipes.
#ifndef VIXBREAKER_TOOLS_VIXBENCH_CHILD_H_
#define VIXBREAKER_TOOLS_VIXBENCH_CHILD_H_

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace vix::bench {

class Child {
 public:
  // Starts this executable with `args` (after argv[0]).
  static absl::StatusOr<std::unique_ptr<Child>> StartSelf(
      const std::vector<std::string>& args);
  // Kills (SIGKILL) and reaps the worker if it still runs.
  ~Child();
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;

  absl::Status WriteLine(const std::string& line);
  // The next line (without '\n'); an error on EOF or timeout.
  absl::StatusOr<std::string> ReadLine(absl::Duration timeout);
  // Closes the worker's stdin (its signal to exit) and waits, bounded.
  absl::Status Finish(absl::Duration timeout);
  pid_t pid() const { return pid_; }

 private:
  Child(pid_t pid, int to_child, int from_child)
      : pid_(pid), to_child_(to_child), from_child_(from_child) {}
  pid_t pid_;
  int to_child_;
  int from_child_;
  std::string buffer_;
};

}  // namespace vix::bench

#endif  // VIXBREAKER_TOOLS_VIXBENCH_CHILD_H_
