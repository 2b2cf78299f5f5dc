// The Python predecessor as a Redis client (SPEC 5), for mixed-fleet tests.
// Each of its workers, on every decision, sent exactly these commands and
// never PUBLISHed:
//   panic: SET key <repr(time.time())> NX EX 86400; GET key; EXPIRE key 86400
//   calm:  DEL key
// and decided from the age of the float it read back, by the tiers of
// SPEC 2.2. PredecessorWorker issues those commands through a plain hiredis
// client, so a test can run it beside vixbreaker hosts on one redis-server.
#ifndef VIXBREAKER_TESTS_PERSIST_PREDECESSOR_H_
#define VIXBREAKER_TESTS_PERSIST_PREDECESSOR_H_

#include <charconv>
#include <cstdlib>
#include <optional>
#include <string>

#include "gtest/gtest.h"
#include "redis_harness.h"
#include "vixbreaker/core/types.h"
#include "vixbreaker/shm/process.h"

namespace vix::testing {

inline constexpr char kPredecessorKey[] = "brain:panic_start_ts";

// Python's repr() of a float as redis-py sends it: the shortest text that
// reads back as the same double ("1764630000.1234567", "1764630000.0").
inline std::string PythonFloatRepr(double value) {
  char text[64];
  const std::to_chars_result r =
      std::to_chars(text, text + sizeof(text), value, std::chars_format::fixed);
  std::string out(text, r.ptr);
  if (out.find('.') == std::string::npos) out += ".0";
  return out;
}

// time.time(): wall-clock seconds as a double.
inline double PythonTime() {
  return static_cast<double>(shm::RealtimeNowNs()) / 1e9;
}

// The predecessor's tier for an episode of `age_s` seconds (SPEC 2.2
// defaults; it had no cautious tier for unconfirmed starts).
inline int PredecessorTier(double age_s, Stakes stakes) {
  struct Thresholds {
    double t2, t3, t4;  // minutes
  };
  static constexpr Thresholds kByStakes[] = {
      {60, 180, 360}, {30, 90, 180}, {15, 45, 90}};
  const Thresholds& t = kByStakes[static_cast<int>(stakes)];
  const double minutes = age_s / 60;
  if (minutes < t.t2) return 1;
  if (minutes < t.t3) return 2;
  if (minutes < t.t4) return 3;
  return 4;
}

class PredecessorWorker {
 public:
  explicit PredecessorWorker(const RedisServer& redis,
                             std::string key = kPredecessorKey)
      : client_(redis), key_(std::move(key)) {}

  // What a worker that saw the panic begin at `start_s` wrote then (its
  // SET NX EX; the GET and EXPIRE that followed change nothing). Returns
  // the text written, or "" if the key already existed.
  std::string StartedAt(double start_s) {
    const std::string text = PythonFloatRepr(start_s);
    const TestReply r =
        client_.Command({"SET", key_, text, "NX", "EX", "86400"});
    return r.type == TestReply::Type::kStatus ? text : "";
  }

  // One panic decision at time.time(): the predecessor's three commands.
  // The tier it decides for `stakes` from the start it read back, or 0 (with
  // a test failure) when Redis did not hold a readable float.
  int Panic(Stakes stakes) {
    const double now = PythonTime();
    client_.Command({"SET", key_, PythonFloatRepr(now), "NX", "EX", "86400"});
    const std::optional<std::string> value = client_.Get(key_);
    client_.Command({"EXPIRE", key_, "86400"});
    if (!value.has_value()) {
      ADD_FAILURE() << "the predecessor's GET found no key right after SET NX";
      return 0;
    }
    last_start_s_ = std::strtod(value->c_str(), nullptr);
    return PredecessorTier(now - last_start_s_, stakes);
  }

  // One calm decision: the episode ends with a bare DEL (no PUBLISH).
  void Calm() { client_.Command({"DEL", key_}); }

  double last_start_s() const { return last_start_s_; }
  RedisClient& client() { return client_; }

 private:
  RedisClient client_;
  std::string key_;
  double last_start_s_ = 0;
};

}  // namespace vix::testing

#endif  // VIXBREAKER_TESTS_PERSIST_PREDECESSOR_H_
