#pragma once
// Private to signaling/: the state every connection of one Server shares, and the small
// interfaces Server.cpp needs from the Beast sessions without compiling Beast itself.
#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/thread_pool.hpp>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>

#include "mcu/core/Conference.hpp"
#include "mcu/core/Config.hpp"
#include "mcu/core/Executor.hpp"
#include "signaling/HttpRouter.hpp"
#include "signaling/Metrics.hpp"

namespace mcu::signaling {

class RestApi;

// A connection that Server::stop() can end from any thread.
class Closable {
 public:
  virtual ~Closable() = default;
  virtual void shutdown() = 0;
};

// A WebSocket session as SignalPort sees it.
class ClientSession : public Closable {
 public:
  // Queues one text frame; callable from any thread (the write happens on the session's strand).
  virtual void deliver(std::shared_ptr<const std::string> text) = 0;
};

struct ServerState {
  ServerState(const core::Config& config, core::Executor& coreExecutor)
      : config(config), coreExecutor(coreExecutor), router(config.server.webRoot) {}

  const core::Config& config;
  core::Executor& coreExecutor;
  HttpRouter router;
  std::optional<boost::asio::ssl::context> tls;  // loaded by Server::start(), then read-only
  // Set by Server::attachApi() before start(), then read-only. RestApi runs only on the pool,
  // which Server owns: sessions merely observe it, so a queued call keeps neither the pool nor
  // the API alive after Server::stop().
  RestApi* api = nullptr;
  std::weak_ptr<boost::asio::thread_pool> apiPool;
  std::atomic<core::ConnectionId> nextConnection{1};
  // Set by Server::stop(); work already posted to the core executor then no longer reaches the
  // conference, which may be torn down right after.
  std::atomic<bool> stopping{false};
  // Counted from any thread (relaxed atomics); read by GET /metrics.
  Metrics metrics;
  const std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();

  // ---- core executor only ----
  core::Conference* conference = nullptr;
  // The open WebSocket sessions by connection id. Kept on the core executor rather than behind a
  // mutex because every reader (SignalPort::send/broadcast) already runs there; sessions register
  // and unregister by posting, and the executor's FIFO order puts a session's registration before
  // any of its commands and its unregistration after them.
  std::unordered_map<core::ConnectionId, std::weak_ptr<ClientSession>> sessions;
};

// Takes over an accepted TCP connection: TLS handshake, then HTTP requests, then possibly the
// upgrade to a WebSocket session. The socket must have its own strand as executor.
std::shared_ptr<Closable> startHttpSession(boost::asio::ip::tcp::socket socket,
                                           std::shared_ptr<ServerState> state);

}  // namespace mcu::signaling
