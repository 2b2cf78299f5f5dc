#include "vixbreaker/shm/segment.h"

#include <grp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/interprocess/mapped_region.hpp>
#include <boost/interprocess/shared_memory_object.hpp>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <thread>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "vixbreaker/shm/process.h"
#include "vixbreaker/shm/scope_name.h"

namespace vix::shm {

namespace bip = boost::interprocess;

struct Segment::Mapping {
  bip::shared_memory_object object;
  bip::mapped_region region;
};

namespace {

constexpr mode_t kOwnerOnlyMode = 0600;
constexpr mode_t kGroupMode = 0660;

std::string DestroyHint(absl::string_view name) {
  return absl::StrCat(
      "if no process uses it, remove it with `vixctl destroy "
      "--segment ",
      name, "`");
}

absl::Status FromBoost(const bip::interprocess_exception& e,
                       absl::string_view what, absl::string_view name) {
  std::string message =
      absl::StrCat(what, " ", SegmentPath(name), ": ", e.what(), " (errno ",
                   e.get_native_error(), ")");
  switch (e.get_error_code()) {
    case bip::not_found_error:
      return absl::NotFoundError(message);
    case bip::security_error:
      return absl::PermissionDeniedError(message);
    case bip::already_exists_error:
      return absl::AlreadyExistsError(message);
    default:
      return absl::UnavailableError(message);
  }
}

int HandleOf(const bip::shared_memory_object& object) {
  return object.get_mapping_handle().handle;
}

absl::StatusOr<gid_t> LookUpGroup(const std::string& group) {
  struct group* g = getgrnam(group.c_str());
  if (g == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("unknown group \"", group, "\" for the segment"));
  }
  return g->gr_gid;
}

// Refuses objects another user owns (unless shared through our group) and
// objects others could write.
absl::Status CheckOwnerAndMode(const struct stat& st,
                               const SegmentOptions& options) {
  const mode_t mode = st.st_mode & 0777;
  if (mode & 0002) {
    return absl::PermissionDeniedError(absl::StrFormat(
        "segment %s has mode %04o: any user could write it; %s",
        SegmentPath(options.name), mode, DestroyHint(options.name)));
  }
  if (st.st_uid == geteuid()) return absl::OkStatus();
  if (!options.group.empty()) {
    absl::StatusOr<gid_t> gid = LookUpGroup(options.group);
    if (gid.ok() && st.st_gid == *gid && (mode & 0060) == 0060) {
      return absl::OkStatus();
    }
  }
  return absl::PermissionDeniedError(absl::StrFormat(
      "segment %s is owned by uid %d but this process runs as uid %d; "
      "processes of one host must share a user (or a group, configured on "
      "every process)",
      SegmentPath(options.name), st.st_uid, geteuid()));
}

void InitialiseLayout(SegmentLayout& layout, uint32_t scope_capacity) {
  // The object is zero-filled by ftruncate; set the non-zero fields.
  SegmentHeader& h = layout.header;
  const int64_t now = RealtimeNowNs();
  h.layout_major.store(kLayoutMajor, std::memory_order_relaxed);
  h.layout_minor.store(kLayoutMinor, std::memory_order_relaxed);
  h.total_size.store(SegmentSize(scope_capacity), std::memory_order_relaxed);
  h.created_unix_ns.store(now, std::memory_order_relaxed);
  h.creator_pid.store(getpid(), std::memory_order_relaxed);
  h.creator_start_ticks.store(SelfStartTicks(), std::memory_order_relaxed);
  h.generation.store(static_cast<uint64_t>(now) | 1, std::memory_order_relaxed);
  h.scope_capacity.store(scope_capacity, std::memory_order_relaxed);
  h.slot_capacity.store(kSlotCapacity, std::memory_order_relaxed);
  h.window_buckets.store(kWindowBuckets, std::memory_order_relaxed);
  h.transition_history.store(kTransitionHistory, std::memory_order_relaxed);

  Scope* scopes = ScopesOf(layout);
  for (uint32_t i = 0; i < scope_capacity; ++i) {
    scopes[i].generation.store(1, std::memory_order_relaxed);
  }
  Scope& global = scopes[kGlobalScopeIndex];
  WriteScopeName(global, kGlobalScopeName);
  global.state.store(ScopeStateWord::Make(kScopeUsed, 0, 0),
                     std::memory_order_relaxed);
  layout.window.bucket_width_ns.store(1'000'000'000, std::memory_order_relaxed);
  // Publish last: a reader that sees the magic sees every field above.
  h.magic.store(kMagic, std::memory_order_release);
}

absl::StatusOr<std::unique_ptr<Segment::Mapping>> CreateExclusive(
    const SegmentOptions& options) {
  auto mapping = std::make_unique<Segment::Mapping>();
  mode_t mode = kOwnerOnlyMode;
  gid_t gid = static_cast<gid_t>(-1);
  if (!options.group.empty()) {
    absl::StatusOr<gid_t> g = LookUpGroup(options.group);
    if (!g.ok()) return g.status();
    gid = *g;
    mode = kGroupMode;
  }
  try {
    bip::permissions perms(mode);
    mapping->object = bip::shared_memory_object(
        bip::create_only, options.name.c_str(), bip::read_write, perms);
  } catch (const bip::interprocess_exception& e) {
    return FromBoost(e, "cannot create", options.name);
  }
  int fd = HandleOf(mapping->object);
  // shm_open applies the umask; set the mode we mean explicitly.
  if ((gid != static_cast<gid_t>(-1) && fchown(fd, -1, gid) != 0) ||
      fchmod(fd, mode) != 0) {
    int err = errno;
    bip::shared_memory_object::remove(options.name.c_str());
    return absl::PermissionDeniedError(absl::StrCat("cannot set owner/mode of ",
                                                    SegmentPath(options.name),
                                                    ": ", std::strerror(err)));
  }
  try {
    const size_t size = SegmentSize(options.scope_capacity);
    mapping->object.truncate(static_cast<bip::offset_t>(size));
    mapping->region =
        bip::mapped_region(mapping->object, bip::read_write, 0, size);
  } catch (const bip::interprocess_exception& e) {
    bip::shared_memory_object::remove(options.name.c_str());
    return FromBoost(e, "cannot size or map", options.name);
  }
  return mapping;
}

// Waits for an existing object to be sized and published, then validates
// it. `writable` selects the mapping's protection.
absl::StatusOr<std::unique_ptr<Segment::Mapping>> AttachExisting(
    const SegmentOptions& options, bool writable) {
  auto mapping = std::make_unique<Segment::Mapping>();
  const bip::mode_t access = writable ? bip::read_write : bip::read_only;
  try {
    mapping->object =
        bip::shared_memory_object(bip::open_only, options.name.c_str(), access);
  } catch (const bip::interprocess_exception& e) {
    return FromBoost(e, "cannot open", options.name);
  }
  const absl::Time deadline = absl::Now() + options.attach_timeout;
  const int fd = HandleOf(mapping->object);
  while (true) {
    struct stat st;
    if (fstat(fd, &st) != 0) {
      return absl::UnavailableError(absl::StrCat(
          "cannot stat ", SegmentPath(options.name), ": ", strerror(errno)));
    }
    absl::Status owner = CheckOwnerAndMode(st, options);
    if (!owner.ok()) return owner;
    const size_t size = static_cast<size_t>(st.st_size);
    // A size of 0 is a creator between O_EXCL and ftruncate.
    if (size >= sizeof(SegmentHeader)) {
      bip::mapped_region header_region(mapping->object, access, 0,
                                       sizeof(SegmentHeader));
      const auto* header =
          static_cast<const SegmentHeader*>(header_region.get_address());
      if (header->magic.load(std::memory_order_acquire) != 0) {
        absl::Status valid = ValidateHeader(*header, size, options.name);
        if (!valid.ok()) return valid;
        mapping->region = bip::mapped_region(
            mapping->object, access, 0,
            header->total_size.load(std::memory_order_relaxed));
        return mapping;
      }
    } else if (size != 0) {
      return absl::DataLossError(absl::StrFormat(
          "segment %s is truncated: %d bytes, layout %d.%d needs at least "
          "%d; %s",
          SegmentPath(options.name), size, kLayoutMajor, kLayoutMinor,
          SegmentSize(kMinScopeCapacity), DestroyHint(options.name)));
    }
    if (absl::Now() >= deadline) {
      return absl::DeadlineExceededError(absl::StrFormat(
          "segment %s was not made ready within %s (its creator may have "
          "died while initialising it); %s",
          SegmentPath(options.name),
          absl::FormatDuration(options.attach_timeout),
          DestroyHint(options.name)));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

}  // namespace

std::string DefaultSegmentName() {
  const char* env = std::getenv("VIX_SEGMENT");
  if (env != nullptr && env[0] != '\0') return env;
  return "vixbreaker";
}

absl::Status ValidateSegmentName(absl::string_view name) {
  if (name.empty() || name.size() > kSegmentNameMax) {
    return absl::InvalidArgumentError(
        absl::StrCat("bad segment name: length ", name.size(), ", expected 1..",
                     kSegmentNameMax));
  }
  if (name[0] == '.') {
    return absl::InvalidArgumentError(absl::StrCat(
        "bad segment name \"", name, "\": must not start with '.'"));
  }
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
    if (!ok) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "bad segment name \"%s\": character '%s' is not allowed (use "
          "letters, digits, '.', '_', '-')",
          absl::CHexEscape(name.substr(0, 64)),
          absl::CHexEscape(absl::string_view(&c, 1))));
    }
  }
  return absl::OkStatus();
}

