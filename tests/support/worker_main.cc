// vix_test_worker: a real process that drives one Engine, so multi-process
// tests can race, kill and observe real processes (fork/exec).
//
//   vix_test_worker --segment NAME [--log FILE] [--fake-clock UNIX_NS]
//                   [--config FILE] [--attach-timeout-ms N]
//
// --log appends the engine's JSON log lines to FILE (default: no logging).
// --fake-clock gives the engine a clock that only the `clock` command moves.
// --config is the text form of vix::Config (core/config.h).
//
// It reads one command per stdin line and answers each with one JSON line on
// stdout (flat object, "op" first; "error" on failure):
//   open [NAME]                      open the engine (on NAME, else --segment)
//   close                            destroy the engine (slots retired)
//   decide STATUS [STAKES [SCOPE]]   one decision (stakes default high)
//   end [SCOPE]                      ForceEnd
//   force START_NS [SCOPE]           ForceStart
//   scope NAME                       FindOrCreateScope
//   clock UNIX_NS                    set the fake clock
//   flush                            FlushLogs
//   loop SCOPE=panic|mixed ...       decide forever over these scopes (panic
//                                    only, or a random status mix); answers
//                                    once every scope was decided, then runs
//                                    until killed
//   exit                             close and exit 0
#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "vixbreaker/core/config.h"
#include "vixbreaker/core/json.h"
#include "vixbreaker/core/parse.h"
#include "vixbreaker/shm/engine.h"
#include "vixbreaker/shm/event_log.h"

