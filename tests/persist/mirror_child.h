// `vixctl mirror` as a real process for a host's segment, with fast
// timeouts; its stderr (the JSON log) is appended to a file.
#ifndef VIXBREAKER_TESTS_PERSIST_MIRROR_CHILD_H_
#define VIXBREAKER_TESTS_PERSIST_MIRROR_CHILD_H_

#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "test_util.h"

namespace vix::testing {

// `poll_s`: --poll-interval in seconds, as text.
inline std::unique_ptr<Child> StartMirrorProcess(
    const std::string& url, const std::string& segment, const std::string& log,
    const std::string& poll_s = "0.2") {
  return std::make_unique<Child>(
      std::vector<std::string>{
          "/bin/sh", "-c", "exec \"$0\" \"$@\" 2>>\"$VIX_TEST_LOG\"", kVixctl,
          "mirror", "--redis", url, "--segment", segment, "--poll-interval",
          poll_s, "--lease", "1", "--connect-timeout", "0.1",
          "--command-timeout", "0.1"},
      std::vector<std::string>{"VIX_TEST_LOG=" + log});
}

inline std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace vix::testing

#endif  // VIXBREAKER_TESTS_PERSIST_MIRROR_CHILD_H_
