// One TLS connection from accept until it closes or is upgraded to a WebSocket: handshake, then
// HTTP/1.1 requests (keep-alive) answered through HttpRouter.
#include <boost/asio/dispatch.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/beast/websocket/error.hpp>
#include <boost/beast/websocket/rfc6455.hpp>
#include <chrono>
#include <optional>

#include "signaling/BeastSupport.hpp"
#include "signaling/Log.hpp"

namespace mcu::signaling {

namespace {

const Log kLog{"signaling.http"};
const Log kNetLog{"signaling.net"};
constexpr auto kIoTimeout = std::chrono::seconds(30);
constexpr std::uint64_t kRequestBodyLimit = 16 * 1024;  // only GETs are served

std::string peerName(const net::ip::tcp::socket& socket) {
  beast::error_code ec;
  const auto peer = socket.remote_endpoint(ec);
  if (ec) return "http peer=?";
  return "http peer=" + peer.address().to_string() + ":" + std::to_string(peer.port());
}

std::string_view view(beast::string_view s) {
  return {s.data(), s.size()};
}

class HttpSession : public Closable, public std::enable_shared_from_this<HttpSession> {
 public:
  HttpSession(net::ip::tcp::socket socket, std::shared_ptr<ServerState> state)
      : who_(peerName(socket)), stream_(std::move(socket), *state->tls), state_(std::move(state)) {}

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

  void readRequest() {
    // A fresh parser per request: its limits apply to each message.
    parser_.emplace();
    parser_->body_limit(kRequestBodyLimit);
    beast::get_lowest_layer(stream_).expires_after(kIoTimeout);
    http::async_read(stream_, buffer_, *parser_,
                     beast::bind_front_handler(&HttpSession::onRead, shared_from_this()));
  }

  void onRead(beast::error_code ec, std::size_t) {
    if (ec == http::error::end_of_stream) return closeTls();
    if (ec) return fail(ec, "read", who_);
    HttpRequest request = parser_->release();
    if (beast::websocket::is_upgrade(request) &&
        HttpRouter::isWebSocketTarget(view(request.target()))) {
      return upgrade(std::move(request));
    }
    const HttpReply reply =
        state_->router.handle(view(request.method_string()), view(request.target()));
    kLog.info(who_ + " " + std::string(request.method_string()) + " " +
              std::string(request.target()) + " " + std::to_string(reply.status));
    respond(reply, request.version(), request.keep_alive());
  }

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
    response_ = response;  // must outlive the write
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
    if (upgraded_) return;  // the stream now belongs to the WebSocket session
    beast::error_code ignored;
    beast::get_lowest_layer(stream_).socket().close(ignored);
  }

  const std::string who_;
  TlsStream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::shared_ptr<http::response<http::string_body>> response_;
  std::shared_ptr<ServerState> state_;
  bool upgraded_ = false;
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
