// The scope table (SPEC 3): named panic clocks in a fixed-capacity,
// open-addressed table at the end of the segment.
//
// Entry 0 is `global`; named scopes hash into 1..capacity-1 with linear
// probing. An entry's state word (layout.h, ScopeStateWord) is published by
// one CAS that carries the claimer's pid and start time, so a claim left by
// a dead process is told from a live one as a slot is. Removal leaves a
// tombstone: lookups probe past it, creation reuses it, and the entry's
// generation is bumped so that a handle to the removed scope never decides
// on the entry's next owner.
//
// Reading never creates: Find and ForEachUsed only read.
#ifndef VIXBREAKER_SHM_SCOPE_TABLE_H_
#define VIXBREAKER_SHM_SCOPE_TABLE_H_

#include <sys/types.h>

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "vixbreaker/shm/layout.h"

namespace vix::shm {

// A resolved scope. Cheap to copy; valid while the engine lives. A handle
// whose generation no longer matches its entry's belongs to a removed scope:
// decisions on it are fail-safe and carry `stale_scope` (resolve again).
// Two words, so it travels in registers on the hot path.
struct ScopeHandle {
  Scope* scope = nullptr;  // null when the engine has no segment
  uint32_t index = 0;
  uint32_t generation = 0;  // low 32 bits of Scope::generation
};
static_assert(sizeof(ScopeHandle) == 16);

// The entry's generation as handles carry it.
inline uint32_t GenerationOf(const Scope& scope, std::memory_order order) {
  return static_cast<uint32_t>(scope.generation.load(order));
}

class ScopeTable {
 public:
  // `layout` is writable and outlives the table.
  ScopeTable(SegmentLayout& layout, pid_t self, uint64_t self_start_ticks);

  uint32_t capacity() const { return capacity_; }
  ScopeHandle global() const;
  ScopeHandle At(uint32_t index) const;

  // NotFound if no scope has that name; InvalidArgument for a bad name.
  absl::StatusOr<ScopeHandle> Find(absl::string_view name) const;
  // Finds or creates. ResourceExhausted when the table is full;
  // DeadlineExceeded if an entry stays claimed by a live process past
  // `claim_timeout`.
  absl::StatusOr<ScopeHandle> FindOrCreate(absl::string_view name,
                                           absl::Duration claim_timeout);
  // Removes a named scope with no episode. NotFound if absent,
  // FailedPrecondition while an episode runs (or for `global`).
  absl::Status Remove(absl::string_view name);

  // Calls fn(handle) for every used entry, `global` first.
  template <typename Fn>
  void ForEachUsed(Fn&& fn) const {
    for (uint32_t i = 0; i < capacity_; ++i) {
      const uint64_t state = scopes_[i].state.load(std::memory_order_acquire);
      if (ScopeStateWord::State(state) == kScopeUsed) fn(At(i));
    }
  }

 private:
  uint32_t Home(absl::string_view name, uint32_t probe) const;
  // A claim whose claimer is dead is given back (to a tombstone).
  bool ReleaseDeadClaim(Scope& scope, uint64_t state) const;

  Scope* scopes_;
  uint32_t capacity_;
  uint64_t claiming_;  // this process's ScopeStateWord for a claim
};

}  // namespace vix::shm

#endif  // VIXBREAKER_SHM_SCOPE_TABLE_H_
