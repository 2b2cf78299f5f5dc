// `vixctl status`: golden output on a constructed segment, and one exit code
// per health case (SPEC 9).
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "inspect_test_util.h"
#include "vixbreaker/shm/layout.h"
#include "vixbreaker/shm/process.h"

namespace vix::testing {
namespace {

constexpr int kExitOk = 0;
constexpr int kExitNoSegment = 3;
constexpr int kExitIncompatible = 4;
constexpr int kExitMirrorUnhealthy = 5;

RunResult Status(const std::string& segment, std::vector<std::string> extra) {
  std::vector<std::string> argv = {kVixctl, "status", "--segment", segment};
  argv.insert(argv.end(), extra.begin(), extra.end());
  return vix::testing::Run(argv);
}

// Replaces what differs from run to run or with the layout's size.
std::string Normalise(const std::string& out, const std::string& segment) {
  const std::string size =
      absl::StrCat(shm::SegmentSize(shm::kDefaultScopeCapacity));
  std::string text = ReplaceAll(out, segment, "SEGMENT");
  text = ReplaceAll(text, ", " + size + " bytes,", ", SIZE bytes,");
  return ReplaceAll(text, "\"size_bytes\":" + size, "\"size_bytes\":SIZE");
}

// Compares with golden/NAME; VIX_UPDATE_GOLDEN=1 rewrites the file instead.
void ExpectGolden(const std::string& file, const std::string& actual) {
  const std::string path = absl::StrCat(kGoldenDir, "/", file);
  const char* update = std::getenv("VIX_UPDATE_GOLDEN");
  if (update != nullptr && std::string(update) == "1") {
    WriteFileOrDie(path, actual);
    return;
  }
  EXPECT_EQ(ReadFileOrDie(path), actual)
      << "output differs from " << path
      << "; if the change is intended, rerun with VIX_UPDATE_GOLDEN=1 and "
         "review the diff";
}

TEST(StatusTest, TableMatchesGolden) {
  ScopedSegmentName name("golden");
  auto segment = BuildFixtureSegment(name.name());
  RunResult r = Status(name.name(), {"--now", absl::StrCat(kFixtureNowS)});
  ASSERT_EQ(r.exit_code, kExitOk) << r.err;
  ExpectGolden("status.txt", Normalise(r.out, name.name()));
}

TEST(StatusTest, JsonMatchesGolden) {
  ScopedSegmentName name("golden");
  auto segment = BuildFixtureSegment(name.name());
  RunResult r =
      Status(name.name(), {"--json", "--now", absl::StrCat(kFixtureNowS)});
  ASSERT_EQ(r.exit_code, kExitOk) << r.err;
  ASSERT_FALSE(r.out.empty());
  EXPECT_EQ(r.out.find('\n'), r.out.size() - 1) << "exactly one JSON line";
  ExpectGolden("status.json", Normalise(r.out, name.name()));
}

TEST(StatusTest, HealthyWithoutMirrorExitsZero) {
  ScopedSegmentName name("healthy");
  auto segment = CreateEmptySegment(name.name());
  RunResult r = Status(name.name(), {});
  EXPECT_EQ(r.exit_code, kExitOk) << r.err;
  EXPECT_NE(r.out.find("MIRROR  not configured"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("HEALTH  healthy"), std::string::npos) << r.out;
}

TEST(StatusTest, HealthyMirrorExitsZero) {
  ScopedSegmentName name("mirror-ok");
  auto segment = CreateEmptySegment(name.name());
  SetMirror(*segment, /*connected=*/true,
            shm::RealtimeNowNs() + 3600'000'000'000);
  RunResult r = Status(name.name(), {"--json"});
  EXPECT_EQ(r.exit_code, kExitOk) << r.err;
  EXPECT_NE(r.out.find("\"health\":\"healthy\""), std::string::npos) << r.out;
}

TEST(StatusTest, MissingSegmentExitsThree) {
  const std::string name = UniqueSegmentName("missing");
  RunResult r = Status(name, {});
  EXPECT_EQ(r.exit_code, kExitNoSegment) << r.err;
  EXPECT_NE(r.err.find("no segment " + name), std::string::npos) << r.err;
  EXPECT_EQ(r.out, "") << "errors go to stderr only";
  RunResult json = Status(name, {"--json"});
  EXPECT_EQ(json.exit_code, kExitNoSegment);
  EXPECT_EQ(json.out, "");
}

TEST(StatusTest, GarbageSegmentExitsFour) {
  ScopedSegmentName name("garbage");
  const std::string path = shm::SegmentPath(name.name());
  WriteFileOrDie(
      path, std::string(shm::SegmentSize(shm::kDefaultScopeCapacity), '\xab'));
  ASSERT_EQ(chmod(path.c_str(), 0600), 0);
  RunResult r = Status(name.name(), {});
  EXPECT_EQ(r.exit_code, kExitIncompatible) << r.err;
  EXPECT_NE(r.err.find("is not a vixbreaker segment"), std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("vixctl destroy"), std::string::npos)
      << "the message says what to do: " << r.err;
}

TEST(StatusTest, ForeignMajorVersionExitsFour) {
  ScopedSegmentName name("foreign");
  auto segment = CreateEmptySegment(name.name());
  segment->mutable_layout()->header.layout_major.store(
      shm::kLayoutMajor + 1, std::memory_order_relaxed);
  RunResult r = Status(name.name(), {});
  EXPECT_EQ(r.exit_code, kExitIncompatible) << r.err;
  EXPECT_NE(
      r.err.find(absl::StrCat("layout version ", shm::kLayoutMajor + 1, ".")),
      std::string::npos)
      << r.err;
}

TEST(StatusTest, TruncatedSegmentExitsFour) {
  ScopedSegmentName name("truncated");
  { auto segment = CreateEmptySegment(name.name()); }
  ASSERT_EQ(truncate(shm::SegmentPath(name.name()).c_str(), 4096), 0);
  RunResult r = Status(name.name(), {});
  EXPECT_EQ(r.exit_code, kExitIncompatible) << r.err;
  EXPECT_NE(r.err.find("wrong size"), std::string::npos) << r.err;
}

TEST(StatusTest, NeverPublishedSegmentExitsFour) {
  ScopedSegmentName name("unpublished");
  {
    auto segment = CreateEmptySegment(name.name());
    // As if its creator died before publishing the ready word.
    segment->mutable_layout()->header.magic.store(0, std::memory_order_relaxed);
  }
  RunResult r = Status(name.name(), {});
  EXPECT_EQ(r.exit_code, kExitIncompatible) << r.err;
  EXPECT_NE(r.err.find("was not made ready"), std::string::npos) << r.err;
}

TEST(StatusTest, DisconnectedMirrorExitsFiveAndStillReports) {
  ScopedSegmentName name("mirror-down");
  auto segment = CreateEmptySegment(name.name());
  SetMirror(*segment, /*connected=*/false, 0);
  RunResult r = Status(name.name(), {});
  EXPECT_EQ(r.exit_code, kExitMirrorUnhealthy) << r.err;
  EXPECT_NE(r.out.find("MIRROR  UNHEALTHY: not connected to Redis"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.err.find("mirror configured but unhealthy"), std::string::npos)
      << r.err;
  RunResult json = Status(name.name(), {"--json"});
  EXPECT_EQ(json.exit_code, kExitMirrorUnhealthy);
  EXPECT_NE(json.out.find("\"health\":\"mirror_unhealthy\""), std::string::npos)
      << json.out;
}

TEST(StatusTest, ExpiredMirrorLeaseExitsFive) {
  ScopedSegmentName name("lease-expired");
  auto segment = CreateEmptySegment(name.name());
  SetMirror(*segment, /*connected=*/true, shm::RealtimeNowNs() - 1'000'000'000);
  RunResult r = Status(name.name(), {});
  EXPECT_EQ(r.exit_code, kExitMirrorUnhealthy) << r.err;
  EXPECT_NE(r.out.find("the mirror lease has expired"), std::string::npos)
      << r.out;
}

TEST(StatusTest, BadFlagsExitTwo) {
  EXPECT_EQ(vix::testing::Run({kVixctl, "status", "--bogus"}).exit_code, 2);
  EXPECT_EQ(
      vix::testing::Run({kVixctl, "status", "--segment", "a/b"}).exit_code, 2);
  RunResult r = vix::testing::Run({kVixctl, "status", "--now", "yesterday"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("yesterday"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace vix::testing
