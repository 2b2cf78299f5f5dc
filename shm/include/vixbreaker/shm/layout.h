// The shared-memory segment layout, version 2.0 (SPEC 4).
//
// One POSIX shared-memory object per host and name (/dev/shm/NAME). Every
// field is a lock-free std::atomic of 64 bits or less; there are no pointers,
// so each process may map the segment at any address. Offsets are fixed by
// this header and checked by static_assert below; only the scope table's
// length varies (chosen at creation, recorded in the header).
//
//   offset  size   region            written by
//   ------  -----  ----------------  -----------------------------------------
//        0    128  SegmentHeader     creator, once; `magic` published last
//      128     64  SegmentCounters   any process (log drops; rare)
//      192     64  MirrorHot         mirror (<= 1/s); read by panic decisions
//      256     64  MirrorLease       lease holder / taker (CAS)
//      320    256  MirrorHealth      lease holder
//      576 256x192 ProcessSlot[256]  one deciding thread each (single writer)
//    49728  18560  Window            rolling-window breaker (SPEC 6)
//    68288  Nx192  Scope[N]          N = header.scope_capacity (default 64)
//
//   Window:             [ mode_word | bucket_width | transitions | drops ]
//                       [ history: WindowTransition[64], 64 bytes each ]
//                       [ buckets: 1800 words, cycle:20 | panic:22 | all:22 ]
//   Scope (192 bytes):  [ hot: episode | last_panic | calm_since | logged |
//                              generation | remote_start | remote_valid ]
//                       [ cold: state | name[6] | claimer_ticks ]
//                       [ stats: first_writer | started | ended | ...  |
//                                remote_end_request ]
//   ProcessSlot (192):  [ owner | start_ticks | heartbeat | attached ]
//                       [ decisions[5] | failsafes | errors | anomalies ]
//                       [ base: the counters when the owner claimed it ]
//
// Counters are never moved or reset: a slot's counters keep counting across
// owners (each owner adds to what its predecessor left), so the sum over all
// slots only ever grows, whatever a reader's order and whoever dies when.
//
// Compatibility: a reader refuses a segment whose major version differs; a
// minor version only ever adds fields in reserved space, so a reader accepts
// any minor of its major. 2.0 moved the scope table to the end (variable
// capacity) and made slot counters cumulative: 1.x readers must refuse it.
#ifndef VIXBREAKER_SHM_LAYOUT_H_
#define VIXBREAKER_SHM_LAYOUT_H_

#include <atomic>
#include <cstddef>
#include <cstdint>

