// One TLS connection from accept until it closes or is upgraded to a WebSocket: handshake, then
// HTTP/1.1 requests (keep-alive) answered through HttpRouter, or through RestApi for /api/ and
// MetricsEndpoint for /metrics on the Server's API thread pool (a call may hash a password, a
// scrape waits for the core executor: time the io thread must not spend).
#include <algorithm>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/beast/websocket/error.hpp>
#include <boost/beast/websocket/rfc6455.hpp>
#include <chrono>
#include <optional>

#include "signaling/BeastSupport.hpp"
#include "signaling/Log.hpp"
#include "signaling/MetricsEndpoint.hpp"
#include "signaling/RestApi.hpp"

namespace mcu::signaling {

namespace {

const Log kLog{"signaling.http"};
const Log kNetLog{"signaling.net"};
constexpr auto kIoTimeout = std::chrono::seconds(30);
constexpr std::uint64_t kRequestBodyLimit = 16 * 1024;  // only GETs are served
// The largest body any request may have, before its target is known (PUT /api/v1/units).
constexpr std::uint64_t kMaxBodyLimit =
    std::max<std::uint64_t>(kRequestBodyLimit, RestApi::kUnitsBodyLimit);

std::string peerName(const net::ip::tcp::socket& socket) {
  beast::error_code ec;
  const auto peer = socket.remote_endpoint(ec);
  if (ec) return "http peer=?";
  return "http peer=" + peer.address().to_string() + ":" + std::to_string(peer.port());
}

std::string peerAddress(const net::ip::tcp::socket& socket) {
  beast::error_code ec;
  const auto peer = socket.remote_endpoint(ec);
  return ec ? std::string() : peer.address().to_string();
}

std::string_view view(beast::string_view s) {
  return {s.data(), s.size()};
}

class HttpSession : public Closable, public std::enable_shared_from_this<HttpSession> {
 public:
  HttpSession(net::ip::tcp::socket socket, std::shared_ptr<ServerState> state)
      : who_(peerName(socket)),
        peer_(peerAddress(socket)),
        stream_(std::move(socket), *state->tls),
        state_(std::move(state)) {}

  void run() {
    net::dispatch(stream_.get_executor(),
                  beast::bind_front_handler(&HttpSession::onRun, shared_from_this()));
  }

  void shutdown() override {
    net::post(stream_.get_executor(), [self = shared_from_this()] { self->closeSocket(); });
  }

 private:
  void onRun() {
    beast::get_lowest_layer(stream_).expires_after(kIoTimeout);
    stream_.async_handshake(
        net::ssl::stream_base::server,
        beast::bind_front_handler(&HttpSession::onHandshake, shared_from_this()));
  }

  void onHandshake(beast::error_code ec) {
    if (ec) return fail(ec, "tls handshake", who_);
    readRequest();
  }

  // The header first: the body limit depends on the target.
  void readRequest() {
    // A fresh parser per request: its limits apply to each message. Beast compares Content-Length
    // with the limit while parsing the header, so the header is read under the largest limit and
    // onHeader() applies the target's; the parser then enforces that on chunked bodies.
    parser_.emplace();
    parser_->body_limit(kMaxBodyLimit);
    api_ = false;
    beast::get_lowest_layer(stream_).expires_after(kIoTimeout);
    http::async_read_header(stream_, buffer_, *parser_,
                            beast::bind_front_handler(&HttpSession::onHeader, shared_from_this()));
  }

  void onHeader(beast::error_code ec, std::size_t) {
    if (ec == http::error::end_of_stream) return closeTls();
    // The request line is parsed even when the header then fails (Content-Length over the limit).
    const auto& header = parser_->get();
    api_ = state_->api != nullptr && RestApi::isApiTarget(view(header.target()));
    if (ec) return onRead(ec, 0);
    const std::uint64_t limit =
        api_ ? RestApi::bodyLimit(view(header.method_string()), view(header.target()))
             : kRequestBodyLimit;
    const auto length = parser_->content_length();
    if (length && *length > limit) return onRead(http::error::body_limit, 0);
    parser_->body_limit(limit);
    http::async_read(stream_, buffer_, *parser_,
                     beast::bind_front_handler(&HttpSession::onRead, shared_from_this()));
  }

