// A process that feeds the shared rolling window, for the multi-process
// tests: window_driver SEGMENT AT_NS STATUS COUNT
//
// Prints "ready", waits for a line on stdin (so that every driver starts
// together), records COUNT samples of STATUS at the fixed time AT_NS, then
// prints the transition lines it won (JSON, the window's log) and
// "done <transitions won>". Exit 2 on bad arguments, 1 on other errors.
#include <unistd.h>

#include <cstdio>
#include <iostream>
#include <string>

#include "vixbreaker/core/parse.h"
#include "vixbreaker/shm/window.h"

int main(int argc, char** argv) {
  if (argc != 5) {
    std::fprintf(stderr, "usage: window_driver SEGMENT AT_NS STATUS COUNT\n");
    return 2;
  }
  absl::StatusOr<int64_t> at_ns = vix::ParseInt64(argv[2]);
  absl::StatusOr<vix::Status> status = vix::ParseStatus(argv[3]);
  absl::StatusOr<int64_t> count = vix::ParseInt64(argv[4]);
  if (!at_ns.ok() || !status.ok() || !count.ok()) {
    std::fprintf(stderr, "window_driver: bad arguments\n");
    return 2;
  }
  vix::shm::CachedClock clock(*at_ns);
  vix::shm::EngineOptions options;
  options.segment.name = argv[1];
  options.clock = &clock;
  options.log_fd = -1;
  absl::StatusOr<std::unique_ptr<vix::shm::Engine>> engine =
      vix::shm::Engine::Open(options);
  if (!engine.ok() || !(*engine)->segment_status().ok()) {
    std::fprintf(stderr, "window_driver: no engine\n");
    return 1;
  }
  vix::shm::WindowOptions window_options;
  window_options.log_fd = STDOUT_FILENO;
  absl::StatusOr<std::unique_ptr<vix::shm::RollingWindow>> window =
      vix::shm::RollingWindow::Open(**engine, window_options);
  if (!window.ok()) {
    std::fprintf(stderr, "window_driver: %s\n",
                 std::string(window.status().message()).c_str());
    return 1;
  }
  vix::BaseTtl base_ttl;
  vix::BaseTtl::FromSeconds(60, &base_ttl);
  std::printf("ready\n");
  std::fflush(stdout);
  std::string go;
  if (!std::getline(std::cin, go)) return 1;
  int won = 0;
  for (int64_t i = 0; i < *count; ++i) {
    won += (*window)->Record(*status, base_ttl).transitioned;
  }
  (*window)->FlushLogs();
  std::printf("done %d\n", won);
  std::fflush(stdout);
  return 0;
}
