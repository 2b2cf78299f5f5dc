#include "vixbreaker/cli/flags.h"

#include <cmath>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace vix::cli {
namespace {

absl::Status NeedsValue(absl::string_view name, const std::string* next) {
  if (next == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("flag --", name, " needs a value"));
  }
  return absl::InvalidArgumentError(
      absl::StrCat("flag --", name, " needs a value, got flag ", *next,
                   " (use --", name, "=VALUE for a value starting with --)"));
}

}  // namespace

absl::StatusOr<Flags> Flags::Parse(const std::vector<std::string>& args,
                                   const FlagSpec& spec) {
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
      } else {
        return NeedsValue(name, i + 1 < args.size() ? &args[i + 1] : nullptr);
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

std::string Flags::GetOr(absl::string_view name,
                         absl::string_view fallback) const {
  std::optional<std::string> value = Get(name);
  return value ? *value : std::string(fallback);
}

absl::StatusOr<double> Flags::GetDouble(absl::string_view name, double fallback,
                                        double min, double max) const {
  std::optional<std::string> text = Get(name);
  if (!text) return fallback;
  double value;
  if (!absl::SimpleAtod(*text, &value) || !std::isfinite(value) ||
      value < min || value > max) {
    return absl::InvalidArgumentError(absl::StrCat("bad --", name, " \"", *text,
                                                   "\": want a number from ",
                                                   min, " to ", max));
  }
  return value;
}

absl::StatusOr<int64_t> Flags::GetInt(absl::string_view name, int64_t fallback,
                                      int64_t min, int64_t max) const {
  std::optional<std::string> text = Get(name);
  if (!text) return fallback;
  int64_t value;
  if (!absl::SimpleAtoi(*text, &value) || value < min || value > max) {
    return absl::InvalidArgumentError(absl::StrCat("bad --", name, " \"", *text,
                                                   "\": want an integer from ",
                                                   min, " to ", max));
  }
  return value;
}

}  // namespace vix::cli