  void onRead(beast::error_code ec, std::size_t) {
    if (ec == http::error::end_of_stream) return closeTls();
    if (ec == http::error::body_limit && api_) return refuseTooLarge();
    if (ec) return fail(ec, "read", who_);
    HttpRequest request = parser_->release();
    if (beast::websocket::is_upgrade(request) &&
        HttpRouter::isWebSocketTarget(view(request.target()))) {
      return upgrade(std::move(request));
    }
    if (api_) return callApi(std::move(request));
    if (isMetricsRequest(state_->config, view(request.target()))) {
      return callMetrics(std::move(request));
    }
    const HttpReply reply =
        state_->router.handle(view(request.method_string()), view(request.target()));
    finished(HttpHandler::kWeb, view(request.method_string()), view(request.target()),
             reply.status);
    respond(reply, request.version(), request.keep_alive());
  }

  // ---------------------------------------------------------------- /api/

  // Runs the call on the API pool and posts the reply back to this session's strand. The
  // session reads nothing more until the reply is written.
  void callApi(HttpRequest request) {
    const auto pool = state_->apiPool.lock();
    if (!pool) return closeSocket();  // the server has stopped
    ApiRequest call{std::string(request.method_string()),
                    std::string(request.target()),
                    std::string(request[http::field::content_type]),
                    std::string(request[http::field::authorization]),
                    peer_,
                    std::move(request.body())};
    const auto received = std::chrono::steady_clock::now();
    net::post(*pool,
              [self = shared_from_this(), executor = stream_.get_executor(), call = std::move(call),
               version = request.version(), keepAlive = request.keep_alive(), received]() mutable {
                ApiReply reply = self->state_->api->handle(call);
                self->state_->metrics.apiCall(call.method, call.target, reply.status,
                                              std::chrono::steady_clock::now() - received);
                net::post(executor, [self = std::move(self), reply = std::move(reply),
                                     method = std::move(call.method),
                                     target = std::move(call.target), version, keepAlive] {
                  self->onApiReply(HttpHandler::kApi, method, target, reply, version, keepAlive);
                });
              });
  }

  void onApiReply(HttpHandler handler, std::string_view method, std::string_view target,
                  const ApiReply& reply, unsigned version, bool keepAlive) {
    if (closed_) return;
    finished(handler, method, target, reply.status);
    respondApi(reply, version, keepAlive);
  }

  // ---------------------------------------------------------------- /metrics

  // On the API pool like a REST call: the scrape waits for the core executor.
  void callMetrics(HttpRequest request) {
    const auto pool = state_->apiPool.lock();
    if (!pool) return closeSocket();  // the server has stopped
    net::post(*pool, [self = shared_from_this(), executor = stream_.get_executor(),
                      method = std::string(request.method_string()),
                      target = std::string(request.target()),
                      authorization = std::string(request[http::field::authorization]),
                      version = request.version(), keepAlive = request.keep_alive()]() mutable {
      ApiReply reply = serveMetrics(self->state_, method, authorization);
      net::post(
          executor, [self = std::move(self), reply = std::move(reply), method = std::move(method),
                     target = std::move(target), version, keepAlive] {
            self->onApiReply(HttpHandler::kMetrics, method, target, reply, version, keepAlive);
          });
    });
  }

  // One log line and one count per answered request.
  void finished(HttpHandler handler, std::string_view method, std::string_view target, int status) {
    state_->metrics.httpRequest(handler, status);
    kLog.info("request", {{"peer", peer_},
                          {"method", method},
                          {"target", loggableTarget(target)},
                          {"status", status}});
  }

