#include "tests/support/WsClient.hpp"

#include <openssl/ssl.h>

#include <boost/asio/io_context.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <deque>
#include <stdexcept>

namespace mcu::testsupport {

namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
namespace websocket = beast::websocket;
using Clock = std::chrono::steady_clock;
using TlsStream = beast::ssl_stream<beast::tcp_stream>;

// The result of one asynchronous step. Shared with the handler so a step abandoned at its
// deadline can still complete safely later.
struct Step {
  bool done = false;
  beast::error_code ec;
};
using StepPtr = std::shared_ptr<Step>;

auto completes(const StepPtr& step) {
  return [step](beast::error_code ec, auto&&...) {
    step->ec = ec;
    step->done = true;
  };
}

// Runs io until `done` holds or the deadline passes; false on timeout or when nothing is left to
// run.
bool runUntil(net::io_context& io, const std::function<bool()>& done, Clock::time_point deadline) {
  while (!done()) {
    if (io.stopped()) io.restart();
    if (io.run_one_until(deadline) == 0) return done();
  }
  return true;
}

void await(net::io_context& io, const StepPtr& step, Clock::time_point deadline,
           const std::string& what) {
  if (!runUntil(
          io, [&] { return step->done; }, deadline)) {
    throw std::runtime_error(what + ": timed out");
  }
  if (step->ec) throw std::runtime_error(what + ": " + step->ec.message());
}

// TCP connect + TLS handshake (SNI localhost, no verification) on an unconnected stream.
void connectTls(net::io_context& io, TlsStream& stream, std::uint16_t port,
                Clock::time_point deadline, const std::string& host = "127.0.0.1") {
  auto& tcp = beast::get_lowest_layer(stream);
  tcp.expires_at(deadline);
  auto connected = std::make_shared<Step>();
  tcp.async_connect(net::ip::tcp::endpoint(net::ip::make_address(host), port),
                    completes(connected));
  await(io, connected, deadline, "connect");
  SSL_set_tlsext_host_name(stream.native_handle(), "localhost");
  auto handshaken = std::make_shared<Step>();
  stream.async_handshake(net::ssl::stream_base::client, completes(handshaken));
  await(io, handshaken, deadline, "tls handshake");
  tcp.expires_never();
}

net::ssl::context makeClientTls() {
  net::ssl::context tls(net::ssl::context::tls_client);
  tls.set_verify_mode(net::ssl::verify_none);
  return tls;
}

}  // namespace

struct WsClient::Impl {
  net::io_context io;
  net::ssl::context tls = makeClientTls();
  std::optional<websocket::stream<TlsStream>> ws;
  beast::flat_buffer buffer;
  std::deque<std::string> inbox;
  bool open = false;
  std::optional<int> closeCode;

  ~Impl() {
    if (!ws) return;
    beast::error_code ignored;
    beast::get_lowest_layer(*ws).socket().close(ignored);
    // Lets the aborted handlers run while this object still exists.
    io.restart();
    io.run_for(std::chrono::seconds(1));
  }

  // One read is always outstanding while the connection is open; messages land in the inbox
  // whenever the io_context runs.
  void readNext() {
    ws->async_read(buffer, [this](beast::error_code ec, std::size_t) {
      if (ec) {
        open = false;
        if (ws->reason().code != websocket::close_code::none) closeCode = ws->reason().code;
        return;
      }
      if (ws->got_text()) inbox.push_back(beast::buffers_to_string(buffer.data()));
      buffer.consume(buffer.size());
      readNext();
    });
  }

  void write(const std::string& payload, bool text, std::chrono::milliseconds timeout) {
    if (!open) throw std::runtime_error("write: connection is closed");
    auto data = std::make_shared<const std::string>(payload);
    auto written = std::make_shared<Step>();
    ws->text(text);
    ws->async_write(net::buffer(*data), [data, done = completes(written)](
                                            beast::error_code ec, std::size_t n) { done(ec, n); });
    await(io, written, Clock::now() + timeout, "write");
  }
};

WsClient::WsClient() : impl_(std::make_unique<Impl>()) {}
WsClient::~WsClient() = default;

