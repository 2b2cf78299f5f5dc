// A deciding process for the inspector tests: decides on the global scope in
// a tight loop with the status last given on stdin.
//
//   inspect_decide_driver SEGMENT
//   stdin:  "panic" | "warning" | "normal" (switch status), "quit"
//   stdout: "ready" once attached; "now STATUS" once it decided with it.
#include <poll.h>
#include <unistd.h>

#include <cstdio>
#include <string>

#include "vixbreaker/core/parse.h"
#include "vixbreaker/shm/engine.h"

namespace {

// Returns the complete lines available on stdin without blocking; sets
// *eof at end of input.
std::string ReadAvailable(std::string& pending, bool* eof) {
  pollfd fd{0, POLLIN, 0};
  if (poll(&fd, 1, 0) > 0) {
    char buf[256];
    ssize_t n = read(0, buf, sizeof(buf));
    if (n <= 0) {
      *eof = true;
    } else {
      pending.append(buf, static_cast<size_t>(n));
    }
  }
  size_t nl = pending.find('\n');
  if (nl == std::string::npos) return "";
  std::string line = pending.substr(0, nl);
  pending.erase(0, nl + 1);
  return line;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: inspect_decide_driver SEGMENT\n");
    return 2;
  }
  vix::shm::EngineOptions options;
  options.segment.name = argv[1];
  options.log_fd = -1;
  auto engine = vix::shm::Engine::Open(options);
  if (!engine.ok() || !(*engine)->segment_status().ok()) {
    std::fprintf(stderr, "driver: cannot attach to %s\n", argv[1]);
    return 1;
  }
  vix::BaseTtl base_ttl;
  vix::BaseTtl::FromSeconds(60, &base_ttl);
  const vix::shm::ScopeHandle scope = (*engine)->global_scope();
  vix::Status status = vix::Status::kNormal;
  (*engine)->Decide(scope, status, base_ttl, vix::Stakes::kHigh);
  std::printf("ready\n");
  std::fflush(stdout);
  std::string pending;
  bool eof = false;
  while (!eof) {
    for (int i = 0; i < 4096; ++i) {
      (*engine)->Decide(scope, status, base_ttl, vix::Stakes::kHigh);
    }
    const std::string line = ReadAvailable(pending, &eof);
    if (line.empty()) continue;
    if (line == "quit") break;
    absl::StatusOr<vix::Status> parsed = vix::ParseStatus(line);
    if (!parsed.ok()) {
      std::fprintf(stderr, "driver: %s\n",
                   std::string(parsed.status().message()).c_str());
      return 2;
    }
    status = *parsed;
    (*engine)->Decide(scope, status, base_ttl, vix::Stakes::kHigh);
    std::printf("now %s\n", line.c_str());
    std::fflush(stdout);
  }
  return 0;
}
