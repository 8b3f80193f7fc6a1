#include "signaling/Server.hpp"

#include <openssl/ssl.h>

#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>
#include <stdexcept>
#include <vector>

#include "signaling/Certificate.hpp"
#include "signaling/Log.hpp"
#include "signaling/OutgoingEvents.hpp"
#include "signaling/Protocol.hpp"
#include "signaling/ServerState.hpp"

namespace mcu::signaling {

namespace {

namespace net = boost::asio;
using tcp = net::ip::tcp;

const Log kLog{"signaling.server"};
// REST calls are short but some hash a password (~100 ms): two threads keep one slow login from
// holding up everyone without letting a burst of logins eat the machine's cores.
constexpr std::size_t kApiThreads = 2;

net::ssl::context makeTlsContext(const TlsFiles& files) {
  net::ssl::context tls(net::ssl::context::tls_server);
  tls.set_options(net::ssl::context::default_workarounds | net::ssl::context::no_sslv2 |
                  net::ssl::context::no_sslv3 | net::ssl::context::single_dh_use);
  SSL_CTX_set_min_proto_version(tls.native_handle(), TLS1_2_VERSION);
  tls.use_certificate_chain_file(files.certFile);
  tls.use_private_key_file(files.keyFile, net::ssl::context::pem);
  return tls;
}

// Accepts connections on its own strand; also the owner of the list of plain HTTP sessions that
// stop() must close (WebSocket sessions are listed on the core executor instead).
class Listener : public std::enable_shared_from_this<Listener> {
 public:
  Listener(net::io_context& io, std::shared_ptr<ServerState> state)
      : io_(io), acceptor_(net::make_strand(io)), state_(std::move(state)) {}

  std::uint16_t listen(const std::string& address, std::uint16_t port) {
    const tcp::endpoint endpoint(net::ip::make_address(address), port);
    acceptor_.open(endpoint.protocol());
    acceptor_.set_option(net::socket_base::reuse_address(true));
    acceptor_.bind(endpoint);
    acceptor_.listen(net::socket_base::max_listen_connections);
    return acceptor_.local_endpoint().port();
  }

  void accept() {
    acceptor_.async_accept(
        net::make_strand(io_),
        [self = shared_from_this()](boost::system::error_code ec, tcp::socket socket) {
          self->onAccept(ec, std::move(socket));
        });
  }

  void stop() {
    net::post(acceptor_.get_executor(), [self = shared_from_this()] {
      boost::system::error_code ignored;
      self->acceptor_.close(ignored);
      for (auto& weak : self->http_) {
        if (auto session = weak.lock()) session->shutdown();
      }
      self->http_.clear();
    });
  }

 private:
  void onAccept(boost::system::error_code ec, tcp::socket socket) {
    if (ec == net::error::operation_aborted || !acceptor_.is_open()) return;
    if (ec) {
      // E.g. out of file descriptors: log and keep accepting rather than go deaf.
      kLog.warn(std::string("accept: ") + ec.message());
    } else {
      prune();
      http_.push_back(startHttpSession(std::move(socket), state_));
    }
    accept();
  }

  void prune() {
    std::erase_if(http_, [](const std::weak_ptr<Closable>& weak) { return weak.expired(); });
  }

  net::io_context& io_;
  tcp::acceptor acceptor_;
  std::shared_ptr<ServerState> state_;
  std::vector<std::weak_ptr<Closable>> http_;  // acceptor strand only
};

// core::SignalPort on the core executor: looks the sessions up there and hands each the text,
// serialised once however many receive it.
class SignalAdapter : public core::SignalPort {
 public:
  explicit SignalAdapter(ServerState& state) : state_(state), events_(state) {}

  void send(core::ConnectionId connection, const core::ServerMessage& message) override {
    events_.sent(connection, message);
    deliver(connection, std::make_shared<const std::string>(serialize(message)));
  }

  void broadcast(const std::vector<core::ConnectionId>& connections,
                 const core::ServerMessage& message) override {
    auto text = std::make_shared<const std::string>(serialize(message));
    for (const auto connection : connections) {
      events_.sent(connection, message);
      deliver(connection, text);
    }
  }

 private:
  void deliver(core::ConnectionId connection, std::shared_ptr<const std::string> text) {
    const auto it = state_.sessions.find(connection);
    if (it == state_.sessions.end()) return;  // already gone: nothing to tell
    if (auto session = it->second.lock()) session->deliver(std::move(text));
  }

  ServerState& state_;
  OutgoingEvents events_;  // counts and logs what is sent
};

}  // namespace

struct Server::Impl {
  Impl(net::io_context& io, const core::Config& config, core::Executor& coreExecutor)
      : io(io), state(std::make_shared<ServerState>(config, coreExecutor)), signal(*state) {}

  net::io_context& io;
  std::shared_ptr<ServerState> state;
  SignalAdapter signal;
  std::shared_ptr<Listener> listener;
  std::shared_ptr<net::thread_pool> apiPool;  // made by attachApi(); sessions hold weak_ptrs
};

Server::Server(net::io_context& io, const core::Config& config, core::Executor& coreExecutor)
    : impl_(std::make_shared<Impl>(io, config, coreExecutor)) {}

Server::~Server() {
  stop();
}

void Server::attach(core::Conference& conference) {
  impl_->state->conference = &conference;
}

void Server::attachApi(RestApi& api) {
  impl_->state->api = &api;
  if (!impl_->apiPool) impl_->apiPool = std::make_shared<net::thread_pool>(kApiThreads);
  impl_->state->apiPool = impl_->apiPool;
}

core::SignalPort& Server::signalPort() {
  return impl_->signal;
}

std::uint16_t Server::start() {
  const auto& server = impl_->state->config.server;
  // GET /metrics runs on the API pool too (it waits for the core executor).
  if (!impl_->apiPool && impl_->state->config.metrics.enabled) {
    impl_->apiPool = std::make_shared<net::thread_pool>(kApiThreads);
    impl_->state->apiPool = impl_->apiPool;
  }
  impl_->state->tls.emplace(makeTlsContext(ensureCertificate(server)));
  auto listener = std::make_shared<Listener>(impl_->io, impl_->state);
  std::uint16_t port = 0;
  try {
    port = listener->listen(server.bind, server.port);
  } catch (const boost::system::system_error& e) {
    throw std::runtime_error("cannot listen on " + server.bind + ":" + std::to_string(server.port) +
                             ": " + e.code().message());
  }
  listener->accept();
  impl_->listener = listener;
  kLog.info("listening", {{"bind", server.bind}, {"port", port}});
  return port;
}

void Server::stop() {
  if (impl_->listener) {
    auto state = impl_->state;
    // Set before the sweep is posted: a session registering after the sweep sees it and closes.
    state->stopping = true;
    impl_->listener->stop();
    impl_->listener.reset();
    state->coreExecutor.post([state] {
      for (auto& [conn, weak] : state->sessions) {
        if (auto session = weak.lock()) session->shutdown();
      }
    });
  }
  // Calls already running finish (their replies reach sessions that are closing); queued ones
  // are dropped, and later posts to the stopped pool never run.
  if (impl_->apiPool) {
    impl_->apiPool->stop();
    impl_->apiPool->join();
  }
}

}  // namespace mcu::signaling
