#include "inspect_test_util.h"

#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "vixbreaker/shm/layout.h"
#include "vixbreaker/shm/process.h"
#include "vixbreaker/shm/scope_name.h"

namespace vix::testing {
namespace {

constexpr auto kRelaxed = std::memory_order_relaxed;
constexpr int64_t kS = 1'000'000'000;
constexpr int64_t kMin = 60 * kS;

void NameScope(shm::Scope& scope, const std::string& name) {
  shm::WriteScopeName(scope, name);
  scope.state.store((uint64_t{1} << 8) | shm::kScopeUsed,
                    std::memory_order_release);
}

void SetCounters(shm::ProcessSlot& slot, std::vector<uint64_t> decisions,
                 uint64_t failsafes, uint64_t errors, uint64_t anomalies) {
  for (size_t m = 0; m < decisions.size(); ++m) {
    slot.decisions[m].store(decisions[m], kRelaxed);
  }
  slot.failsafes.store(failsafes, kRelaxed);
  slot.errors.store(errors, kRelaxed);
  slot.anomalies.store(anomalies, kRelaxed);
}

void WriteErrorText(shm::MirrorHealth& health, const std::string& text) {
  char buf[sizeof(health.error_text)] = {};
  std::memcpy(buf, text.data(), std::min(text.size(), sizeof(buf) - 1));
  const uint64_t seq = health.error_text_seq.load(kRelaxed);
  health.error_text_seq.store(seq + 1, kRelaxed);
  // Release stores keep the odd sequence before the text (no fence: TSan
  // builds reject fences).
  for (size_t i = 0; i < std::size(health.error_text); ++i) {
    uint64_t word;
    std::memcpy(&word, buf + i * 8, 8);
    health.error_text[i].store(word, std::memory_order_release);
  }
  health.error_text_seq.store(seq + 2, std::memory_order_release);
}

void WriteHeader(shm::SegmentLayout& l) {
  const int64_t now = kFixtureNowNs;
  l.header.created_unix_ns.store(now - 120 * kMin, kRelaxed);
  l.header.creator_pid.store(1, kRelaxed);
  l.header.creator_start_ticks.store(shm::ProcessStartTicks(1), kRelaxed);
  l.header.generation.store(42, kRelaxed);
}

// global: 90 min old, so high tier 2, medium tier 3 and low tier 4 (an age
// exactly on a threshold is in the higher tier). Other scopes: forced, none,
// expired (dead-man's switch) and a start in the future (clock skew).
void WriteScopes(shm::SegmentLayout& l) {
  const int64_t now = kFixtureNowNs;
  shm::Scope& global = shm::ScopesOf(l)[0];
  global.episode.store(shm::EpisodeWord::Make(now - 90 * kMin, false),
                       kRelaxed);
  global.last_panic_ns.store(now - 3 * kS, kRelaxed);
  global.first_writer_pid.store(4242, kRelaxed);
  global.episodes_started.store(3, kRelaxed);
  global.episodes_ended.store(2, kRelaxed);
  global.last_transition_ns.store(now - 90 * kMin, kRelaxed);

  shm::Scope& forced = shm::ScopesOf(l)[1];
  NameScope(forced, "ucl:final");
  forced.episode.store(shm::EpisodeWord::Make(now - 10 * kMin, true), kRelaxed);
  forced.last_panic_ns.store(now - 10 * kMin, kRelaxed);
  forced.forced_by_pid.store(4343, kRelaxed);
  forced.episodes_started.store(1, kRelaxed);

  shm::Scope& calm = shm::ScopesOf(l)[2];
  NameScope(calm, "ligue-1");
  calm.episodes_started.store(1, kRelaxed);
  calm.episodes_ended.store(1, kRelaxed);

  shm::Scope& stale = shm::ScopesOf(l)[3];
  NameScope(stale, "stale");
  stale.episode.store(shm::EpisodeWord::Make(now - 30 * 60 * kMin, false),
                      kRelaxed);
  stale.last_panic_ns.store(now - 25 * 60 * kMin, kRelaxed);
  stale.first_writer_pid.store(4444, kRelaxed);
  stale.episodes_started.store(1, kRelaxed);

  shm::Scope& skewed = shm::ScopesOf(l)[4];
  NameScope(skewed, "skewed");
  skewed.episode.store(shm::EpisodeWord::Make(now + 2 * kMin, false), kRelaxed);
  skewed.last_panic_ns.store(now, kRelaxed);
  skewed.first_writer_pid.store(4545, kRelaxed);
  skewed.remote_start_ns.store(now + 2 * kMin, kRelaxed);
  skewed.episodes_started.store(1, kRelaxed);
}

void WriteMirror(shm::SegmentLayout& l) {
  const int64_t now = kFixtureNowNs;
  l.lease.holder_start_ticks.store(shm::ProcessStartTicks(1), kRelaxed);
  l.lease.shown_expiry_unix_ns.store(now + 5 * kS, kRelaxed);
  l.lease.expiry_mono_ns.store(shm::MonotonicNowNs() + 60 * kMin, kRelaxed);
  l.lease.takeovers.store(1, kRelaxed);
  l.lease.holder_pid.store(1, std::memory_order_release);
  shm::MirrorHealth& h = l.health;
  h.connected.store(1, kRelaxed);
  h.last_success_unix_ns.store(now - kS, kRelaxed);
  h.last_error_unix_ns.store(now - 2 * kMin, kRelaxed);
  h.reconnects.store(2, kRelaxed);
  h.publish_lag_ns.store(1'200'000, kRelaxed);
  h.commands_sent.store(1200, kRelaxed);
  h.redis_errors.store(3, kRelaxed);
  h.invalid_values.store(1, kRelaxed);
  WriteErrorText(h, "READONLY You can't write against a read only replica.");
  h.configured.store(1, std::memory_order_release);
}

void WriteSlots(shm::SegmentLayout& l) {
  const int64_t now = kFixtureNowNs;
  shm::ProcessSlot& live = l.slots[0];
  live.start_ticks.store(shm::ProcessStartTicks(1), kRelaxed);
  live.attached_ns.store(now - 120 * kMin, kRelaxed);
  live.heartbeat_ns.store(now - kS, kRelaxed);
  SetCounters(live, {100, 20, 30, 0, 0}, 0, 1, 0);
  live.owner.store((uint64_t{1} << 32) | 1, std::memory_order_release);

  shm::ProcessSlot& dead = l.slots[5];
  dead.start_ticks.store(12345, kRelaxed);
  dead.attached_ns.store(now - 100 * kMin, kRelaxed);
  dead.heartbeat_ns.store(now - 60 * kMin, kRelaxed);
  SetCounters(dead, {7, 0, 0, 0, 0}, 0, 0, 0);
  dead.owner.store((static_cast<uint64_t>(kDeadPid) << 32) | kDeadPid,
                   std::memory_order_release);

  // Counts left by owners that are gone stay in their (now free) slot.
  SetCounters(l.slots[9], {1000, 50, 0, 0, 0}, 2, 0, 1);
  l.counters.log_events_dropped.store(3, kRelaxed);
}

}  // namespace

std::unique_ptr<shm::Segment> CreateEmptySegment(const std::string& name) {
  shm::SegmentOptions options;
  options.name = name;
  auto segment = shm::Segment::OpenOrCreate(options);
  if (!segment.ok()) {
    ADD_FAILURE() << "cannot create segment " << name << ": "
                  << segment.status();
    std::abort();
  }
  return *std::move(segment);
}

std::unique_ptr<shm::Segment> BuildFixtureSegment(const std::string& name) {
  std::unique_ptr<shm::Segment> segment = CreateEmptySegment(name);
  shm::SegmentLayout& l = *segment->mutable_layout();
  WriteHeader(l);
  WriteScopes(l);
  WriteMirror(l);
  WriteSlots(l);
  return segment;
}

void SetMirror(shm::Segment& segment, bool connected, int64_t lease_expiry_ns) {
  shm::SegmentLayout& l = *segment.mutable_layout();
  if (connected) {
    l.lease.holder_start_ticks.store(shm::SelfStartTicks(), kRelaxed);
    l.lease.shown_expiry_unix_ns.store(lease_expiry_ns, kRelaxed);
    // The same distance from now on the clock the inspector judges by.
    l.lease.expiry_mono_ns.store(
        shm::MonotonicNowNs() + (lease_expiry_ns - shm::RealtimeNowNs()),
        kRelaxed);
    l.lease.holder_pid.store(getpid(), std::memory_order_release);
  }
  l.health.connected.store(connected ? 1 : 0, kRelaxed);
  l.health.configured.store(1, std::memory_order_release);
}

std::string ReadFileOrDie(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    ADD_FAILURE() << "cannot read " << path;
    return "";
  }
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

void WriteFileOrDie(const std::string& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << content;
  if (!out) ADD_FAILURE() << "cannot write " << path;
}

std::string ReplaceAll(std::string text, const std::string& from,
                       const std::string& to) {
  for (size_t at = text.find(from); at != std::string::npos;
       at = text.find(from, at + to.size())) {
    text.replace(at, from.size(), to);
  }
  return text;
}

}  // namespace vix::testing
