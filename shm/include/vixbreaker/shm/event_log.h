// Log-on-change events (SPEC 8) and the queue that keeps formatting and
// writing off the deciding thread.
//
// A deciding thread that wins the CAS of a transition pushes one fixed-size
// Event into a bounded lock-free queue (no allocation, no system call); the
// engine's background thread drains it and writes JSON lines. A full queue
// drops the event and never blocks; the engine counts the drop in the
// segment (SegmentCounters::log_events_dropped), the one count shown.
#ifndef VIXBREAKER_SHM_EVENT_LOG_H_
#define VIXBREAKER_SHM_EVENT_LOG_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "absl/strings/string_view.h"
#include "vixbreaker/shm/layout.h"

namespace vix::shm {

enum class EventKind : uint8_t {
  kPanicTimestampInitialized,      // first writer started an episode
  kPanicTimestampCleared,          // an episode ended (value: EndCause)
  kTtlStateChange,                 // a stakes' tier/mode changed
  kNegativePanicDuration,          // episode start in the future (skew)
  kPanicWithoutReliableTimestamp,  // fail-safe: no segment / strict mirror
  kForcedStart,                    // admin forced a start
  kScopeTableFull,
  kSlotTableFull,
  kPanicTimestampAdopted,  // the mirror replaced a start with Redis's
                           // (value: previous start)
};

// Why an episode ended. kRemoteCalm: calm on a host that knew the episode
// only from the mirror's cache of Redis (SPEC 3).
enum class EndCause : uint8_t {
  kCalm,
  kExpired,
  kForcedEnd,
  kRemote,
  kRemoteCalm
};

struct Event {
  EventKind kind;
  uint8_t stakes = 0;
  uint8_t from_tier = 0;
  uint8_t to_tier = 0;
  uint32_t scope_index = 0;
  int64_t at_ns = 0;
  int64_t start_ns = 0;
  int64_t value = 0;  // kind-specific: EndCause, previous start, ...
  // A scope the table has no entry for (kScopeTableFull: the name that did
  // not fit), NUL-terminated; empty: the scope is the entry scope_index.
  char scope_name[kScopeNameMax + 1] = {};

  // Sets scope_name (cut to kScopeNameMax bytes).
  void SetScopeName(absl::string_view name) noexcept;
};

class ScopeTable;

absl::string_view EventName(EventKind kind);
absl::string_view EndCauseName(EndCause cause);

// Bounded multi-producer single-consumer queue (Vyukov's sequence cells).
class EventQueue {
 public:
  static constexpr size_t kCapacity = 1024;  // power of two
  EventQueue();
  // Lock-free; false when full (the caller counts the drop).
  bool TryPush(const Event& event) noexcept;
  // Consumer only.
  bool TryPop(Event* event) noexcept;
  // Consumer only: the next event without taking it.
  bool Peek(Event* event) const noexcept;

 private:
  struct Cell {
    std::atomic<uint64_t> sequence;
    Event event;
  };
  std::unique_ptr<Cell[]> cells_;
  alignas(64) std::atomic<uint64_t> enqueue_pos_{0};
  alignas(64) std::atomic<uint64_t> dequeue_pos_{0};
};

// The scope `event` is about: its carried name, else the name of its entry
// in `table` (null: no segment, so "global").
std::string EventScopeName(const Event& event, const ScopeTable* table);

// The JSON log line (no newline) for `event`, built with core's LogLine.
std::string EventLogLine(const Event& event, absl::string_view segment,
                         absl::string_view scope, int pid);

// Writes `line` plus '\n' to fd in one write(2), so lines from several
// processes do not interleave, but only if fd can take a line now (poll, no
// wait): false when a reader has stopped reading (a full pipe). Every log
// line is written this way, so a stalled log reader stalls nothing (SPEC
// 15); a line of this size after POLLOUT does not block on a pipe, file or
// socket. Write errors are ignored: logging never fails a decision.
bool TryWriteLogLine(int fd, absl::string_view line);

// The log of a component beside the engine's background thread (the
// mirror, the rolling window): lines written with TryWriteLogLine, and one
// the fd cannot take now dropped and counted in the segment
// (SegmentCounters::log_events_dropped, SPEC 9), like the engine's own.
// Engine::LogWriterFor makes one. Copyable; thread-safe.
class LogWriter {
 public:
  // fd -1: logging off. dropped: the segment's counter; null: no segment.
  LogWriter(int fd, AtomicU64* dropped) noexcept : fd_(fd), dropped_(dropped) {}
  void Write(absl::string_view line) const noexcept;
  // A line lost before it reached Write (its queue was full).
  void CountDropped() const noexcept;
  int fd() const noexcept { return fd_; }

 private:
  int fd_;
  AtomicU64* dropped_;
};

}  // namespace vix::shm

#endif  // VIXBREAKER_SHM_EVENT_LOG_H_
