// Create, attach to and destroy the shared segment (SPEC 4).
//
// Creation is race-free: exactly one process creates the object (O_EXCL),
// sizes it, initialises every field and publishes `header.magic` last with
// release. Others open the existing object and wait, bounded, for the magic.
// A segment that fails validation (magic, major version, size, capacities,
// owner, mode) is refused with an error that names what is wrong and what to
// do; it is never reinitialised while others may use it.
#ifndef VIXBREAKER_SHM_SEGMENT_H_
#define VIXBREAKER_SHM_SEGMENT_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "vixbreaker/shm/layout.h"

namespace vix::shm {

inline constexpr size_t kSegmentNameMax = 200;

// `VIX_SEGMENT` if set and non-empty, else "vixbreaker".
std::string DefaultSegmentName();

// A name is 1..200 of [A-Za-z0-9._-], not starting with '.'; no '/'.
absl::Status ValidateSegmentName(absl::string_view name);

// "/dev/shm/NAME": where the segment lives on Linux.
std::string SegmentPath(absl::string_view name);

struct SegmentOptions {
  std::string name = DefaultSegmentName();
  // Empty: mode 0600, owner only. Otherwise mode 0660 with this group, and
  // members of it may attach.
  std::string group;
  // Scope table entries (index 0 is `global`), used only when this process
  // creates the segment; an existing segment keeps its own (SPEC 3).
  uint32_t scope_capacity = kDefaultScopeCapacity;
  // How long to wait for a creator to publish the ready word.
  absl::Duration attach_timeout = absl::Seconds(2);
};

class Segment {
 public:
  // Attaches read-write, creating the segment if it does not exist.
  static absl::StatusOr<std::unique_ptr<Segment>> OpenOrCreate(
      const SegmentOptions& options);

  // Attaches read-only (PROT_READ): the caller cannot write the segment.
  // NotFoundError if it does not exist.
  static absl::StatusOr<std::unique_ptr<Segment>> OpenReadOnly(
      const SegmentOptions& options);

  // Removes the name; processes attached keep their mapping until they
  // detach. NotFoundError if there is no such segment.
  static absl::Status Destroy(absl::string_view name);

  ~Segment();
  Segment(const Segment&) = delete;
  Segment& operator=(const Segment&) = delete;

  const SegmentLayout& layout() const { return *layout_; }
  uint32_t scope_capacity() const { return ScopeCapacityOf(*layout_); }
  // Null for a read-only attachment.
  SegmentLayout* mutable_layout() { return writable_ ? layout_ : nullptr; }
  const std::string& name() const { return name_; }
  bool created_by_this_process() const { return created_; }

  struct Mapping;  // opaque: the Boost.Interprocess object and region

 private:
  Segment(std::unique_ptr<Mapping> mapping, std::string name, bool writable,
          bool created);

  std::unique_ptr<Mapping> mapping_;
  SegmentLayout* layout_;
  std::string name_;
  bool writable_;
  bool created_;
};

// Checks a mapped header against this build (magic, major version, size,
// capacities, generation). `file_size` is the object's size on disk.
absl::Status ValidateHeader(const SegmentHeader& header, size_t file_size,
                            absl::string_view name);

}  // namespace vix::shm

#endif  // VIXBREAKER_SHM_SEGMENT_H_