std::string SegmentPath(absl::string_view name) {
  return absl::StrCat("/dev/shm/", name);
}

absl::Status ValidateHeader(const SegmentHeader& header, size_t file_size,
                            absl::string_view name) {
  const uint64_t magic = header.magic.load(std::memory_order_acquire);
  if (magic != kMagic) {
    return absl::DataLossError(absl::StrFormat(
        "segment %s is not a vixbreaker segment (magic 0x%016x, expected "
        "0x%016x); %s",
        SegmentPath(name), magic, kMagic, DestroyHint(name)));
  }
  const uint32_t major = header.layout_major.load(std::memory_order_relaxed);
  const uint32_t minor = header.layout_minor.load(std::memory_order_relaxed);
  if (major != kLayoutMajor) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "segment %s has layout version %d.%d but this program reads %d.x "
        "(it is %d.%d); run every process of the host on one version, or %s",
        SegmentPath(name), major, minor, kLayoutMajor, kLayoutMajor,
        kLayoutMinor, DestroyHint(name)));
  }
  const uint32_t scopes = header.scope_capacity.load(std::memory_order_relaxed);
  if (scopes < kMinScopeCapacity || scopes > kMaxScopeCapacity) {
    return absl::DataLossError(absl::StrFormat(
        "segment %s declares %d scopes, outside %d..%d (corrupt); %s",
        SegmentPath(name), scopes, kMinScopeCapacity, kMaxScopeCapacity,
        DestroyHint(name)));
  }
  const uint64_t declared = header.total_size.load(std::memory_order_relaxed);
  if (declared != SegmentSize(scopes) || file_size != declared) {
    return absl::DataLossError(absl::StrFormat(
        "segment %s has the wrong size: header says %d bytes, file is %d, "
        "layout %d.%d with %d scopes needs %d (truncated or corrupt); %s",
        SegmentPath(name), declared, file_size, kLayoutMajor, kLayoutMinor,
        scopes, SegmentSize(scopes), DestroyHint(name)));
  }
  if (header.slot_capacity.load(std::memory_order_relaxed) != kSlotCapacity ||
      header.window_buckets.load(std::memory_order_relaxed) != kWindowBuckets ||
      header.transition_history.load(std::memory_order_relaxed) !=
          kTransitionHistory) {
    return absl::DataLossError(absl::StrFormat(
        "segment %s has capacities that do not match layout %d.%d (corrupt); "
        "%s",
        SegmentPath(name), kLayoutMajor, kLayoutMinor, DestroyHint(name)));
  }
  if (header.generation.load(std::memory_order_relaxed) == 0) {
    return absl::DataLossError(
        absl::StrFormat("segment %s has generation 0 (corrupt); %s",
                        SegmentPath(name), DestroyHint(name)));
  }
  return absl::OkStatus();
}

