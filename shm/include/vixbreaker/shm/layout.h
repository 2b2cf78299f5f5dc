// The shared-memory segment layout, version 1.0 (SPEC 4).
//
// One POSIX shared-memory object per host and name (/dev/shm/NAME). Every
// field is a lock-free std::atomic of 64 bits or less; there are no pointers,
// so each process may map the segment at any address. Offsets are fixed by
// this header and checked by static_assert below.
//
//   offset  size   region            written by
//   ------  -----  ----------------  -----------------------------------------
//        0    128  SegmentHeader     creator, once; `magic` published last
//      128     64  SegmentTotals     slot reclaimers (counts of dead slots)
//      192     64  MirrorHot         mirror (<= 1/s); read by panic decisions
//      256     64  MirrorLease       lease holder / taker (CAS)
//      320    256  MirrorHealth      lease holder
//      576  64x192 Scope[64]         hot line: deciders; cold lines: slow paths
//    12864 256x128 ProcessSlot[256]  one deciding thread each (single writer)
//    45632  18560  Window            rolling-window breaker (SPEC 6)
//
//   Window:             [ mode_word | bucket_width | transitions | drops ]
//                       [ history: WindowTransition[64], 64 bytes each ]
//                       [ buckets: 1800 words, cycle:20 | panic:22 | all:22 ]
//   Scope (192 bytes):  [ hot: episode | last_panic | calm_since | logged ]
//                       [ cold: state | name[6] | remote_start ]
//                       [ stats: first_writer | started | ended | ... ]
//   ProcessSlot (128):  [ owner | start_ticks | heartbeat | attached ]
//                       [ decisions[5] | failsafes | errors | anomalies ]
//
// Compatibility: a reader refuses a segment whose major version differs; a
// minor version only ever adds fields in reserved space, so a reader accepts
// any minor of its major.
#ifndef VIXBREAKER_SHM_LAYOUT_H_
#define VIXBREAKER_SHM_LAYOUT_H_

#include <atomic>
#include <cstddef>
#include <cstdint>

namespace vix::shm {

inline constexpr uint64_t kMagic = 0x314b455242584956;  // "VIXBREK1" (LE)
inline constexpr uint32_t kLayoutMajor = 1;
inline constexpr uint32_t kLayoutMinor = 0;

inline constexpr size_t kCacheLine = 64;
inline constexpr uint32_t kScopeCapacity = 64;  // index 0 is `global`
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

// Counts carried over from reclaimed slots, so totals never go backwards.
struct alignas(kCacheLine) SegmentTotals {
  AtomicU64 retired_decisions[5];  // by Mode
  AtomicU64 retired_failsafes;
  AtomicU64 retired_errors;
  AtomicU64 retired_anomalies;
};

// Read by every panic decision (one line, written by the mirror <= 1/s).
// Under the `strict` policy, panic decisions fail safe once
// healthy_until_mono_ns has passed: that covers a dead mirror too.
// Deadlines named *_mono_ns are CLOCK_MONOTONIC (one clock for every process
// of the host, never stepped, SPEC 4); *_unix_ns are wall time.
struct alignas(kCacheLine) MirrorHot {
  AtomicU64 strict;                 // 1: Redis configured with `strict`
  AtomicI64 healthy_until_mono_ns;  // renewed by the mirror after successes
  AtomicU64 failsafe_logged;        // CAS 0->1: one process logs it
  AtomicI64 shown_healthy_until_unix_ns;  // the same deadline, for people
  AtomicU64 reserved[4];
};

// One mirror per host (SPEC 5): taken by CAS on holder_pid when expired.
struct alignas(kCacheLine) MirrorLease {
  AtomicI64 holder_pid;  // 0: no holder
  AtomicU64 holder_start_ticks;
  AtomicI64 expiry_mono_ns;  // the deadline every taker judges
  AtomicU64 takeovers;
  AtomicI64 shown_expiry_unix_ns;  // the holder's wall time of it, for people
  AtomicU64 reserved[3];
};

// Written by the lease holder only; the text is guarded by a seqlock
// (odd = being written).
struct alignas(kCacheLine) MirrorHealth {
  AtomicU64 configured;  // 1 from a lease holder's start to its clean stop
  AtomicU64 connected;
  AtomicI64 last_success_unix_ns;
  AtomicI64 last_error_unix_ns;
  AtomicU64 reconnects;
  AtomicI64 publish_lag_ns;
  AtomicU64 commands_sent;
  AtomicU64 redis_errors;
  AtomicU64 invalid_values;
  AtomicU64 error_text_seq;
  AtomicU64 error_text[16];  // 128 bytes, NUL padded
  AtomicU64 reserved[6];
};

// The episode word packs the start (Unix ns) with a `forced` flag in bit 0 so
// a force-start replaces both in one CAS and a decision reads both in one
// load. 0 means no episode; a start is never 0 (SPEC 3).
struct EpisodeWord {
  static constexpr int64_t kForcedBit = 1;
  static constexpr int64_t Make(int64_t start_ns, bool forced) {
    int64_t w = (start_ns & ~kForcedBit) | (forced ? kForcedBit : 0);
    return w == 0 ? 2 : w;  // keep "no episode" distinct from start 0
  }
  static constexpr int64_t StartNs(int64_t word) { return word & ~kForcedBit; }
  static constexpr bool Forced(int64_t word) { return word & kForcedBit; }
};

// Scope table entry states (low 8 bits of Scope::state; pid above).
enum ScopeState : uint64_t {
  kScopeFree = 0,
  kScopeClaiming = 1,
  kScopeUsed = 2
};

struct alignas(kCacheLine) Scope {
  // Hot line: read by every decision, written only on a state change or a
  // due refresh.
  AtomicI64 episode;        // EpisodeWord, 0 = none
  AtomicI64 last_panic_ns;  // refreshed <= 1/s; dead-man's switch
  AtomicI64 calm_since_ns;  // first non-panic observation (clear_after)
  AtomicU64 logged_tiers;   // episode tag << 12 | last tier logged per stakes
  AtomicU64 hot_reserved[4];

