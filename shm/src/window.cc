#include "vixbreaker/shm/window.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <new>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "vixbreaker/core/detector.h"
#include "vixbreaker/core/json.h"
#include "vixbreaker/shm/event_log.h"

namespace vix::shm {
namespace {

// WindowBucket::packed, as drawn in layout.h.
constexpr int kCountBits = 22;
constexpr int kCycleShift = 2 * kCountBits;
constexpr uint64_t kCountMask = (uint64_t{1} << kCountBits) - 1;
constexpr uint64_t kCycleMask = (uint64_t{1} << (64 - kCycleShift)) - 1;
constexpr uint64_t kCycleHalf = (kCycleMask + 1) / 2;

constexpr uint64_t Pack(uint64_t cycle, uint64_t panic, uint64_t total) {
  return ((cycle & kCycleMask) << kCycleShift) | (panic << kCountBits) | total;
}
constexpr uint64_t CycleOf(uint64_t w) { return w >> kCycleShift; }
constexpr uint64_t PanicOf(uint64_t w) {
  return (w >> kCountBits) & kCountMask;
}
constexpr uint64_t TotalOf(uint64_t w) { return w & kCountMask; }
static_assert(CycleOf(Pack(kCycleMask, 3, 5)) == kCycleMask);
static_assert(PanicOf(Pack(7, kCountMask, kCountMask)) == kCountMask);

// Window::mode_word: (sequence << 8) | mode.
constexpr uint64_t MakeModeWord(uint64_t sequence, BreakerMode mode) {
  return (sequence << 8) | static_cast<uint64_t>(mode);
}
constexpr uint64_t SequenceOf(uint64_t word) { return word >> 8; }
// A corrupt mode reads as normal; the next transition's CAS rewrites it.
BreakerMode ModeOf(uint64_t word) {
  const uint64_t mode = word & 0xff;
  return mode < kBreakerModeCount ? static_cast<BreakerMode>(mode)
                                  : BreakerMode::kNormal;
}

constexpr int64_t kFlushIntervalMs = 10;

// Where the bucket of `now_ns` sits in the ring, and which pass it is on.
struct BucketPosition {
  uint64_t number;  // buckets since the epoch
  uint32_t slot;
  uint64_t cycle;
};
BucketPosition PositionOf(int64_t now_ns, int64_t width_ns) {
  const uint64_t number = static_cast<uint64_t>(std::max<int64_t>(now_ns, 0)) /
                          static_cast<uint64_t>(width_ns);
  return {number, static_cast<uint32_t>(number % kWindowBuckets),
          (number / kWindowBuckets) & kCycleMask};
}

// Adds the counts of buckets [begin, end) that are on pass `cycle`.
void SumBuckets(const Window& window, uint32_t begin, uint32_t end,
                uint64_t cycle, WindowCounts& counts) {
  uint64_t panic = 0;
  uint64_t total = 0;
  for (uint32_t i = begin; i < end; ++i) {
    const uint64_t w = window.buckets[i].packed.load(std::memory_order_relaxed);
    const bool inside = CycleOf(w) == cycle;
    panic += inside ? PanicOf(w) : 0;
    total += inside ? TotalOf(w) : 0;
  }
  counts.panic += panic;
  counts.total += total;
}

// Sums the buckets of the window ending at `at`, except `at` itself: earlier
// slots must be on this pass of the ring, later slots on the previous pass.
WindowCounts CountPastBuckets(const Window& window, BucketPosition at) {
  WindowCounts counts;
  SumBuckets(window, 0, at.slot, at.cycle, counts);
  SumBuckets(window, at.slot + 1, kWindowBuckets, (at.cycle - 1) & kCycleMask,
             counts);
  return counts;
}

WindowCounts CountWindow(const Window& window, int64_t width_ns,
                         int64_t now_ns) {
  if (width_ns <= 0) return {};
  const BucketPosition at = PositionOf(now_ns, width_ns);
  WindowCounts counts = CountPastBuckets(window, at);
  SumBuckets(window, at.slot, at.slot + 1, at.cycle, counts);
  return counts;
}

// This thread's sum of the past buckets, for the bucket it was taken in.
// Past buckets only change when a process whose clock lags by a moment
// still adds to the previous bucket; those samples are picked up when the
// next bucket starts. So Record reads 1 bucket, not 1800, most of the time.
struct PastBucketsCache {
  uint64_t window_id = 0;
  uint64_t bucket_number = 0;
  WindowCounts counts;
};
thread_local PastBucketsCache t_past_buckets;

std::atomic<uint64_t> g_next_window_id{1};

WindowTransitionRecord ReadTransition(const WindowTransition& e) {
  WindowTransitionRecord r;
  r.sequence = e.sequence.load(std::memory_order_acquire);
  r.at_ns = e.at_ns.load(std::memory_order_acquire);
  r.from = ModeOf(e.from_mode.load(std::memory_order_acquire));
  r.to = ModeOf(e.to_mode.load(std::memory_order_acquire));
  r.panic_ratio =
      static_cast<double>(e.panic_ratio_ppm.load(std::memory_order_acquire)) /
      1e6;
  r.panic_samples = e.panic_samples.load(std::memory_order_acquire);
  r.total_samples = e.total_samples.load(std::memory_order_acquire);
  r.pid = e.pid.load(std::memory_order_acquire);
  // A writer that started meanwhile zeroed the sequence first: torn entry.
  if (e.sequence.load(std::memory_order_relaxed) != r.sequence) r.sequence = 0;
  return r;
}

void WriteTransition(WindowTransition& e, const WindowTransitionRecord& r) {
  e.sequence.store(0, std::memory_order_relaxed);
  // Release on each field keeps the zeroed sequence ordered before it.
  e.at_ns.store(r.at_ns, std::memory_order_release);
  e.from_mode.store(static_cast<uint64_t>(r.from), std::memory_order_release);
  e.to_mode.store(static_cast<uint64_t>(r.to), std::memory_order_release);
  e.panic_ratio_ppm.store(
      static_cast<uint64_t>(std::llround(r.panic_ratio * 1e6)),
      std::memory_order_release);
  e.panic_samples.store(r.panic_samples, std::memory_order_release);
  e.total_samples.store(r.total_samples, std::memory_order_release);
  e.pid.store(r.pid, std::memory_order_release);
  e.sequence.store(r.sequence, std::memory_order_release);
}

}  // namespace

// Transitions this process won, waiting for the background thread to log
// them: a fixed array of cells claimed by CAS, so a deciding thread never
// blocks or allocates. Order is restored by sequence when drained.
class RollingWindow::PendingLog {
 public:
  static constexpr size_t kCapacity = 64;
  // False when every cell is taken (the caller counts the drop).
  bool TryPush(const WindowTransitionRecord& record) noexcept {
    for (Cell& cell : cells_) {
      uint32_t expected = kFree;
      if (cell.state.compare_exchange_strong(expected, kWriting,
                                             std::memory_order_acquire,
                                             std::memory_order_relaxed)) {
        cell.record = record;
        cell.state.store(kReady, std::memory_order_release);
        return true;
      }
    }
    return false;
  }
  // In a forked child (its only thread): the parent's lines, and cells a
  // parent thread was filling, are dropped.
  void Clear() noexcept {
    for (Cell& cell : cells_)
      cell.state.store(kFree, std::memory_order_relaxed);
  }
  // Consumer only (under the window's flush mutex).
  std::vector<WindowTransitionRecord> Drain() {
    std::vector<WindowTransitionRecord> out;
    for (Cell& cell : cells_) {
      if (cell.state.load(std::memory_order_acquire) != kReady) continue;
      out.push_back(cell.record);
      cell.state.store(kFree, std::memory_order_release);
    }
    std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
      return a.sequence < b.sequence;
    });
    return out;
  }

 private:
  enum : uint32_t { kFree = 0, kWriting = 1, kReady = 2 };
  struct Cell {
    std::atomic<uint32_t> state{kFree};
    WindowTransitionRecord record;
  };
  Cell cells_[kCapacity];
};

