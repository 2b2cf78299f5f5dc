#include "help.h"

#include "absl/strings/str_cat.h"
#include "vixbreaker/shm/layout.h"

#ifndef VIX_VERSION
#define VIX_VERSION "unknown"
#endif

namespace vix::ctl {
namespace {

struct Entry {
  const char* name;
  const char* synopsis;  // after "vixctl "
  const char* summary;   // one line, for the overview
  const char* details;   // flags and exit codes
};

constexpr char kExitCodes[] =
    "exit codes: 0 ok, 1 failed (see stderr), 2 bad flags or values, 3 no "
    "segment, 4 incompatible or corrupt segment, 5 mirror unhealthy, 6 "
    "segment not permitted (its owner or mode)\n";

constexpr Entry kCommands[] = {
    {"policy",
     "policy --status S --age-min A [--base-ttl N] [--league L] "
     "[--competition C] [--stakes K]",
     "the pure policy (no segment)",
     "  --status S         normal, warning or panic\n"
     "  --age-min A        the episode's age in minutes (panic only; "
     "negative: a start in the future)\n"
     "  --base-ttl N       the caller's TTL in seconds (default 60)\n"
     "  --league L, --competition C   classified into stakes\n"
     "  --stakes K         high, medium or low (overrides the league)\n"},
    {"decide",
     "decide --status S [--base-ttl N] [--league L] [--competition C] "
     "[--stakes K] [--scope X]",
     "one real decision through the segment (creates it if needed)",
     "  --status S, --base-ttl N, --league L, --competition C, --stakes K\n"
     "                     as for `policy`\n"
     "  --scope X          the scope (default global); a calm decision on a\n"
     "                     scope that does not exist creates nothing\n"
     "  JSON adds episode_start, first_writer, ended_episode, scope\n"},
    {"status", "status [--now UNIX_SECONDS]",
     "the whole segment (exit 5 when the mirror is unhealthy)",
     "  --now UNIX_SECONDS the time to report at (reproducible output)\n"},
    {"watch", "watch", "live status, refreshed every second (q quits)",
     "  on a terminal: redrawn every second, active scopes first, full detail\n"
     "  at 150 columns or more; piped: the status printed once, plain text.\n"
     "  --json is refused: use `vixctl status --json`\n"},
    {"metrics", "metrics [--now UNIX_SECONDS]",
     "Prometheus text exposition (--json: the same families as JSON)",
     "  --now UNIX_SECONDS the time to report at\n"},
    {"serve",
     "serve --listen HOST:PORT [--client-timeout-ms MS] "
     "[--max-connections N] [--max-per-client N]",
     "the metrics over HTTP on GET /metrics until SIGTERM",
     "  --listen HOST:PORT      the address (port 0: any free port)\n"
     "  --client-timeout-ms MS  deadline for one exchange (default 5000)\n"
     "  --max-connections N     open connections at once (default 64)\n"
     "  --max-per-client N      from one client address (default 16)\n"
     "  at a limit the oldest connection that has not sent its request is\n"
     "  closed to make room, so idle connections never lock scrapers out\n"},
    {"panic",
     "panic start [--at UNIX_SECONDS] [--scope X] | panic end [--scope X]",
     "admin override: force an episode to start or end",
     "  --at UNIX_SECONDS  the start (default now); > 0, finite, and at most\n"
     "                     the mirror's allowed clock lead (1 h) ahead\n"
     "  --scope X          the scope (default global); `panic end` never\n"
     "                     creates a segment or a scope (exit 3 if missing)\n"},
    {"mirror",
     "mirror --redis URL [--key-prefix P] [--policy local|strict] "
     "[--poll-interval S] [--refresh-interval S] [--connect-timeout S] "
     "[--command-timeout S] [--lease S]",
     "this host's Redis mirror, in the foreground until SIGTERM",
     "  --redis URL        redis://[user:pass@]host:port/db or unix:///path\n"
     "                     (or VIX_REDIS_URL, to keep a password off argv)\n"
     "  --key-prefix P     default brain:panic_start_ts\n"
     "  --policy P         local (default) or strict while Redis is "
     "unhealthy\n"
     "  --poll-interval S, --refresh-interval S, --connect-timeout S,\n"
     "  --command-timeout S, --lease S   durations in seconds\n"},
    {"window", "window --status S [--base-ttl N]",
     "record one sample in the rolling-window breaker and decide",
     "  --status S, --base-ttl N   as for `policy`\n"},
    {"zscore", "zscore --history X,Y,... --current C",
     "the volatility detector on one market (no state)",
     "  --history X,Y,...  previous odds, oldest first (spaces allowed; the\n"
     "                     last 100 are used)\n"
     "  --current C        the odds now\n"},
    {"destroy", "destroy [--force]", "remove the segment",
     "  refuses while live processes or a live mirror are attached (exit 1,\n"
     "  naming them) unless --force; refuses a file that is not a\n"
     "  vixbreaker segment whatever the flags\n"},
    {"scope", "scope list [--now UNIX_SECONDS] | scope rm NAME",
     "the named scopes and their episodes; remove one with no episode",
     "  list               read-only\n"
     "  rm NAME            refused (exit 1) while an episode runs, exit 3 if\n"
     "                     there is no such scope; its entry is reused, and\n"
     "                     a process still holding it decides fail-safe\n"},
    {"help", "help [COMMAND]", "this text, or one command's", ""},
};

constexpr char kGlobal[] =
    "global flags (before or after the command):\n"
    "  --segment NAME     the segment (default $VIX_SEGMENT, else "
    "vixbreaker)\n"
    "  --json             one JSON object on stdout (not watch, mirror, "
    "serve)\n"
    "  -h, --help         usage; with a command, that command's\n"
    "  --version          the version and the segment layout version\n"
    "environment: VIX_SEGMENT, VIX_CONFIG (a `key = value` config file), "
    "VIX_REDIS_URL\n";

}  // namespace

std::string OverviewHelp() {
  std::string out = "usage: vixctl [global flags] COMMAND [flags]\n";
  for (const Entry& e : kCommands) {
    absl::StrAppend(&out, "  ", e.synopsis, "\n      ", e.summary, "\n");
  }
  absl::StrAppend(&out, kGlobal, kExitCodes,
                  "run `vixctl help COMMAND` for a command's flags\n");
  return out;
}

std::optional<std::string> CommandHelp(absl::string_view command) {
  for (const Entry& e : kCommands) {
    if (command != e.name) continue;
    return absl::StrCat("usage: vixctl ", e.synopsis, "\n", e.summary, "\n",
                        e.details, kGlobal, kExitCodes);
  }
  return std::nullopt;
}

std::string VersionText() {
  return absl::StrCat("vixctl ", VIX_VERSION, " (segment layout ",
                      shm::kLayoutMajor, ".", shm::kLayoutMinor, ")");
}

}  // namespace vix::ctl
