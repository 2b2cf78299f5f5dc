#include "vixbreaker/shm/scope_table.h"

#include <chrono>
#include <thread>

#include "absl/strings/str_cat.h"
#include "vixbreaker/shm/process.h"
#include "vixbreaker/shm/scope_name.h"

namespace vix::shm {
namespace {

constexpr auto kAcquire = std::memory_order_acquire;
constexpr auto kRelaxed = std::memory_order_relaxed;

uint64_t ScopeHash(absl::string_view name) {
  uint64_t h = 1469598103934665603ull;  // FNV-1a
  for (unsigned char c : name) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

// Dead only when the kernel says so: no such process, or one whose start
// time (as read) differs from the claim's.
bool ClaimerDead(uint64_t state) {
  const pid_t pid = static_cast<pid_t>(ScopeStateWord::Pid(state));
  if (ProcessGone(pid, 0)) return true;
  const uint64_t actual = ProcessStartTicks(pid);
  return actual != 0 &&
         (actual & ScopeStateWord::kTicksMask) != ScopeStateWord::Ticks(state);
}

// Resets everything a previous owner of the entry left (the episode word
// is already 0), so its next owner starts clean.
void ClearEntry(Scope& s) {
  for (AtomicI64* f : {&s.last_panic_ns, &s.calm_since_ns, &s.remote_start_ns,
                       &s.remote_valid_until_mono_ns, &s.first_writer_pid,
                       &s.anomaly_logged_start, &s.last_transition_ns,
                       &s.mirror_published_ns, &s.forced_by_pid}) {
    f->store(0, kRelaxed);
  }
  for (AtomicU64* f :
       {&s.logged_tiers, &s.episodes_started, &s.episodes_ended}) {
    f->store(0, kRelaxed);
  }
  WriteScopeName(s, "");
}

}  // namespace

ScopeTable::ScopeTable(SegmentLayout& layout, pid_t self,
                       uint64_t self_start_ticks)
    : scopes_(ScopesOf(layout)),
      capacity_(ScopeCapacityOf(layout)),
      claiming_(ScopeStateWord::Make(kScopeClaiming, self, self_start_ticks)) {}

ScopeHandle ScopeTable::At(uint32_t index) const {
  Scope& s = scopes_[index];
  return ScopeHandle{&s, index, GenerationOf(s, kAcquire)};
}

ScopeHandle ScopeTable::global() const { return At(kGlobalScopeIndex); }

uint32_t ScopeTable::Home(absl::string_view name, uint32_t probe) const {
  return 1 + static_cast<uint32_t>((ScopeHash(name) + probe) % (capacity_ - 1));
}

bool ScopeTable::ReleaseDeadClaim(Scope& scope, uint64_t state) const {
  if (!ClaimerDead(state)) return false;
  // A tombstone, not free: a probe chain may run through this entry.
  return scope.state.compare_exchange_strong(
      state, ScopeStateWord::Make(kScopeRemoved, 0, 0),
      std::memory_order_acq_rel);
}

absl::StatusOr<ScopeHandle> ScopeTable::Find(absl::string_view name) const {
  absl::Status valid = ValidateScopeName(name);
  if (!valid.ok()) return valid;
  if (name == kGlobalScopeName) return global();
  for (uint32_t probe = 0; probe + 1 < capacity_; ++probe) {
    const uint32_t index = Home(name, probe);
    const uint64_t state = scopes_[index].state.load(kAcquire);
    const ScopeState kind = ScopeStateWord::State(state);
    if (kind == kScopeFree) break;
    if (kind == kScopeUsed && ReadScopeName(scopes_[index]) == name) {
      return At(index);
    }
  }
  return absl::NotFoundError(absl::StrCat("no scope \"", name, "\""));
}

absl::StatusOr<ScopeHandle> ScopeTable::FindOrCreate(
    absl::string_view name, absl::Duration claim_timeout) {
  absl::Status valid = ValidateScopeName(name);
  if (!valid.ok()) return valid;
  if (name == kGlobalScopeName) return global();
  const absl::Time deadline = absl::Now() + claim_timeout;
  // Each round walks the whole probe chain (up to a never-used entry) so a
  // scope that exists beyond a tombstone is found, then claims the first
  // reusable entry. A lost claim, or a claim in progress, restarts the walk.
  while (true) {
    int64_t reusable = -1;
    int64_t busy_pid = 0;
    for (uint32_t probe = 0; probe + 1 < capacity_; ++probe) {
      const uint32_t index = Home(name, probe);
      Scope& s = scopes_[index];
      const uint64_t state = s.state.load(kAcquire);
      const ScopeState kind = ScopeStateWord::State(state);
      if (kind == kScopeUsed) {
        if (ReadScopeName(s) == name) return At(index);
        continue;
      }
      if (kind == kScopeClaiming) {
        if (!ReleaseDeadClaim(s, state)) {
          busy_pid = ScopeStateWord::Pid(state);
        } else if (reusable < 0) {
          reusable = index;
        }
        continue;
      }
      if (reusable < 0) reusable = index;
      if (kind == kScopeFree) break;
    }
    if (busy_pid != 0) {
      // A live claimer names its entry within microseconds: it may be
      // creating this very name, so wait for it before claiming another.
      if (absl::Now() >= deadline) {
        return absl::DeadlineExceededError(
            absl::StrCat("a scope table entry on the probe path of \"", name,
                         "\" stays claimed by live pid ", busy_pid,
                         "; retry, or check for a stopped (SIGSTOP) process"));
      }
      std::this_thread::sleep_for(std::chrono::microseconds(100));
      continue;
    }
    if (reusable < 0) {
      return absl::ResourceExhaustedError(absl::StrCat(
          "scope table is full: all ", capacity_ - 1,
          " named scopes are in use; cannot add \"", name,
          "\" (remove unused scopes with `vixctl scope rm NAME`, or "
          "re-create the segment with a larger scope capacity)"));
    }
    Scope& s = scopes_[reusable];
    uint64_t state = s.state.load(kAcquire);
    const ScopeState kind = ScopeStateWord::State(state);
    if ((kind != kScopeFree && kind != kScopeRemoved) ||
        !s.state.compare_exchange_strong(state, claiming_,
                                         std::memory_order_acq_rel)) {
      continue;
    }
    ClearEntry(s);
    WriteScopeName(s, name);
    s.state.store(ScopeStateWord::Make(kScopeUsed, 0, 0),
                  std::memory_order_release);
    return At(static_cast<uint32_t>(reusable));
  }
}

absl::Status ScopeTable::Remove(absl::string_view name) {
  if (name == kGlobalScopeName) {
    return absl::FailedPreconditionError(
        "scope \"global\" cannot be removed: it always exists");
  }
  absl::StatusOr<ScopeHandle> found = Find(name);
  if (!found.ok()) return found.status();
  Scope& s = *found->scope;
  const auto episode_running = [&s, name] {
    return absl::FailedPreconditionError(absl::StrCat(
        "scope \"", name, "\" has an episode running; end it first (",
        "`vixctl panic end --scope ", name, "`)"));
  };
  if (s.episode.load(kAcquire) != 0) return episode_running();
  uint64_t state = s.state.load(kAcquire);
  if (ScopeStateWord::State(state) != kScopeUsed ||
      !s.state.compare_exchange_strong(state, claiming_,
                                       std::memory_order_acq_rel)) {
    return absl::AbortedError(absl::StrCat(
        "scope \"", name, "\" changed while being removed; retry"));
  }
  // Pairs with the starter's seq_cst CAS and generation check
  // (episodes.cc): either the starter sees the new generation and undoes
  // its start, or this load sees its episode.
  s.generation.fetch_add(1, std::memory_order_seq_cst);
  if (s.episode.load(std::memory_order_seq_cst) != 0) {
    s.state.store(ScopeStateWord::Make(kScopeUsed, 0, 0),
                  std::memory_order_release);
    return episode_running();
  }
  ClearEntry(s);
  s.state.store(ScopeStateWord::Make(kScopeRemoved, 0, 0),
                std::memory_order_release);
  return absl::OkStatus();
}

}  // namespace vix::shm
