// Per-thread counter slots (SPEC 4): claim, release at thread exit,
// reclaim from dead processes, heartbeat, and what fork() needs.
//
// A deciding thread claims one slot per engine the first time it decides,
// and counts into it with relaxed load+store (single writer, no locked RMW).
// The slot returns to the table when the thread exits (a thread_local hook)
// or the engine closes, so thread pools never fill the table. Counters are
// never moved or reset (layout.h): a new owner keeps adding to them, so a
// reader's sum over all slots never decreases.
//
// The hot path finds its slot in a thread-local, direct-mapped cache of
// kThreadCacheWays entries, the engine's way chosen by its id: a thread that
// alternates between engines takes no lock and no system call.
//
// fork(): the child forgets the parent's slots (it never writes or releases
// them) and claims its own on its first decision; no call from user code
// is needed (pthread_atfork).
#ifndef VIXBREAKER_SHM_SLOTS_H_
#define VIXBREAKER_SHM_SLOTS_H_

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <mutex>
#include <new>
#include <vector>

#include "vixbreaker/core/types.h"
#include "vixbreaker/shm/event_log.h"
#include "vixbreaker/shm/layout.h"

namespace vix::shm {

namespace internal {
inline constexpr uint32_t kThreadCacheWays = 8;
// The last panic decision of a thread for one engine and stakes: while the
// scope's episode word is the same and the cached clock is inside
// [from_ns, from_ns + span_ns) (the tier, cut where the next refresh or
// expiry check falls due: last_panic + min(refresh interval, dead-man's
// switch)), the decision is the same, so the hot path skips the rare-case
// checks and the tier arithmetic. Thread-local: costs no shared write.
// It assumes last_panic_ns does not go back within an episode; two racing
// refreshes can lower it by a cached clock's lag, which matters (an expiry
// check skipped) only with a dead-man's switch within that lag of a second.
// It holds what the hit needs ready: the counter to bump (in the way's slot,
// so it lives exactly as long as the way's claim) and the tier's TTL.
struct DecisionMemo {
  const Scope* scope;  // null: empty
  int64_t word;
  int64_t from_ns;
  uint64_t span_ns;    // unsigned: a clock stepped back before from_ns misses
  AtomicU64* counter;  // this thread's count of the tier's mode
  int32_t tier_ttl_seconds;  // before the base TTL caps it
  int32_t tier;
};
// One engine's entry: whose it is, its slot for this thread, and its memos,
// together so that one address serves the whole hit.
struct CacheWay {
  uint64_t engine_id;
  ProcessSlot* slot;
  DecisionMemo memo[vix::kStakesCount];
};
// Constant-initialised and trivially destructible, so access from the hot
// path needs no TLS guard. A way belongs to the engine whose id it holds;
// its memos are cleared whenever it changes hands.
struct ThreadSlotCache {
  CacheWay way[kThreadCacheWays];
};
inline thread_local ThreadSlotCache t_slot_cache{};
// The byte offset of engine `engine_id`'s way in the cache, and this
// thread's way at such an offset: an offset, unlike an index times
// sizeof(CacheWay), is one fs-relative address in an executable (a shared
// object reaches its TLS through its TLS model first), so the hot path pays
// no multiply for it.
static_assert(sizeof(ThreadSlotCache) == kThreadCacheWays * sizeof(CacheWay),
              "ways are contiguous from offset 0");
constexpr uint64_t CacheWayOffsetFor(uint64_t engine_id) {
  return engine_id % kThreadCacheWays * sizeof(CacheWay);
}
inline CacheWay& ThisThreadWayAt(uint64_t offset) noexcept {
  return *std::launder(reinterpret_cast<CacheWay*>(
      reinterpret_cast<char*>(&t_slot_cache) + offset));
}
}  // namespace internal

class SlotRegistry {
 public:
  // `layout` may be null (an engine without a segment: each thread counts
  // in a process-local slot of its own, given back at exit and reused).
  // `on_child_after_fork` runs in the child of a fork() (the only thread
  // there), after the registry has reset itself.
  SlotRegistry(SegmentLayout* layout, uint64_t engine_id,
               void (*on_child_after_fork)(void*), void* context);
  ~SlotRegistry();  // releases every slot it holds
  SlotRegistry(const SlotRegistry&) = delete;
  SlotRegistry& operator=(const SlotRegistry&) = delete;

  // The hot path's lookup; the claim is out of line.
  ProcessSlot* ThisThreadSlot() noexcept {
    internal::CacheWay& way = internal::ThisThreadWayAt(way_offset_);
    if (__builtin_expect(way.engine_id == engine_id_, 1)) {
      return way.slot;
    }
    return ClaimForThisThread();
  }
  // Finds this thread's slot or claims one (a mutex and gettid: slow path).
  // A full table yields a process-local slot (given back at thread exit and
  // reused, so thread churn never grows memory) and logs SLOT_TABLE_FULL
  // once.
  ProcessSlot* ClaimForThisThread() noexcept;
  // True once (then false) if a claim found the table full.
  bool TakeTableFullNotice() noexcept;

  // Frees slots whose process the kernel says is dead (off the hot path).
  void ReclaimDead() noexcept;
  // Stamps this process's slots; skipped if a claim holds the lock.
  void Heartbeat(int64_t now_ns) noexcept;
  // Sum of this process's decisions so far (for the background thread's
  // idle detection); nullopt-free: returns the last sum if the lock is busy.
  uint64_t DecisionsSoFar() noexcept;
  // Process-local slots allocated, in use or kept for reuse.
  size_t ProcessLocalSlots() noexcept;

  // Thread exit: returns the slot `token` holds to the table.
  void Release(uint64_t token) noexcept;
  struct ForkHooks;  // slots.cc

 private:
  struct Owned {
    uint32_t index;      // in the table, unless `local`
    uint64_t token;      // pid << 32 | tid
    ProcessSlot* local;  // a process-local slot, or null
  };
  ProcessSlot* SlotOf(const Owned& o) noexcept;
  // Under mu_: a free process-local slot, or a new one.
  ProcessSlot* TakeLocalSlot();
  // Under mu_: returns o's slot to the table or to the free local slots.
  void GiveBack(const Owned& o) noexcept;
  void ReleaseAll() noexcept;
  void ResetAfterFork() noexcept;

  SegmentLayout* const layout_;
  const uint64_t engine_id_;
  const uint64_t way_offset_;  // internal::CacheWayOffsetFor(engine_id_)
  void (*on_child_after_fork_)(void*);
  void* context_;
  pid_t pid_;
  std::mutex mu_;
  std::vector<Owned> owned_;
  // Process-local slots: every one allocated, and those free for reuse.
  std::vector<std::unique_ptr<ProcessSlot>> local_slots_;
  std::vector<ProcessSlot*> free_local_;
  bool table_full_notice_ = false;
  int64_t last_full_reclaim_ns_ = 0;  // CLOCK_MONOTONIC_COARSE
  uint64_t last_decisions_ = 0;
};

// Every counter of `slot`, by index (decisions[5], failsafes, errors,
// anomalies).
inline AtomicU64& SlotCounter(ProcessSlot& slot, int i) {
  return i < 5    ? slot.decisions[i]
         : i == 5 ? slot.failsafes
         : i == 6 ? slot.errors
                  : slot.anomalies;
}

}  // namespace vix::shm

#endif  // VIXBREAKER_SHM_SLOTS_H_