WindowSnapshot ReadWindow(const SegmentLayout& layout, int64_t now_ns) {
  return ReadWindow(layout.window, now_ns);
}

WindowSnapshot ReadWindow(const Window& window, int64_t now_ns) {
  WindowSnapshot s;
  const uint64_t word = window.mode_word.load(std::memory_order_acquire);
  s.mode = ModeOf(word);
  s.transitions = SequenceOf(word);
  s.bucket_width_ns = window.bucket_width_ns.load(std::memory_order_relaxed);
  s.window_ns = s.bucket_width_ns * kWindowBuckets;
  s.counts = CountWindow(window, s.bucket_width_ns, now_ns);
  s.late_samples = window.late_samples.load(std::memory_order_relaxed);
  s.saturated_samples =
      window.saturated_samples.load(std::memory_order_relaxed);
  const uint64_t first = s.transitions > kTransitionHistory
                             ? s.transitions - kTransitionHistory + 1
                             : 1;
  for (uint64_t seq = first; seq <= s.transitions; ++seq) {
    WindowTransitionRecord r =
        ReadTransition(window.history[(seq - 1) % kTransitionHistory]);
    if (r.sequence == seq) s.history.push_back(r);  // skip torn or lapped
  }
  return s;
}

std::string TransitionLogLine(const WindowTransitionRecord& r,
                              absl::string_view segment) {
  // The ratio as the log has always written it: to a millionth, fixed.
  return LogLine(r.at_ns, "BREAKER_MODE_CHANGE", segment)
      .Int("pid", r.pid)
      .UInt("sequence", r.sequence)
      .Str("from", BreakerModeName(r.from))
      .Str("to", BreakerModeName(r.to))
      .Raw("panic_ratio", absl::StrFormat("%.6f", r.panic_ratio))
      .UInt("panic_samples", r.panic_samples)
      .UInt("total_samples", r.total_samples)
      .Done();
}

