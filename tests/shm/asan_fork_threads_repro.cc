// Why the fork tests skip under ASan (tests/shm/fork_test.cc,
// tests/window/window_fork_test.cc): with GCC 12's libasan, threads started
// in the child of a fork taken while the parent had a second thread can
// block forever in the allocator. No vixbreaker code is involved. Built
// in every build as a program, not a test; run the ASan build's by hand:
//
//   for i in $(seq 40); do
//     timeout 10 build/asan/tests/shm/asan_fork_threads_repro || echo hung
//   done
//
// Measured here (Debian 12, GCC 12.2): 2 to 5 runs in 40 hung, in three
// tries. With the parent single-threaded at fork, 0 of 60.
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace {

void Allocate() { std::vector<std::string> v(100, std::string(200, 'y')); }

}  // namespace

int main() {
  std::mutex mu;
  std::condition_variable cv;
  bool stop = false;
  // The parent's second thread, idle like the engine's background thread.
  std::thread idle([&] {
    std::unique_lock<std::mutex> lock(mu);
    while (!stop) cv.wait_for(lock, std::chrono::milliseconds(1));
  });
  std::vector<std::string> heap;
  for (int i = 0; i < 1000; ++i) heap.emplace_back(100 + i, 'x');
  std::vector<pid_t> children;
  for (int c = 0; c < 4; ++c) {
    const pid_t pid = fork();
    if (pid == 0) {
      std::thread a(Allocate);
      std::thread b(Allocate);
      a.join();
      b.join();
      _exit(0);
    }
    children.push_back(pid);
  }
  for (pid_t pid : children) waitpid(pid, nullptr, 0);
  {
    std::lock_guard<std::mutex> lock(mu);
    stop = true;
  }
  idle.join();
  return 0;
}
