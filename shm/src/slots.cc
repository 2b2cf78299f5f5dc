#include "vixbreaker/shm/slots.h"

#include <pthread.h>
#include <unistd.h>

#include <algorithm>
#include <unordered_map>
#include <utility>

#include "vixbreaker/shm/process.h"

namespace vix::shm {
namespace {

constexpr auto kRelaxed = std::memory_order_relaxed;
constexpr auto kAcquire = std::memory_order_acquire;
constexpr auto kRelease = std::memory_order_release;

// How often a claim that finds the table full may reclaim on demand (the
// background thread also reclaims every few seconds).
constexpr int64_t kFullTableReclaimIntervalNs = 100'000'000;

pid_t OwnerPid(uint64_t owner) { return static_cast<pid_t>(owner >> 32); }

uint64_t SumDecisions(const ProcessSlot& slot) {
  uint64_t sum = 0;
  for (const AtomicU64& d : slot.decisions) sum += d.load(kRelaxed);
  return sum;
}

void Free(ProcessSlot& slot) {
  slot.start_ticks.store(0, kRelaxed);
  slot.owner.store(0, kRelease);  // the counters stay (cumulative)
}

// Live registries by engine id: thread-exit hooks and fork handlers find
// them here. Lock order: g_mu, then a registry's mu_.
std::mutex g_mu;
std::unordered_map<uint64_t, SlotRegistry*>& Registries() {
  static auto* registries = new std::unordered_map<uint64_t, SlotRegistry*>;
  return *registries;
}

// Destroyed at thread exit: gives back every slot the thread claimed.
struct ThreadExitHook {
  std::vector<std::pair<uint64_t, uint64_t>> claimed;  // engine id, token
  ~ThreadExitHook() {
    std::lock_guard<std::mutex> lock(g_mu);
    for (const auto& [engine_id, token] : claimed) {
      auto it = Registries().find(engine_id);
      if (it != Registries().end()) it->second->Release(token);
    }
  }
};
thread_local ThreadExitHook t_exit_hook;

}  // namespace

// pthread_atfork handlers: hold every registry's lock across fork() so the
// child never inherits one locked by a thread that does not exist there.
struct SlotRegistry::ForkHooks {
  static void Prepare() {
    g_mu.lock();
    for (auto& [id, registry] : Registries()) registry->mu_.lock();
  }
  static void Parent() {
    for (auto& [id, registry] : Registries()) registry->mu_.unlock();
    g_mu.unlock();
  }
  static void Child() {
    for (auto& [id, registry] : Registries()) registry->mu_.unlock();
    g_mu.unlock();
    internal::t_slot_cache = {};  // the forking thread's (the only one)
    t_exit_hook.claimed.clear();
    for (auto& [id, registry] : Registries()) registry->ResetAfterFork();
  }
  static void InstallOnce() {
    static const bool installed =
        pthread_atfork(&Prepare, &Parent, &Child) == 0;
    (void)installed;
  }
};

SlotRegistry::SlotRegistry(SegmentLayout* layout, uint64_t engine_id,
                           void (*on_child_after_fork)(void*), void* context)
    : layout_(layout),
      engine_id_(engine_id),
      way_offset_(internal::CacheWayOffsetFor(engine_id)),
      on_child_after_fork_(on_child_after_fork),
      context_(context),
      pid_(getpid()) {
  ForkHooks::InstallOnce();
  std::lock_guard<std::mutex> lock(g_mu);
  Registries()[engine_id_] = this;
}

SlotRegistry::~SlotRegistry() {
  std::lock_guard<std::mutex> lock(g_mu);
  Registries().erase(engine_id_);
  ReleaseAll();
}

ProcessSlot* SlotRegistry::ClaimForThisThread() noexcept {
  const uint64_t token =
      (static_cast<uint64_t>(pid_) << 32) | static_cast<uint32_t>(CurrentTid());
  ProcessSlot* found = nullptr;
  bool claimed = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const Owned& o : owned_) {
      if (o.token == token) found = SlotOf(o);
    }
    for (int round = 0; layout_ != nullptr && found == nullptr && round < 2;
         ++round) {
      if (round == 1) {
        // Judging every owner reads /proc for each: while the table stays
        // full under thread churn, not once per new thread.
        const int64_t now = MonotonicCoarseNowNs();
        if (now - last_full_reclaim_ns_ < kFullTableReclaimIntervalNs) break;
        last_full_reclaim_ns_ = now;
        ReclaimDead();
      }
      for (uint32_t i = 0; i < kSlotCapacity && found == nullptr; ++i) {
        ProcessSlot& candidate = layout_->slots[i];
        uint64_t expected = 0;
        if (!candidate.owner.compare_exchange_strong(
                expected, token, std::memory_order_acq_rel)) {
          continue;
        }
        const int64_t now = RealtimeNowNs();
        candidate.start_ticks.store(SelfStartTicks(), kRelaxed);
        candidate.attached_ns.store(now, kRelaxed);
        candidate.heartbeat_ns.store(now, kRelaxed);
        for (int c = 0; c < kSlotCounters; ++c) {
          candidate.base[c].store(SlotCounter(candidate, c).load(kRelaxed),
                                  kRelaxed);
        }
        owned_.push_back({i, token, nullptr});
        found = &candidate;
        claimed = true;
      }
    }
    if (found == nullptr) {
      // No segment, or the table is full: a slot in process memory keeps
      // this thread's counters single-writer (not visible to inspectors).
      // It comes back at thread exit like a table slot, and is reused.
      found = TakeLocalSlot();
      owned_.push_back({0, token, found});
      claimed = true;
      table_full_notice_ = layout_ != nullptr;
    }
  }
  if (claimed) t_exit_hook.claimed.emplace_back(engine_id_, token);
  internal::CacheWay& way = internal::ThisThreadWayAt(way_offset_);
  way.engine_id = engine_id_;
  way.slot = found;
  for (internal::DecisionMemo& memo : way.memo) memo = {};
  return found;
}

