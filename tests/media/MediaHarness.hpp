#pragma once
// In-process meeting for media tests: the real Conference and GstMediaPort on an asio strand,
// with TestPeers standing in for browsers. Signaling is routed in memory (the JSON layer has its
// own tests); everything under it — webrtcbin, ICE, DTLS-SRTP, the mixer — is real.
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include <chrono>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <thread>
#include <vector>

#include "mcu/core/Conference.hpp"
#include "mcu/server/AsioExecutor.hpp"
#include "media/MediaPort.hpp"
#include "tests/media/TestPeer.hpp"

namespace mcu::testing {

// Polls cond every 50 ms until it holds or the bound passes; returns whether it held.
bool waitFor(const std::function<bool()>& cond,
             std::chrono::milliseconds bound = std::chrono::seconds(30));

class MediaHarness : public core::SignalPort {
 public:
  struct Options {
    // Whether audio levels and share states also reach the Conference (which then moves rooms
    // in its layout). Off for tests that place sources with explicit setLayout calls.
    bool coreSeesReports = true;
    // Admits joins and chair consoles (null: the config's meetings only, no chairs).
    core::RoomDirectory* rooms = nullptr;
  };
  explicit MediaHarness(core::Config config) : MediaHarness(std::move(config), Options{}) {}
  MediaHarness(core::Config config, Options options);
  ~MediaHarness() override;

  // Adds a peer on connection id `conn` and joins it to `meeting`.
  TestPeer& join(core::ConnectionId conn, const std::string& name, TestPeer::Options options,
                 const std::string& meeting = "demo");
  // The same with a join request of the test's own (a test call, a room link).
  TestPeer& join(core::ConnectionId conn, const std::string& name, TestPeer::Options options,
                 const core::JoinRequest& request);
  void leave(core::ConnectionId conn);
  // The connection drops without a leave (a vanished peer): its pipeline stops first.
  void vanish(core::ConnectionId conn);
  TestPeer& peer(core::ConnectionId conn) { return *peers_.at(conn); }

  // Runs fn on the core strand and waits for it.
  void onStrand(std::function<void()> fn);
  std::vector<core::ServerMessage> messagesTo(core::ConnectionId conn);
  std::vector<core::ErrorCode> errorsTo(core::ConnectionId conn);
  // The participant id the Conference gave connection `conn` (from its joined message); empty
  // before that.
  core::ParticipantId participantId(core::ConnectionId conn);

  // What the media layer reported about a room (MediaEvents::onAudioLevel, onShareState), in
  // order. Recorded whether or not the Conference sees them.
  std::vector<int> audioLevels(const core::ParticipantId& id);
  std::vector<bool> shareStates(const core::ParticipantId& id);
  core::Conference& conference() { return *conference_; }
  media::GstMediaPort& media() { return *media_; }
  const core::Config& config() const { return config_; }

  // core::SignalPort (called on the strand)
  void send(core::ConnectionId conn, const core::ServerMessage& message) override;
  void broadcast(const std::vector<core::ConnectionId>& conns,
                 const core::ServerMessage& message) override;

 private:
  // Stands between the media layer and the Conference: records reports, forwards the rest.
  class ReportTap : public core::MediaEvents {
   public:
    explicit ReportTap(MediaHarness& h) : h_(h) {}
    void onLocalOffer(const core::ParticipantId& p, const std::string& sdp) override;
    void onLocalCandidate(const core::ParticipantId& p, int mline, const std::string& c) override;
    void onLegState(const core::ParticipantId& p, core::LegState state) override;
    void onLegError(const core::ParticipantId& p, core::ErrorCode code,
                    const std::string& message) override;
    void onAudioLevel(const core::ParticipantId& p, int level) override;
    void onShareState(const core::ParticipantId& p, bool sharing) override;
    void onLegStats(const core::ParticipantId& p, const core::LegStats& stats) override;

   private:
    MediaHarness& h_;
  };

  core::Config config_;
  Options options_;
  ReportTap tap_{*this};
  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
  server::AsioExecutor strand_;
  std::unique_ptr<media::GstMediaPort> media_;
  std::unique_ptr<core::Conference> conference_;
  std::thread thread_;
  std::mutex mu_;
  std::map<core::ConnectionId, std::vector<core::ServerMessage>> inbox_;
  std::map<core::ConnectionId, std::unique_ptr<TestPeer>> peers_;
  std::map<core::ParticipantId, std::vector<int>> levels_;
  std::map<core::ParticipantId, std::vector<bool>> shares_;
};

}  // namespace mcu::testing