namespace {

using vix::shm::Engine;
using vix::shm::ScopeHandle;

struct WorkerFlags {
  std::string segment;
  std::string log_path;
  std::string config_path;
  int64_t fake_clock_ns = -1;
  int64_t attach_timeout_ms = 2000;
};

[[noreturn]] void Die(const std::string& message) {
  std::fprintf(stderr, "vix_test_worker: %s\n", message.c_str());
  std::exit(2);
}

WorkerFlags ParseFlags(int argc, char** argv) {
  WorkerFlags flags;
  for (int i = 1; i < argc; ++i) {
    const std::string name = argv[i];
    if (i + 1 >= argc) Die(absl::StrCat("flag ", name, " needs a value"));
    const std::string value = argv[++i];
    bool ok = true;
    if (name == "--segment") {
      flags.segment = value;
    } else if (name == "--log") {
      flags.log_path = value;
    } else if (name == "--config") {
      flags.config_path = value;
    } else if (name == "--fake-clock") {
      ok = absl::SimpleAtoi(value, &flags.fake_clock_ns);
    } else if (name == "--attach-timeout-ms") {
      ok = absl::SimpleAtoi(value, &flags.attach_timeout_ms);
    } else {
      Die(absl::StrCat("unknown flag ", name));
    }
    if (!ok) Die(absl::StrCat("bad value \"", value, "\" for ", name));
  }
  if (flags.segment.empty()) Die("--segment NAME is required");
  return flags;
}

class Worker {
 public:
  explicit Worker(WorkerFlags flags) : flags_(std::move(flags)) {
    if (flags_.fake_clock_ns >= 0) {
      fake_clock_ =
          std::make_unique<vix::shm::CachedClock>(flags_.fake_clock_ns);
    }
    if (!flags_.log_path.empty()) {
      log_fd_ = open(flags_.log_path.c_str(),
                     O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
      if (log_fd_ < 0) Die(absl::StrCat("cannot open ", flags_.log_path));
    }
  }

  // Runs one command line; returns false when the worker should exit.
  bool Run(const std::string& line) {
    std::vector<std::string> words =
        absl::StrSplit(line, ' ', absl::SkipEmpty());
    if (words.empty()) return true;
    const std::string& op = words[0];
    auto arg = [&](size_t i, const std::string& fallback) {
      return i < words.size() ? words[i] : fallback;
    };
    if (op == "exit") {
      engine_.reset();
      Reply(op, "");
      return false;
    }
    if (op == "open") {
      Open(arg(1, flags_.segment));
    } else if (op == "close") {
      engine_.reset();
      scopes_.clear();
      Reply(op, "");
    } else if (op == "clock") {
      SetClock(arg(1, ""));
    } else if (!engine_) {
      Error(op, "no engine: send `open` first");
    } else if (op == "decide") {
      Decide(arg(1, ""), arg(2, "high"), arg(3, "global"));
    } else if (op == "end") {
      End(arg(1, "global"));
    } else if (op == "force") {
      Force(arg(1, ""), arg(2, "global"));
    } else if (op == "scope") {
      absl::StatusOr<ScopeHandle> scope = Scope(arg(1, ""));
      if (scope.ok()) {
        Reply(op, absl::StrCat(",\"index\":", scope->index));
      } else {
        Error(op, scope.status().ToString());
      }
    } else if (op == "flush") {
      engine_->FlushLogs();
      Reply(op, "");
    } else if (op == "loop") {
      Loop(std::vector<std::string>(words.begin() + 1, words.end()));
    } else {
      Error(op, absl::StrCat("unknown command \"", line, "\""));
    }
    return true;
  }

 private:
  void Open(const std::string& name) {
    engine_.reset();
    scopes_.clear();
    absl::StatusOr<vix::Config> config = LoadConfig();
    if (!config.ok()) return Error("open", config.status().ToString());
    vix::shm::EngineOptions options;
    options.segment.name = name;
    options.segment.attach_timeout =
        absl::Milliseconds(flags_.attach_timeout_ms);
    options.config = *config;
    options.clock = fake_clock_.get();
    options.log_fd = log_fd_;
    absl::StatusOr<std::unique_ptr<Engine>> engine = Engine::Open(options);
    if (!engine.ok()) return Error("open", engine.status().ToString());
    engine_ = *std::move(engine);
    const vix::shm::Segment* segment = engine_->segment();
    if (segment == nullptr) {
      return Error("open", engine_->segment_status().ToString());
    }
    Reply("open",
          absl::StrCat(",\"created\":",
                       segment->created_by_this_process() ? "true" : "false",
                       ",\"generation\":",
                       segment->layout().header.generation.load(
                           std::memory_order_relaxed)));
  }

  absl::StatusOr<vix::Config> LoadConfig() {
    if (flags_.config_path.empty()) return vix::Config{};
    std::ifstream in(flags_.config_path);
    std::stringstream text;
    text << in.rdbuf();
    return vix::ParseConfig(text.str());
  }

  void SetClock(const std::string& text) {
    int64_t ns = 0;
    if (!fake_clock_) return Error("clock", "started without --fake-clock");
    if (!absl::SimpleAtoi(text, &ns)) return Error("clock", "bad time");
    fake_clock_->SetNs(ns);
    Reply("clock", "");
  }

  absl::StatusOr<ScopeHandle> Scope(const std::string& name) {
    auto it = scopes_.find(name);
    if (it != scopes_.end()) return it->second;
    absl::StatusOr<ScopeHandle> scope = engine_->FindOrCreateScope(name);
    if (scope.ok()) scopes_.emplace(name, *scope);
    return scope;
  }

  void Decide(const std::string& status_text, const std::string& stakes_text,
              const std::string& scope_name) {
    absl::StatusOr<vix::Status> status = vix::ParseStatus(status_text);
    absl::StatusOr<vix::Stakes> stakes = vix::ParseStakes(stakes_text);
    absl::StatusOr<ScopeHandle> scope = Scope(scope_name);
    for (const absl::Status& s :
         {status.status(), stakes.status(), scope.status()}) {
      if (!s.ok()) return Error("decide", s.ToString());
    }
    vix::BaseTtl base_ttl;
    vix::BaseTtl::FromSeconds(60, &base_ttl);
    const vix::Decision d = engine_->Decide(*scope, *status, base_ttl, *stakes);
    Reply("decide", absl::StrCat(",\"ttl\":", d.ttl_seconds, ",\"mode\":\"",
                                 vix::ModeName(d.mode), "\",\"tier\":", d.tier,
                                 ",\"stakes\":\"", vix::StakesName(d.stakes),
                                 "\",\"reason\":\"", vix::ReasonName(d.reason),
                                 "\",\"first_writer\":",
                                 d.first_writer ? "true" : "false",
                                 ",\"episode_start_ns\":", d.episode_start_ns));
  }

  void End(const std::string& scope_name) {
    absl::StatusOr<ScopeHandle> scope = Scope(scope_name);
    if (!scope.ok()) return Error("end", scope.status().ToString());
    absl::StatusOr<bool> ended = engine_->ForceEnd(*scope);
    if (!ended.ok()) return Error("end", ended.status().ToString());
    Reply("end", absl::StrCat(",\"ended\":", *ended ? "true" : "false"));
  }

  void Force(const std::string& start_text, const std::string& scope_name) {
    int64_t start_ns = 0;
    if (!absl::SimpleAtoi(start_text, &start_ns)) {
      return Error("force", "bad start");
    }
    absl::StatusOr<ScopeHandle> scope = Scope(scope_name);
    if (!scope.ok()) return Error("force", scope.status().ToString());
    absl::Status forced = engine_->ForceStart(*scope, start_ns);
    if (!forced.ok()) return Error("force", forced.ToString());
    Reply("force", "");
  }

  // Never returns: decides until the process is killed.
  void Loop(const std::vector<std::string>& specs) {
    struct Target {
      ScopeHandle scope;
      bool panic_only;
    };
    std::vector<Target> targets;
    for (const std::string& spec : specs) {
      std::pair<std::string, std::string> parts =
          absl::StrSplit(spec, absl::MaxSplits('=', 1));
      absl::StatusOr<ScopeHandle> scope = Scope(parts.first);
      if (!scope.ok()) return Error("loop", scope.status().ToString());
      targets.push_back({*scope, parts.second == "panic"});
    }
    if (targets.empty()) return Error("loop", "no SCOPE=panic|mixed given");
    vix::BaseTtl base_ttl;
    vix::BaseTtl::FromSeconds(60, &base_ttl);
    uint64_t rng = static_cast<uint64_t>(getpid()) * 0x9e3779b97f4a7c15ull | 1;
    for (uint64_t i = 0;; ++i) {
      rng ^= rng << 13;  // xorshift64: cheap, and different per process
      rng ^= rng >> 7;
      rng ^= rng << 17;
      const Target& t = targets[i < targets.size() ? i : rng % targets.size()];
      const auto status =
          t.panic_only
              ? vix::Status::kPanic
              : static_cast<vix::Status>((rng >> 20) % vix::kStatusCount);
      const auto stakes = static_cast<vix::Stakes>((rng >> 40) % 3);
      engine_->Decide(t.scope, status, base_ttl, stakes);
      if (i + 1 == targets.size()) Reply("loop", "");
    }
  }

  void Reply(const std::string& op, const std::string& fields) {
    std::printf("{\"op\":\"%s\",\"pid\":%d%s}\n", op.c_str(), getpid(),
                fields.c_str());
    std::fflush(stdout);
  }

  void Error(const std::string& op, const std::string& message) {
    std::string json;
    vix::AppendJsonString(message, &json);
    Reply(op, absl::StrCat(",\"error\":", json));
  }

  WorkerFlags flags_;
  int log_fd_ = -1;
  std::unique_ptr<vix::shm::CachedClock> fake_clock_;
  std::unique_ptr<Engine> engine_;
  std::map<std::string, ScopeHandle> scopes_;
};

}  // namespace

int main(int argc, char** argv) {
  Worker worker(ParseFlags(argc, argv));
  std::string line;
  while (std::getline(std::cin, line)) {
    if (!worker.Run(line)) return 0;
  }
  return 0;
}
