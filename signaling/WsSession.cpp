// One WebSocket client of the /ws protocol (docs/protocol.md). Everything here runs on the
// session's strand; requests go to the Conference on the core executor, replies come back
// through deliver(). Writes go through a bounded queue: a client that cannot keep up is dropped
// rather than allowed to grow the server's memory.
#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <deque>
#include <functional>
#include <optional>

#include "signaling/BeastSupport.hpp"
#include "signaling/Log.hpp"
#include "signaling/Protocol.hpp"

namespace mcu::signaling {

namespace {

namespace websocket = beast::websocket;
using core::ConnectionId;
using core::ErrorCode;
using core::RequestId;
using Text = std::shared_ptr<const std::string>;
using ConferenceCall = std::function<void(core::Conference&, ConnectionId)>;

const Log kLog{"signaling.ws"};

class WsSession : public ClientSession, public std::enable_shared_from_this<WsSession> {
 public:
  WsSession(TlsStream stream, std::shared_ptr<ServerState> state)
      : ws_(std::move(stream)),
        state_(std::move(state)),
        conn_(state_->nextConnection.fetch_add(1)),
        who_("conn=" + std::to_string(conn_)) {}

  void start(HttpRequest request) {
    request_ = std::move(request);
    net::dispatch(ws_.get_executor(),
                  beast::bind_front_handler(&WsSession::onStart, shared_from_this()));
  }

  void deliver(Text text) override {
    net::post(ws_.get_executor(),
              [self = shared_from_this(), text = std::move(text)] { self->enqueue(text); });
  }

  void shutdown() override {
    net::post(ws_.get_executor(), [self = shared_from_this()] {
      self->closeAfterWrites(websocket::close_code::going_away);
    });
  }

 private:
  std::size_t maxMessage() const { return state_->config.server.maxMessageBytes; }

  // ---------------------------------------------------------------- opening

  void onStart() {
    ws_.set_option(websocket::stream_base::timeout::suggested(beast::role_type::server));
    ws_.set_option(websocket::stream_base::decorator(
        [](websocket::response_type& response) { response.set(http::field::server, "mcu"); }));
    // Above our own limit, so a frame somewhat over it is still read whole and answered with
    // too_large before the close; Beast itself refuses (bare close 1009) only what is far beyond.
    ws_.read_message_max(4 * maxMessage() + 4096);
    ws_.async_accept(request_, beast::bind_front_handler(&WsSession::onAccept, shared_from_this()));
  }

  void onAccept(beast::error_code ec) {
    if (ec) return fail(ec, "websocket accept", who_);
    accepted_ = true;
    request_ = {};
    kLog.info(who_ + " open");
    auto state = state_;
    std::weak_ptr<ClientSession> weak = weak_from_this();
    state->coreExecutor.post([state, conn = conn_, weak] {
      // A session that finished its handshake while Server::stop() ran is closed here: stop()
      // sets `stopping` before it posts its sweep of the registry, so one of the two sees it.
      if (state->stopping) {
        if (auto session = weak.lock()) session->shutdown();
        return;
      }
      state->sessions[conn] = weak;
    });
    readFrame();
  }

  // ---------------------------------------------------------------- reading

  void readFrame() {
    ws_.async_read(buffer_, beast::bind_front_handler(&WsSession::onRead, shared_from_this()));
  }

  void onRead(beast::error_code ec, std::size_t) {
    if (ec == websocket::error::message_too_big) logBadInput(std::nullopt, ErrorCode::kTooLarge);
    if (ec) {
      fail(ec, "read", who_);
      return end();
    }
    const std::string_view frame(static_cast<const char*>(buffer_.data().data()), buffer_.size());
    if (frame.size() > maxMessage()) {
      buffer_.consume(buffer_.size());
      return rejectTooLarge();
    }
    if (ws_.got_text()) {
      handleText(frame);
    } else {
      reject(std::nullopt, ErrorCode::kBadJson, "binary frames are not accepted");
    }
    buffer_.consume(buffer_.size());
    readFrame();
  }

  void handleText(std::string_view frame) {
    try {
      dispatch(parseCommand(frame));
    } catch (const ProtocolError& e) {
      reject(e.id(), e.code(), e.what());
    }
  }

  // ---------------------------------------------------------------- one handler per request

  void dispatch(Command command) {
    std::visit([this, &command](auto& body) { handle(command.id, std::move(body)); }, command.body);
  }

