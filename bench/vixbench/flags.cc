#include "flags.h"

namespace vix::bench {

absl::StatusOr<Flags> Flags::Parse(const std::vector<std::string>& args,
                                   const std::set<std::string>& with_value,
                                   const std::set<std::string>& boolean) {
  absl::StatusOr<cli::Flags> parsed =
      cli::Flags::Parse(args, {with_value, boolean});
  if (!parsed.ok()) return parsed.status();
  return Flags(*std::move(parsed));
}

}  // namespace vix::bench
