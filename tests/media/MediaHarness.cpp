#include "tests/media/MediaHarness.hpp"

#include <type_traits>

namespace mcu::testing {

bool waitFor(const std::function<bool()>& cond, std::chrono::milliseconds bound) {
  const auto deadline = std::chrono::steady_clock::now() + bound;
  while (std::chrono::steady_clock::now() < deadline) {
    if (cond()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return cond();
}

MediaHarness::MediaHarness(core::Config config, Options options)
    : config_(std::move(config)), options_(options), work_(io_.get_executor()), strand_(io_) {
  media::initGStreamer();
  media_ = std::make_unique<media::GstMediaPort>(config_, strand_);
  conference_ = std::make_unique<core::Conference>(config_, strand_, *media_, *this, options.rooms);
  media_->setEvents(&tap_);
  thread_ = std::thread([this] { io_.run(); });
}

MediaHarness::~MediaHarness() {
  // Peers first (their callbacks post into the strand), then the server side on its strand.
  for (auto& [conn, peer] : peers_) peer->stop();
  onStrand([this] {
    conference_.reset();
    media_->shutdown();
  });
  work_.reset();
  io_.stop();
  thread_.join();
}

void MediaHarness::onStrand(std::function<void()> fn) {
  std::promise<void> done;
  strand_.post([&] {
    fn();
    done.set_value();
  });
  done.get_future().wait();
}

TestPeer& MediaHarness::join(core::ConnectionId conn, const std::string& name,
                             TestPeer::Options options, const std::string& meeting) {
  return join(conn, name, std::move(options), core::JoinRequest{meeting, name, {}});
}

TestPeer& MediaHarness::join(core::ConnectionId conn, const std::string& name,
                             TestPeer::Options options, const core::JoinRequest& request) {
  TestPeer::Callbacks callbacks;
  callbacks.answer = [this, conn](const std::string& sdp) {
    strand_.post([this, conn, sdp] {
      if (conference_) conference_->answer(conn, std::nullopt, sdp);
    });
  };
  callbacks.candidate = [this, conn](int mline, const std::string& cand) {
    strand_.post([this, conn, mline, cand] {
      if (conference_) conference_->candidate(conn, std::nullopt, mline, cand);
    });
  };
  auto peer = std::make_unique<TestPeer>(name, options, callbacks);
  peer->start();
  TestPeer& ref = *peer;
  {
    std::lock_guard lock(mu_);
    peers_[conn] = std::move(peer);
  }
  onStrand([&] { conference_->join(conn, 1, request); });
  return ref;
}

void MediaHarness::leave(core::ConnectionId conn) {
  onStrand([&] { conference_->leave(conn, 2); });
  peers_.at(conn)->stop();
}

void MediaHarness::vanish(core::ConnectionId conn) {
  peers_.at(conn)->stop();
  onStrand([&] { conference_->disconnected(conn); });
}

void MediaHarness::send(core::ConnectionId conn, const core::ServerMessage& message) {
  TestPeer* peer = nullptr;
  {
    std::lock_guard lock(mu_);
    inbox_[conn].push_back(message);
    if (auto it = peers_.find(conn); it != peers_.end()) peer = it->second.get();
  }
  if (!peer) return;
  std::visit(
      [&](const auto& m) {
        using T = std::decay_t<decltype(m)>;
        if constexpr (std::is_same_v<T, core::OfferMsg>) peer->handleOffer(m.sdp);
        if constexpr (std::is_same_v<T, core::CandidateMsg>) {
          peer->addCandidate(m.sdpMLineIndex, m.candidate);
        }
      },
      message);
}

void MediaHarness::broadcast(const std::vector<core::ConnectionId>& conns,
                             const core::ServerMessage& message) {
  for (auto c : conns) send(c, message);
}

std::vector<core::ServerMessage> MediaHarness::messagesTo(core::ConnectionId conn) {
  std::lock_guard lock(mu_);
  return inbox_[conn];
}

std::vector<core::ErrorCode> MediaHarness::errorsTo(core::ConnectionId conn) {
  std::vector<core::ErrorCode> out;
  for (const auto& m : messagesTo(conn)) {
    if (auto* e = std::get_if<core::ErrorMsg>(&m)) out.push_back(e->code);
  }
  return out;
}

}  // namespace mcu::testing

namespace mcu::testing {

core::ParticipantId MediaHarness::participantId(core::ConnectionId conn) {
  for (const auto& m : messagesTo(conn)) {
    if (auto* joined = std::get_if<core::JoinedMsg>(&m)) return joined->you;
  }
  return {};
}

std::vector<int> MediaHarness::audioLevels(const core::ParticipantId& id) {
  std::lock_guard lock(mu_);
  return levels_[id];
}

std::vector<bool> MediaHarness::shareStates(const core::ParticipantId& id) {
  std::lock_guard lock(mu_);
  return shares_[id];
}

// The tap runs on the strand, where the Conference lives; it is gone only during teardown.
void MediaHarness::ReportTap::onLocalOffer(const core::ParticipantId& p, const std::string& sdp) {
  if (h_.conference_) h_.conference_->onLocalOffer(p, sdp);
}

void MediaHarness::ReportTap::onLocalCandidate(const core::ParticipantId& p, int mline,
                                               const std::string& c) {
  if (h_.conference_) h_.conference_->onLocalCandidate(p, mline, c);
}

void MediaHarness::ReportTap::onLegState(const core::ParticipantId& p, core::LegState state) {
  if (h_.conference_) h_.conference_->onLegState(p, state);
}

void MediaHarness::ReportTap::onLegError(const core::ParticipantId& p, core::ErrorCode code,
                                         const std::string& message) {
  if (h_.conference_) h_.conference_->onLegError(p, code, message);
}

void MediaHarness::ReportTap::onAudioLevel(const core::ParticipantId& p, int level) {
  {
    std::lock_guard lock(h_.mu_);
    h_.levels_[p].push_back(level);
  }
  if (h_.conference_ && h_.options_.coreSeesReports) h_.conference_->onAudioLevel(p, level);
}

void MediaHarness::ReportTap::onShareState(const core::ParticipantId& p, bool sharing) {
  {
    std::lock_guard lock(h_.mu_);
    h_.shares_[p].push_back(sharing);
  }
  if (h_.conference_ && h_.options_.coreSeesReports) h_.conference_->onShareState(p, sharing);
}

void MediaHarness::ReportTap::onLegStats(const core::ParticipantId& p,
                                         const core::LegStats& stats) {
  if (h_.conference_) h_.conference_->onLegStats(p, stats);
}

}  // namespace mcu::testing
