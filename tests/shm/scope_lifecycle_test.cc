// A named scope's life (SPEC 3) on a real segment: removal, reuse of its
// entry by another name, stale handles, lookups that never create, and a
// table of chosen capacity filled to the last entry.
#include <set>
#include <string>

#include "absl/strings/str_cat.h"
#include "engine_fixture.h"
#include "gtest/gtest.h"
#include "test_util.h"
#include "vixbreaker/shm/engine.h"

namespace vix::shm {
namespace {

using namespace testing_fixture;  // NOLINT: the fixture's constants

int UsedScopes(const Engine& engine) {
  int used = 0;
  engine.scope_table()->ForEachUsed([&](ScopeHandle) { ++used; });
  return used;
}

class ScopeLifecycleTest : public ::testing::Test {
 protected:
  // Capacity 2 is `global` plus one named entry, so a new name must reuse
  // the removed one's entry.
  std::unique_ptr<Engine> Open(uint32_t capacity = kMinScopeCapacity) {
    return OpenTestEngine(segment_.name(), log_, &clock_, capacity);
  }
  Decision Decide(Engine& e, ScopeHandle h, Status status) {
    return e.Decide(h, status, Ttl(60), Stakes::kHigh);
  }

  testing::ScopedSegmentName segment_{"scopelife"};
  CachedClock clock_{kT0};
  LogFile log_;
};

TEST_F(ScopeLifecycleTest, RemoveRefusesWhileAnEpisodeRunsAndRemovesOtherwise) {
  auto engine = Open();
  absl::StatusOr<ScopeHandle> a = engine->FindOrCreateScope("a");
  ASSERT_TRUE(a.ok()) << a.status();
  ASSERT_EQ(Decide(*engine, *a, Status::kPanic).tier, 1);
  absl::Status refused = engine->RemoveScope("a");
  EXPECT_TRUE(absl::IsFailedPrecondition(refused)) << refused;
  EXPECT_TRUE(engine->FindScope("a").ok()) << "a refused removal keeps it";

  ASSERT_TRUE(*engine->ForceEnd(*a));
  absl::Status removed = engine->RemoveScope("a");
  EXPECT_TRUE(removed.ok()) << removed;
  EXPECT_TRUE(absl::IsNotFound(engine->FindScope("a").status()));
  EXPECT_TRUE(absl::IsNotFound(engine->RemoveScope("a")));
  EXPECT_TRUE(absl::IsFailedPrecondition(engine->RemoveScope("global")));
}

TEST_F(ScopeLifecycleTest, ARemovedEntryIsReusedAndItsOldHandleGoesStale) {
  auto engine = Open();
  ScopeHandle a = *engine->FindOrCreateScope("a");
  ASSERT_TRUE(engine->RemoveScope("a").ok());
  absl::StatusOr<ScopeHandle> b = engine->FindOrCreateScope("b");
  ASSERT_TRUE(b.ok()) << b.status() << " (the tombstone must be reusable)";
  ASSERT_EQ(b->index, a.index) << "the only named entry is reused";
  EXPECT_NE(b->generation, a.generation);

  Decision stale_panic = Decide(*engine, a, Status::kPanic);
  EXPECT_TRUE(stale_panic.stale_scope);
  EXPECT_EQ(stale_panic.mode, Mode::kPanicFull) << "fail-safe, never NORMAL";
  EXPECT_EQ(stale_panic.reason, Reason::kFailsafe);
  EXPECT_EQ(b->scope->episode.load(), 0)
      << "a stale handle's panic must not start the new owner's episode";

  const Decision started = Decide(*engine, *b, Status::kPanic);
  ASSERT_TRUE(started.first_writer);
  Decision stale_calm = Decide(*engine, a, Status::kNormal);
  EXPECT_TRUE(stale_calm.stale_scope);
  EXPECT_FALSE(stale_calm.ended_episode);
  Decision stale_again = Decide(*engine, a, Status::kPanic);
  EXPECT_TRUE(stale_again.stale_scope);
  EXPECT_EQ(stale_again.episode_start_ns, 0) << "never the new owner's episode";
  EXPECT_TRUE(absl::IsNotFound(engine->ForceStart(a, kT0 - kMinute)));
  EXPECT_EQ(EpisodeWord::StartNs(b->scope->episode.load()),
            started.episode_start_ns)
      << "a stale handle's forced start leaves the new owner's episode alone";
  EXPECT_FALSE(EpisodeWord::Forced(b->scope->episode.load()));
  absl::StatusOr<bool> stale_end = engine->ForceEnd(a);
  EXPECT_TRUE(absl::IsNotFound(stale_end.status()))
      << "a stale handle must not end the new owner's episode";
  EXPECT_NE(b->scope->episode.load(), 0);
  EXPECT_EQ(Decide(*engine, *b, Status::kPanic).episode_start_ns,
            started.episode_start_ns);

  uint64_t errors = 0;
  for (const ProcessSlot& slot : engine->segment()->layout().slots) {
    errors += slot.errors.load();
  }
  EXPECT_EQ(errors, 3u) << "each stale decision is counted as an error";
}

TEST_F(ScopeLifecycleTest, ReadingOrEndingNeverCreatesAScope) {
  auto engine = Open(kDefaultScopeCapacity);
  const int before = UsedScopes(*engine);
  for (const char* status : {"normal", "warning"}) {
    absl::StatusOr<Decision> d =
        engine->Decide("missing", status, 60, "", "", Stakes::kHigh);
    ASSERT_TRUE(d.ok()) << status << ": " << d.status();
    EXPECT_EQ(d->mode, Mode::kNormal);
    EXPECT_FALSE(d->ended_episode);
  }
  EXPECT_TRUE(absl::IsNotFound(engine->FindScope("missing").status()));
  EXPECT_EQ(UsedScopes(*engine), before) << "the table is unchanged";

  absl::StatusOr<Decision> panic =
      engine->Decide("missing", "panic", 60, "", "", Stakes::kHigh);
  ASSERT_TRUE(panic.ok()) << panic.status();
  EXPECT_EQ(UsedScopes(*engine), before + 1) << "a panic creates it";
}

TEST_F(ScopeLifecycleTest, ATableOf4096HoldsEveryNamedScope) {
  constexpr uint32_t kCapacity = 4096;
  auto engine = Open(kCapacity);
  ASSERT_EQ(engine->scope_table()->capacity(), kCapacity);
  std::set<uint32_t> indexes;
  for (uint32_t i = 1; i < kCapacity; ++i) {
    absl::StatusOr<ScopeHandle> s =
        engine->FindOrCreateScope(absl::StrCat("scope-", i));
    ASSERT_TRUE(s.ok()) << "scope " << i << " of " << kCapacity - 1 << ": "
                        << s.status();
    indexes.insert(s->index);
  }
  EXPECT_EQ(indexes.size(), kCapacity - 1) << "each in its own entry";
  EXPECT_EQ(indexes.count(kGlobalScopeIndex), 0u);
  EXPECT_EQ(UsedScopes(*engine), static_cast<int>(kCapacity));
  absl::StatusOr<ScopeHandle> full = engine->FindOrCreateScope("one-too-many");
  EXPECT_TRUE(absl::IsResourceExhausted(full.status())) << full.status();
  EXPECT_TRUE(engine->FindScope("scope-4095").ok());
  EXPECT_TRUE(engine->FindScope("scope-1").ok());
}

}  // namespace
}  // namespace vix::shm
