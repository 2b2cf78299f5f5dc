#include "vixbreaker/inspect/config_file.h"

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"

namespace vix::inspect {

absl::StatusOr<Config> LoadConfigFromEnv() {
  const char* path = std::getenv("VIX_CONFIG");
  if (path == nullptr || path[0] == '\0') return Config{};
  std::ifstream in(path);
  if (!in) {
    return absl::NotFoundError(
        absl::StrCat("cannot read VIX_CONFIG file ", path,
                     "; fix the path or unset VIX_CONFIG to use the defaults"));
  }
  std::stringstream text;
  text << in.rdbuf();
  absl::StatusOr<Config> config = ParseConfig(text.str());
  if (!config.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": ", config.status().message()));
  }
  return config;
}

}  // namespace vix::inspect
