// vixctl: inspect and drive a vixbreaker segment (SPEC 12).
#include <cstdio>
#include <iostream>

#include "absl/strings/str_cat.h"
#include "commands.h"

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
  if (absl::IsDataLoss(status) || absl::IsFailedPrecondition(status) ||
      absl::IsDeadlineExceeded(status) || absl::IsPermissionDenied(status)) {
    return kExitIncompatible;
  }
  return kExitError;
}

namespace {

constexpr char kUsage[] =
    "usage: vixctl COMMAND [flags]   (all commands take --segment NAME, "
    "--json)\n"
    "  policy --status S --age-min A [--base-ttl N] [--league L] "
    "[--competition C] [--stakes K]\n"
    "  decide --status S [--base-ttl N] [--league L] [--competition C] "
    "[--stakes K] [--scope X]\n"
    "  status                      the whole segment; exit 0 healthy, 3 no "
    "segment, 4 incompatible, 5 mirror unhealthy\n"
    "  watch                       live status, refreshed every second\n"
    "  metrics                     Prometheus text exposition\n"
    "  serve --listen HOST:PORT    the same on GET /metrics\n"
    "  panic start [--at UNIX_SECONDS] [--scope X] | panic end [--scope X]\n"
    "  mirror --redis URL          run this host's Redis mirror\n"
    "  window --status S [--base-ttl N]\n"
    "  zscore --history X,Y,... --current C\n"
    "  destroy                     remove the segment\n";

}  // namespace
}  // namespace vix::ctl

int main(int argc, char** argv) {
  using namespace vix::ctl;
  if (argc < 2 || std::string(argv[1]) == "--help" ||
      std::string(argv[1]) == "help") {
    std::fputs(kUsage, argc < 2 ? stderr : stdout);
    return argc < 2 ? kExitUsage : kExitOk;
  }
  const std::string command = argv[1];
  Args args(argv + 2, argv + argc);
  if (command == "policy") return RunPolicy(args);
  if (command == "decide") return RunDecide(args);
  if (command == "panic") return RunPanic(args);
  if (command == "destroy") return RunDestroy(args);
  if (command == "status") return RunStatus(args);
  if (command == "watch") return RunWatch(args);
  if (command == "metrics") return RunMetrics(args);
  if (command == "serve") return RunServe(args);
  if (command == "mirror") return RunMirror(args);
  if (command == "window") return RunWindow(args);
  if (command == "zscore") return RunZscore(args);
  return Fail(kExitUsage, absl::StrCat("unknown command \"", command,
                                       "\"; run `vixctl help`"));
}
