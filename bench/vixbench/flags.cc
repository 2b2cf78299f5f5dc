#include "flags.h"

#include <cmath>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace vix::bench {

absl::StatusOr<Flags> Flags::Parse(const std::vector<std::string>& args,
                                   const std::set<std::string>& with_value,
                                   const std::set<std::string>& boolean) {
  Flags flags;
  for (size_t i = 0; i < args.size(); ++i) {
    if (!absl::StartsWith(args[i], "--")) {
      return absl::InvalidArgumentError(
          absl::StrCat("unexpected argument '", args[i], "'"));
    }
    std::string name = args[i].substr(2);
    std::string value;
    const size_t eq = name.find('=');
    const bool inline_value = eq != std::string::npos;
    if (inline_value) {
      value = name.substr(eq + 1);
      name.resize(eq);
    }
    if (boolean.count(name) != 0 && !inline_value) {
      flags.values_[name] = "true";
      continue;
    }
    if (with_value.count(name) == 0) {
      return absl::InvalidArgumentError(absl::StrCat("unknown flag --", name));
    }
    if (!inline_value) {
      if (i + 1 >= args.size()) {
        return absl::InvalidArgumentError(
            absl::StrCat("flag --", name, " needs a value"));
      }
      value = args[++i];
    }
    flags.values_[name] = value;
  }
  return flags;
}

bool Flags::Has(absl::string_view name) const {
  return values_.find(name) != values_.end();
}

std::string Flags::Get(absl::string_view name, std::string fallback) const {
  auto it = values_.find(name);
  return it == values_.end() ? fallback : it->second;
}

absl::StatusOr<double> Flags::GetDouble(absl::string_view name, double fallback,
                                        double min, double max) const {
  if (!Has(name)) return fallback;
  double value;
  if (!absl::SimpleAtod(Get(name), &value) || !std::isfinite(value) ||
      value < min || value > max) {
    return absl::InvalidArgumentError(
        absl::StrCat("bad --", name, " '", Get(name), "': want a number in ",
                     min, "..", max));
  }
  return value;
}

absl::StatusOr<int64_t> Flags::GetInt(absl::string_view name, int64_t fallback,
                                      int64_t min, int64_t max) const {
  if (!Has(name)) return fallback;
  int64_t value;
  if (!absl::SimpleAtoi(Get(name), &value) || value < min || value > max) {
    return absl::InvalidArgumentError(
        absl::StrCat("bad --", name, " '", Get(name), "': want an integer in ",
                     min, "..", max));
  }
  return value;
}

}  // namespace vix::bench
