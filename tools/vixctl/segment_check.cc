#include "segment_check.h"

#include <fcntl.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "commands.h"
#include "vixbreaker/inspect/config_file.h"
#include "vixbreaker/inspect/snapshot.h"
#include "vixbreaker/shm/layout.h"
#include "vixbreaker/shm/segment.h"

namespace vix::ctl {
namespace {

std::string UserName(uid_t uid) {
  const struct passwd* pw = getpwuid(uid);
  return pw != nullptr ? pw->pw_name : absl::StrCat(uid);
}

std::string DestroyHint(const std::string& name) {
  return absl::StrCat("if no process uses it, remove it with `vixctl destroy ",
                      "--segment ", name, "`");
}

}  // namespace

bool LooksLikeSegment(const std::string& path) {
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return true;
  uint64_t magic = 0;
  uint32_t major = 0;
  const bool read_magic =
      pread(fd, &magic, sizeof magic, offsetof(shm::SegmentHeader, magic)) ==
      sizeof magic;
  const bool read_major =
      pread(fd, &major, sizeof major,
            offsetof(shm::SegmentHeader, layout_major)) == sizeof major;
  close(fd);
  if (read_magic && magic == shm::kMagic) return true;
  return read_magic && magic == 0 && read_major && major != 0;
}

absl::Status CheckSegmentFile(const std::string& name) {
  absl::Status valid = shm::ValidateSegmentName(name);
  if (!valid.ok()) return valid;
  const std::string path = shm::SegmentPath(name);
  struct stat st;
  if (lstat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) {
      return absl::NotFoundError(absl::StrCat(
          "no segment ", name, " (", path,
          "): no process has decided on this host yet, or the name is wrong; "
          "check --segment / VIX_SEGMENT"));
    }
    const int err = errno;
    const std::string text =
        absl::StrCat("cannot stat ", path, ": ", std::strerror(err));
    return err == EACCES ? absl::PermissionDeniedError(text)
                         : absl::UnavailableError(text);
  }
  if (S_ISDIR(st.st_mode)) {
    return absl::FailedPreconditionError(absl::StrCat(
        path,
        " is a directory, not a vixbreaker segment; choose another "
        "--segment, or remove it with `rmdir ",
        path, "` if it is not needed"));
  }
  if (!S_ISREG(st.st_mode)) {
    return absl::FailedPreconditionError(absl::StrCat(
        path,
        " is not a regular file, so not a vixbreaker segment; choose "
        "another --segment"));
  }
  if (st.st_size == 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("segment ", path,
                     " is empty (0 bytes): its creator died before "
                     "sizing it, or it is not a vixbreaker segment; ",
                     DestroyHint(name)));
  }
  return absl::OkStatus();
}

absl::Status CheckSegmentUsable(const std::string& name) {
  absl::Status file = CheckSegmentFile(name);
  if (!file.ok()) return file;
  absl::StatusOr<std::unique_ptr<shm::Segment>> segment =
      inspect::OpenForInspection(name);
  return segment.ok() ? absl::OkStatus() : WithHints(name, segment.status());
}

absl::Status WithHints(const std::string& name, const absl::Status& status) {
  const std::string path = shm::SegmentPath(name);
  if (absl::IsDataLoss(status) && !LooksLikeSegment(path)) {
    return absl::DataLossError(absl::StrCat(
        path,
        " is not a vixbreaker segment (no vixbreaker header); choose "
        "the right --segment, or, if you are sure nothing uses it, remove it "
        "by hand (`rm ",
        path, "`): `vixctl destroy` removes segments only"));
  }
  if (!absl::IsPermissionDenied(status)) return status;
  struct stat st;
  if (stat(path.c_str(), &st) != 0) return status;
  const mode_t mode = st.st_mode & 0777;
  if (mode & 0002) {
    return absl::PermissionDeniedError(absl::StrFormat(
        "segment %s has mode %04o: any user could write it; its owner (%s) "
        "should restrict it with `chmod 600 %s` (or `chmod 660` to share it "
        "with its group)",
        path, mode, UserName(st.st_uid), path));
  }
  if (st.st_uid == geteuid()) return status;
  const std::string owner = UserName(st.st_uid);
  return absl::PermissionDeniedError(absl::StrFormat(
      "cannot read segment %s: it is owned by %s (uid %d, mode %04o) and "
      "vixctl runs as uid %d; run it as the owner: `sudo -u %s vixctl ...`",
      path, owner, st.st_uid, mode, geteuid(), owner));
}

std::optional<int> RefuseUnusableSegment(const std::string& name) {
  absl::Status usable = CheckSegmentUsable(name);
  if (usable.ok() || absl::IsNotFound(usable)) return std::nullopt;
  return Fail(ExitCodeForSegmentError(usable), usable);
}

absl::StatusOr<std::unique_ptr<shm::Engine>> OpenEngine(const Flags& flags) {
  absl::StatusOr<Config> config = inspect::LoadConfigFromEnv();
  if (!config.ok()) return config.status();
  shm::EngineOptions options;
  options.segment.name = flags.segment();
  options.config = *config;
  return shm::Engine::Open(options);
}

CommandEngine OpenCommandEngine(const Flags& flags, IfMissing if_missing) {
  const absl::Status usable = CheckSegmentUsable(flags.segment());
  if (!usable.ok() &&
      (if_missing == IfMissing::kRefuse || !absl::IsNotFound(usable))) {
    return {nullptr, Fail(ExitCodeForSegmentError(usable), usable)};
  }
  absl::StatusOr<std::unique_ptr<shm::Engine>> engine = OpenEngine(flags);
  if (!engine.ok()) return {nullptr, Fail(kExitUsage, engine.status())};
  const absl::Status& segment = (*engine)->segment_status();
  if (!segment.ok()) {
    return {nullptr, Fail(ExitCodeForSegmentError(segment), segment)};
  }
  return {*std::move(engine), 0};
}

}  // namespace vix::ctl
