// vixctl mirror: this host's Redis mirror in the foreground (SPEC 5, 12).
#include <signal.h>

#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "commands.h"
#include "flags.h"
#include "segment_check.h"
#include "vixbreaker/cli/values.h"
#include "vixbreaker/core/parse.h"
#include "vixbreaker/persist/mirror.h"
#include "vixbreaker/shm/engine.h"

namespace vix::ctl {
namespace {

constexpr char kUsage[] =
    "usage: vixctl mirror --redis URL [--key-prefix P] [--policy "
    "local|strict] [--poll-interval S] [--refresh-interval S] "
    "[--connect-timeout S] [--command-timeout S] [--lease S] (URL may come "
    "from VIX_REDIS_URL instead, to keep a password off the command line)";

// A duration flag in decimal seconds, e.g. --poll-interval 0.2.
absl::Status SecondsFlag(const Flags& flags, const char* name,
                         absl::Duration* out) {
  std::optional<std::string> text = flags.Get(name);
  if (!text) return absl::OkStatus();
  absl::StatusOr<double> seconds =
      ParsePositiveSeconds(absl::StrCat("--", name), *text);
  if (!seconds.ok()) return seconds.status();
  *out = absl::Seconds(*seconds);
  return absl::OkStatus();
}

absl::StatusOr<persist::MirrorOptions> OptionsFrom(const Flags& flags) {
  persist::MirrorOptions o;
  if (std::optional<std::string> url = flags.Get("redis")) {
    o.redis_url = *url;
  } else if (const char* env = std::getenv("VIX_REDIS_URL");
             env != nullptr && env[0] != '\0') {
    o.redis_url = env;
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat("--redis URL (or VIX_REDIS_URL) is required; ", kUsage));
  }
  if (std::optional<std::string> prefix = flags.Get("key-prefix")) {
    o.key_prefix = *prefix;
  }
  if (std::optional<std::string> policy = flags.Get("policy")) {
    absl::StatusOr<persist::UnhealthyPolicy> parsed =
        persist::ParseUnhealthyPolicy(*policy);
    if (!parsed.ok()) return parsed.status();
    o.policy = *parsed;
  }
  const std::pair<const char*, absl::Duration*> durations[] = {
      {"poll-interval", &o.poll_interval},
      {"refresh-interval", &o.refresh_interval},
      {"connect-timeout", &o.connect_timeout},
      {"command-timeout", &o.command_timeout},
      {"lease", &o.lease_period}};
  for (const auto& [name, field] : durations) {
    absl::Status s = SecondsFlag(flags, name, field);
    if (!s.ok()) return s;
  }
  absl::Status valid = persist::ValidateMirrorOptions(o);
  if (!valid.ok()) return valid;
  return o;
}

}  // namespace

int RunMirror(const Args& args) {
  absl::StatusOr<Flags> flags = Flags::Parse(
      args,
      {{"redis", "key-prefix", "policy", "poll-interval", "refresh-interval",
        "connect-timeout", "command-timeout", "lease"},
       {}});
  if (!flags.ok()) return Fail(kExitUsage, flags.status());
  absl::StatusOr<persist::MirrorOptions> options = OptionsFrom(*flags);
  if (!options.ok()) return Fail(kExitUsage, options.status());
  absl::Status name_ok = shm::ValidateSegmentName(flags->segment());
  if (!name_ok.ok()) return Fail(kExitUsage, name_ok);

  // Blocked before any thread starts, so every thread inherits the mask and
  // sigwait below is the only place these signals are taken.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  if (auto code = RefuseUnusableSegment(flags->segment())) return *code;
  shm::EngineOptions engine_options;
  engine_options.segment.name = flags->segment();
  absl::StatusOr<std::unique_ptr<shm::Engine>> engine =
      shm::Engine::Open(engine_options);
  if (!engine.ok()) return Fail(kExitError, engine.status());
  const absl::Status& segment = (*engine)->segment_status();
  if (!segment.ok()) return Fail(ExitCodeForSegmentError(segment), segment);
  absl::StatusOr<std::unique_ptr<persist::Mirror>> mirror =
      persist::Mirror::Start(**engine, *options);
  if (!mirror.ok()) return Fail(kExitError, mirror.status());

  int signal = 0;
  sigwait(&stop_signals, &signal);
  mirror->reset();  // gives the lease up so a standby takes over at once
  (*engine)->FlushLogs();
  return kExitOk;
}

}  // namespace vix::ctl
