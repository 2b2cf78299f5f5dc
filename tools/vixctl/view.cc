#include "view.h"

#include "segment_check.h"
#include "vixbreaker/cli/values.h"
#include "vixbreaker/core/parse.h"
#include "vixbreaker/inspect/config_file.h"
#include "vixbreaker/shm/process.h"
#include "vixbreaker/shm/segment.h"

namespace vix::ctl {

std::variant<ViewSetup, int> SetUpView(const Args& args, FlagSpec spec) {
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

absl::StatusOr<int64_t> NowFrom(const Flags& flags) {
  std::optional<std::string> now = flags.Get("now");
  if (!now) return shm::RealtimeNowNs();
  return ParseUnixSecondsFlag("--now", *now);
}

absl::StatusOr<inspect::Snapshot> Inspect(const ViewSetup& setup,
                                          int64_t now_ns) {
  absl::Status file = CheckSegmentFile(setup.segment);
  if (!file.ok()) return file;
  absl::StatusOr<inspect::Snapshot> snapshot =
      setup.inspector->Inspect(setup.segment, now_ns);
  if (!snapshot.ok()) return WithHints(setup.segment, snapshot.status());
  return snapshot;
}

std::variant<inspect::Snapshot, int> OneSnapshot(const ViewSetup& setup) {
  absl::StatusOr<int64_t> now = NowFrom(setup.flags);
  if (!now.ok()) return Fail(kExitUsage, now.status());
  absl::StatusOr<inspect::Snapshot> snapshot = Inspect(setup, *now);
  if (!snapshot.ok()) {
    return Fail(ExitCodeForSegmentError(snapshot.status()), snapshot.status());
  }
  return *std::move(snapshot);
}

std::variant<OneShot, int> OneShotView(const Args& args) {
  auto setup = SetUpView(args, {{"now"}, {}});
  if (const int* code = std::get_if<int>(&setup)) return *code;
  auto snapshot = OneSnapshot(std::get<ViewSetup>(setup));
  if (const int* code = std::get_if<int>(&snapshot)) return *code;
  return OneShot{std::get<ViewSetup>(std::move(setup)),
                 std::get<inspect::Snapshot>(std::move(snapshot))};
}

}  // namespace vix::ctl
