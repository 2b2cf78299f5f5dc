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

// What every view needs: its flags, the segment name and an inspector
// configured like the deciding processes (VIX_CONFIG).
struct ViewSetup {
  Flags flags;
  std::string segment;
  std::optional<inspect::Inspector> inspector;
};

// Parses flags and builds the inspector; returns an exit code on failure.
std::variant<ViewSetup, int> SetUp(const Args& args, FlagSpec spec) {
  absl::StatusOr<Flags> flags = Flags::Parse(args, std::move(spec));
  if (!flags.ok()) return Fail(kExitUsage, flags.status());
  const std::string segment = flags->segment();
  absl::Status name_ok = shm::ValidateSegmentName(segment);
  if (!name_ok.ok()) return Fail(kExitUsage, name_ok);
  absl::StatusOr<Config> config = inspect::LoadConfigFromEnv();
  if (!config.ok()) return Fail(kExitUsage, config.status());
  absl::StatusOr<inspect::Inspector> inspector =
      inspect::Inspector::Create(*config);
  if (!inspector.ok()) return Fail(kExitUsage, inspector.status());
  return ViewSetup{*std::move(flags), segment, *std::move(inspector)};
}

// --now UNIX_SECONDS (reproducible output), else the real time.
absl::StatusOr<int64_t> NowFrom(const Flags& flags) {
  std::optional<std::string> now = flags.Get("now");
  if (!now) return shm::RealtimeNowNs();
  return ParseUnixSecondsToNs(*now);
}

// Reads a snapshot for a one-shot command; on failure returns the exit code.
std::variant<inspect::Snapshot, int> OneSnapshot(const ViewSetup& setup) {
  absl::StatusOr<int64_t> now = NowFrom(setup.flags);
  if (!now.ok()) return Fail(kExitUsage, now.status());
  absl::StatusOr<inspect::Snapshot> snapshot =
      setup.inspector->Inspect(setup.segment, *now);
  if (!snapshot.ok()) {
    return Fail(ExitCodeForSegmentError(snapshot.status()), snapshot.status());
  }
  return *std::move(snapshot);
}

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
  if (std::optional<std::string> timeout = flags.Get("client-timeout-ms")) {
    absl::StatusOr<int64_t> ms = ParseInt64(*timeout);
    if (!ms.ok() || *ms <= 0) {
      return Fail(kExitUsage,
                  absl::StrCat("bad --client-timeout-ms \"", *timeout,
                               "\": expected a positive integer"));
    }
    options.client_timeout = absl::Milliseconds(*ms);
  }
  return options;
}

void PrintAll(absl::string_view text) {
  std::fwrite(text.data(), 1, text.size(), stdout);
  std::fflush(stdout);
}

}  // namespace

int RunStatus(const Args& args) {
  auto setup = SetUp(args, {{"now"}, {}});
  if (const int* code = std::get_if<int>(&setup)) return *code;
  const ViewSetup& view = std::get<ViewSetup>(setup);
  auto snapshot = OneSnapshot(view);
  if (const int* code = std::get_if<int>(&snapshot)) return *code;
  const inspect::Snapshot& s = std::get<inspect::Snapshot>(snapshot);
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
  auto setup = SetUp(args, {{"now"}, {}});
  if (const int* code = std::get_if<int>(&setup)) return *code;
  auto snapshot = OneSnapshot(std::get<ViewSetup>(setup));
  if (const int* code = std::get_if<int>(&snapshot)) return *code;
  PrintAll(inspect::FormatMetrics(std::get<inspect::Snapshot>(snapshot)));
  return kExitOk;
}

int RunWatch(const Args& args) {
  auto setup = SetUp(args, {});
  if (const int* code = std::get_if<int>(&setup)) return *code;
  const ViewSetup& view = std::get<ViewSetup>(setup);
  inspect::CatchStopSignals();
  inspect::Terminal terminal(STDIN_FILENO, STDOUT_FILENO);
  inspect::ChangeTracker tracker;
  while (!inspect::StopRequested()) {
    const int64_t now = shm::RealtimeNowNs();
    absl::StatusOr<inspect::Snapshot> snapshot =
        view.inspector->Inspect(view.segment, now);
    if (snapshot.ok()) {
      tracker.Observe(*snapshot);
      terminal.Draw(inspect::RenderWatchFrame(*snapshot, tracker));
    } else {
      terminal.Draw(inspect::RenderWatchError(
          view.segment, snapshot.status().message(), now));
    }
    if (QuitPressedWithin(terminal, absl::Seconds(1))) break;
  }
  return kExitOk;
}

int RunServe(const Args& args) {
  auto setup = SetUp(args, {{"listen", "client-timeout-ms"}, {}});
  if (const int* code = std::get_if<int>(&setup)) return *code;
  const ViewSetup& view = std::get<ViewSetup>(setup);
  auto options = ServerOptionsFrom(view.flags);
  if (const int* code = std::get_if<int>(&options)) return *code;
  // Each scrape re-opens the segment: one that is destroyed and re-created
  // is followed, and one that is missing is reported as segment_up 0.
  auto exposition = [&view] {
    absl::StatusOr<inspect::Snapshot> snapshot =
        view.inspector->Inspect(view.segment, shm::RealtimeNowNs());
    return snapshot.ok() ? inspect::FormatMetrics(*snapshot)
                         : inspect::FormatSegmentDownMetrics(view.segment);
  };
  absl::StatusOr<std::unique_ptr<inspect::MetricsServer>> server =
      inspect::MetricsServer::Listen(std::get<inspect::ServerOptions>(options),
                                     exposition);
  if (!server.ok()) return Fail(kExitError, server.status());
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
  (*server)->ServeUntilSignal();
  return kExitOk;
}

}  // namespace vix::ctl
