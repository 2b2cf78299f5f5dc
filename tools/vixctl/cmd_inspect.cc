// vixctl status, watch, metrics, serve: read-only views of the segment
// (SPEC 9). None of them ever writes to the segment.
#include <unistd.h>

#include <cstdio>
#include <iostream>
#include <optional>
#include <variant>

#include "absl/strings/str_cat.h"
#include "commands.h"
#include "flags.h"
#include "serve_log.h"
#include "view.h"
#include "vixbreaker/core/json.h"
#include "vixbreaker/core/parse.h"
#include "vixbreaker/inspect/config_file.h"
#include "vixbreaker/inspect/http_server.h"
#include "vixbreaker/inspect/metrics.h"
#include "vixbreaker/inspect/snapshot.h"
#include "vixbreaker/inspect/status_format.h"
#include "vixbreaker/inspect/terminal.h"
#include "vixbreaker/inspect/watch_view.h"
#include "vixbreaker/shm/process.h"
#include "vixbreaker/shm/segment.h"

namespace vix::ctl {
namespace {

// Waits for `q` (true), a stop signal (false, StopRequested()) or the end
// of `period` (false), ignoring other keys.
bool QuitPressedWithin(inspect::Terminal& terminal, absl::Duration period) {
  const absl::Time end = absl::Now() + period;
  for (absl::Time t = absl::Now(); t < end && !inspect::StopRequested();
       t = absl::Now()) {
    const std::optional<char> key = terminal.WaitForKey(end - t);
    if (key == 'q' || key == 'Q') return true;
  }
  return false;
}

// --listen and --client-timeout-ms; returns an exit code on bad values.
std::variant<inspect::ServerOptions, int> ServerOptionsFrom(
    const Flags& flags) {
  std::optional<std::string> listen = flags.Get("listen");
  if (!listen) return Fail(kExitUsage, "--listen HOST:PORT is required");
  absl::StatusOr<inspect::ListenAddress> address =
      inspect::ParseListenAddress(*listen);
  if (!address.ok()) return Fail(kExitUsage, address.status());
  inspect::ServerOptions options;
  options.listen = *address;
  absl::StatusOr<int64_t> ms =
      flags.GetInt("client-timeout-ms", 5000, 1, 3'600'000);
  absl::StatusOr<int64_t> max = flags.GetInt("max-connections", 64, 1, 10000);
  absl::StatusOr<int64_t> per_client =
      flags.GetInt("max-per-client", 16, 1, 10000);
  for (const absl::Status& s :
       {ms.status(), max.status(), per_client.status()}) {
    if (!s.ok()) return Fail(kExitUsage, s);
  }
  options.client_timeout = absl::Milliseconds(*ms);
  options.max_connections = static_cast<int>(*max);
  options.max_per_client = static_cast<int>(*per_client);
  return options;
}

void PrintAll(absl::string_view text) {
  std::fwrite(text.data(), 1, text.size(), stdout);
  std::fflush(stdout);
}

}  // namespace

int RunStatus(const Args& args) {
  auto shot = OneShotView(args);
  if (const int* code = std::get_if<int>(&shot)) return *code;
  const ViewSetup& view = std::get<OneShot>(shot).view;
  const inspect::Snapshot& s = std::get<OneShot>(shot).snapshot;
  if (view.flags.json()) {
    PrintAll(absl::StrCat(inspect::FormatStatusJson(s), "\n"));
  } else {
    PrintAll(inspect::FormatStatusTable(s));
  }
  if (inspect::HealthOf(s) == inspect::Health::kMirrorUnhealthy) {
    return Fail(kExitMirrorUnhealthy,
                absl::StrCat("mirror configured but unhealthy: ",
                             s.mirror.unhealthy_reason));
  }
  return kExitOk;
}

int RunMetrics(const Args& args) {
  auto shot = OneShotView(args);
  if (const int* code = std::get_if<int>(&shot)) return *code;
  const ViewSetup& view = std::get<OneShot>(shot).view;
  const inspect::Snapshot& s = std::get<OneShot>(shot).snapshot;
  PrintAll(view.flags.json() ? absl::StrCat(inspect::FormatMetricsJson(s), "\n")
                             : inspect::FormatMetrics(s));
  return kExitOk;
}

int RunWatch(const Args& args) {
  auto setup = SetUpView(args, {});
  if (const int* code = std::get_if<int>(&setup)) return *code;
  const ViewSetup& view = std::get<ViewSetup>(setup);
  if (view.flags.json()) {
    return Fail(kExitUsage,
                "watch has no JSON form; poll `vixctl status --json` instead");
  }
  if (!isatty(STDOUT_FILENO)) {
    // Piped: the status once, plain text, like `vixctl status`.
    auto snapshot = OneSnapshot(view);
    if (const int* code = std::get_if<int>(&snapshot)) return *code;
    PrintAll(inspect::FormatStatusTable(std::get<inspect::Snapshot>(snapshot)));
    return kExitOk;
  }
  inspect::CatchStopSignals();
  inspect::Terminal terminal(STDIN_FILENO, STDOUT_FILENO);
  inspect::ChangeTracker tracker;
  while (!inspect::StopRequested()) {
    const int64_t now = shm::RealtimeNowNs();
    const inspect::ScreenSize size = terminal.Size();
    absl::StatusOr<inspect::Snapshot> snapshot = Inspect(view, now);
    if (snapshot.ok()) {
      tracker.Observe(*snapshot);
      terminal.Draw(inspect::RenderWatchFrame(*snapshot, tracker, size));
    } else {
      terminal.Draw(inspect::RenderWatchError(
          view.segment, snapshot.status().message(), now));
    }
    if (QuitPressedWithin(terminal, absl::Seconds(1))) break;
  }
  return kExitOk;
}

int RunServe(const Args& args) {
  auto setup = SetUpView(args, {{"listen", "client-timeout-ms",
                                 "max-connections", "max-per-client"},
                                {}});
  if (const int* code = std::get_if<int>(&setup)) return *code;
  const ViewSetup& view = std::get<ViewSetup>(setup);
  auto options = ServerOptionsFrom(view.flags);
  if (const int* code = std::get_if<int>(&options)) return *code;
  // Each scrape re-opens the segment: one that is destroyed and re-created
  // is followed, and one that is missing is reported as segment_up 0 (and
  // logged once per change of state).
  SegmentStateLog state_log(view.segment);
  auto exposition = [&view, &state_log] {
    absl::StatusOr<inspect::Snapshot> snapshot =
        Inspect(view, shm::RealtimeNowNs());
    state_log.Observe(snapshot.status());
    return snapshot.ok() ? inspect::FormatMetrics(*snapshot)
                         : inspect::FormatSegmentDownMetrics(view.segment);
  };
  absl::StatusOr<std::unique_ptr<inspect::MetricsServer>> server =
      inspect::MetricsServer::Listen(std::get<inspect::ServerOptions>(options),
                                     exposition);
  if (!server.ok()) {
    return Fail(
        absl::IsInvalidArgument(server.status()) ? kExitUsage : kExitError,
        server.status());
  }
  const std::string url =
      absl::StrCat("http://", (*server)->address(), "/metrics");
  if (view.flags.json()) {
    PrintAll(absl::StrCat(JsonObject()
                              .Str("listen", (*server)->address())
                              .Str("url", url)
                              .Str("segment", view.segment)
                              .Done(),
                          "\n"));
  } else {
    PrintAll(absl::StrCat("serving ", url, " for segment ", view.segment,
                          " until SIGTERM\n"));
  }
  state_log.Started(url);
  state_log.Observe(Inspect(view, shm::RealtimeNowNs()).status());
  (*server)->ServeUntilSignal();
  state_log.Stopped();
  return kExitOk;
}

}  // namespace vix::ctl