void WsClient::connect(std::uint16_t port, std::chrono::milliseconds timeout,
                       const std::string& target, const std::string& host) {
  const auto deadline = Clock::now() + timeout;
  auto& ws = impl_->ws.emplace(impl_->io, impl_->tls);
  connectTls(impl_->io, ws.next_layer(), port, deadline, host);
  ws.set_option(websocket::stream_base::timeout::suggested(beast::role_type::client));
  auto upgraded = std::make_shared<Step>();
  ws.async_handshake("localhost:" + std::to_string(port), target, completes(upgraded));
  await(impl_->io, upgraded, deadline, "websocket handshake");
  impl_->open = true;
  impl_->readNext();
}

void WsClient::sendText(const std::string& text, std::chrono::milliseconds timeout) {
  impl_->write(text, true, timeout);
}

void WsClient::sendBinary(const std::string& bytes, std::chrono::milliseconds timeout) {
  impl_->write(bytes, false, timeout);
}

std::optional<std::string> WsClient::receive(std::chrono::milliseconds timeout) {
  auto& impl = *impl_;
  runUntil(
      impl.io, [&] { return !impl.inbox.empty() || !impl.open; }, Clock::now() + timeout);
  if (impl.inbox.empty()) return std::nullopt;
  std::string message = std::move(impl.inbox.front());
  impl.inbox.pop_front();
  return message;
}

std::optional<std::string> WsClient::receiveUntil(
    const std::function<bool(const std::string&)>& match, std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (Clock::now() < deadline) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    auto message = receive(left);
    if (!message) return std::nullopt;
    if (match(*message)) return message;
  }
  return std::nullopt;
}

bool WsClient::waitClosed(std::chrono::milliseconds timeout) {
  auto& impl = *impl_;
  return runUntil(
      impl.io, [&] { return !impl.open; }, Clock::now() + timeout);
}

bool WsClient::isOpen() const {
  return impl_->open;
}

std::optional<int> WsClient::closeCode() const {
  return impl_->closeCode;
}

void WsClient::close(std::chrono::milliseconds timeout) {
  auto& impl = *impl_;
  if (!impl.open) return;
  auto closed = std::make_shared<Step>();
  impl.ws->async_close(websocket::close_code::normal, completes(closed));
  // The outstanding read receives the server's close frame and marks the client closed.
  runUntil(
      impl.io, [&] { return closed->done && !impl.open; }, Clock::now() + timeout);
}

void WsClient::drop() {
  auto& impl = *impl_;
  if (!impl.ws) return;
  beast::error_code ignored;
  beast::get_lowest_layer(*impl.ws).socket().shutdown(net::socket_base::shutdown_both, ignored);
  beast::get_lowest_layer(*impl.ws).socket().close(ignored);
  runUntil(
      impl.io, [&] { return !impl.open; }, Clock::now() + std::chrono::seconds(1));
  impl.open = false;
}

HttpsResponse httpsRequest(std::uint16_t port, const std::string& method, const std::string& target,
                           std::chrono::milliseconds timeout, const HttpHeaders& headers,
                           const std::string& body) {
  const auto deadline = Clock::now() + timeout;
  net::io_context io;
  auto tls = makeClientTls();
  TlsStream stream(io, tls);
  connectTls(io, stream, port, deadline);
  http::request<http::string_body> request(http::string_to_verb(method), target, 11);
  request.set(http::field::host, "localhost:" + std::to_string(port));
  for (const auto& [name, value] : headers) request.set(name, value);
  request.keep_alive(false);
  request.body() = body;
  request.prepare_payload();
  beast::get_lowest_layer(stream).expires_at(deadline);
  auto written = std::make_shared<Step>();
  http::async_write(stream, request, completes(written));
  await(io, written, deadline, "http write");
  beast::flat_buffer buffer;
  http::response<http::string_body> response;
  auto read = std::make_shared<Step>();
  http::async_read(stream, buffer, response, completes(read));
  await(io, read, deadline, "http read");
  beast::error_code ignored;
  beast::get_lowest_layer(stream).socket().close(ignored);
  const auto type = response[http::field::content_type];
  return {static_cast<int>(response.result_int()), std::string(type.data(), type.size()),
          response.body()};
}

}  // namespace mcu::testsupport
