#include "vixbreaker/shm/scope_name.h"

#include <cstring>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"

namespace vix::shm {

absl::Status ValidateScopeName(absl::string_view name) {
  if (name.empty() || name.size() > kScopeNameMax) {
    return absl::InvalidArgumentError(
        absl::StrCat("bad scope name: length ", name.size(), ", expected 1..",
                     kScopeNameMax));
  }
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || c == '_' || c == '.' || c == ':' ||
              c == '-';
    if (!ok) {
      return absl::InvalidArgumentError(
          absl::StrCat("bad scope name \"", absl::CHexEscape(name),
                       "\": use letters, digits, '_', '.', ':', '-'"));
    }
  }
  return absl::OkStatus();
}

void WriteScopeName(Scope& scope, absl::string_view name) {
  char buf[sizeof(scope.name)] = {};
  std::memcpy(buf, name.data(), std::min(name.size(), kScopeNameMax));
  for (size_t i = 0; i < std::size(scope.name); ++i) {
    uint64_t word;
    std::memcpy(&word, buf + i * 8, 8);
    scope.name[i].store(word, std::memory_order_relaxed);
  }
}

std::string ReadScopeName(const Scope& scope) {
  char buf[sizeof(scope.name) + 1] = {};
  for (size_t i = 0; i < std::size(scope.name); ++i) {
    uint64_t word = scope.name[i].load(std::memory_order_relaxed);
    std::memcpy(buf + i * 8, &word, 8);
  }
  return std::string(buf, strnlen(buf, kScopeNameMax));
}

}  // namespace vix::shm