namespace vix::shm {

inline constexpr uint64_t kMagic = 0x314b455242584956;  // "VIXBREK1" (LE)
inline constexpr uint32_t kLayoutMajor = 2;
inline constexpr uint32_t kLayoutMinor = 0;

inline constexpr size_t kCacheLine = 64;
// Scope table length: chosen at creation (index 0 is `global`).
inline constexpr uint32_t kDefaultScopeCapacity = 64;
inline constexpr uint32_t kMinScopeCapacity = 2;
inline constexpr uint32_t kMaxScopeCapacity = 65536;
inline constexpr uint32_t kSlotCapacity = 256;
inline constexpr uint32_t kWindowBuckets = 1800;  // 30 min of 1 s buckets
inline constexpr uint32_t kTransitionHistory = 64;
inline constexpr size_t kScopeNameMax = 47;  // + NUL in 6 words
inline constexpr uint32_t kGlobalScopeIndex = 0;

using AtomicU64 = std::atomic<uint64_t>;
using AtomicI64 = std::atomic<int64_t>;
using AtomicU32 = std::atomic<uint32_t>;
static_assert(AtomicU64::is_always_lock_free);
static_assert(AtomicI64::is_always_lock_free);
static_assert(AtomicU32::is_always_lock_free);

// Written once by the creator before `magic` is stored with release.
struct alignas(kCacheLine) SegmentHeader {
  AtomicU64 magic;  // the ready word: 0 while the creator initialises
  AtomicU32 layout_major;
  AtomicU32 layout_minor;
  AtomicU64 total_size;
  AtomicI64 created_unix_ns;
  AtomicI64 creator_pid;
  AtomicU64 creator_start_ticks;
  AtomicU64 generation;  // unique per creation; tells a re-created segment
  AtomicU32 scope_capacity;
  AtomicU32 slot_capacity;
  AtomicU32 window_buckets;
  AtomicU32 transition_history;
  AtomicU64 reserved[7];
};

// Host-wide counts that belong to no slot.
struct alignas(kCacheLine) SegmentCounters {
  // Log events that a process dropped because its log writer could not keep
  // up (a stalled reader of its stderr, a full queue): SPEC 8, 9.
  AtomicU64 log_events_dropped;
  AtomicU64 reserved[7];
};

// Read by every panic decision (one line, written by the mirror <= 1/s).
// Under the `strict` policy, panic decisions fail safe once
// healthy_until_ns has passed: that covers a dead mirror too.
struct alignas(kCacheLine) MirrorHot {
  AtomicU64 strict;            // 1: Redis configured with policy `strict`
  AtomicI64 healthy_until_ns;  // renewed by the mirror after each success
  AtomicU64 failsafe_logged;   // CAS 0->1: one process logs the fail-safe
  AtomicU64 reserved[5];
};

// One mirror per host (SPEC 5): taken by CAS on holder_pid when expired.
struct alignas(kCacheLine) MirrorLease {
  AtomicI64 holder_pid;  // 0: no holder
  AtomicU64 holder_start_ticks;
  AtomicI64 expiry_unix_ns;
  AtomicU64 takeovers;
  AtomicU64 reserved[4];
};

// Written by the lease holder only; the text is guarded by a seqlock
// (odd = being written).
struct alignas(kCacheLine) MirrorHealth {
  AtomicU64 configured;  // 1 from a lease holder's start to its clean stop
  AtomicU64 connected;
  AtomicI64 last_success_ns;
  AtomicI64 last_error_ns;
  AtomicU64 reconnects;
  AtomicI64 publish_lag_ns;
  AtomicU64 commands_sent;
  AtomicU64 redis_errors;
  AtomicU64 invalid_values;
  AtomicU64 error_text_seq;
  AtomicU64 error_text[16];  // 128 bytes, NUL padded
  AtomicU64 reserved[6];
};

// The episode word packs the start (Unix ns) with two flags in its low bits
// so that one CAS replaces all three and a decision reads all three in one
// load: `forced` (an admin's start) and `unconfirmed` (a start adopted from
// the mirror's cache of Redis that the mirror has not yet confirmed; it
// decides tier 1, SPEC 3). 0 means no episode; a start is never 0.
struct EpisodeWord {
  static constexpr int64_t kForcedBit = 1;
  static constexpr int64_t kUnconfirmedBit = 2;
  static constexpr int64_t kFlagBits = kForcedBit | kUnconfirmedBit;
  static constexpr int64_t Make(int64_t start_ns, bool forced,
                                bool unconfirmed = false) {
    int64_t w = (start_ns & ~kFlagBits) | (forced ? kForcedBit : 0) |
                (unconfirmed ? kUnconfirmedBit : 0);
    return w == 0 ? 4 : w;  // keep "no episode" distinct from start 0
  }
  static constexpr int64_t StartNs(int64_t word) { return word & ~kFlagBits; }
  static constexpr bool Forced(int64_t word) { return word & kForcedBit; }
  static constexpr bool Unconfirmed(int64_t word) {
    return word & kUnconfirmedBit;
  }
  // The start as a word can hold it (what a round trip through Make keeps).
  static constexpr int64_t Normalize(int64_t start_ns) {
    return StartNs(Make(start_ns, false));
  }
};

// Scope::state packs, so that one CAS publishes a claim with its owner:
//   bits  1..0  ScopeState
//   bits 23..2  claimer pid (Linux pid_max is at most 2^22)
//   bits 63..24 claimer start time in clock ticks (low 40 bits)
// A claimer is judged like a slot owner: dead only if the kernel says so.
enum ScopeState : uint64_t {
  kScopeFree = 0,      // never used: ends a probe sequence
  kScopeClaiming = 1,  // being named by the claimer
  kScopeUsed = 2,
  kScopeRemoved = 3,  // tombstone: reusable, but probes continue past it
};
struct ScopeStateWord {
  static constexpr uint64_t kStateMask = 0x3;
  static constexpr uint64_t kPidMask = (uint64_t{1} << 22) - 1;
  static constexpr uint64_t kTicksMask = (uint64_t{1} << 40) - 1;
  static constexpr ScopeState State(uint64_t word) {
    return static_cast<ScopeState>(word & kStateMask);
  }
  static constexpr int64_t Pid(uint64_t word) {
    return static_cast<int64_t>((word >> 2) & kPidMask);
  }
  static constexpr uint64_t Ticks(uint64_t word) { return word >> 24; }
  static constexpr uint64_t Make(ScopeState state, int64_t pid,
                                 uint64_t start_ticks) {
    return (static_cast<uint64_t>(pid) & kPidMask) << 2 |
           (start_ticks & kTicksMask) << 24 | state;
  }
};

struct alignas(kCacheLine) Scope {
  // Hot line: read by every decision, written only on a state change or a
  // due refresh.
  AtomicI64 episode;        // EpisodeWord, 0 = none
  AtomicI64 last_panic_ns;  // refreshed <= 1/s; dead-man's switch
  AtomicI64 calm_since_ns;  // first non-panic observation (clear_after)
  AtomicU64 logged_tiers;   // episode tag << 12 | last tier logged per stakes
  // Bumped when the entry is removed: a handle that carries another value
  // belongs to a removed scope (one load on a line every decision reads).
  AtomicU64 generation;
  // The mirror's cache of another host's start (SPEC 3): adopted by a new
  // local episode only while CLOCK_MONOTONIC < remote_valid_until_mono_ns.
  AtomicI64 remote_start_ns;
  AtomicI64 remote_valid_until_mono_ns;
  AtomicU64 hot_reserved[1];

