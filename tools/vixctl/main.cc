// vixctl: inspect and drive a vixbreaker segment (SPEC 12).
#include <cstdio>
#include <iostream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "commands.h"
#include "help.h"

namespace vix::ctl {

int Fail(int exit_code, absl::string_view message) {
  std::fprintf(stderr, "vixctl: %.*s\n", static_cast<int>(message.size()),
               message.data());
  return exit_code;
}

int Fail(int exit_code, const absl::Status& status) {
  return Fail(exit_code, status.message());
}

int ExitCodeForSegmentError(const absl::Status& status) {
  if (absl::IsNotFound(status)) return kExitNoSegment;
  if (absl::IsPermissionDenied(status)) return kExitPermission;
  if (absl::IsDataLoss(status) || absl::IsFailedPrecondition(status) ||
      absl::IsDeadlineExceeded(status)) {
    return kExitIncompatible;
  }
  return kExitError;
}

namespace {

using Runner = int (*)(const Args&);

constexpr std::pair<const char*, Runner> kRunners[] = {
    {"policy", RunPolicy},   {"decide", RunDecide}, {"panic", RunPanic},
    {"destroy", RunDestroy}, {"status", RunStatus}, {"watch", RunWatch},
    {"metrics", RunMetrics}, {"serve", RunServe},   {"mirror", RunMirror},
    {"window", RunWindow},   {"zscore", RunZscore}, {"scope", RunScope},
};

bool IsHelpFlag(absl::string_view arg) {
  return arg == "--help" || arg == "-h";
}

int PrintHelp(absl::string_view command) {
  if (command.empty()) {
    std::fputs(OverviewHelp().c_str(), stdout);
    return kExitOk;
  }
  std::optional<std::string> help = CommandHelp(command);
  if (!help) {
    return Fail(kExitUsage, absl::StrCat("unknown command \"", command,
                                         "\"; run `vixctl help`"));
  }
  std::fputs(help->c_str(), stdout);
  return kExitOk;
}

// Global flags may come before the command (`vixctl --segment x status`);
// they are moved after it, where every command parses them.
int Dispatch(const Args& argv) {
  Args globals;
  size_t i = 0;
  for (; i < argv.size() && absl::StartsWith(argv[i], "-"); ++i) {
    const std::string& arg = argv[i];
    if (IsHelpFlag(arg))
      return PrintHelp(i + 1 < argv.size() ? argv[i + 1] : "");
    if (arg == "--version") {
      std::printf("%s\n", VersionText().c_str());
      return kExitOk;
    }
    globals.push_back(arg);
    if (arg == "--segment" && i + 1 < argv.size()) globals.push_back(argv[++i]);
  }
  if (i == argv.size()) {
    std::fputs(OverviewHelp().c_str(), stderr);
    return Fail(kExitUsage, globals.empty() ? "no command given"
                                            : "no command after the flags");
  }
  const std::string& command = argv[i];
  Args args(argv.begin() + i + 1, argv.end());
  if (command == "help") return PrintHelp(args.empty() ? "" : args[0]);
  for (const std::string& arg : args) {
    if (IsHelpFlag(arg)) return PrintHelp(command);
  }
  args.insert(args.end(), globals.begin(), globals.end());
  for (const auto& [name, run] : kRunners) {
    if (command == name) return run(args);
  }
  return Fail(kExitUsage, absl::StrCat("unknown command \"", command,
                                       "\"; run `vixctl help`"));
}

}  // namespace
}  // namespace vix::ctl

int main(int argc, char** argv) {
  return vix::ctl::Dispatch(vix::ctl::Args(argv + 1, argv + argc));
}
