// The inspector's names for the segment's read model, which lives in shm/
// (vixbreaker/shm/reader.h): tools present it, they do not decode it.
#ifndef VIXBREAKER_INSPECT_SNAPSHOT_H_
#define VIXBREAKER_INSPECT_SNAPSHOT_H_

#include "vixbreaker/shm/reader.h"

namespace vix::inspect {

using shm::Counters;
using shm::EpisodeState;
using shm::EpisodeStateName;
using shm::HeaderView;
using shm::Health;
using shm::HealthOf;
using shm::Inspector;
using shm::kStatusSchemaVersion;
using shm::MirrorView;
using shm::OpenForInspection;
using shm::ProcessView;
using shm::ScopeView;
using shm::Snapshot;
using shm::StakesView;
using shm::Totals;

}  // namespace vix::inspect

#endif  // VIXBREAKER_INSPECT_SNAPSHOT_H_
