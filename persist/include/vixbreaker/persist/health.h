// The mirror's health in the segment (SPEC 5, layout.h MirrorHealth and
// MirrorHot). Only the lease holder writes it, so counters are a relaxed
// load and store; the error text is guarded by a seqlock.
#ifndef VIXBREAKER_PERSIST_HEALTH_H_
#define VIXBREAKER_PERSIST_HEALTH_H_

#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"
#include "vixbreaker/shm/layout.h"
#include "vixbreaker/shm/reader.h"

namespace vix::persist {

class HealthWriter {
 public:
  // Writes the mirror lines of the segment (the lease holder only).
  HealthWriter(shm::MirrorHot& hot, shm::MirrorHealth& health)
      : hot_(hot), health_(health) {}

  // On taking the lease: marks the segment configured and sets the policy.
  void Configure(bool strict);
  // On a clean stop: mirroring was stopped on purpose, so the segment is no
  // longer "configured" (the inspector reports it healthy, not exit 5) and
  // `strict` no longer applies. A crashed holder leaves it configured.
  void Unconfigure();
  void SetConnected(bool connected);
  void CountReconnect();
  void AddCommands(uint64_t count);
  void CountInvalidValue();
  // A successful exchange; a later fail-safe is logged again.
  void Success(int64_t now_ns);
  // Strict decisions are trusted until `healthy_until_ns`. This line is read
  // by every panic decision, so the caller renews it at most about once a
  // second.
  void RenewHealthyUntil(int64_t healthy_until_ns);
  // A failed exchange. `text` must not contain secrets.
  void Error(int64_t now_ns, absl::string_view text);
  void SetPublishLag(int64_t lag_ns);

 private:
  void WriteErrorText(absl::string_view text);
  shm::MirrorHot& hot_;
  shm::MirrorHealth& health_;
};

// The segment's read model of the mirror lines (shm/reader.h).
using HealthSnapshot = shm::MirrorView;

// Reads health and lease without disturbing the writer, judged now.
HealthSnapshot ReadHealth(const shm::SegmentLayout& layout);

}  // namespace vix::persist

#endif  // VIXBREAKER_PERSIST_HEALTH_H_
