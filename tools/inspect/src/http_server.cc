#include "vixbreaker/inspect/http_server.h"

#include <array>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <limits>
#include <list>
#include <map>
#include <optional>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "vixbreaker/core/parse.h"
#include "vixbreaker/inspect/metrics.h"

namespace vix::inspect {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using boost::system::error_code;

namespace {
class Session;
}  // namespace

struct MetricsServer::Impl {
  ServerOptions options;
  Exposition exposition;
  // Outlive `io`, whose handlers own the sessions.
  int open_connections = 0;
  std::map<std::string, int> per_client;  // open connections by address
  std::list<Session*> waiting;            // no request yet, oldest first
  asio::io_context io{1};
  tcp::acceptor acceptor{io};
  // Installed when listening starts, so a SIGTERM sent as soon as the
  // address is printed already stops the server cleanly.
  asio::signal_set stop_signals{io, SIGINT, SIGTERM};
};

namespace {

bool IsHttpParseError(const error_code& ec) {
  return ec.category() ==
             http::make_error_code(http::error::bad_target).category() &&
         ec != http::error::end_of_stream && ec != http::error::partial_message;
}

bool IsTooLarge(const error_code& ec) {
  return ec == http::error::header_limit || ec == http::error::buffer_overflow;
}

// One connection: read one request (bounded in time and size), answer it,
// close.
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, std::string client, MetricsServer::Impl& server)
      : stream_(std::move(socket)),
        server_(server),
        client_(std::move(client)),
        buffer_(server.options.max_request_bytes) {
    ++server_.open_connections;
    ++server_.per_client[client_];
    waiting_ = server_.waiting.insert(server_.waiting.end(), this);
  }
  ~Session() {
    StopWaiting();
    --server_.open_connections;
    if (--server_.per_client[client_] == 0) server_.per_client.erase(client_);
  }

  const std::string& client() const { return client_; }

  // Closes a connection that has not sent its request (to make room).
  void Evict() {
    StopWaiting();
    Close();
  }

  void Start() {
    parser_.header_limit(
        static_cast<uint32_t>(server_.options.max_request_bytes));
    stream_.expires_after(
        absl::ToChronoMilliseconds(server_.options.client_timeout));
    http::async_read(stream_, buffer_, parser_,
                     [self = shared_from_this()](error_code ec, size_t) {
                       self->OnRead(ec);
                     });
  }

 private:
  void StopWaiting() {
    if (waiting_ == server_.waiting.end()) return;
    server_.waiting.erase(waiting_);
    waiting_ = server_.waiting.end();
  }

  void OnRead(const error_code& ec) {
    StopWaiting();
    if (IsTooLarge(ec)) {
      return Respond(http::status::request_header_fields_too_large,
                     "request too large\n");
    }
    if (IsHttpParseError(ec)) {
      return Respond(http::status::bad_request, "malformed request\n");
    }
    if (ec) return Close();  // timeout, or the client went away
    const auto& request = parser_.get();
    absl::string_view target(request.target().data(), request.target().size());
    absl::string_view path = target.substr(0, target.find('?'));
    if (path != "/metrics") {
      return Respond(http::status::not_found,
                     "not found; the metrics are at /metrics\n");
    }
    const bool head = request.method() == http::verb::head;
    if (request.method() != http::verb::get && !head) {
      response_.set(http::field::allow, "GET, HEAD");
      return Respond(http::status::method_not_allowed, "use GET\n");
    }
    Respond(http::status::ok, server_.exposition(), kExpositionContentType,
            head);
  }

  // With `head_only`, the headers of the response without its body.
  void Respond(http::status status, std::string body,
               absl::string_view content_type = "text/plain; charset=utf-8",
               bool head_only = false) {
    response_.result(status);
    response_.version(11);
    response_.set(http::field::server, "vixctl");
    response_.set(http::field::content_type,
                  beast::string_view(content_type.data(), content_type.size()));
    response_.keep_alive(false);
    response_.body() = std::move(body);
    response_.prepare_payload();
    if (head_only) {
      serializer_.emplace(response_);
      http::async_write_header(stream_, *serializer_,
                               [self = shared_from_this()](error_code, size_t) {
                                 self->CloseGracefully();
                               });
      return;
    }
    http::async_write(stream_, response_,
                      [self = shared_from_this()](error_code, size_t) {
                        self->CloseGracefully();
                      });
  }

  // Sends FIN and reads (and drops) what the client still sends until it
  // closes or the deadline passes. Closing with unread input would send a
  // reset that can destroy the response before the client reads it.
  void CloseGracefully() {
    error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    Drain();
  }

  void Drain() {
    stream_.async_read_some(asio::buffer(drain_),
                            [self = shared_from_this()](error_code ec, size_t) {
                              if (ec) return self->Close();
                              self->Drain();
                            });
  }

