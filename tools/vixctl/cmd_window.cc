// vixctl window, zscore: the rolling-window breaker and the volatility
// detector (SPEC 6, 7, 12).
#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "commands.h"
#include "flags.h"
#include "segment_check.h"
#include "vixbreaker/core/breaker.h"
#include "vixbreaker/core/detector.h"
#include "vixbreaker/core/json.h"
#include "vixbreaker/core/parse.h"
#include "vixbreaker/shm/engine.h"
#include "vixbreaker/shm/window.h"

namespace vix::ctl {
namespace {

absl::StatusOr<Status> RequiredStatus(const Flags& flags) {
  std::optional<std::string> text = flags.Get("status");
  if (!text) return absl::InvalidArgumentError("--status is required");
  return ParseStatus(*text);
}

absl::StatusOr<BaseTtl> OptionalBaseTtl(const Flags& flags) {
  return ParseBaseTtl(flags.Get("base-ttl").value_or("60"));
}

// "1.9,2.05,2.1" (or "1.9, 2.05, 2.1") -> odds, each a finite decimal;
// the position is named in errors.
absl::StatusOr<std::vector<double>> ParseOddsList(absl::string_view text) {
  if (text.empty()) {
    return absl::InvalidArgumentError(
        "--history is empty: pass the market's previous odds, oldest first, "
        "comma-separated");
  }
  std::vector<double> odds;
  for (absl::string_view item : absl::StrSplit(text, ',')) {
    item = absl::StripAsciiWhitespace(item);
    const std::string what = absl::StrCat("--history value ", odds.size() + 1);
    absl::StatusOr<double> value = ParseFiniteDouble(item, what);
    if (!value.ok()) return value.status();
    absl::Status valid = ValidateOdds(*value, what);
    if (!valid.ok()) return valid;
    odds.push_back(*value);
  }
  return odds;
}

void PrintWindowDecision(const shm::WindowDecision& d, bool json) {
  const double ratio = d.counts.PanicRatio();
  if (json) {
    std::printf("%s\n",
                JsonObject()
                    .Int("ttl", d.breaker.ttl_seconds)
                    .Str("strategy", CacheStrategyName(d.breaker.strategy))
                    .Str("breaker_mode", BreakerModeName(d.breaker.mode))
                    .Num("panic_ratio", ratio)
                    .Done()
                    .c_str());
  } else {
    std::printf("ttl=%d strategy=%s breaker_mode=%s panic_ratio=%.6f\n",
                d.breaker.ttl_seconds,
                std::string(CacheStrategyName(d.breaker.strategy)).c_str(),
                std::string(BreakerModeName(d.breaker.mode)).c_str(), ratio);
  }
}

}  // namespace

int RunWindow(const Args& args) {
  absl::StatusOr<Flags> flags =
      Flags::Parse(args, {{"status", "base-ttl"}, {}});
  if (!flags.ok()) return Fail(kExitUsage, flags.status());
  absl::StatusOr<Status> status = RequiredStatus(*flags);
  if (!status.ok()) return Fail(kExitUsage, status.status());
  absl::StatusOr<BaseTtl> base_ttl = OptionalBaseTtl(*flags);
  if (!base_ttl.ok()) return Fail(kExitUsage, base_ttl.status());
  absl::Status name_ok = shm::ValidateSegmentName(flags->segment());
  if (!name_ok.ok()) return Fail(kExitUsage, name_ok);

  if (auto code = RefuseUnusableSegment(flags->segment())) return *code;
  shm::EngineOptions options;
  options.segment.name = flags->segment();
  absl::StatusOr<std::unique_ptr<shm::Engine>> engine =
      shm::Engine::Open(options);
  if (!engine.ok()) return Fail(kExitUsage, engine.status());
  const absl::Status& segment = (*engine)->segment_status();
  if (!segment.ok()) return Fail(ExitCodeForSegmentError(segment), segment);
  absl::StatusOr<std::unique_ptr<shm::RollingWindow>> window =
      shm::RollingWindow::Open(**engine, {});
  if (!window.ok()) {
    return Fail(ExitCodeForSegmentError(window.status()), window.status());
  }

  const shm::WindowDecision d = (*window)->Record(*status, *base_ttl);
  (*window)->FlushLogs();
  PrintWindowDecision(d, flags->json());
  return kExitOk;
}

int RunZscore(const Args& args) {
  absl::StatusOr<Flags> flags =
      Flags::Parse(args, {{"history", "current"}, {}});
  if (!flags.ok()) return Fail(kExitUsage, flags.status());
  std::optional<std::string> history_text = flags->Get("history");
  std::optional<std::string> current_text = flags->Get("current");
  if (!history_text) return Fail(kExitUsage, "--history is required");
  if (!current_text) return Fail(kExitUsage, "--current is required");
  absl::StatusOr<std::vector<double>> history = ParseOddsList(*history_text);
  if (!history.ok()) return Fail(kExitUsage, history.status());
  absl::StatusOr<double> current =
      ParseFiniteDouble(*current_text, "--current");
  if (!current.ok()) return Fail(kExitUsage, current.status());
  absl::Status valid = ValidateOdds(*current, "--current");
  if (!valid.ok()) return Fail(kExitUsage, valid);

  const DetectorConfig config;
  absl::StatusOr<ZScore> z = ComputeZScore(*history, *current, config);
  if (!z.ok()) return Fail(kExitUsage, z.status());
  // The detector keeps the newest max_samples; say how many were dropped.
  const size_t used = std::min(history->size(), config.max_samples);
  const size_t dropped = history->size() - used;
  if (flags->json()) {
    std::printf("%s\n", JsonObject()
                            .Num("z", z->z)
                            .Str("status", StatusName(z->status))
                            .UInt("samples_used", used)
                            .UInt("samples_dropped", dropped)
                            .Done()
                            .c_str());
  } else {
    std::printf("z=%.6f status=%s\n", z->z,
                std::string(StatusName(z->status)).c_str());
    if (dropped > 0) {
      std::printf(
          "used the newest %zu of %zu --history values (the "
          "detector keeps %zu per market)\n",
          used, history->size(), config.max_samples);
    }
  }
  return kExitOk;
}

}  // namespace vix::ctl
