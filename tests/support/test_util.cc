#include "test_util.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <system_error>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "vixbreaker/shm/segment.h"

extern char** environ;

namespace vix::testing {
namespace {

// This process's environment plus `extra` ("NAME=value" each).
std::vector<std::string> EnvironmentWith(
    const std::vector<std::string>& extra) {
  std::vector<std::string> env;
  for (char** e = environ; *e != nullptr; ++e) env.emplace_back(*e);
  env.insert(env.end(), extra.begin(), extra.end());
  return env;
}

// argv/envp for execve; valid while `strings` lives.
std::vector<char*> NullTerminated(const std::vector<std::string>& strings) {
  std::vector<char*> pointers;
  for (const std::string& s : strings) {
    pointers.push_back(const_cast<char*>(s.c_str()));
  }
  pointers.push_back(nullptr);
  return pointers;
}

}  // namespace

std::string UniqueSegmentName(const std::string& tag) {
  static std::atomic<int> counter{0};
  return absl::StrCat("vixtest-", getpid(), "-", counter.fetch_add(1), "-",
                      tag);
}

ScopedSegmentName::ScopedSegmentName(const std::string& tag)
    : name_(UniqueSegmentName(tag)) {
  // A test process killed earlier (a timeout) with this pid left its
  // segment behind; the name is this process's now.
  (void)shm::Segment::Destroy(name_);
}

ScopedSegmentName::~ScopedSegmentName() { (void)shm::Segment::Destroy(name_); }

TempDir::TempDir() {
  std::string pattern = "/tmp/vixtest-XXXXXX";
  if (mkdtemp(pattern.data()) == nullptr) std::abort();
  path_ = pattern;
}

TempDir::~TempDir() {
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

FullPipe::FullPipe() {
  int fds[2];
  if (pipe2(fds, O_NONBLOCK) != 0) return;
  read_fd_ = fds[0];
  write_fd_ = fds[1];
  fcntl(read_fd_, F_SETFD, FD_CLOEXEC);
  const std::string chunk(4096, 'x');
  while (write(write_fd_, chunk.data(), chunk.size()) > 0) {
  }
  while (write(write_fd_, "x", 1) > 0) {
  }
  fcntl(write_fd_, F_SETFL, fcntl(write_fd_, F_GETFL) & ~O_NONBLOCK);
}

FullPipe::~FullPipe() {
  close(read_fd_);
  close(write_fd_);
}

void FullPipe::Drain() {
  fcntl(read_fd_, F_SETFL, fcntl(read_fd_, F_GETFL) | O_NONBLOCK);
  char buf[4096];
  while (read(read_fd_, buf, sizeof(buf)) > 0) {
  }
}

LogFile::LogFile() : path_(dir_.path() + "/log.jsonl") {
  fd_ = open(path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  EXPECT_GE(fd_, 0) << "cannot create " << path_ << ": "
                    << std::strerror(errno);
}

LogFile::~LogFile() {
  if (fd_ >= 0) close(fd_);
}

std::vector<std::string> LogFile::Lines() const {
  std::vector<std::string> lines;
  std::ifstream in(path_);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) lines.push_back(line);
  }
  return lines;
}

int LogFile::Count(absl::string_view needle) const {
  int count = 0;
  for (const std::string& line : Lines()) {
    count += absl::StrContains(line, needle);
  }
  return count;
}

BaseTtl Ttl(int64_t seconds) {
  BaseTtl ttl;
  EXPECT_TRUE(BaseTtl::FromSeconds(seconds, &ttl)) << seconds;
  return ttl;
}

std::string FindProgram(const std::string& program) {
  const char* path = std::getenv("PATH");
  std::vector<std::string> dirs =
      absl::StrSplit(path != nullptr ? path : "", ':', absl::SkipEmpty());
  for (const char* dir : {"/usr/local/bin", "/usr/bin", "/usr/sbin"}) {
    dirs.push_back(dir);
  }
  for (const std::string& dir : dirs) {
    std::string candidate = absl::StrCat(dir, "/", program);
    if (access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return "";
}

bool WaitFor(const std::function<bool()>& condition, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (!condition()) {
    if (absl::Now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return true;
}

Child::Child(const std::vector<std::string>& argv,
             const std::vector<std::string>& extra_env) {
  int in_pipe[2], out_pipe[2];
  if (pipe2(in_pipe, O_CLOEXEC) != 0 || pipe2(out_pipe, O_CLOEXEC) != 0) {
    std::abort();
  }
  const std::vector<std::string> env_strings = EnvironmentWith(extra_env);
  std::vector<char*> args = NullTerminated(argv);
  std::vector<char*> env = NullTerminated(env_strings);
  pid_ = fork();
  if (pid_ == 0) {
    dup2(in_pipe[0], 0);
    dup2(out_pipe[1], 1);
    execve(args[0], args.data(), env.data());
    _exit(127);
  }
  close(in_pipe[0]);
  close(out_pipe[1]);
  stdin_fd_ = in_pipe[1];
  stdout_fd_ = out_pipe[0];
}

Child::~Child() {
  if (!reaped_ && pid_ > 0) {
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }
  if (stdin_fd_ >= 0) close(stdin_fd_);
  if (stdout_fd_ >= 0) close(stdout_fd_);
}

bool Child::Write(const std::string& data) {
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = write(stdin_fd_, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += static_cast<size_t>(n);
  }
  return true;
}

void Child::CloseStdin() {
  if (stdin_fd_ >= 0) close(stdin_fd_);
  stdin_fd_ = -1;
}

bool Child::ReadLine(std::string* line, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (true) {
    size_t nl = buffer_.find('\n');
    if (nl != std::string::npos) {
      *line = buffer_.substr(0, nl);
      buffer_.erase(0, nl + 1);
      return true;
    }
    const absl::Duration left = deadline - absl::Now();
    if (left <= absl::ZeroDuration()) return false;
    pollfd p{stdout_fd_, POLLIN, 0};
    int r = poll(&p, 1, static_cast<int>(absl::ToInt64Milliseconds(left)) + 1);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return false;
    char buf[4096];
    ssize_t n = read(stdout_fd_, buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    buffer_.append(buf, static_cast<size_t>(n));
  }
}

void Child::Signal(int sig) {
  if (!reaped_) kill(pid_, sig);
}

int Child::Wait(absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (true) {
    int status = 0;
    pid_t r = waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
      reaped_ = true;
      return status;
    }
    if (absl::Now() >= deadline) return -1;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

namespace {
void DrainInto(int fd, std::string* out) {
  char buf[4096];
  ssize_t n;
  while ((n = read(fd, buf, sizeof(buf))) > 0) out->append(buf, n);
}
}  // namespace

RunResult Run(const std::vector<std::string>& argv,
              const std::vector<std::string>& extra_env,
              absl::Duration timeout) {
  RunResult result;
  int out_pipe[2], err_pipe[2];
  if (pipe2(out_pipe, O_CLOEXEC) != 0 || pipe2(err_pipe, O_CLOEXEC) != 0) {
    return result;
  }
  const std::vector<std::string> env_strings = EnvironmentWith(extra_env);
  std::vector<char*> args = NullTerminated(argv);
  std::vector<char*> env = NullTerminated(env_strings);
  pid_t pid = fork();
  if (pid == 0) {
    int devnull = open("/dev/null", O_RDONLY);
    dup2(devnull, 0);
    dup2(out_pipe[1], 1);
    dup2(err_pipe[1], 2);
    execve(args[0], args.data(), env.data());
    _exit(127);
  }
  close(out_pipe[1]);
  close(err_pipe[1]);
  std::thread err_reader([&] { DrainInto(err_pipe[0], &result.err); });
  std::thread out_reader([&] { DrainInto(out_pipe[0], &result.out); });
  const absl::Time deadline = absl::Now() + timeout;
  int status = 0;
  while (waitpid(pid, &status, WNOHANG) == 0) {
    if (absl::Now() >= deadline) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  out_reader.join();
  err_reader.join();
  close(out_pipe[0]);
  close(err_pipe[0]);
  result.exit_code =
      WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return result;
}

}  // namespace vix::testing
