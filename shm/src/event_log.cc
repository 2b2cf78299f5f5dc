#include "vixbreaker/shm/event_log.h"

#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "vixbreaker/core/json.h"
#include "vixbreaker/core/types.h"
#include "vixbreaker/shm/scope_name.h"
#include "vixbreaker/shm/scope_table.h"

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

void Event::SetScopeName(absl::string_view name) noexcept {
  const size_t n = std::min(name.size(), kScopeNameMax);
  std::memcpy(scope_name, name.data(), n);
  scope_name[n] = '\0';
}

std::string EventScopeName(const Event& event, const ScopeTable* table) {
  if (event.scope_name[0] != '\0') return event.scope_name;
  if (table != nullptr && event.scope_index < table->capacity()) {
    return ReadScopeName(*table->At(event.scope_index).scope);
  }
  return std::string(kGlobalScopeName);
}

std::string EventLogLine(const Event& e, absl::string_view segment,
                         absl::string_view scope, int pid) {
  JsonObject line = LogLine(e.at_ns, EventName(e.kind), segment);
  line.Str("scope", scope).Int("pid", pid);
  switch (e.kind) {
    case EventKind::kPanicTimestampInitialized:
      line.Seconds("episode_start", e.start_ns)
          .Bool("adopted_remote", e.value != 0);
      break;
    case EventKind::kPanicTimestampCleared:
      line.Seconds("episode_start", e.start_ns)
          .Seconds("duration_s", e.at_ns - e.start_ns)
          .Str("cause", EndCauseName(static_cast<EndCause>(e.value)));
      break;
    case EventKind::kTtlStateChange:
      line.Str("stakes", StakesName(static_cast<Stakes>(e.stakes)))
          .Int("from_tier", e.from_tier)
          .Int("to_tier", e.to_tier)
          .Str("from_mode", ModeName(ModeForTier(e.from_tier)))
          .Str("to_mode", ModeName(ModeForTier(e.to_tier)));
      if (e.start_ns != 0) line.Seconds("episode_start", e.start_ns);
      break;
    case EventKind::kNegativePanicDuration:
      line.Seconds("episode_start", e.start_ns)
          .Seconds("skew_s", e.start_ns - e.at_ns);
      break;
    case EventKind::kForcedStart:
      line.Seconds("episode_start", e.start_ns)
          .UnixSeconds("replaced_start", e.value);
      break;
    case EventKind::kPanicTimestampAdopted:
      line.Seconds("previous_start", e.value)
          .Seconds("episode_start", e.start_ns);
      break;
    case EventKind::kPanicWithoutReliableTimestamp:
    case EventKind::kScopeTableFull:
    case EventKind::kSlotTableFull:
      break;
  }
  return line.Done();
}

bool TryWriteLogLine(int fd, absl::string_view line) {
  if (fd < 0) return true;
  pollfd p{fd, POLLOUT, 0};
  if (poll(&p, 1, 0) != 1 || (p.revents & POLLOUT) == 0) return false;
  std::string buf(line);
  buf.push_back('\n');
  ssize_t ignored = write(fd, buf.data(), buf.size());
  (void)ignored;
  return true;
}

void LogWriter::Write(absl::string_view line) const noexcept {
  if (!TryWriteLogLine(fd_, line)) CountDropped();
}

void LogWriter::CountDropped() const noexcept {
  if (dropped_ != nullptr) dropped_->fetch_add(1, std::memory_order_relaxed);
}

}  // namespace vix::shm
