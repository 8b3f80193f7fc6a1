#pragma once
// The HTTPS + WSS front door: serves the web client, /healthz, the REST API under /api/ and the
// /ws JSON protocol (docs/protocol.md), and implements core::SignalPort for the conference model.
// Threads: runs on the given io_context; every WebSocket session has its own strand; calls into
// the Conference are posted to the core executor; SignalPort methods are called on the core
// executor and post to the sessions' strands; REST calls run on a small thread pool of the
// Server's own and post their replies back to the sessions' strands.
#include <cstdint>
#include <functional>
#include <memory>

#include "mcu/core/Conference.hpp"
#include "mcu/core/Config.hpp"
#include "mcu/core/Executor.hpp"
#include "mcu/core/Ports.hpp"

namespace boost::asio {
class io_context;
}

namespace mcu::signaling {

class RestApi;

class Server {
 public:
  Server(boost::asio::io_context& io, const core::Config& config, core::Executor& coreExecutor);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // The conference that requests are handed to (on the core executor). Set before start().
  void attach(core::Conference& conference);
  core::SignalPort& signalPort();
  // The REST API that /api/ requests are handed to (on the Server's API threads; it must be
  // thread-safe). Set before start(); it must outlive stop(). Without it /api/ is static files.
  void attachApi(RestApi& api);
  // Loads or creates the TLS certificate, binds and starts accepting. Returns the bound port
  // (config port 0 picks a free one). Throws std::runtime_error when it cannot listen.
  std::uint16_t start();
  // Stops accepting and closes every session. Waits for REST calls already running; once it
  // returns the RestApi is no longer called.
  void stop();

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace mcu::signaling
