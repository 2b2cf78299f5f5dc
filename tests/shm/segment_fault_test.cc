// Faults of the segment itself (SPEC 4, 11): what a dead creator leaves,
// corrupt, truncated, foreign-version and foreign-owner objects, names,
// permissions, a full scope table and a scope claim left by a dead process.
// A refused segment is never reinitialised: its bytes are compared before
// and after every refused attach.
#include <fcntl.h>
#include <grp.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <functional>
#include <future>
#include <memory>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "test_util.h"
#include "vixbreaker/core/types.h"
#include "vixbreaker/shm/engine.h"
#include "vixbreaker/shm/layout.h"
#include "vixbreaker/shm/process.h"
#include "vixbreaker/shm/segment.h"

namespace vix::shm {
namespace {

constexpr size_t kSegmentSize = SegmentSize(kDefaultScopeCapacity);

using ::testing::HasSubstr;
using vix::testing::ScopedSegmentName;

constexpr uid_t kNobody = 65534;

SegmentOptions Options(const std::string& name,
                       absl::Duration timeout = absl::Milliseconds(200)) {
  SegmentOptions options;
  options.name = name;
  options.attach_timeout = timeout;
  return options;
}

// Creates a valid segment and detaches from it.
void CreateValid(const std::string& name) {
  absl::StatusOr<std::unique_ptr<Segment>> segment =
      Segment::OpenOrCreate(Options(name));
  ASSERT_TRUE(segment.ok()) << segment.status();
  ASSERT_TRUE((*segment)->created_by_this_process());
}

// Every byte of the object (what "never reinitialised" compares).
std::string Bytes(const std::string& name) {
  std::string bytes;
  int fd = open(SegmentPath(name).c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return "<missing>";
  char buf[65536];
  ssize_t n;
  while ((n = read(fd, buf, sizeof(buf))) > 0) bytes.append(buf, n);
  close(fd);
  return bytes;
}

// Maps the object's header directly, as an editor of the file would.
void EditHeader(const std::string& name,
                const std::function<void(SegmentHeader&)>& edit) {
  int fd = open(SegmentPath(name).c_str(), O_RDWR | O_CLOEXEC);
  ASSERT_GE(fd, 0) << SegmentPath(name) << ": " << strerror(errno);
  void* p = mmap(nullptr, sizeof(SegmentHeader), PROT_READ | PROT_WRITE,
                 MAP_SHARED, fd, 0);
  close(fd);
  ASSERT_NE(p, MAP_FAILED);
  edit(*static_cast<SegmentHeader*>(p));
  munmap(p, sizeof(SegmentHeader));
}

// What a creator killed between O_EXCL and publishing the magic leaves: an
// object of `size` zero bytes.
void LeaveDeadCreatorObject(const std::string& name, off_t size) {
  int fd = open(SegmentPath(name).c_str(),
                O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  ASSERT_GE(fd, 0) << strerror(errno);
  ASSERT_EQ(fchmod(fd, 0600), 0);
  ASSERT_EQ(ftruncate(fd, size), 0);
  close(fd);
}

// Attaches (bounded: a hang is reported, not waited out) with OpenOrCreate.
absl::Status AttachStatus(const SegmentOptions& options) {
  auto attach = std::async(std::launch::async, [options] {
    return Segment::OpenOrCreate(options).status();
  });
  if (attach.wait_for(std::chrono::seconds(30)) != std::future_status::ready) {
    ADD_FAILURE() << "attach did not return within 30 s (timeout "
                  << absl::FormatDuration(options.attach_timeout) << ")";
    attach.wait();
  }
  return attach.get();
}

// The refusal contract: the expected code, a message naming the file, the
// message fragments given, and not one byte of the object changed, whether
// through Segment or through an Engine (which then answers fail-safe).
void ExpectRefused(const std::string& name, absl::StatusCode code,
                   std::initializer_list<std::string> fragments) {
  const std::string before = Bytes(name);
  absl::Status status = AttachStatus(Options(name));
  EXPECT_EQ(status.code(), code) << status;
  EXPECT_THAT(std::string(status.message()), HasSubstr(SegmentPath(name)));
  for (const std::string& fragment : fragments) {
    EXPECT_THAT(std::string(status.message()), HasSubstr(fragment));
  }
  EngineOptions options;
  options.segment = Options(name);
  options.log_fd = -1;
  absl::StatusOr<std::unique_ptr<Engine>> engine = Engine::Open(options);
  ASSERT_TRUE(engine.ok()) << engine.status();
  EXPECT_EQ((*engine)->segment_status().code(), code);
  BaseTtl base;
  BaseTtl::FromSeconds(60, &base);
  Decision d = (*engine)->Decide((*engine)->global_scope(), Status::kPanic,
                                 base, Stakes::kHigh);
  EXPECT_EQ(d.reason, Reason::kFailsafe);
  engine->reset();
  EXPECT_TRUE(Bytes(name) == before) << "a refused segment was modified";
}

TEST(SegmentFaultTest, EmptyObjectOfDeadCreatorTimesOutWithHowToFix) {
  ScopedSegmentName segment("deadcreator0");
  LeaveDeadCreatorObject(segment.name(), 0);
  ExpectRefused(
      segment.name(), absl::StatusCode::kDeadlineExceeded,
      {"not made ready", "vixctl destroy --segment " + segment.name()});
}

TEST(SegmentFaultTest, SizedObjectWithoutMagicTimesOutWithHowToFix) {
  ScopedSegmentName segment("deadcreator1");
  LeaveDeadCreatorObject(segment.name(), kSegmentSize);
  ExpectRefused(segment.name(), absl::StatusCode::kDeadlineExceeded,
                {"not made ready", "vixctl destroy"});
}

TEST(SegmentFaultTest, BadMagicIsRefused) {
  ScopedSegmentName segment("badmagic");
  CreateValid(segment.name());
  EditHeader(segment.name(), [](SegmentHeader& h) {
    h.magic.store(0x0123456789abcdef, std::memory_order_relaxed);
  });
  ExpectRefused(
      segment.name(), absl::StatusCode::kDataLoss,
      {"not a vixbreaker segment", "0x0123456789abcdef", "vixctl destroy"});
}

TEST(SegmentFaultTest, OtherMajorVersionNamesBothVersions) {
  ScopedSegmentName segment("major");
  CreateValid(segment.name());
  EditHeader(segment.name(), [](SegmentHeader& h) {
    h.layout_major.store(kLayoutMajor + 1, std::memory_order_relaxed);
    h.layout_minor.store(7, std::memory_order_relaxed);
  });
  ExpectRefused(segment.name(), absl::StatusCode::kFailedPrecondition,
                {absl::StrCat(kLayoutMajor + 1, ".7"),
                 absl::StrCat(kLayoutMajor, ".", kLayoutMinor)});
}

TEST(SegmentFaultTest, NewerMinorVersionIsAccepted) {
  ScopedSegmentName segment("minor");
  CreateValid(segment.name());
  EditHeader(segment.name(), [](SegmentHeader& h) {
    h.layout_minor.store(kLayoutMinor + 3, std::memory_order_relaxed);
  });
  EXPECT_TRUE(AttachStatus(Options(segment.name())).ok());
}

TEST(SegmentFaultTest, FileShorterThanHeaderIsTruncated) {
  ScopedSegmentName segment("trunc-header");
  CreateValid(segment.name());
  ASSERT_EQ(truncate(SegmentPath(segment.name()).c_str(), 100), 0);
  ExpectRefused(segment.name(), absl::StatusCode::kDataLoss,
                {"truncated", "100 bytes"});
}

TEST(SegmentFaultTest, FileShorterThanLayoutIsRefused) {
  ScopedSegmentName segment("trunc-body");
  CreateValid(segment.name());
  const off_t half = kSegmentSize / 2;
  ASSERT_EQ(truncate(SegmentPath(segment.name()).c_str(), half), 0);
  ExpectRefused(segment.name(), absl::StatusCode::kDataLoss,
                {"wrong size", absl::StrCat("file is ", half)});
}

TEST(SegmentFaultTest, WrongSizeInHeaderIsRefused) {
  ScopedSegmentName segment("hdrsize");
  CreateValid(segment.name());
  EditHeader(segment.name(), [](SegmentHeader& h) {
    h.total_size.store(kSegmentSize + 64, std::memory_order_relaxed);
  });
  ExpectRefused(
      segment.name(), absl::StatusCode::kDataLoss,
      {"wrong size", absl::StrCat("header says ", kSegmentSize + 64)});
}

TEST(SegmentFaultTest, ObjectOwnedByAnotherUidIsRefusedNamingBoth) {
  ScopedSegmentName segment("owner");
  CreateValid(segment.name());
  ASSERT_EQ(chown(SegmentPath(segment.name()).c_str(), kNobody, -1), 0)
      << "this test changes the owner of /dev/shm files: run it as root ("
      << strerror(errno) << ")";
  ExpectRefused(
      segment.name(), absl::StatusCode::kPermissionDenied,
      {absl::StrCat("uid ", kNobody), absl::StrCat("uid ", geteuid())});
}

TEST(SegmentFaultTest, WorldWritableObjectIsRefused) {
  ScopedSegmentName segment("worldwritable");
  CreateValid(segment.name());
  ASSERT_EQ(chmod(SegmentPath(segment.name()).c_str(), 0606), 0);
  ExpectRefused(segment.name(), absl::StatusCode::kPermissionDenied,
                {"0606", "any user could write it"});
}

TEST(SegmentFaultTest, OwnerOnlyModeByDefault) {
  ScopedSegmentName segment("mode0600");
  CreateValid(segment.name());
  struct stat st;
  ASSERT_EQ(stat(SegmentPath(segment.name()).c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(st.st_uid, geteuid());
  EXPECT_EQ(static_cast<size_t>(st.st_size), kSegmentSize);
}

TEST(SegmentFaultTest, ConfiguredGroupGivesMode0660AndThatGroup) {
  ScopedSegmentName segment("mode0660");
  struct group* nogroup = getgrnam("nogroup");
  ASSERT_NE(nogroup, nullptr) << "Debian's group `nogroup` is missing";
  SegmentOptions options = Options(segment.name());
  options.group = "nogroup";
  absl::StatusOr<std::unique_ptr<Segment>> created =
      Segment::OpenOrCreate(options);
  ASSERT_TRUE(created.ok()) << created.status();
  struct stat st;
  ASSERT_EQ(stat(SegmentPath(segment.name()).c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0660u);
  EXPECT_EQ(st.st_gid, nogroup->gr_gid);

  options.group = "no-such-group-vix";
  ScopedSegmentName other("badgroup");
  options.name = other.name();
  absl::Status bad = Segment::OpenOrCreate(options).status();
  EXPECT_EQ(bad.code(), absl::StatusCode::kInvalidArgument) << bad;
  EXPECT_THAT(std::string(bad.message()), HasSubstr("no-such-group-vix"));
}

TEST(SegmentFaultTest, BadNamesAreRejected) {
  const std::string too_long(kSegmentNameMax + 1, 'x');
  for (const std::string& name :
       {std::string("a/b"), std::string("/vix"), std::string(""), too_long,
        std::string(".hidden"), std::string("sp ace")}) {
    SCOPED_TRACE("name \"" + name + "\"");
    absl::Status valid = ValidateSegmentName(name);
    EXPECT_EQ(valid.code(), absl::StatusCode::kInvalidArgument) << valid;
    absl::Status open = Segment::OpenOrCreate(Options(name)).status();
    EXPECT_EQ(open.code(), absl::StatusCode::kInvalidArgument) << open;
    EXPECT_EQ(Segment::Destroy(name).code(),
              absl::StatusCode::kInvalidArgument);
  }
  // The longest allowed name works end to end.
  const std::string longest = vix::testing::UniqueSegmentName("long") +
                              std::string(kSegmentNameMax, 'y');
  const std::string name = longest.substr(0, kSegmentNameMax);
  EXPECT_TRUE(Segment::OpenOrCreate(Options(name)).ok());
  EXPECT_TRUE(Segment::Destroy(name).ok());
}

// Runs `body` in a forked child as uid/gid 65534 and returns what it wrote
// to its pipe. The child never returns into the test.
std::string RunAsNobody(const std::function<std::string()>& body) {
  int fds[2];
  EXPECT_EQ(pipe2(fds, O_CLOEXEC), 0);
  const pid_t pid = fork();
  if (pid == 0) {
    close(fds[0]);
    std::string out;
    if (setgroups(0, nullptr) != 0 || setgid(kNobody) != 0 ||
        setuid(kNobody) != 0) {
      out = "cannot drop to uid 65534 (run as root)";
    } else {
      out = body();
    }
    ssize_t ignored = write(fds[1], out.data(), out.size());
    (void)ignored;
    _exit(0);
  }
  close(fds[1]);
  std::string out;
  char buf[4096];
  ssize_t n;
  while ((n = read(fds[0], buf, sizeof(buf))) > 0) out.append(buf, n);
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
      << "child status " << status;
  return out;
}

std::string Describe(const Decision& d) {
  return absl::StrCat(d.ttl_seconds, " ", ModeName(d.mode), " ", d.tier, " ",
                      ReasonName(d.reason));
}

TEST(SegmentFaultTest, PermissionDeniedEngineAnswersFailSafeAndLogsOnce) {
  ScopedSegmentName segment("nobody");
  CreateValid(segment.name());
  const std::string before = Bytes(segment.name());
  // The child's log goes to an unnamed file the parent reads afterwards.
  const int log_fd = open("/tmp", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
  ASSERT_GE(log_fd, 0) << strerror(errno);
  const std::string result = RunAsNobody([&] {
    EngineOptions options;
    options.segment = Options(segment.name());
    options.log_fd = log_fd;
    absl::StatusOr<std::unique_ptr<Engine>> engine = Engine::Open(options);
    if (!engine.ok()) return engine.status().ToString();
    BaseTtl base;
    BaseTtl::FromSeconds(45, &base);
    std::string out = absl::StrCat(
        absl::StatusCodeToString((*engine)->segment_status().code()), "|",
        (*engine)->segment_status().message(), "|");
    for (int i = 0; i < 3; ++i) {
      Decision panic = (*engine)->Decide((*engine)->global_scope(),
                                         Status::kPanic, base, Stakes::kHigh);
      Decision calm = (*engine)->Decide((*engine)->global_scope(),
                                        Status::kNormal, base, Stakes::kLow);
      absl::StrAppend(&out, Describe(panic), ";", Describe(calm), "|");
    }
    (*engine)->FlushLogs();
    return out;
  });
  EXPECT_THAT(result, HasSubstr("PERMISSION_DENIED|"));
  EXPECT_THAT(result, HasSubstr(SegmentPath(segment.name())));
  // panic -> {0, PANIC_FULL, failsafe}; normal -> {base, NORMAL}, 3 times.
  const std::string decisions =
      "0 PANIC_FULL 1 failsafe;45 NORMAL 0 no_episode|";
  EXPECT_THAT(result, HasSubstr(decisions + decisions + decisions)) << result;

  std::string log;
  char buf[4096];
  ssize_t n;
  for (off_t at = 0; (n = pread(log_fd, buf, sizeof(buf), at)) > 0; at += n) {
    log.append(buf, n);
  }
  close(log_fd);
  auto count = [&](const std::string& what) {
    size_t c = 0;
    for (size_t at = log.find(what); at != std::string::npos;
         at = log.find(what, at + 1)) {
      ++c;
    }
    return c;
  };
  EXPECT_EQ(count("SEGMENT_UNAVAILABLE"), 1u) << log;
  EXPECT_EQ(count("PANIC_WITHOUT_RELIABLE_TIMESTAMP"), 1u) << log;
  EXPECT_TRUE(Bytes(segment.name()) == before);
}

TEST(SegmentFaultTest, GroupMemberOfAnotherUidMayAttach) {
  ScopedSegmentName segment("groupshare");
  SegmentOptions options = Options(segment.name());
  options.group = "nogroup";
  ASSERT_TRUE(Segment::OpenOrCreate(options).ok());
  const std::string result = RunAsNobody([&] {
    absl::StatusOr<std::unique_ptr<Segment>> attached =
        Segment::OpenOrCreate(options);
    return attached.ok() ? std::string("attached")
                         : attached.status().ToString();
  });
  EXPECT_EQ(result, "attached");
}

TEST(SegmentFaultTest, FullScopeTableIsResourceExhausted) {
  ScopedSegmentName segment("fullscopes");
  EngineOptions options;
  options.segment = Options(segment.name());
  options.log_fd = -1;
  absl::StatusOr<std::unique_ptr<Engine>> engine = Engine::Open(options);
  ASSERT_TRUE(engine.ok()) << engine.status();
  for (uint32_t i = 0; i + 1 < kDefaultScopeCapacity; ++i) {
    ASSERT_TRUE((*engine)->FindOrCreateScope(absl::StrCat("s", i)).ok()) << i;
  }
  absl::StatusOr<ScopeHandle> full = (*engine)->FindOrCreateScope("one-more");
  EXPECT_EQ(full.status().code(), absl::StatusCode::kResourceExhausted)
      << full.status();
  EXPECT_THAT(std::string(full.status().message()), HasSubstr("one-more"));
  absl::StatusOr<Decision> by_name =
      (*engine)->Decide("one-more", "panic", 60, "", "");
  EXPECT_EQ(by_name.status().code(), absl::StatusCode::kResourceExhausted);
  // Existing scopes and the global one still work.
  absl::StatusOr<ScopeHandle> s7 = (*engine)->FindOrCreateScope("s7");
  ASSERT_TRUE(s7.ok());
  BaseTtl base;
  BaseTtl::FromSeconds(60, &base);
  EXPECT_EQ((*engine)->Decide(*s7, Status::kPanic, base, Stakes::kHigh).mode,
            Mode::kPanicFull);
  EXPECT_EQ((*engine)
                ->Decide((*engine)->global_scope(), Status::kNormal, base,
                         Stakes::kHigh)
                .mode,
            Mode::kNormal);
}

// A pid that existed and has exited (and been reaped).
pid_t DeadPid() {
  pid_t pid = fork();
  if (pid == 0) _exit(0);
  waitpid(pid, nullptr, 0);
  return pid;
}

// Marks every free named-scope entry as being claimed by `pid` (started at
// `ticks`), as a process that died (or stalls) between its claim CAS and
// publishing. Writes through a mapping of its own, as a foreign process.
void ClaimAllFreeEntries(const std::string& name, pid_t pid, uint64_t ticks) {
  SegmentOptions options;
  options.name = name;
  std::unique_ptr<Segment> segment = *Segment::OpenOrCreate(options);
  Scope* scopes = ScopesOf(*segment->mutable_layout());
  for (uint32_t i = 1; i < segment->scope_capacity(); ++i) {
    uint64_t expected = kScopeFree;
    scopes[i].state.compare_exchange_strong(
        expected, ScopeStateWord::Make(kScopeClaiming, pid, ticks));
  }
}

TEST(SegmentFaultTest, ScopeClaimLeftByDeadProcessIsReclaimed) {
  ScopedSegmentName segment("deadclaim");
  EngineOptions options;
  options.segment = Options(segment.name());
  options.log_fd = -1;
  absl::StatusOr<std::unique_ptr<Engine>> engine = Engine::Open(options);
  ASSERT_TRUE(engine.ok()) << engine.status();
  ClaimAllFreeEntries(segment.name(), DeadPid(), 0);
  absl::StatusOr<ScopeHandle> scope = (*engine)->FindOrCreateScope("cup");
  ASSERT_TRUE(scope.ok()) << scope.status();
  EXPECT_EQ(ScopeStateWord::State(scope->scope->state.load()), kScopeUsed);
  absl::StatusOr<ScopeHandle> found = (*engine)->FindScope("cup");
  ASSERT_TRUE(found.ok()) << found.status();
  EXPECT_EQ(found->index, scope->index);
}

TEST(SegmentFaultTest, ScopeClaimHeldByLiveProcessTimesOutNamingIt) {
  ScopedSegmentName segment("liveclaim");
  EngineOptions options;
  options.segment = Options(segment.name(), absl::Milliseconds(50));
  options.log_fd = -1;
  absl::StatusOr<std::unique_ptr<Engine>> engine = Engine::Open(options);
  ASSERT_TRUE(engine.ok()) << engine.status();
  ClaimAllFreeEntries(segment.name(), getpid(), SelfStartTicks());
  absl::StatusOr<ScopeHandle> scope = (*engine)->FindOrCreateScope("cup");
  EXPECT_EQ(scope.status().code(), absl::StatusCode::kDeadlineExceeded)
      << scope.status();
  EXPECT_THAT(std::string(scope.status().message()),
              HasSubstr(absl::StrCat("pid ", getpid())));
}

// A claim left by a dead process whose pid is now someone else's (here: a
// live pid with another start time) is a dead claim: judged like a slot,
// by pid and start time, it must not block lookups.
TEST(SegmentFaultTest, ScopeClaimOfAReusedPidIsReclaimed) {
  ScopedSegmentName segment("reusedclaim");
  EngineOptions options;
  options.segment = Options(segment.name(), absl::Milliseconds(50));
  options.log_fd = -1;
  absl::StatusOr<std::unique_ptr<Engine>> engine = Engine::Open(options);
  ASSERT_TRUE(engine.ok()) << engine.status();
  ClaimAllFreeEntries(segment.name(), getpid(), SelfStartTicks() + 1);
  absl::StatusOr<ScopeHandle> scope = (*engine)->FindOrCreateScope("cup");
  ASSERT_TRUE(scope.ok()) << scope.status();
  EXPECT_TRUE((*engine)->FindScope("cup").ok());
}

}  // namespace
}  // namespace vix::shm
