#include "vixbreaker/inspect/terminal.h"

#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>

#include "vixbreaker/inspect/watch_view.h"

namespace vix::inspect {
namespace {

volatile std::sig_atomic_t g_stop = 0;
sigset_t g_wait_mask;  // the mask while waiting: stop signals unblocked

constexpr int kStopSignals[] = {SIGINT, SIGTERM, SIGHUP};
constexpr absl::string_view kEnterScreen = "\x1b[?1049h\x1b[?25l\x1b[H\x1b[2J";
constexpr absl::string_view kLeaveScreen = "\x1b[0m\x1b[?1049l\x1b[?25h";

extern "C" void OnStopSignal(int) { g_stop = 1; }

}  // namespace

void CatchStopSignals() {
  sigset_t stop_set;
  sigemptyset(&stop_set);
  for (int sig : kStopSignals) sigaddset(&stop_set, sig);
  sigset_t previous;
  sigprocmask(SIG_BLOCK, &stop_set, &previous);
  g_wait_mask = previous;
  for (int sig : kStopSignals) sigdelset(&g_wait_mask, sig);
  struct sigaction action {};
  action.sa_handler = OnStopSignal;
  sigemptyset(&action.sa_mask);
  for (int sig : kStopSignals) sigaction(sig, &action, nullptr);
}

bool StopRequested() { return g_stop != 0; }

Terminal::Terminal(int in_fd, int out_fd) : in_fd_(in_fd), out_fd_(out_fd) {
  if (isatty(in_fd_) && tcgetattr(in_fd_, &saved_) == 0) {
    input_is_terminal_ = true;
    struct termios raw = saved_;
    raw.c_lflag &= ~(ICANON | ECHO);
    raw.c_cc[VMIN] = 1;
    raw.c_cc[VTIME] = 0;
    tcsetattr(in_fd_, TCSANOW, &raw);
  }
  Write(kEnterScreen);
}

Terminal::~Terminal() {
  Write(kLeaveScreen);
  if (input_is_terminal_) tcsetattr(in_fd_, TCSANOW, &saved_);
}

void Terminal::Write(absl::string_view bytes) {
  while (!bytes.empty()) {
    ssize_t n = write(out_fd_, bytes.data(), bytes.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // the terminal is gone; nothing left to restore
    bytes.remove_prefix(static_cast<size_t>(n));
  }
}

ScreenSize Terminal::Size() const {
  struct winsize size {};
  if (ioctl(out_fd_, TIOCGWINSZ, &size) == 0 && size.ws_col > 0) {
    return {size.ws_col, size.ws_row};
  }
  return {200, 1000};  // not a terminal: print everything
}

void Terminal::Draw(absl::string_view frame) {
  const ScreenSize size = Size();
  Write(ToScreenUpdate(frame, size.columns, size.rows));
}

std::optional<char> Terminal::WaitForKey(absl::Duration timeout) {
  if (g_stop) return std::nullopt;
  struct pollfd fd {
    in_fd_, POLLIN, 0
  };
  const struct timespec wait = absl::ToTimespec(timeout);
  // Stop signals are unblocked only inside ppoll: none can slip in between
  // the check above and the wait.
  const int ready = ppoll(&fd, input_open_ ? 1 : 0, &wait, &g_wait_mask);
  if (ready <= 0 || !(fd.revents & (POLLIN | POLLHUP))) return std::nullopt;
  char key = 0;
  if (read(in_fd_, &key, 1) != 1) {
    input_open_ = false;  // end of input: keep refreshing until a signal
    return std::nullopt;
  }
  return key;
}

}  // namespace vix::inspect