absl::StatusOr<std::unique_ptr<RollingWindow>> RollingWindow::Open(
    Engine& engine, const WindowOptions& options) {
  if (engine.segment() == nullptr) {
    return absl::FailedPreconditionError(
        absl::StrCat("the rolling window lives in the shared segment, which "
                     "could not be attached: ",
                     engine.segment_status().message()));
  }
  absl::StatusOr<Breaker> breaker = Breaker::Create(options.thresholds);
  if (!breaker.ok()) return breaker.status();
  const int64_t width = engine.segment()->layout().window.bucket_width_ns.load(
      std::memory_order_relaxed);
  if (width <= 0 ||
      width > std::numeric_limits<int64_t>::max() / kWindowBuckets) {
    return absl::DataLossError(absl::StrCat(
        "segment ", engine.segment()->name(), " has a window bucket width of ",
        width,
        " ns, which is not usable; remove it with `vixctl destroy` "
        "when no process uses it, and it is re-created"));
  }
  return std::unique_ptr<RollingWindow>(
      new RollingWindow(engine, *std::move(breaker), options));
}

RollingWindow::RollingWindow(Engine& engine, Breaker breaker,
                             const WindowOptions& options)
    : id_(g_next_window_id.fetch_add(1, std::memory_order_relaxed)),
      engine_(&engine),
      window_(engine.window_region()),
      clock_(&engine.clock()),
      breaker_(std::move(breaker)),
      bucket_width_ns_(
          window_->bucket_width_ns.load(std::memory_order_relaxed)),
      log_(engine.LogWriterFor(options.log_fd)),
      segment_name_(engine.segment()->name()),
      pid_(getpid()),
      pending_(std::make_unique<PendingLog>()) {
  if (log_.fd() >= 0) {
    background_ = std::thread(&RollingWindow::BackgroundLoop, this);
  }
  RegisterForFork();
}

RollingWindow::~RollingWindow() {
  UnregisterForFork();
  stop_.store(true, std::memory_order_relaxed);
  if (background_.joinable()) background_.join();
  FlushLogs();
}

void RollingWindow::BackgroundLoop() {
  while (!stop_.load(std::memory_order_relaxed)) {
    FlushLogs();
    std::this_thread::sleep_for(std::chrono::milliseconds(kFlushIntervalMs));
  }
}

void RollingWindow::FlushLogs() {
  if (log_.fd() < 0) return;
  std::lock_guard<std::mutex> lock(flush_mu_);
  for (const WindowTransitionRecord& r : pending_->Drain()) {
    log_.Write(TransitionLogLine(r, segment_name_));
  }
}

void RollingWindow::ResetAfterFork() noexcept {
  // The only thread of the child: the parent's log thread does not exist
  // here, so its handle is abandoned (never joined), and a lock it may have
  // held is made anew. Queued lines are the parent's to write.
  new (&background_) std::thread();
  new (&flush_mu_) std::mutex();
  pending_->Clear();
  pid_ = getpid();
  forked_.store(true, std::memory_order_release);
}

