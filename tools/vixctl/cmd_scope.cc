// vixctl scope list | rm NAME: the named scopes of the segment and their
// state (read-only), and the removal of one with no episode (SPEC 3, 12).
#include <cstdio>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "commands.h"
#include "segment_check.h"
#include "view.h"
#include "vixbreaker/core/json.h"
#include "vixbreaker/inspect/status_format.h"
#include "vixbreaker/inspect/text_table.h"
#include "vixbreaker/shm/scope_name.h"
#include "vixbreaker/shm/segment.h"

namespace vix::ctl {
namespace {

constexpr char kUsage[] = "usage: vixctl scope list | vixctl scope rm NAME";

std::string ScopeTable(const inspect::Snapshot& s) {
  inspect::TextTable table;
  table.AddRow({"SCOPE", "EPISODE", "START", "AGE", "STARTED", "ENDED"});
  for (const inspect::ScopeView& v : s.scopes) {
    const bool has_word = v.episode != inspect::EpisodeState::kNone;
    table.AddRow({v.name, std::string(inspect::EpisodeStateName(v.episode)),
                  has_word ? inspect::TimeText(v.start_ns) : "-",
                  v.running() ? inspect::DurationText(v.age_ns) : "-",
                  absl::StrCat(v.episodes_started),
                  absl::StrCat(v.episodes_ended)});
  }
  return absl::StrCat(s.scopes.size(), " scopes in segment ", s.header.segment,
                      "\n", table.Render(""));
}

int RunScopeList(const Args& args) {
  auto shot = OneShotView(args);
  if (const int* code = std::get_if<int>(&shot)) return *code;
  const ViewSetup& view = std::get<OneShot>(shot).view;
  const inspect::Snapshot& s = std::get<OneShot>(shot).snapshot;
  if (view.flags.json()) {
    std::vector<std::string> scopes;
    for (const inspect::ScopeView& v : s.scopes) {
      scopes.push_back(inspect::FormatScopeJson(v));
    }
    std::printf("%s\n", JsonObject()
                            .Str("segment", s.header.segment)
                            .Raw("scopes", JsonArray(scopes))
                            .Done()
                            .c_str());
  } else {
    std::fputs(ScopeTable(s).c_str(), stdout);
  }
  return kExitOk;
}

// Removes `name` (no episode running); never creates the segment.
int RunScopeRm(const Args& args) {
  if (args.empty() || absl::StartsWith(args[0], "-")) {
    return Fail(kExitUsage,
                "scope rm needs the scope's NAME; " + std::string(kUsage));
  }
  const std::string name = args[0];
  absl::StatusOr<Flags> flags =
      Flags::Parse(Args(args.begin() + 1, args.end()), {});
  if (!flags.ok()) return Fail(kExitUsage, flags.status());
  absl::Status valid = shm::ValidateSegmentName(flags->segment());
  if (valid.ok()) valid = shm::ValidateScopeName(name);
  if (!valid.ok()) return Fail(kExitUsage, valid);
  CommandEngine e = OpenCommandEngine(*flags, IfMissing::kRefuse);
  if (e.engine == nullptr) return e.exit_code;
  absl::Status removed = e.engine->RemoveScope(name);
  e.engine->FlushLogs();
  if (absl::IsNotFound(removed)) {
    return Fail(
        kExitNoSegment,
        absl::StrCat("no scope \"", name, "\" in segment ", flags->segment(),
                     "; `vixctl scope list` names the scopes"));
  }
  if (absl::IsInvalidArgument(removed)) return Fail(kExitUsage, removed);
  if (!removed.ok()) return Fail(kExitError, removed);
  if (flags->json()) {
    std::printf(
        "%s\n",
        JsonObject().Str("scope", name).Bool("removed", true).Done().c_str());
  } else {
    std::printf("removed scope %s\n", name.c_str());
  }
  return kExitOk;
}

}  // namespace

int RunScope(const Args& args) {
  if (!args.empty() && args[0] == "list") {
    return RunScopeList(Args(args.begin() + 1, args.end()));
  }
  if (!args.empty() && args[0] == "rm") {
    return RunScopeRm(Args(args.begin() + 1, args.end()));
  }
  return Fail(kExitUsage, kUsage);
}

}  // namespace vix::ctl