  void Close() {
    error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream_.socket().close(ignored);
  }

  beast::tcp_stream stream_;
  MetricsServer::Impl& server_;
  std::string client_;
  std::list<Session*>::iterator waiting_;
  beast::flat_buffer buffer_;
  http::request_parser<http::empty_body> parser_;
  http::response<http::string_body> response_;
  std::optional<http::response_serializer<http::string_body>> serializer_;
  std::array<char, 1024> drain_;
};

// Closes the oldest waiting connection (of `client` only, if given);
// false if there is none.
bool EvictOldestWaiting(MetricsServer::Impl& server,
                        const std::string* client) {
  for (Session* session : server.waiting) {
    if (client == nullptr || session->client() == *client) {
      session->Evict();
      return true;
    }
  }
  return false;
}

// Admits a new connection from `client` within the caps, evicting a waiting
// connection if needed; false if nothing can make room (all are mid-reply).
bool MakeRoom(MetricsServer::Impl& server, const std::string& client) {
  auto it = server.per_client.find(client);
  if (it != server.per_client.end() &&
      it->second >= server.options.max_per_client &&
      !EvictOldestWaiting(server, &client)) {
    return false;
  }
  return server.open_connections < server.options.max_connections ||
         EvictOldestWaiting(server, nullptr);
}

void AcceptNext(MetricsServer::Impl& server) {
  server.acceptor.async_accept([&server](error_code ec, tcp::socket socket) {
    if (ec == asio::error::operation_aborted) return;  // stopping
    if (!ec) {
      const std::string client =
          socket.remote_endpoint(ec).address().to_string();
      if (ec || !MakeRoom(server, client)) {
        socket.close(ec);  // shed load rather than queue unboundedly
      } else {
        std::make_shared<Session>(std::move(socket), client, server)->Start();
      }
    }
    AcceptNext(server);
  });
}

std::string EndpointText(const tcp::endpoint& endpoint) {
  const std::string host = endpoint.address().to_string();
  return endpoint.address().is_v6()
             ? absl::StrCat("[", host, "]:", endpoint.port())
             : absl::StrCat(host, ":", endpoint.port());
}

}  // namespace

absl::StatusOr<ListenAddress> ParseListenAddress(absl::string_view text) {
  const size_t colon = text.rfind(':');
  if (colon == absl::string_view::npos || colon == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("bad --listen \"", text,
                     "\": expected HOST:PORT, e.g. 127.0.0.1:9464"));
  }
  absl::string_view host = text.substr(0, colon);
  if (absl::StartsWith(host, "[") && absl::EndsWith(host, "]")) {
    host = host.substr(1, host.size() - 2);
  }
  absl::StatusOr<int64_t> port = ParseInt64(text.substr(colon + 1));
  if (host.empty() || !port.ok() || *port < 0 || *port > 65535) {
    return absl::InvalidArgumentError(absl::StrCat(
        "bad --listen \"", text, "\": expected HOST:PORT with PORT 0..65535"));
  }
  return ListenAddress{std::string(host), static_cast<uint16_t>(*port)};
}

MetricsServer::MetricsServer(std::unique_ptr<Impl> impl)
    : impl_(std::move(impl)) {}

MetricsServer::~MetricsServer() = default;

absl::StatusOr<std::unique_ptr<MetricsServer>> MetricsServer::Listen(
    const ServerOptions& options, Exposition exposition) {
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  impl->exposition = std::move(exposition);
  const std::string wanted =
      absl::StrCat(options.listen.host, ":", options.listen.port);
  error_code ec;
  tcp::resolver resolver(impl->io);
  auto endpoints = resolver.resolve(
      options.listen.host, absl::StrCat(options.listen.port),
      tcp::resolver::passive | tcp::resolver::numeric_service, ec);
  if (ec || endpoints.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "cannot resolve --listen host \"", options.listen.host,
        "\": ", ec.message(), "; use an IP address or a local host name"));
  }
  const tcp::endpoint endpoint = endpoints.begin()->endpoint();
  tcp::acceptor& acceptor = impl->acceptor;
  acceptor.open(endpoint.protocol(), ec);
  if (!ec) acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor.bind(endpoint, ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return absl::UnavailableError(
        absl::StrCat("cannot listen on ", wanted, ": ", ec.message(),
                     "; choose another address or port"));
  }
  return std::unique_ptr<MetricsServer>(new MetricsServer(std::move(impl)));
}

std::string MetricsServer::address() const {
  error_code ec;
  return EndpointText(impl_->acceptor.local_endpoint(ec));
}

void MetricsServer::ServeUntilSignal() {
  impl_->stop_signals.async_wait([this](error_code, int) {
    error_code ignored;
    impl_->acceptor.close(ignored);
    impl_->io.stop();
  });
  AcceptNext(*impl_);
  impl_->io.run();
}

}  // namespace vix::inspect
