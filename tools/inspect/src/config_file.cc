#include "vixbreaker/inspect/config_file.h"

#include <sys/stat.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace vix::inspect {

absl::StatusOr<Config> LoadConfigFromEnv() {
  const char* path = std::getenv("VIX_CONFIG");
  if (path == nullptr || path[0] == '\0') return Config{};
  // A directory opens as a stream that reads as empty: name it instead.
  struct stat st;
  if (stat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "VIX_CONFIG names ", path, ", which is ",
        S_ISDIR(st.st_mode) ? "a directory" : "not a regular file",
        "; point it at the config file, or unset it for the defaults"));
  }
  std::ifstream in(path);
  if (!in) {
    return absl::NotFoundError(
        absl::StrCat("cannot read VIX_CONFIG file ", path,
                     "; fix the path or unset VIX_CONFIG to use the defaults"));
  }
  std::stringstream stream;
  stream << in.rdbuf();
  std::string text = stream.str();
  // Some editors start a file with a UTF-8 byte-order mark: not content.
  if (absl::StartsWith(text, "\xEF\xBB\xBF")) text.erase(0, 3);
  absl::StatusOr<Config> config = ParseConfig(text);
  if (!config.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": ", config.status().message()));
  }
  return config;
}

}  // namespace vix::inspect
