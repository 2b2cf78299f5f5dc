// Test-side helpers for driving vix_test_worker processes (worker_main.cc)
// and for reading the flat JSON lines that the worker, vixctl and the
// engine's log print.
#ifndef VIXBREAKER_TESTS_SUPPORT_WORKER_CLIENT_H_
#define VIXBREAKER_TESTS_SUPPORT_WORKER_CLIENT_H_

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "test_util.h"
#include "vixbreaker/shm/segment.h"

namespace vix::testing {

// One flat JSON object (no nested objects or arrays): each value is kept as
// text; strings are unquoted and unescaped.
class FlatJson {
 public:
  // Nullopt unless `text` is exactly one flat JSON object.
  static std::optional<FlatJson> Parse(const std::string& text);
  // {"error": message}, with text() == message: what a failed read returns.
  static FlatJson Problem(const std::string& message);

  bool Has(const std::string& key) const { return values_.count(key) != 0; }
  bool IsString(const std::string& key) const;
  bool IsNull(const std::string& key) const;
  // "" / 0 / false when the key is absent or of another type.
  std::string Str(const std::string& key) const;
  int64_t Int(const std::string& key) const;
  double Num(const std::string& key) const;
  bool Bool(const std::string& key) const;
  // The value as written (strings unquoted); "" when absent.
  std::string Text(const std::string& key) const;
  const std::string& text() const { return text_; }

 private:
  struct Value {
    bool quoted = false;
    std::string text;
  };
  std::string text_;
  std::map<std::string, Value> values_;
};

// A running vix_test_worker. Every command gets exactly one reply line.
class WorkerProcess {
 public:
  // `args` go after `--segment segment`, e.g. {"--log", path}.
  explicit WorkerProcess(const std::string& segment,
                         const std::vector<std::string>& args = {});

  pid_t pid() const { return child_.pid(); }
  // Sends one command without waiting for its reply.
  bool Send(const std::string& command);
  // The next reply. On EOF, timeout or a line that is not JSON, returns an
  // object whose "error" says so (tests assert on fields and print text()).
  FlatJson Next(absl::Duration timeout = absl::Seconds(30));
  // Send() then Next().
  FlatJson Call(const std::string& command,
                absl::Duration timeout = absl::Seconds(30));
  Child& child() { return child_; }

 private:
  Child child_;
};

// The test's own view of a segment: read-write (never creating it, so a
// test cannot hide a missing segment) or read-only.
absl::StatusOr<std::unique_ptr<shm::Segment>> OpenSegmentView(
    const std::string& name, bool writable = false);

// The complete lines of a file (empty if it cannot be read). A last line
// without its newline is left out: a live writer may be halfway through it
// (a write that straddles a page is visible to readers in parts).
std::vector<std::string> ReadLines(const std::string& path);

}  // namespace vix::testing

#endif  // VIXBREAKER_TESTS_SUPPORT_WORKER_CLIENT_H_
