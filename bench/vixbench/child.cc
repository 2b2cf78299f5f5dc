#include "child.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "absl/strings/str_cat.h"
#include "tsc.h"

namespace vix::bench {

absl::StatusOr<std::unique_ptr<Child>> Child::StartSelf(
    const std::vector<std::string>& args) {
  int in[2], out[2];
  if (pipe2(in, O_CLOEXEC) != 0 || pipe2(out, O_CLOEXEC) != 0) {
    return absl::InternalError(absl::StrCat("pipe: ", strerror(errno)));
  }
  std::vector<std::string> argv_storage = {"vixbench"};
  argv_storage.insert(argv_storage.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& a : argv_storage) argv.push_back(a.data());
  argv.push_back(nullptr);
  const pid_t pid = fork();
  if (pid < 0)
    return absl::InternalError(absl::StrCat("fork: ", strerror(errno)));
  if (pid == 0) {
    dup2(in[0], STDIN_FILENO);
    dup2(out[1], STDOUT_FILENO);
    execv("/proc/self/exe", argv.data());
    _exit(127);
  }
  close(in[0]);
  close(out[1]);
  return std::unique_ptr<Child>(new Child(pid, in[1], out[0]));
}

Child::~Child() {
  if (to_child_ >= 0) close(to_child_);
  close(from_child_);
  if (pid_ > 0) {
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }
}

absl::Status Child::WriteLine(const std::string& line) {
  const std::string data = line + "\n";
  if (write(to_child_, data.data(), data.size()) !=
      static_cast<ssize_t>(data.size())) {
    return absl::UnavailableError(absl::StrCat(
        "worker ", pid_, " does not read its stdin: ", strerror(errno)));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> Child::ReadLine(absl::Duration timeout) {
  const int64_t deadline = MonotonicNs() + absl::ToInt64Nanoseconds(timeout);
  for (;;) {
    const size_t eol = buffer_.find('\n');
    if (eol != std::string::npos) {
      std::string line = buffer_.substr(0, eol);
      buffer_.erase(0, eol + 1);
      return line;
    }
    const int64_t left_ms = (deadline - MonotonicNs()) / 1'000'000;
    pollfd p{from_child_, POLLIN, 0};
    if (left_ms <= 0 || poll(&p, 1, static_cast<int>(left_ms)) == 0) {
      return absl::DeadlineExceededError(
          absl::StrCat("worker ", pid_, " sent no line within ",
                       absl::FormatDuration(timeout)));
    }
    char chunk[4096];
    const ssize_t n = read(from_child_, chunk, sizeof(chunk));
    if (n <= 0) {
      return absl::UnavailableError(
          absl::StrCat("worker ", pid_, " exited before answering"));
    }
    buffer_.append(chunk, static_cast<size_t>(n));
  }
}

absl::Status Child::Finish(absl::Duration timeout) {
  close(to_child_);
  to_child_ = -1;
  const int64_t deadline = MonotonicNs() + absl::ToInt64Nanoseconds(timeout);
  while (MonotonicNs() < deadline) {
    int status;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
        return absl::OkStatus();
      return absl::InternalError("worker failed; see its stderr");
    }
    usleep(1000);
  }
  return absl::DeadlineExceededError(absl::StrCat(
      "worker ", pid_, " did not exit within ", absl::FormatDuration(timeout)));
}

}  // namespace vix::bench