  // Cold line: identity and the mirror's cache.
  alignas(kCacheLine) AtomicU64 state;  // (claimer pid << 8) | ScopeState
  AtomicU64 name[6];                    // NUL padded, <= kScopeNameMax
  AtomicI64 remote_start_ns;            // another host's start, from Redis

  // Stats line: slow paths only.
  alignas(kCacheLine) AtomicI64 first_writer_pid;
  AtomicU64 episodes_started;
  AtomicU64 episodes_ended;
  AtomicI64 anomaly_logged_start;  // episode whose future start was logged
  AtomicI64 last_transition_ns;
  AtomicI64 mirror_published_ns;  // the start this host published to Redis
  AtomicI64 forced_by_pid;
  AtomicU64 stats_reserved[1];
};

// A deciding thread's slot. `owner` is (pid << 32 | tid), 0 when free, and
// (reclaimer pid << 32 | kSlotReclaimTid) while a dead owner's counts move
// to SegmentTotals; only the owner thread writes the counters, with a
// relaxed load and store.
inline constexpr uint32_t kSlotReclaimTid = 0xffffffff;
inline constexpr bool SlotBeingReclaimed(uint64_t owner) {
  return (owner & 0xffffffff) == kSlotReclaimTid;
}

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

struct SegmentLayout {
  SegmentHeader header;
  SegmentTotals totals;
  MirrorHot mirror_hot;
  MirrorLease lease;
  MirrorHealth health;
  Scope scopes[kScopeCapacity];
  ProcessSlot slots[kSlotCapacity];
  Window window;
};

static_assert(sizeof(SegmentHeader) == 128);
static_assert(sizeof(SegmentTotals) == 64);
static_assert(sizeof(MirrorHot) == 64);
static_assert(sizeof(MirrorLease) == 64);
static_assert(sizeof(MirrorHealth) == 256);
static_assert(sizeof(Scope) == 192);
static_assert(sizeof(ProcessSlot) == 128);
static_assert(offsetof(SegmentLayout, totals) == 128);
static_assert(offsetof(SegmentLayout, mirror_hot) == 192);
static_assert(offsetof(SegmentLayout, lease) == 256);
static_assert(offsetof(SegmentLayout, health) == 320);
static_assert(offsetof(SegmentLayout, scopes) == 576);
static_assert(offsetof(SegmentLayout, slots) == 12864);
static_assert(offsetof(SegmentLayout, window) == 45632);
static_assert(offsetof(Scope, state) == kCacheLine, "hot line is alone");
static_assert(offsetof(ProcessSlot, decisions) == kCacheLine);
static_assert(sizeof(WindowTransition) == kCacheLine);
static_assert(offsetof(Window, history) == kCacheLine);
static_assert(sizeof(Window) == 18560);
static_assert(sizeof(SegmentLayout) % kCacheLine == 0);

inline constexpr size_t kSegmentSize = sizeof(SegmentLayout);

}  // namespace vix::shm

#endif  // VIXBREAKER_SHM_LAYOUT_H_
