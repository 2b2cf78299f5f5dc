// Shared by the inspector tests: a segment with known contents, the golden
// files, and small file helpers (the rest is in tests/support).
#ifndef VIXBREAKER_TESTS_INSPECT_INSPECT_TEST_UTIL_H_
#define VIXBREAKER_TESTS_INSPECT_INSPECT_TEST_UTIL_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "test_util.h"
#include "vixbreaker/shm/segment.h"

namespace vix::testing {

inline const std::string kGoldenDir = VIX_GOLDEN_DIR;
inline const std::string kDashboardPath = VIX_DASHBOARD_PATH;

// The fixed "now" of the constructed segment: 2027-01-15T08:00:00Z.
inline constexpr int64_t kFixtureNowS = 1'800'000'000;
inline constexpr int64_t kFixtureNowNs = kFixtureNowS * 1'000'000'000;

// A pid that cannot exist (above Linux's highest pid_max).
inline constexpr int64_t kDeadPid = 99'999'999;

// Creates `name` and writes known values into every region the inspector
// shows (see the .cc for the list); pid 1 stands for a live process, so the
// output does not depend on the test's pid. Returns the writable mapping.
std::unique_ptr<shm::Segment> BuildFixtureSegment(const std::string& name);

// Creates `name` with nothing in it but the global scope.
std::unique_ptr<shm::Segment> CreateEmptySegment(const std::string& name);

// Marks the mirror configured; connected and holding a lease of
// `lease_expiry_ns` when `connected`.
void SetMirror(shm::Segment& segment, bool connected, int64_t lease_expiry_ns);

std::string ReadFileOrDie(const std::string& path);
void WriteFileOrDie(const std::string& path, const std::string& content);

// Replaces every occurrence of `from` by `to`.
std::string ReplaceAll(std::string text, const std::string& from,
                       const std::string& to);

}  // namespace vix::testing

#endif  // VIXBREAKER_TESTS_INSPECT_INSPECT_TEST_UTIL_H_
