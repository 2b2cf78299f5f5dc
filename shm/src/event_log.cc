#include "vixbreaker/shm/event_log.h"

#include <poll.h>
#include <unistd.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/time.h"
#include "vixbreaker/core/types.h"

namespace vix::shm {

absl::string_view EventName(EventKind kind) {
  switch (kind) {
    case EventKind::kPanicTimestampInitialized:
      return "PANIC_TIMESTAMP_INITIALIZED";
    case EventKind::kPanicTimestampCleared:
      return "PANIC_TIMESTAMP_CLEARED";
    case EventKind::kTtlStateChange:
      return "VIX_TTL_STATE_CHANGE";
    case EventKind::kNegativePanicDuration:
      return "NEGATIVE_PANIC_DURATION";
    case EventKind::kPanicWithoutReliableTimestamp:
      return "PANIC_WITHOUT_RELIABLE_TIMESTAMP";
    case EventKind::kForcedStart:
      return "PANIC_TIMESTAMP_FORCED";
    case EventKind::kScopeTableFull:
      return "SCOPE_TABLE_FULL";
    case EventKind::kSlotTableFull:
      return "SLOT_TABLE_FULL";
    case EventKind::kPanicTimestampAdopted:
      return "PANIC_TIMESTAMP_ADOPTED";
  }
  return "UNKNOWN_EVENT";
}

absl::string_view EndCauseName(EndCause cause) {
  switch (cause) {
    case EndCause::kCalm:
      return "calm";
    case EndCause::kExpired:
      return "deadman_expired";
    case EndCause::kForcedEnd:
      return "forced_end";
    case EndCause::kRemote:
      return "remote";
    case EndCause::kRemoteCalm:
      return "calm_remote";
  }
  return "unknown";
}

EventQueue::EventQueue() : cells_(new Cell[kCapacity]) {
  for (size_t i = 0; i < kCapacity; ++i) {
    cells_[i].sequence.store(i, std::memory_order_relaxed);
  }
}

bool EventQueue::TryPush(const Event& event) noexcept {
  uint64_t pos = enqueue_pos_.load(std::memory_order_relaxed);
  while (true) {
    Cell& cell = cells_[pos & (kCapacity - 1)];
    uint64_t seq = cell.sequence.load(std::memory_order_acquire);
    int64_t diff = static_cast<int64_t>(seq) - static_cast<int64_t>(pos);
    if (diff == 0) {
      if (enqueue_pos_.compare_exchange_weak(pos, pos + 1,
                                             std::memory_order_relaxed)) {
        cell.event = event;
        cell.sequence.store(pos + 1, std::memory_order_release);
        return true;
      }
    } else if (diff < 0) {
      dropped_.fetch_add(1, std::memory_order_relaxed);
      return false;
    } else {
      pos = enqueue_pos_.load(std::memory_order_relaxed);
    }
  }
}

bool EventQueue::TryPop(Event* event) noexcept {
  uint64_t pos = dequeue_pos_.load(std::memory_order_relaxed);
  Cell& cell = cells_[pos & (kCapacity - 1)];
  uint64_t seq = cell.sequence.load(std::memory_order_acquire);
  if (static_cast<int64_t>(seq) - static_cast<int64_t>(pos + 1) < 0) {
    return false;  // empty (or the producer has not finished writing)
  }
  *event = cell.event;
  cell.sequence.store(pos + kCapacity, std::memory_order_release);
  dequeue_pos_.store(pos + 1, std::memory_order_relaxed);
  return true;
}

bool EventQueue::Peek(Event* event) const noexcept {
  const uint64_t pos = dequeue_pos_.load(std::memory_order_relaxed);
  const Cell& cell = cells_[pos & (kCapacity - 1)];
  const uint64_t seq = cell.sequence.load(std::memory_order_acquire);
  if (static_cast<int64_t>(seq) - static_cast<int64_t>(pos + 1) < 0) {
    return false;
  }
  *event = cell.event;
  return true;
}

std::string FormatTimestamp(int64_t unix_ns) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E6SZ", absl::FromUnixNanos(unix_ns),
                          absl::UTCTimeZone());
}

void AppendEventJson(const Event& e, absl::string_view segment,
                     absl::string_view scope, int pid, std::string* out) {
  absl::StrAppend(out, "{\"ts\":\"", FormatTimestamp(e.at_ns),
                  "\",\"event\":\"", EventName(e.kind), "\",\"segment\":");
  AppendJsonString(segment, out);
  absl::StrAppend(out, ",\"scope\":");
  AppendJsonString(scope, out);
  absl::StrAppend(out, ",\"pid\":", pid);
  auto seconds = [](int64_t ns) {
    return absl::StrFormat("%.6f", static_cast<double>(ns) / 1e9);
  };
  switch (e.kind) {
    case EventKind::kPanicTimestampInitialized:
      absl::StrAppend(out, ",\"episode_start\":", seconds(e.start_ns),
                      ",\"adopted_remote\":", e.value ? "true" : "false");
      break;
    case EventKind::kPanicTimestampCleared:
      absl::StrAppend(out, ",\"episode_start\":", seconds(e.start_ns),
                      ",\"duration_s\":", seconds(e.at_ns - e.start_ns),
                      ",\"cause\":\"",
                      EndCauseName(static_cast<EndCause>(e.value)), "\"");
      break;
    case EventKind::kTtlStateChange:
      absl::StrAppend(
          out, ",\"stakes\":\"", StakesName(static_cast<Stakes>(e.stakes)),
          "\",\"from_tier\":", e.from_tier, ",\"to_tier\":", e.to_tier,
          ",\"from_mode\":\"", ModeName(ModeForTier(e.from_tier)),
          "\",\"to_mode\":\"", ModeName(ModeForTier(e.to_tier)), "\"");
      if (e.start_ns != 0) {
        absl::StrAppend(out, ",\"episode_start\":", seconds(e.start_ns));
      }
      break;
    case EventKind::kNegativePanicDuration:
      absl::StrAppend(out, ",\"episode_start\":", seconds(e.start_ns),
                      ",\"skew_s\":", seconds(e.start_ns - e.at_ns));
      break;
    case EventKind::kForcedStart:
      absl::StrAppend(
          out, ",\"episode_start\":", seconds(e.start_ns),
          ",\"replaced_start\":", e.value == 0 ? "null" : seconds(e.value));
      break;
    case EventKind::kPanicTimestampAdopted:
      absl::StrAppend(out, ",\"previous_start\":", seconds(e.value),
                      ",\"episode_start\":", seconds(e.start_ns));
      break;
    case EventKind::kPanicWithoutReliableTimestamp:
    case EventKind::kScopeTableFull:
    case EventKind::kSlotTableFull:
      break;
  }
  out->push_back('}');
}

void WriteLogLine(int fd, absl::string_view line) {
  if (fd < 0) return;
  std::string buf(line);
  buf.push_back('\n');
  ssize_t ignored = write(fd, buf.data(), buf.size());
  (void)ignored;
}

bool TryWriteLogLine(int fd, absl::string_view line) {
  if (fd < 0) return true;
  pollfd p{fd, POLLOUT, 0};
  if (poll(&p, 1, 0) != 1 || (p.revents & POLLOUT) == 0) return false;
  WriteLogLine(fd, line);
  return true;
}

}  // namespace vix::shm
