// vixctl destroy: removes the segment, but never one in use (SPEC 12) and
// never a file that is not a vixbreaker segment.
#include <cstdio>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "commands.h"
#include "flags.h"
#include "segment_check.h"
#include "vixbreaker/core/json.h"
#include "vixbreaker/inspect/snapshot.h"
#include "vixbreaker/shm/layout.h"
#include "vixbreaker/shm/process.h"
#include "vixbreaker/shm/segment.h"

namespace vix::ctl {
namespace {

// Who still uses a readable segment: a live mirror lease holder and live
// deciding processes, as "mirror lease holder pid 12; processes 34, 56".
std::string LiveUsers(const inspect::Snapshot& s) {
  std::vector<std::string> parts;
  const inspect::MirrorView& m = s.mirror;
  if (m.lease_holder_pid != 0 && m.lease_holder_alive && !m.lease_expired) {
    parts.push_back(
        absl::StrCat("mirror lease holder pid ", m.lease_holder_pid));
  }
  std::vector<int64_t> pids;
  for (const inspect::ProcessView& p : s.processes) {
    if (!p.alive) continue;
    if (pids.empty() || pids.back() != p.pid) pids.push_back(p.pid);
  }
  if (!pids.empty()) {
    parts.push_back(absl::StrCat("live process", pids.size() == 1 ? "" : "es",
                                 " pid ", absl::StrJoin(pids, ", ")));
  }
  return absl::StrJoin(parts, "; ");
}

// The reason not to remove `name`, or empty. A segment this build cannot
// read (foreign version, corrupt) has no slots to check.
std::string InUse(const std::string& name) {
  absl::StatusOr<inspect::Inspector> inspector =
      inspect::Inspector::Create(Config{});
  if (!inspector.ok()) return "";
  absl::StatusOr<inspect::Snapshot> s =
      inspector->Inspect(name, shm::RealtimeNowNs());
  return s.ok() ? LiveUsers(*s) : "";
}

}  // namespace

int RunDestroy(const Args& args) {
  absl::StatusOr<Flags> flags = Flags::Parse(args, {{}, {"force"}});
  if (!flags.ok()) return Fail(kExitUsage, flags.status());
  const std::string name = flags->segment();
  const std::string path = shm::SegmentPath(name);
  absl::Status file = CheckSegmentFile(name);
  if (absl::IsInvalidArgument(file)) return Fail(kExitUsage, file);
  if (absl::IsNotFound(file)) return Fail(kExitNoSegment, file);
  const bool empty = absl::IsFailedPrecondition(file) &&
                     absl::StrContains(file.message(), "is empty");
  if (!file.ok() && !empty) {
    return Fail(kExitError, absl::StrCat("refusing to remove ", path, ": ",
                                         file.message()));
  }
  if (!empty && !LooksLikeSegment(path)) {
    return Fail(kExitError,
                absl::StrCat("refusing to remove ", path,
                             ": it is not a vixbreaker segment (no vixbreaker "
                             "header); choose the right --segment, or remove "
                             "it by hand if you are sure"));
  }
  if (!flags->Has("force")) {
    const std::string users = InUse(name);
    if (!users.empty()) {
      return Fail(kExitError,
                  absl::StrCat("segment ", path, " is in use (", users,
                               "); stop them first, or pass --force to "
                               "remove it anyway (they keep the old segment "
                               "while new processes create another)"));
    }
  }
  absl::Status destroyed = shm::Segment::Destroy(name);
  if (!destroyed.ok()) {
    return Fail(ExitCodeForSegmentError(destroyed), WithHints(name, destroyed));
  }
  if (flags->json()) {
    std::printf("%s\n", JsonObject()
                            .Str("segment", name)
                            .Bool("destroyed", true)
                            .Done()
                            .c_str());
  } else {
    std::printf("destroyed %s\n", path.c_str());
  }
  return kExitOk;
}

}  // namespace vix::ctl
