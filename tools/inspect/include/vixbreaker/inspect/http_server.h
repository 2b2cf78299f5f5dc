// The metrics endpoint of `vixctl serve`: GET /metrics over HTTP/1.1
// (Boost.Beast, one thread, asynchronous).
//
// Safe against slow and malformed clients: each connection has a deadline
// for the whole exchange, requests are capped in size, a request with a
// body or one that does not parse gets 400 (431 if too large). Open
// connections are capped in all and per client address; at a cap, the
// oldest connection that has not yet sent its request is closed to make
// room, so idle connections can delay but never lock out a scraper. One
// response per connection (Connection: close). HEAD gets the headers of
// GET; other paths get 404, other methods 405.
#ifndef VIXBREAKER_INSPECT_HTTP_SERVER_H_
#define VIXBREAKER_INSPECT_HTTP_SERVER_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace vix::inspect {

struct ListenAddress {
  std::string host;
  uint16_t port = 0;  // 0: any free port
};

// "HOST:PORT", "[IPV6]:PORT"; PORT is 0..65535.
absl::StatusOr<ListenAddress> ParseListenAddress(absl::string_view text);

struct ServerOptions {
  ListenAddress listen;
  absl::Duration client_timeout = absl::Seconds(5);
  size_t max_request_bytes = 8192;
  int max_connections = 64;
  int max_per_client = 16;  // by remote IP address
};

class MetricsServer {
 public:
  // Produces the body of GET /metrics (called on the server's thread).
  using Exposition = std::function<std::string()>;

  // Binds and listens; Unavailable (naming the address) if it cannot.
  static absl::StatusOr<std::unique_ptr<MetricsServer>> Listen(
      const ServerOptions& options, Exposition exposition);
  ~MetricsServer();

  // The bound address, e.g. "127.0.0.1:9464" (the real port if 0 was asked).
  std::string address() const;

  // Serves until SIGTERM or SIGINT, then closes every connection and
  // returns.
  void ServeUntilSignal();

  struct Impl;

 private:
  explicit MetricsServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace vix::inspect

#endif  // VIXBREAKER_INSPECT_HTTP_SERVER_H_
