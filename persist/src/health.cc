#include "vixbreaker/persist/health.h"

#include <atomic>
#include <cstring>
#include <iterator>

#include "vixbreaker/shm/mirror_text.h"
#include "vixbreaker/shm/process.h"

namespace vix::persist {
namespace {

constexpr auto kRelaxed = std::memory_order_relaxed;

void Bump(shm::AtomicU64& counter) {
  counter.store(counter.load(kRelaxed) + 1, kRelaxed);
}

}  // namespace

void HealthWriter::Configure(bool strict) {
  hot_.strict.store(strict ? 1 : 0, kRelaxed);
  health_.configured.store(1, std::memory_order_release);
}

void HealthWriter::Unconfigure() {
  hot_.strict.store(0, kRelaxed);
  SetConnected(false);
  health_.configured.store(0, std::memory_order_release);
}

void HealthWriter::SetConnected(bool connected) {
  health_.connected.store(connected ? 1 : 0, kRelaxed);
}

void HealthWriter::CountReconnect() { Bump(health_.reconnects); }
void HealthWriter::AddCommands(uint64_t count) {
  shm::AtomicU64& sent = health_.commands_sent;
  sent.store(sent.load(kRelaxed) + count, kRelaxed);
}
void HealthWriter::CountInvalidValue() { Bump(health_.invalid_values); }

void HealthWriter::Success(int64_t now_ns) {
  health_.last_success_ns.store(now_ns, kRelaxed);
  shm::AtomicU64& failsafe_logged = hot_.failsafe_logged;
  if (failsafe_logged.load(kRelaxed) != 0) failsafe_logged.store(0, kRelaxed);
}

void HealthWriter::RenewHealthyUntil(int64_t healthy_until_ns) {
  hot_.healthy_until_ns.store(healthy_until_ns, kRelaxed);
}

void HealthWriter::Error(int64_t now_ns, absl::string_view text) {
  health_.last_error_ns.store(now_ns, kRelaxed);
  Bump(health_.redis_errors);
  WriteErrorText(text);
}

void HealthWriter::SetPublishLag(int64_t lag_ns) {
  health_.publish_lag_ns.store(lag_ns, kRelaxed);
}

void HealthWriter::WriteErrorText(absl::string_view text) {
  shm::WriteMirrorErrorText(health_, text);
}

HealthSnapshot ReadHealth(const shm::SegmentLayout& layout) {
  return shm::ReadMirror(layout, shm::RealtimeNowNs());
}

}  // namespace vix::persist