Segment::Segment(std::unique_ptr<Mapping> mapping, std::string name,
                 bool writable, bool created)
    : mapping_(std::move(mapping)),
      layout_(static_cast<SegmentLayout*>(mapping_->region.get_address())),
      name_(std::move(name)),
      writable_(writable),
      created_(created) {}

Segment::~Segment() = default;

absl::StatusOr<std::unique_ptr<Segment>> Segment::OpenOrCreate(
    const SegmentOptions& options) {
  absl::Status valid = ValidateSegmentName(options.name);
  if (!valid.ok()) return valid;
  if (options.scope_capacity < kMinScopeCapacity ||
      options.scope_capacity > kMaxScopeCapacity) {
    return absl::InvalidArgumentError(absl::StrCat(
        "bad scope capacity ", options.scope_capacity, ": expected ",
        kMinScopeCapacity, "..", kMaxScopeCapacity));
  }
  // Another process may create or destroy the object between our two
  // attempts; a few rounds settle it.
  const absl::Time group_deadline = absl::Now() + options.attach_timeout;
  for (int attempt = 0; attempt < 8; ++attempt) {
    absl::StatusOr<std::unique_ptr<Mapping>> created = CreateExclusive(options);
    if (created.ok()) {
      auto* layout =
          static_cast<SegmentLayout*>((*created)->region.get_address());
      InitialiseLayout(*layout, options.scope_capacity);
      return std::unique_ptr<Segment>(
          new Segment(std::move(*created), options.name, true, true));
    }
    if (!absl::IsAlreadyExists(created.status())) return created.status();
    absl::StatusOr<std::unique_ptr<Mapping>> attached =
        AttachExisting(options, /*writable=*/true);
    if (attached.ok()) {
      return std::unique_ptr<Segment>(
          new Segment(std::move(*attached), options.name, true, false));
    }
    // A group member may open a new segment before its creator's fchmod
    // has given the group access (shm_open applies the umask): wait.
    const bool group_not_yet_open =
        absl::IsPermissionDenied(attached.status()) && !options.group.empty() &&
        absl::Now() < group_deadline;
    if (group_not_yet_open) {
      --attempt;
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
      continue;
    }
    if (!absl::IsNotFound(attached.status())) return attached.status();
  }
  return absl::UnavailableError(absl::StrCat(
      "segment ", SegmentPath(options.name),
      " keeps appearing and disappearing; is something destroying it?"));
}

absl::StatusOr<std::unique_ptr<Segment>> Segment::OpenReadOnly(
    const SegmentOptions& options) {
  absl::Status valid = ValidateSegmentName(options.name);
  if (!valid.ok()) return valid;
  absl::StatusOr<std::unique_ptr<Mapping>> attached =
      AttachExisting(options, /*writable=*/false);
  if (!attached.ok()) return attached.status();
  return std::unique_ptr<Segment>(
      new Segment(std::move(*attached), options.name, false, false));
}

absl::Status Segment::Destroy(absl::string_view name) {
  absl::Status valid = ValidateSegmentName(name);
  if (!valid.ok()) return valid;
  std::string n(name);
  if (!bip::shared_memory_object::remove(n.c_str())) {
    if (errno == ENOENT) {
      return absl::NotFoundError(
          absl::StrCat("no segment ", SegmentPath(name), " to destroy"));
    }
    const int err = errno;
    const std::string text = absl::StrCat("cannot remove ", SegmentPath(name),
                                          ": ", std::strerror(err));
    return err == EACCES || err == EPERM ? absl::PermissionDeniedError(text)
                                         : absl::UnavailableError(text);
  }
  return absl::OkStatus();
}

}  // namespace vix::shm
