// vix_fd_starved: a process that has run out of file descriptors, so it
// cannot open /proc, and then does everything that judges other processes'
// liveness: opens an engine (which reclaims dead slots), tries to take the
// mirror lease and claims a scope.
//
//   prlimit --nofile=32:32 vix_fd_starved --segment NAME
//
// It takes every free descriptor, then gives them back one at a time until
// the engine's segment opens, so the segment takes the last one. Then it
// prints one JSON line:
//   {"proc_errno":24,"lease_acquired":false,"lease_why":"busy",
//    "scope":"DEADLINE_EXCEEDED"}
// (proc_errno: errno of opening /proc/self/stat then; 0 if it opened) and
// stays alive, its engine running, until stdin closes.
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "vixbreaker/persist/lease.h"
#include "vixbreaker/shm/engine.h"
#include "vixbreaker/shm/process.h"

namespace {

[[noreturn]] void Die(const std::string& message) {
  std::cout << "{\"error\":\"" << message << "\"}" << std::endl;
  std::exit(1);
}

// Takes descriptors until the limit; returns them.
std::vector<int> TakeAllDescriptors() {
  std::vector<int> taken;
  for (;;) {
    const int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      if (errno != EMFILE) Die(absl::StrCat("open: ", strerror(errno)));
      return taken;
    }
    taken.push_back(fd);
    if (taken.size() > 100000) Die("no descriptor limit: run under prlimit");
  }
}

int ProcErrno() {
  const int fd = open("/proc/self/stat", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return errno;
  close(fd);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3 || std::string(argv[1]) != "--segment") {
    Die("usage: vix_fd_starved --segment NAME");
  }
  std::vector<int> taken = TakeAllDescriptors();
  vix::shm::EngineOptions options;
  options.segment.name = argv[2];
  options.segment.attach_timeout = absl::Milliseconds(300);
  options.log_fd = -1;
  // Give back one descriptor at a time until the engine's segment opens
  // (the segment keeps its descriptor; a sanitizer runtime may take one too).
  absl::StatusOr<std::unique_ptr<vix::shm::Engine>> engine;
  while (!engine.ok() || !(*engine)->segment_status().ok()) {
    if (taken.empty()) Die("cannot open the engine's segment");
    engine = absl::StatusOr<std::unique_ptr<vix::shm::Engine>>();
    close(taken.back());
    taken.pop_back();
    engine = vix::shm::Engine::Open(options);
  }
  TakeAllDescriptors();  // anything left over
  const int proc_errno = ProcErrno();
  const vix::persist::LeaseAttempt lease = vix::persist::TryAcquireLease(
      (*engine)->mirror_region()->lease, getpid(), 0,
      vix::shm::MonotonicNowNs(), int64_t{3600} * 1'000'000'000);
  const absl::StatusOr<vix::shm::ScopeHandle> scope =
      (*engine)->FindOrCreateScope("fd-starved");
  std::cout << "{\"proc_errno\":" << proc_errno
            << ",\"lease_acquired\":" << (lease.acquired ? "true" : "false")
            << ",\"lease_why\":\"" << lease.why << "\",\"scope\":\""
            << absl::StatusCodeToString(scope.status().code()) << "\"}"
            << std::endl;
  std::string line;
  while (std::getline(std::cin, line)) {
  }
  return 0;
}
