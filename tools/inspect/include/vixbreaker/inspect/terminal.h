// The terminal of a full-screen view (`vixctl watch`): entered once,
// restored on every way out.
#ifndef VIXBREAKER_INSPECT_TERMINAL_H_
#define VIXBREAKER_INSPECT_TERMINAL_H_

#include <termios.h>

#include <optional>
#include <string>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace vix::inspect {

// Blocks SIGINT, SIGTERM and SIGHUP and makes them set a flag instead, so a
// view can leave through its normal path (restoring the terminal). They are
// delivered only while WaitForKey waits, which then returns at once.
void CatchStopSignals();
bool StopRequested();

// A terminal's size in characters.
struct ScreenSize {
  int columns = 80;
  int rows = 24;
};

class Terminal {
 public:
  // Switches stdout to the alternate screen and hides the cursor; when stdin
  // is a terminal, turns off echo and line buffering (Ctrl-C still
  // signals).
  Terminal(int in_fd, int out_fd);
  // Restores the saved terminal modes, shows the cursor, leaves the
  // alternate screen.
  ~Terminal();
  Terminal(const Terminal&) = delete;
  Terminal& operator=(const Terminal&) = delete;

  // The output's size now (200x1000 when it is not a terminal).
  ScreenSize Size() const;

  // Draws `frame` over the previous one (see ToScreenUpdate).
  void Draw(absl::string_view frame);

  // Waits up to `timeout` for a key press or a stop signal; returns the key,
  // or nullopt on timeout, signal or end of input.
  std::optional<char> WaitForKey(absl::Duration timeout);

 private:
  void Write(absl::string_view bytes);

  int in_fd_;
  int out_fd_;
  bool input_is_terminal_ = false;
  bool input_open_ = true;
  struct termios saved_ {};
};

}  // namespace vix::inspect

#endif  // VIXBREAKER_INSPECT_TERMINAL_H_