bool SlotRegistry::TakeTableFullNotice() noexcept {
  std::lock_guard<std::mutex> lock(mu_);
  return std::exchange(table_full_notice_, false);
}

ProcessSlot* SlotRegistry::SlotOf(const Owned& o) noexcept {
  return o.local != nullptr ? o.local : &layout_->slots[o.index];
}

ProcessSlot* SlotRegistry::TakeLocalSlot() {
  if (free_local_.empty()) {
    local_slots_.push_back(std::make_unique<ProcessSlot>());
    return local_slots_.back().get();
  }
  // Its counters stay, as a table slot's do: the sum never goes down.
  ProcessSlot* slot = free_local_.back();
  free_local_.pop_back();
  return slot;
}

void SlotRegistry::GiveBack(const Owned& o) noexcept {
  if (o.local != nullptr) {
    free_local_.push_back(o.local);
    return;
  }
  ProcessSlot& slot = layout_->slots[o.index];
  if (slot.owner.load(kAcquire) == o.token) Free(slot);
}

void SlotRegistry::Release(uint64_t token) noexcept {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = std::find_if(owned_.begin(), owned_.end(),
                         [token](const Owned& o) { return o.token == token; });
  if (it == owned_.end()) return;
  GiveBack(*it);
  owned_.erase(it);
}

void SlotRegistry::ReleaseAll() noexcept {
  std::lock_guard<std::mutex> lock(mu_);
  for (const Owned& o : owned_) GiveBack(o);
  owned_.clear();
}

void SlotRegistry::ResetAfterFork() noexcept {
  // The parent's slots are the parent's: forget them, never free them.
  owned_.clear();
  free_local_.clear();
  local_slots_.clear();
  pid_ = getpid();
  if (on_child_after_fork_ != nullptr) on_child_after_fork_(context_);
}

void SlotRegistry::ReclaimDead() noexcept {
  if (layout_ == nullptr) return;
  // The owner word names the reclaimer, so a reclaimer killed half-way
  // leaves a slot the next reclaimer can take. Counters are not touched:
  // nothing is lost whoever dies when.
  const uint64_t reclaiming =
      (static_cast<uint64_t>(getpid()) << 32) | kSlotReclaimTid;
  for (ProcessSlot& slot : layout_->slots) {
    uint64_t owner = slot.owner.load(kAcquire);
    if (owner == 0) continue;
    const bool being_reclaimed = SlotBeingReclaimed(owner);
    const uint64_t start_ticks =
        being_reclaimed ? 0 : slot.start_ticks.load(kRelaxed);
    if (!ProcessGone(OwnerPid(owner), start_ticks)) continue;
    if (!slot.owner.compare_exchange_strong(owner, reclaiming,
                                            std::memory_order_acq_rel)) {
      continue;
    }
    // A new process that reused the dead pid may have claimed the slot
    // between our check and the CAS: look again with the start time now
    // stored, and hand it back if alive.
    if (!being_reclaimed &&
        !ProcessGone(OwnerPid(owner), slot.start_ticks.load(kAcquire))) {
      slot.owner.store(owner, kRelease);
      continue;
    }
    Free(slot);
  }
}

void SlotRegistry::Heartbeat(int64_t now_ns) noexcept {
  std::unique_lock<std::mutex> lock(mu_, std::try_to_lock);
  if (!lock.owns_lock()) return;
  for (const Owned& o : owned_) {
    if (o.local == nullptr) {
      layout_->slots[o.index].heartbeat_ns.store(now_ns, kRelaxed);
    }
  }
}

uint64_t SlotRegistry::DecisionsSoFar() noexcept {
  std::unique_lock<std::mutex> lock(mu_, std::try_to_lock);
  if (!lock.owns_lock()) return last_decisions_;
  uint64_t sum = 0;
  for (const Owned& o : owned_) {
    if (o.local == nullptr) sum += SumDecisions(layout_->slots[o.index]);
  }
  // Every local slot, in use or free: their counters are cumulative.
  for (const auto& p : local_slots_) sum += SumDecisions(*p);
  last_decisions_ = sum;
  return sum;
}

size_t SlotRegistry::ProcessLocalSlots() noexcept {
  std::lock_guard<std::mutex> lock(mu_);
  return local_slots_.size();
}

}  // namespace vix::shm
