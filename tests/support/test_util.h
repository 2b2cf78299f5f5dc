// Helpers shared by every test binary: unique segment names, temporary
// directories, bounded waits with clear messages, child processes
// (fork/exec), and where the programs tests run are (test_paths.h).
#ifndef VIXBREAKER_TESTS_SUPPORT_TEST_UTIL_H_
#define VIXBREAKER_TESTS_SUPPORT_TEST_UTIL_H_

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "test_paths.h"  // IWYU pragma: export
#include "vixbreaker/core/types.h"

namespace vix::testing {

// "vixtest-<pid>-<n>-<tag>": unique per call, so tests run in parallel.
std::string UniqueSegmentName(const std::string& tag);

// Destroys the named segment when it goes out of scope (ignores absence).
class ScopedSegmentName {
 public:
  explicit ScopedSegmentName(const std::string& tag);
  ~ScopedSegmentName();
  const std::string& name() const { return name_; }

 private:
  std::string name_;
};

// A fresh directory under /tmp, removed (with its files) on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// A file for the code under test to log to (pass fd() as a log_fd), read
// back whole at any time.
class LogFile {
 public:
  LogFile();
  ~LogFile();
  LogFile(const LogFile&) = delete;
  LogFile& operator=(const LogFile&) = delete;
  int fd() const { return fd_; }
  const std::string& path() const { return path_; }
  // Every non-empty line written so far.
  std::vector<std::string> Lines() const;
  // How many lines contain `needle`.
  int Count(absl::string_view needle) const;

 private:
  TempDir dir_;
  std::string path_;
  int fd_ = -1;
};

// A pipe filled to capacity whose read end is held and never read: a log
// reader that stopped reading. The write end is an ordinary blocking pipe
// (as a shell gives it) and is inherited by children (no O_CLOEXEC).
class FullPipe {
 public:
  FullPipe();
  ~FullPipe();
  FullPipe(const FullPipe&) = delete;
  FullPipe& operator=(const FullPipe&) = delete;
  int write_fd() const { return write_fd_; }
  // Reads what is buffered, so a writer blocked on the pipe wakes; for a
  // test that must not hang when the code under test blocks.
  void Drain();

 private:
  int read_fd_ = -1;
  int write_fd_ = -1;
};

// A BaseTtl of `seconds`; fails the test if it is out of range.
BaseTtl Ttl(int64_t seconds);

// The full path of `program` found on PATH (then /usr/local/bin, /usr/bin,
// /usr/sbin), or "" if there is none.
std::string FindProgram(const std::string& program);
inline bool OnPath(const std::string& program) {
  return !FindProgram(program).empty();
}

// Polls `condition` until it holds or `timeout` passes; returns whether it
// held. Use as: ASSERT_TRUE(WaitFor(...)) << "what we waited for".
bool WaitFor(const std::function<bool()>& condition,
             absl::Duration timeout = absl::Seconds(10));

// A child process started with fork/exec, its stdout (and optionally stdin)
// connected to pipes. Killed (SIGKILL) and reaped on destruction if still
// running.
class Child {
 public:
  // argv[0] is the path of the program.
  explicit Child(const std::vector<std::string>& argv,
                 const std::vector<std::string>& extra_env = {});
  ~Child();
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;

  pid_t pid() const { return pid_; }
  // Writes to the child's stdin.
  bool Write(const std::string& data);
  void CloseStdin();
  // Reads one line from the child's stdout (without '\n'); false on EOF or
  // timeout.
  bool ReadLine(std::string* line, absl::Duration timeout = absl::Seconds(10));
  // Sends a signal.
  void Signal(int sig);
  // Waits for exit (bounded); returns the wait status, or -1 on timeout.
  int Wait(absl::Duration timeout = absl::Seconds(30));

 private:
  pid_t pid_ = -1;
  int stdin_fd_ = -1;
  int stdout_fd_ = -1;
  std::string buffer_;
  bool reaped_ = false;
};

// Runs a program to completion; returns exit code (or 128+signal) and
// captures stdout/stderr.
struct RunResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};
RunResult Run(const std::vector<std::string>& argv,
              const std::vector<std::string>& extra_env = {},
              absl::Duration timeout = absl::Seconds(60));

}  // namespace vix::testing

#endif  // VIXBREAKER_TESTS_SUPPORT_TEST_UTIL_H_
