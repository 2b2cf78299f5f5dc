// vixctl policy, decide, panic start|end, destroy: the episode commands.
#include <cstdio>
#include <iostream>

#include "absl/strings/str_cat.h"
#include "commands.h"
#include "flags.h"
#include "segment_check.h"
#include "vixbreaker/cli/values.h"
#include "vixbreaker/core/config.h"
#include "vixbreaker/core/json.h"
#include "vixbreaker/core/parse.h"
#include "vixbreaker/core/policy.h"
#include "vixbreaker/inspect/config_file.h"
#include "vixbreaker/inspect/status_format.h"
#include "vixbreaker/persist/mirror.h"
#include "vixbreaker/shm/engine.h"
#include "vixbreaker/shm/process.h"
#include "vixbreaker/shm/scope_name.h"

namespace vix::ctl {
namespace {

// Configuration comes from the file named by VIX_CONFIG, else the defaults
// (the same loader `vixctl status` uses, so both show the same tiers).
absl::StatusOr<Config> LoadConfig() { return inspect::LoadConfigFromEnv(); }

// --stakes wins; otherwise --league/--competition are classified.
absl::StatusOr<Stakes> StakesFrom(const Flags& flags, const Policy& policy) {
  if (std::optional<std::string> stakes = flags.Get("stakes")) {
    return ParseStakes(*stakes);
  }
  return policy.Classify(flags.Get("league").value_or(""),
                         flags.Get("competition").value_or(""));
}

absl::StatusOr<BaseTtl> BaseTtlFrom(const Flags& flags) {
  std::optional<std::string> text = flags.Get("base-ttl");
  if (!text) return ParseBaseTtl("60");
  return ParseBaseTtl(*text);
}

absl::StatusOr<Status> StatusFrom(const Flags& flags) {
  std::optional<std::string> text = flags.Get("status");
  if (!text) return absl::InvalidArgumentError("--status is required");
  return ParseStatus(*text);
}

JsonObject DecisionJson(const Decision& d) {
  JsonObject json;
  json.Int("ttl", d.ttl_seconds)
      .Str("mode", ModeName(d.mode))
      .Int("tier", d.tier)
      .Str("stakes", StakesName(d.stakes))
      .Str("reason", ReasonName(d.reason));
  return json;
}

void PrintDecisionText(const Decision& d) {
  std::printf("ttl=%d mode=%s tier=%d stakes=%s reason=%s\n", d.ttl_seconds,
              std::string(ModeName(d.mode)).c_str(), d.tier,
              std::string(StakesName(d.stakes)).c_str(),
              std::string(ReasonName(d.reason)).c_str());
}

}  // namespace

int RunPolicy(const Args& args) {
  absl::StatusOr<Flags> flags = Flags::Parse(
      args,
      {{"status", "age-min", "base-ttl", "league", "competition", "stakes"},
       {}});
  if (!flags.ok()) return Fail(kExitUsage, flags.status());
  absl::StatusOr<Config> config = LoadConfig();
  if (!config.ok()) return Fail(kExitUsage, config.status());
  absl::StatusOr<Policy> policy = Policy::Create(config->policy);
  if (!policy.ok()) return Fail(kExitUsage, policy.status());
  absl::StatusOr<Status> status = StatusFrom(*flags);
  if (!status.ok()) return Fail(kExitUsage, status.status());
  absl::StatusOr<BaseTtl> base_ttl = BaseTtlFrom(*flags);
  if (!base_ttl.ok()) return Fail(kExitUsage, base_ttl.status());
  absl::StatusOr<Stakes> stakes = StakesFrom(*flags, *policy);
  if (!stakes.ok()) return Fail(kExitUsage, stakes.status());

  std::optional<std::string> age_text = flags->Get("age-min");
  double age_min = 0;
  if (age_text) {
    absl::StatusOr<double> age = ParseAgeMinutes(*age_text);
    if (!age.ok()) return Fail(kExitUsage, age.status());
    age_min = *age;
  } else if (*status == Status::kPanic) {
    return Fail(kExitUsage, "--age-min is required with --status panic");
  }
  Decision d;
  bool future_start = false;
  if (*status == Status::kPanic) {
    // A negative age is a start in the future (clock skew): tier 1.
    future_start = age_min < 0;
    absl::StatusOr<int64_t> age_ns =
        SecondsToNs((future_start ? 0 : age_min) * 60, "--age-min");
    if (!age_ns.ok()) return Fail(kExitUsage, age_ns.status());
    d = policy->DecideForAge(*age_ns, *base_ttl, *stakes);
  } else {
    d = Policy::DecideNoEpisode(*base_ttl, *stakes);
  }
  if (flags->json()) {
    JsonObject json = DecisionJson(d);
    if (future_start) json.Bool("future_start", true);
    std::printf("%s\n", json.Done().c_str());
  } else {
    PrintDecisionText(d);
  }
  return kExitOk;
}

namespace {

// A full scope table is a runtime failure (exit 1), not a bad flag.
int FailScope(const absl::Status& status) {
  return Fail(absl::IsInvalidArgument(status) ? kExitUsage : kExitError,
              status);
}

}  // namespace

int RunDecide(const Args& args) {
  absl::StatusOr<Flags> flags = Flags::Parse(
      args,
      {{"status", "base-ttl", "league", "competition", "stakes", "scope"}, {}});
  if (!flags.ok()) return Fail(kExitUsage, flags.status());
  absl::StatusOr<Status> status = StatusFrom(*flags);
  if (!status.ok()) return Fail(kExitUsage, status.status());
  absl::StatusOr<BaseTtl> base_ttl = BaseTtlFrom(*flags);
  if (!base_ttl.ok()) return Fail(kExitUsage, base_ttl.status());
  // Every flag is checked before the segment is touched (or created).
  absl::Status name_ok = shm::ValidateSegmentName(flags->segment());
  if (!name_ok.ok()) return Fail(kExitUsage, name_ok);
  const std::string scope_name = flags->Get("scope").value_or("global");
  absl::Status scope_ok = shm::ValidateScopeName(scope_name);
  if (!scope_ok.ok()) return Fail(kExitUsage, scope_ok);
  if (std::optional<std::string> stakes = flags->Get("stakes")) {
    absl::Status stakes_ok = ParseStakes(*stakes).status();
    if (!stakes_ok.ok()) return Fail(kExitUsage, stakes_ok);
  }
  if (auto code = RefuseUnusableSegment(flags->segment())) return *code;
  absl::StatusOr<std::unique_ptr<shm::Engine>> engine = OpenEngine(*flags);
  if (!engine.ok()) return Fail(kExitUsage, engine.status());
  absl::StatusOr<Stakes> stakes = StakesFrom(*flags, (*engine)->policy());
  if (!stakes.ok()) return Fail(kExitUsage, stakes.status());
  // Only a panic creates a scope: a calm decision on a name that does not
  // exist has no episode to end and leaves the table as it is.
  absl::StatusOr<shm::ScopeHandle> scope =
      *status == Status::kPanic ? (*engine)->FindOrCreateScope(scope_name)
                                : (*engine)->FindScope(scope_name);
  const bool no_such_scope = absl::IsNotFound(scope.status());
  if (!scope.ok() && !no_such_scope) return FailScope(scope.status());

  // The engine says whether this call ended an episode: a local one, or a
  // remote one known from the mirror's cache.
  const Decision d =
      no_such_scope ? Policy::DecideNoEpisode(*base_ttl, *stakes)
                    : (*engine)->Decide(*scope, *status, *base_ttl, *stakes);
  const bool ended_episode = d.ended_episode;
  (*engine)->FlushLogs();
  if (flags->json()) {
    JsonObject json = DecisionJson(d);
    json.UnixSeconds("episode_start", d.episode_start_ns)
        .Bool("first_writer", d.first_writer)
        .Bool("ended_episode", ended_episode)
        .Str("scope", scope_name);
    std::printf("%s\n", json.Done().c_str());
  } else {
    PrintDecisionText(d);
    if (ended_episode)
      std::printf("ended the episode of scope %s\n", scope_name.c_str());
  }
  std::fflush(stdout);
  // The decision above is the fail-safe one; still say why, and fail.
  const absl::Status& segment = (*engine)->segment_status();
  if (!segment.ok()) return Fail(ExitCodeForSegmentError(segment), segment);
  return kExitOk;
}

namespace {

// --at, else now; refused beyond what the mirror would accept.
absl::StatusOr<int64_t> StartFrom(const Flags& flags) {
  const int64_t now = shm::RealtimeNowNs();
  std::optional<std::string> at = flags.Get("at");
  if (!at) return now;
  return ParseStartFlag(
      *at, now,
      absl::ToInt64Nanoseconds(persist::MirrorOptions{}.max_clock_ahead));
}

void PrintPanicResult(const Flags& flags, const JsonObject& json,
                      const std::string& text) {
  if (flags.json()) {
    std::printf("%s\n", json.Done().c_str());
  } else {
    std::printf("%s\n", text.c_str());
  }
}

int PanicStart(const Flags& flags, shm::Engine& engine,
               const std::string& scope_name, int64_t at_ns) {
  absl::StatusOr<shm::ScopeHandle> scope = engine.FindOrCreateScope(scope_name);
  if (!scope.ok()) return FailScope(scope.status());
  const shm::EpisodeSnapshot before = engine.Snapshot(*scope);
  absl::Status forced = engine.ForceStart(*scope, at_ns);
  if (!forced.ok()) return Fail(kExitError, forced);
  const shm::EpisodeSnapshot after = engine.Snapshot(*scope);
  engine.FlushLogs();
  JsonObject json;
  json.Str("scope", scope_name)
      .UnixSeconds("episode_start", after.start_ns)
      .Bool("forced", true)
      .UnixSeconds("replaced_start", before.active ? before.start_ns : 0);
  std::string text =
      absl::StrCat("forced an episode on scope ", scope_name, " starting ",
                   inspect::TimeText(after.start_ns));
  if (before.active) {
    absl::StrAppend(&text, " (replaced the start ",
                    inspect::TimeText(before.start_ns), ")");
  }
  PrintPanicResult(flags, json, text);
  return kExitOk;
}

int PanicEnd(const Flags& flags, shm::Engine& engine,
             const std::string& scope_name) {
  // Ending never creates: a scope that does not exist has nothing to end.
  absl::StatusOr<shm::ScopeHandle> scope = engine.FindScope(scope_name);
  if (absl::IsNotFound(scope.status())) {
    return Fail(kExitNoSegment,
                absl::StrCat("no scope \"", scope_name, "\" in segment ",
                             flags.segment(),
                             "; `vixctl scope list` names the scopes"));
  }
  if (!scope.ok()) return FailScope(scope.status());
  absl::StatusOr<bool> ended = engine.ForceEnd(*scope);
  if (!ended.ok()) return Fail(kExitError, ended.status());
  engine.FlushLogs();
  PrintPanicResult(
      flags, JsonObject().Str("scope", scope_name).Bool("ended", *ended),
      *ended ? absl::StrCat("ended the episode of scope ", scope_name)
             : absl::StrCat("scope ", scope_name, " had no episode"));
  return kExitOk;
}

}  // namespace

int RunPanic(const Args& args) {
  if (args.empty() || (args[0] != "start" && args[0] != "end")) {
    return Fail(kExitUsage,
                "usage: vixctl panic start [--at UNIX_SECONDS] "
                "[--scope X] | vixctl panic end [--scope X]");
  }
  const bool start = args[0] == "start";
  FlagSpec spec{{"scope"}, {}};
  if (start) spec.with_value.insert("at");
  absl::StatusOr<Flags> flags =
      Flags::Parse(Args(args.begin() + 1, args.end()), spec);
  if (!flags.ok()) return Fail(kExitUsage, flags.status());
  absl::StatusOr<int64_t> at_ns = StartFrom(*flags);
  if (!at_ns.ok()) return Fail(kExitUsage, at_ns.status());
  absl::Status name_ok = shm::ValidateSegmentName(flags->segment());
  if (!name_ok.ok()) return Fail(kExitUsage, name_ok);
  const std::string scope_name = flags->Get("scope").value_or("global");
  absl::Status scope_ok = shm::ValidateScopeName(scope_name);
  if (!scope_ok.ok()) return Fail(kExitUsage, scope_ok);
  // Only a start may create the segment.
  CommandEngine e = OpenCommandEngine(
      *flags, start ? IfMissing::kCreate : IfMissing::kRefuse);
  if (e.engine == nullptr) return e.exit_code;
  return start ? PanicStart(*flags, *e.engine, scope_name, *at_ns)
               : PanicEnd(*flags, *e.engine, scope_name);
}

}  // namespace vix::ctl
