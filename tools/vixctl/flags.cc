#include "flags.h"

#include "vixbreaker/shm/segment.h"

namespace vix::ctl {

absl::StatusOr<Flags> Flags::Parse(const std::vector<std::string>& args,
                                   FlagSpec spec) {
  spec.with_value.insert("segment");
  spec.boolean.insert("json");
  absl::StatusOr<cli::Flags> parsed = cli::Flags::Parse(args, spec);
  if (!parsed.ok()) return parsed.status();
  return Flags(*std::move(parsed));
}

std::string Flags::segment() const {
  std::optional<std::string> name = Get("segment");
  return name ? *name : shm::DefaultSegmentName();
}

}  // namespace vix::ctl
