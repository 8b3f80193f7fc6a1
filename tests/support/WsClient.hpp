#pragma once
// A small WSS client for tests and the load generator: one connection, driven from the calling
// thread (every call runs the client's own io_context until its condition or deadline), no
// certificate verification. Not thread-safe: use one client per thread.
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace mcu::testsupport {

using namespace std::chrono_literals;

class WsClient {
 public:
  WsClient();
  ~WsClient();
  WsClient(const WsClient&) = delete;
  WsClient& operator=(const WsClient&) = delete;

  // TCP + TLS + WebSocket handshake to host:port (an IPv4 address). Throws std::runtime_error
  // on failure.
  void connect(std::uint16_t port, std::chrono::milliseconds timeout = 10s,
               const std::string& target = "/ws", const std::string& host = "127.0.0.1");

  // Both throw std::runtime_error when the frame cannot be written within the timeout.
  void sendText(const std::string& text, std::chrono::milliseconds timeout = 10s);
  void sendBinary(const std::string& bytes, std::chrono::milliseconds timeout = 10s);

  // The next text message, or nullopt when none arrives in time or the connection is closed.
  std::optional<std::string> receive(std::chrono::milliseconds timeout);
  // The first text message for which `match` is true; earlier ones are discarded.
  std::optional<std::string> receiveUntil(const std::function<bool(const std::string&)>& match,
                                          std::chrono::milliseconds timeout);

  // Waits until the server has closed the connection; true if it did in time.
  bool waitClosed(std::chrono::milliseconds timeout);
  bool isOpen() const;
  // The code of the server's close frame, once one was received.
  std::optional<int> closeCode() const;

  // Sends a close frame and waits (up to the timeout) for the server's.
  void close(std::chrono::milliseconds timeout = 5s);
  // Abrupt disconnect: the TCP connection is torn down without a close frame.
  void drop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

struct HttpsResponse {
  int status = 0;
  std::string contentType;
  std::string body;
};

using HttpHeaders = std::vector<std::pair<std::string, std::string>>;

// One HTTPS request to 127.0.0.1:port (no certificate verification), with extra headers and a
// body if given. Throws std::runtime_error on network failure or timeout.
HttpsResponse httpsRequest(std::uint16_t port, const std::string& method, const std::string& target,
                           std::chrono::milliseconds timeout = 10s, const HttpHeaders& headers = {},
                           const std::string& body = {});

}  // namespace mcu::testsupport