  void handle(RequestId id, JoinCommand c) {
    toConference(
        [id, c](core::Conference& conf, ConnectionId conn) { conf.join(conn, id, c.request); });
  }
  void handle(RequestId id, AnswerCommand c) {
    toConference(
        [id, c](core::Conference& conf, ConnectionId conn) { conf.answer(conn, id, c.sdp); });
  }
  void handle(RequestId id, CandidateCommand c) {
    toConference([id, c](core::Conference& conf, ConnectionId conn) {
      conf.candidate(conn, id, c.sdpMLineIndex, c.candidate);
    });
  }
  void handle(RequestId id, MuteCommand c) {
    toConference([id, c](core::Conference& conf, ConnectionId conn) {
      conf.setMuted(conn, id, c.kind, c.muted);
    });
  }
  void handle(RequestId id, LeaveCommand) {
    toConference([id](core::Conference& conf, ConnectionId conn) { conf.leave(conn, id); });
  }
  void handle(RequestId id, HandCommand c) {
    toConference(
        [id, c](core::Conference& conf, ConnectionId conn) { conf.raiseHand(conn, id, c.raised); });
  }
  void handle(RequestId id, RollCallAnswerCommand) {
    toConference(
        [id](core::Conference& conf, ConnectionId conn) { conf.answerRollCall(conn, id); });
  }
  void handle(RequestId id, ChairCommand c) {
    toConference([id, c = std::move(c)](core::Conference& conf, ConnectionId conn) {
      conf.attachChair(conn, id, c.token, c.meeting);
    });
  }
  void handle(RequestId id, ControlCommand c) {
    toConference([id, c = std::move(c)](core::Conference& conf, ConnectionId conn) {
      conf.control(conn, id, c.request);
    });
  }
  void handle(RequestId id, StatsCommand c) {
    toConference([id, c = std::move(c)](core::Conference& conf, ConnectionId conn) {
      conf.clientStats(conn, id, c.stats);
    });
  }
  void handle(RequestId id, TestReportCommand c) {
    toConference([id, c = std::move(c)](core::Conference& conf, ConnectionId conn) {
      conf.testReport(conn, id, c.report);
    });
  }
  void handle(RequestId id, MonitorCommand c) {
    toConference([id, c = std::move(c)](core::Conference& conf, ConnectionId conn) {
      conf.attachMonitor(conn, id, c.token);
    });
  }
  void handle(RequestId id, MonitorSiteCommand c) {
    toConference([id, c = std::move(c)](core::Conference& conf, ConnectionId conn) {
      conf.monitorSite(conn, id, c.site);
    });
  }
  void handle(RequestId id, MonitorActionCommand c) {
    toConference([id, c = std::move(c)](core::Conference& conf, ConnectionId conn) {
      conf.monitorAction(conn, id, c.site, c.action);
    });
  }
  // Answered here: a keep-alive needs no conference state and should not queue behind it.
  void handle(RequestId id, PingCommand) {
    enqueue(std::make_shared<const std::string>(serializePong(id)));
  }

  void toConference(ConferenceCall call) {
    state_->coreExecutor.post([state = state_, conn = conn_, call = std::move(call)] {
      if (state->stopping || !state->conference) return;
      call(*state->conference, conn);
    });
  }

  // ---------------------------------------------------------------- bad input

  void logBadInput(const RequestId& id, ErrorCode code, std::string_view message = {}) {
    std::string line = who_ + " bad input code=" + std::string(core::errorName(code));
    if (id) line += " id=" + std::to_string(*id);
    if (!message.empty()) line += ": " + std::string(message);
    kLog.warn(line);
  }

  void reject(const RequestId& id, ErrorCode code, const std::string& message) {
    logBadInput(id, code, message);
    state_->metrics.errorSent(code);
    enqueue(std::make_shared<const std::string>(serialize(core::ErrorMsg{id, code, message})));
  }

  // The error is sent first, then the close; nothing more is read from this client.
  void rejectTooLarge() {
    reject(std::nullopt, ErrorCode::kTooLarge,
           "message over " + std::to_string(maxMessage()) + " bytes");
    closeAfterWrites(websocket::close_code::too_big);
  }

  // ---------------------------------------------------------------- writing

  void enqueue(Text text) {
    if (ended_ || closeCode_) return;
    if (queue_.size() >= state_->config.server.writeQueueLimit) {
      kLog.warn(who_ + " dropped: more than " +
                std::to_string(state_->config.server.writeQueueLimit) + " messages queued");
      return drop();
    }
    queue_.push_back(std::move(text));
    if (queue_.size() == 1) writeNext();
  }

  void writeNext() {
    ws_.text(true);
    ws_.async_write(net::buffer(*queue_.front()),
                    beast::bind_front_handler(&WsSession::onWrite, shared_from_this()));
  }

  void onWrite(beast::error_code ec, std::size_t) {
    if (ec) {
      fail(ec, "write", who_);
      return drop();
    }
    queue_.pop_front();
    if (!queue_.empty()) return writeNext();
    if (closeCode_) startClose();
  }

  // ---------------------------------------------------------------- closing

  void closeAfterWrites(websocket::close_code code) {
    if (ended_ || closeCode_) return;
    closeCode_ = code;
    if (queue_.empty()) startClose();
  }

  void startClose() {
    if (closing_ || ended_) return;
    closing_ = true;
    ws_.async_close(*closeCode_,
                    beast::bind_front_handler(&WsSession::onClose, shared_from_this()));
  }

  void onClose(beast::error_code ec) {
    if (ec) fail(ec, "close", who_);
    end();
  }

  // Abrupt end: pending operations complete with operation_aborted.
  void drop() {
    beast::error_code ignored;
    beast::get_lowest_layer(ws_).socket().close(ignored);
    end();
  }

  // Runs once per session, whatever ended it.
  void end() {
    if (ended_) return;
    ended_ = true;
    queue_.clear();
    if (!accepted_) return;
    kLog.info(who_ + " closed");
    state_->coreExecutor.post([state = state_, conn = conn_] {
      state->sessions.erase(conn);
      if (!state->stopping && state->conference) state->conference->disconnected(conn);
    });
  }

  websocket::stream<TlsStream> ws_;
  std::shared_ptr<ServerState> state_;
  const ConnectionId conn_;
  const std::string who_;
  HttpRequest request_;
  beast::flat_buffer buffer_;
  std::deque<Text> queue_;
  std::optional<websocket::close_code> closeCode_;
  bool accepted_ = false;
  bool closing_ = false;
  bool ended_ = false;
};

}  // namespace

void startWsSession(TlsStream stream, HttpRequest request, std::shared_ptr<ServerState> state) {
  std::make_shared<WsSession>(std::move(stream), std::move(state))->start(std::move(request));
}

}  // namespace mcu::signaling
