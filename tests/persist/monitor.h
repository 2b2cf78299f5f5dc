// One MONITOR connection that records every command Redis executes, from
// any client, for tests that must show what was (never) written.
#ifndef VIXBREAKER_TESTS_PERSIST_MONITOR_H_
#define VIXBREAKER_TESTS_PERSIST_MONITOR_H_

#include <atomic>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "redis_harness.h"

namespace vix::testing {

// Lines read: 1700000000.123456 [0 127.0.0.1:53422] "SET" "key" ...
class Monitor {
 public:
  explicit Monitor(const RedisServer& redis) : client_(redis) {
    EXPECT_EQ(client_.Command({"MONITOR"}).str, "OK");
    thread_ = std::thread([this] {
      while (!stop_.load()) {
        std::optional<TestReply> r = client_.ReadReply(absl::Milliseconds(20));
        if (!r.has_value()) continue;
        std::lock_guard<std::mutex> lock(mu_);
        lines_.push_back(r->str);
      }
    });
  }
  ~Monitor() { Stop(); }
  void Stop() {
    stop_.store(true);
    if (thread_.joinable()) thread_.join();
  }
  std::vector<std::string> lines() {
    std::lock_guard<std::mutex> lock(mu_);
    return lines_;
  }
  // Lines that contain `needle`.
  std::vector<std::string> Matching(const std::string& needle) {
    std::vector<std::string> out;
    for (const std::string& line : lines()) {
      if (line.find(needle) != std::string::npos) out.push_back(line);
    }
    return out;
  }

 private:
  RedisClient client_;
  std::atomic<bool> stop_{false};
  std::mutex mu_;
  std::vector<std::string> lines_;
  std::thread thread_;
};

}  // namespace vix::testing

#endif  // VIXBREAKER_TESTS_PERSIST_MONITOR_H_
