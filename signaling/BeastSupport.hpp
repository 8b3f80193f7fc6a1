#pragma once
// Private to signaling/, and only for the two .cpp files that run Beast sessions (HttpSession.cpp,
// WsSession.cpp): Beast is slow to compile, so it stays out of every other file.
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <memory>
#include <string_view>

#include "signaling/ServerState.hpp"

namespace mcu::signaling {

namespace beast = boost::beast;
namespace http = boost::beast::http;
namespace net = boost::asio;

using TlsStream = beast::ssl_stream<beast::tcp_stream>;
using HttpRequest = http::request<http::string_body>;

// The one place network errors are judged: the benign ones (peer closed, cancelled by our own
// shutdown, TLS stream truncated) are dropped; anything else becomes one log line.
void fail(beast::error_code ec, std::string_view what, std::string_view who);

// Continues an upgraded HTTP connection as a WebSocket session of the /ws protocol.
void startWsSession(TlsStream stream, HttpRequest request, std::shared_ptr<ServerState> state);

}  // namespace mcu::signaling
