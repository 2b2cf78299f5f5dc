#include "flags.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "vixbreaker/shm/segment.h"

namespace vix::ctl {

absl::StatusOr<Flags> Flags::Parse(const std::vector<std::string>& args,
                                   FlagSpec spec) {
  spec.with_value.insert("segment");
  spec.boolean.insert("json");
  Flags flags;
  for (size_t i = 0; i < args.size(); ++i) {
    absl::string_view arg = args[i];
    if (!absl::StartsWith(arg, "--") || arg.size() == 2) {
      return absl::InvalidArgumentError(
          absl::StrCat("unexpected argument \"", arg, "\""));
    }
    std::string name(arg.substr(2));
    std::optional<std::string> inline_value;
    if (size_t eq = name.find('='); eq != std::string::npos) {
      inline_value = name.substr(eq + 1);
      name.resize(eq);
    }
    std::string value;
    if (spec.boolean.count(name)) {
      if (inline_value) {
        return absl::InvalidArgumentError(
            absl::StrCat("flag --", name, " takes no value"));
      }
    } else if (spec.with_value.count(name)) {
      if (inline_value) {
        value = *inline_value;
      } else if (i + 1 < args.size() && !absl::StartsWith(args[i + 1], "--")) {
        value = args[++i];
      } else if (i + 1 < args.size()) {
        // `--status --json` is a forgotten value, not the status "--json";
        // a value that starts with "--" can still be given as --name=value.
        return absl::InvalidArgumentError(absl::StrCat(
            "flag --", name, " needs a value, got flag ", args[i + 1],
            " (use --", name, "=VALUE for a value starting with --)"));
      } else {
        return absl::InvalidArgumentError(
            absl::StrCat("flag --", name, " needs a value"));
      }
    } else {
      return absl::InvalidArgumentError(absl::StrCat("unknown flag --", name));
    }
    if (!flags.values_.emplace(name, value).second) {
      return absl::InvalidArgumentError(
          absl::StrCat("flag --", name, " given twice"));
    }
  }
  return flags;
}

bool Flags::Has(absl::string_view name) const {
  return values_.find(name) != values_.end();
}

std::optional<std::string> Flags::Get(absl::string_view name) const {
  auto it = values_.find(name);
  if (it == values_.end()) return std::nullopt;
  return it->second;
}

std::string Flags::segment() const {
  std::optional<std::string> name = Get("segment");
  return name ? *name : shm::DefaultSegmentName();
}

}  // namespace vix::ctl