WindowDecision RollingWindow::Record(Status status, BaseTtl base_ttl) noexcept {
  if (__builtin_expect(forked_.load(std::memory_order_acquire), 0)) {
    StartInChild();
  }
  const int64_t now = clock_->NowNs();
  CountSample(status, now);
  // The mode is read before the current bucket, so the ratio includes every
  // count of it seen by the process that set this mode: while the ratio
  // moves one way, no process steps back against a transition it observed.
  uint64_t word = window_->mode_word.load(std::memory_order_acquire);
  WindowDecision d;
  d.counts = CountForRecord(now);
  const BreakerMode next = breaker_.Next(ModeOf(word), d.counts.PanicRatio());
  if (next != ModeOf(word)) {
    d.transitioned = TryTransition(word, next, d.counts, now);
    // A lost CAS: another process moved the mode; no second step here.
    if (!d.transitioned) {
      word = window_->mode_word.load(std::memory_order_acquire);
    }
  }
  d.breaker =
      Breaker::Decide(d.transitioned ? next : ModeOf(word), status, base_ttl);
  return d;
}

WindowCounts RollingWindow::CountForRecord(int64_t now) noexcept {
  const BucketPosition at = PositionOf(now, bucket_width_ns_);
  PastBucketsCache& past = t_past_buckets;
  if (past.window_id != id_ || past.bucket_number != at.number) {
    past.counts = CountPastBuckets(*window_, at);
    past.window_id = id_;
    past.bucket_number = at.number;
  }
  WindowCounts counts = past.counts;
  SumBuckets(*window_, at.slot, at.slot + 1, at.cycle, counts);
  return counts;
}

// Returns false if the sample could not be counted (and counts why).
bool RollingWindow::CountSample(Status status, int64_t now) noexcept {
  Window& window = *window_;
  const BucketPosition at = PositionOf(now, bucket_width_ns_);
  AtomicU64& bucket = window.buckets[at.slot].packed;
  const uint64_t panic = status == Status::kPanic ? 1 : 0;
  uint64_t old = bucket.load(std::memory_order_relaxed);
  while (true) {
    uint64_t next;
    if (CycleOf(old) == at.cycle) {
      if (TotalOf(old) == kCountMask) {
        window.saturated_samples.fetch_add(1, std::memory_order_relaxed);
        return false;
      }
      next = old + (panic << kCountBits) + 1;
    } else if (TotalOf(old) == 0 ||
               ((at.cycle - CycleOf(old)) & kCycleMask) < kCycleHalf) {
      next = Pack(at.cycle, panic, 1);  // an unused bucket or a past pass
    } else {
      // A process whose clock runs a whole window ahead reused the bucket.
      window.late_samples.fetch_add(1, std::memory_order_relaxed);
      return false;
    }
    if (bucket.compare_exchange_weak(old, next, std::memory_order_relaxed,
                                     std::memory_order_relaxed)) {
      return true;
    }
  }
}

bool RollingWindow::TryTransition(uint64_t word, BreakerMode to,
                                  WindowCounts counts, int64_t now) noexcept {
  const uint64_t sequence = SequenceOf(word) + 1;
  if (!window_->mode_word.compare_exchange_strong(
          word, MakeModeWord(sequence, to), std::memory_order_acq_rel,
          std::memory_order_acquire)) {
    return false;
  }
  WindowTransitionRecord r;
  r.sequence = sequence;
  r.at_ns = now;
  r.from = ModeOf(word);
  r.to = to;
  r.panic_ratio = std::round(counts.PanicRatio() * 1e6) / 1e6;
  r.panic_samples = counts.panic;
  r.total_samples = counts.total;
  r.pid = pid_;
  WriteTransition(window_->history[(sequence - 1) % kTransitionHistory], r);
  window_->transitions_total.fetch_add(1, std::memory_order_release);
  if (log_.fd() >= 0 && !pending_->TryPush(r)) log_.CountDropped();
  return true;
}

WindowSnapshot RollingWindow::Snapshot() const {
  return ReadWindow(*window_, clock_->NowNs());
}

MatchDecision DecideMatch(Engine& engine, ScopeHandle scope,
                          RollingWindow& window,
                          absl::Span<const Status> market_statuses,
                          BaseTtl base_ttl, Stakes stakes) noexcept {
  MatchDecision d;
  d.match_status = CombineMarketStatuses(market_statuses);
  d.window = window.Record(d.match_status, base_ttl);
  d.quota = engine.Decide(scope, d.match_status, base_ttl, stakes);
  return d;
}

}  // namespace vix::shm
