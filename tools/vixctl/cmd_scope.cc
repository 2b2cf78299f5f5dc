// vixctl scope list: the named scopes of the segment and their state,
// read-only (SPEC 3, 12).
#include <cstdio>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "commands.h"
#include "view.h"
#include "vixbreaker/core/json.h"
#include "vixbreaker/inspect/status_format.h"
#include "vixbreaker/inspect/text_table.h"

namespace vix::ctl {
namespace {

constexpr char kUsage[] = "usage: vixctl scope list";

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

}  // namespace

int RunScope(const Args& args) {
  if (!args.empty() && args[0] == "list") {
    return RunScopeList(Args(args.begin() + 1, args.end()));
  }
  return Fail(kExitUsage, kUsage);
}

}  // namespace vix::ctl
