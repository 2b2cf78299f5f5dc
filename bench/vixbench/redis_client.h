// A plain synchronous hiredis client, as the predecessor used: one blocking
// round trip per command. For the predecessor's protocol and for reading
// INFO; the mirror has its own connections.
#ifndef VIXBREAKER_TOOLS_VIXBENCH_REDIS_CLIENT_H_
#define VIXBREAKER_TOOLS_VIXBENCH_REDIS_CLIENT_H_

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "vixbreaker/persist/redis_url.h"

struct redisContext;

namespace vix::bench {

class RedisClient {
 public:
  // Connects (2 s timeout), then AUTH and SELECT as the URL says.
  static absl::StatusOr<std::unique_ptr<RedisClient>> Connect(
      const std::string& url);
  ~RedisClient();
  RedisClient(const RedisClient&) = delete;
  RedisClient& operator=(const RedisClient&) = delete;

  // Sends one command, waits for the reply; the reply as text (nil: "",
  // integers in decimal). An error reply or a broken connection is an error.
  absl::StatusOr<std::string> Command(const std::vector<std::string>& argv);
  // `INFO section` as a map of its "name:value" lines.
  absl::StatusOr<std::map<std::string, std::string>> Info(
      const std::string& section);
  const std::string& redacted_url() const { return redacted_url_; }

 private:
  RedisClient(redisContext* context, std::string redacted_url)
      : context_(context), redacted_url_(std::move(redacted_url)) {}
  redisContext* context_;
  std::string redacted_url_;
};

}  // namespace vix::bench

#endif  // VIXBREAKER_TOOLS_VIXBENCH_REDIS_CLIENT_H_