  // Cold line: identity.
  alignas(kCacheLine) AtomicU64 state;  // ScopeStateWord
  AtomicU64 name[6];                    // NUL padded, <= kScopeNameMax
  AtomicU64 cold_reserved[1];

  // Stats line: slow paths only.
  alignas(kCacheLine) AtomicI64 first_writer_pid;
  AtomicU64 episodes_started;
  AtomicU64 episodes_ended;
  AtomicI64 anomaly_logged_start;  // episode whose future start was logged
  AtomicI64 last_transition_ns;
  AtomicI64 mirror_published_ns;  // the start this host published to Redis
  AtomicI64 forced_by_pid;
  // A calm observation ended the remote episode this host had cached: the
  // start for the mirror to compare-and-delete in Redis (SPEC 3), 0 if none.
  AtomicI64 remote_end_request_ns;
};

// A deciding thread's slot. `owner` is (pid << 32 | tid), 0 when free, and
// (reclaimer pid << 32 | kSlotReclaimTid) while a reclaimer frees a dead
// owner's slot. Only the owner thread writes the counters, with a relaxed
// load and store; they are cumulative across owners (see the top).
inline constexpr uint32_t kSlotReclaimTid = 0xffffffff;
inline constexpr bool SlotBeingReclaimed(uint64_t owner) {
  return (owner & 0xffffffff) == kSlotReclaimTid;
}
inline constexpr int kSlotCounters = 8;  // decisions[5], fs, errors, anom.

struct alignas(kCacheLine) ProcessSlot {
  AtomicU64 owner;
  AtomicU64 start_ticks;  // process start time, guards against pid reuse
  AtomicI64 heartbeat_ns;
  AtomicI64 attached_ns;
  AtomicU64 identity_reserved[4];

  alignas(kCacheLine) AtomicU64 decisions[5];  // by Mode
  AtomicU64 failsafes;
  AtomicU64 errors;
  AtomicU64 anomalies;