  // The rest of the body is never read, so the connection cannot carry another request.
  void refuseTooLarge() {
    const auto& header = parser_->get();
    finished(HttpHandler::kApi, view(header.method_string()), view(header.target()), 413);
    respondApi(RestApi::errorReply(413, "too_large", "the request body is too large"),
               header.version(), false);
  }

  void respondApi(const ApiReply& reply, unsigned version, bool keepAlive) {
    auto response = std::make_shared<http::response<http::string_body>>(
        static_cast<http::status>(reply.status), version);
    response->set(http::field::server, "mcu");
    for (const auto& [name, value] : reply.headers) response->set(name, value);
    response->keep_alive(keepAlive);
    response->body() = reply.body;
    response->prepare_payload();
    // The read timer ran while the pool worked: the write gets its own time.
    beast::get_lowest_layer(stream_).expires_after(kIoTimeout);
    write(std::move(response));
  }

  // ---------------------------------------------------------------- replies

  void upgrade(HttpRequest request) {
    upgraded_ = true;
    // The WebSocket session sets its own timeouts.
    beast::get_lowest_layer(stream_).expires_never();
    startWsSession(std::move(stream_), std::move(request), state_);
  }

  void respond(const HttpReply& reply, unsigned version, bool keepAlive) {
    auto response = std::make_shared<http::response<http::string_body>>(
        static_cast<http::status>(reply.status), version);
    response->set(http::field::server, "mcu");
    response->set(http::field::content_type, reply.contentType);
    response->set(http::field::cache_control, "no-cache");
    response->set("X-Content-Type-Options", "nosniff");
    if (!reply.allow.empty()) response->set(http::field::allow, reply.allow);
    response->keep_alive(keepAlive);
    response->body() = reply.body;
    response->prepare_payload();
    write(std::move(response));
  }

  void write(std::shared_ptr<http::response<http::string_body>> response) {
    response_ = std::move(response);  // must outlive the write
    http::async_write(stream_, *response_,
                      beast::bind_front_handler(&HttpSession::onWrite, shared_from_this(),
                                                response_->need_eof()));
  }

  void onWrite(bool close, beast::error_code ec, std::size_t) {
    response_.reset();
    if (ec) return fail(ec, "write", who_);
    if (close) return closeTls();
    readRequest();
  }

  void closeTls() {
    beast::get_lowest_layer(stream_).expires_after(kIoTimeout);
    stream_.async_shutdown(beast::bind_front_handler(&HttpSession::onShutdown, shared_from_this()));
  }

  void onShutdown(beast::error_code ec) {
    if (ec) fail(ec, "tls shutdown", who_);
  }

  void closeSocket() {
    closed_ = true;
    if (upgraded_) return;  // the stream now belongs to the WebSocket session
    beast::error_code ignored;
    beast::get_lowest_layer(stream_).socket().close(ignored);
  }

  const std::string who_;
  const std::string peer_;  // the client's IP address, for RestApi's login rate limit
  TlsStream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::shared_ptr<http::response<http::string_body>> response_;
  std::shared_ptr<ServerState> state_;
  bool upgraded_ = false;
  bool api_ = false;     // the request being read goes to RestApi
  bool closed_ = false;  // closeSocket() ran: a late API reply is dropped
};

}  // namespace

void fail(beast::error_code ec, std::string_view what, std::string_view who) {
  if (ec == net::error::operation_aborted || ec == net::error::eof ||
      ec == net::ssl::error::stream_truncated || ec == http::error::end_of_stream ||
      ec == beast::websocket::error::closed || ec == net::error::connection_reset ||
      ec == net::error::broken_pipe) {
    return;
  }
  kNetLog.warn(std::string(who) + " " + std::string(what) + ": " + ec.message());
}

std::shared_ptr<Closable> startHttpSession(net::ip::tcp::socket socket,
                                           std::shared_ptr<ServerState> state) {
  auto session = std::make_shared<HttpSession>(std::move(socket), std::move(state));
  session->run();
  return session;
}

}  // namespace mcu::signaling