  // The counters when this owner claimed the slot, in the same order: the
  // owner's own counts are the counters minus these (per-process views).
  alignas(kCacheLine) AtomicU64 base[kSlotCounters];
};

// One second (by default) of the rolling window, packed in one word so that
// one CAS both recycles a stale bucket and counts a sample, and a concurrent
// count is never lost:
//   bits 63..44  cycle: bucket number / kWindowBuckets, mod 2^20 (60 years
//                of 1 s buckets before a stale bucket could look fresh)
//   bits 43..22  panic samples (saturates at 2^22 - 1 per bucket)
//   bits 21..0   all samples
struct WindowBucket {
  AtomicU64 packed;
};

// One breaker transition. `sequence` (the transition's number, from 1) is 0
// while the entry is written and is stored last with release, so a reader
// recognises a torn entry.
struct alignas(kCacheLine) WindowTransition {
  AtomicU64 sequence;
  AtomicI64 at_ns;
  AtomicU64 from_mode;
  AtomicU64 to_mode;
  AtomicU64 panic_ratio_ppm;  // parts per million
  AtomicU64 panic_samples;
  AtomicU64 total_samples;
  AtomicI64 pid;  // the process whose CAS made (and logged) the transition
};

struct alignas(kCacheLine) Window {
  AtomicU64 mode_word;  // (sequence << 8) | breaker mode; CAS per transition
  AtomicI64 bucket_width_ns;    // set by the creator
  AtomicU64 transitions_total;  // history entries written
  AtomicU64 late_samples;       // dropped: bucket reused by a later clock
  AtomicU64 saturated_samples;  // dropped: bucket counter full
  AtomicU64 reserved[3];
  WindowTransition history[kTransitionHistory];  // ring by sequence
  WindowBucket buckets[kWindowBuckets];
};

// The fixed part; the scope table follows it (ScopesOf below).
struct SegmentLayout {
  SegmentHeader header;
  SegmentCounters counters;
  MirrorHot mirror_hot;
  MirrorLease lease;
  MirrorHealth health;
  ProcessSlot slots[kSlotCapacity];
  Window window;
};

static_assert(sizeof(SegmentHeader) == 128);
static_assert(sizeof(SegmentCounters) == 64);
static_assert(sizeof(MirrorHot) == 64);
static_assert(sizeof(MirrorLease) == 64);
static_assert(sizeof(MirrorHealth) == 256);
static_assert(sizeof(Scope) == 192);
static_assert(sizeof(ProcessSlot) == 192);
static_assert(offsetof(SegmentLayout, counters) == 128);
static_assert(offsetof(SegmentLayout, mirror_hot) == 192);
static_assert(offsetof(SegmentLayout, lease) == 256);
static_assert(offsetof(SegmentLayout, health) == 320);
static_assert(offsetof(SegmentLayout, slots) == 576);
static_assert(offsetof(SegmentLayout, window) == 49728);
static_assert(offsetof(Scope, state) == kCacheLine, "hot line is alone");
static_assert(offsetof(Scope, first_writer_pid) == 2 * kCacheLine);
static_assert(offsetof(ProcessSlot, decisions) == kCacheLine);
static_assert(offsetof(ProcessSlot, base) == 2 * kCacheLine);
static_assert(sizeof(WindowTransition) == kCacheLine);
static_assert(offsetof(Window, history) == kCacheLine);
static_assert(sizeof(Window) == 18560);
static_assert(sizeof(SegmentLayout) == 68288);
static_assert(sizeof(SegmentLayout) % kCacheLine == 0);

// The segment's size for a scope table of `scope_capacity` entries.
inline constexpr size_t SegmentSize(uint32_t scope_capacity) {
  return sizeof(SegmentLayout) + size_t{scope_capacity} * sizeof(Scope);
}

// The scope table, right after the fixed part. Its length is
// header.scope_capacity, validated at attach (segment.cc).
inline Scope* ScopesOf(SegmentLayout& layout) {
  return reinterpret_cast<Scope*>(reinterpret_cast<char*>(&layout) +
                                  sizeof(SegmentLayout));
}
inline const Scope* ScopesOf(const SegmentLayout& layout) {
  return reinterpret_cast<const Scope*>(reinterpret_cast<const char*>(&layout) +
                                        sizeof(SegmentLayout));
}
inline uint32_t ScopeCapacityOf(const SegmentLayout& layout) {
  return layout.header.scope_capacity.load(std::memory_order_relaxed);
}

}  // namespace vix::shm

#endif  // VIXBREAKER_SHM_LAYOUT_H_
