#pragma once
// The conference model's outward interfaces. media/ implements MediaPort, signaling/ implements
// SignalPort; the core implements MediaEvents so the media layer can report back.
#include <cstdint>
#include <string>
#include <vector>

#include "mcu/core/Layout.hpp"
#include "mcu/core/Messages.hpp"
#include "mcu/core/SiteHealth.hpp"

namespace mcu::core {

// Everything the core asks of the media layer. Calls are made on the core executor and must not
// block; results come back through MediaEvents, posted to the core executor.
class MediaPort {
 public:
  virtual ~MediaPort() = default;
  // Creates the meeting's mixer if needed and a WebRTC leg for the participant; the leg produces
  // an SDP offer (MediaEvents::onLocalOffer).
  virtual void addParticipant(const std::string& meeting, const ParticipantId& participant,
                              const std::string& displayName) = 0;
  // Tears the leg down; the last participant's removal ends the meeting's mixer.
  virtual void removeParticipant(const std::string& meeting, const ParticipantId& participant) = 0;
  virtual void setRemoteAnswer(const ParticipantId& participant, const std::string& sdp) = 0;
  virtual void addRemoteCandidate(const ParticipantId& participant, int sdpMLineIndex,
                                  const std::string& candidate) = 0;
  // Places every shown source; sources not listed are not shown. A source is a participant id,
  // or shareSourceId(participant) (LayoutEngine.hpp) for the room's shared screen.
  virtual void setLayout(const std::string& meeting, const std::vector<TilePlacement>& tiles) = 0;
  // The chair's mute: takes the room's sound out of every other room's mix (true) or puts it
  // back (false). Independent of the room muting its own microphone.
  virtual void setAudioMuted(const ParticipantId& participant, bool muted) = 0;
  // A test call: every room of the meeting hears its own sound back (in a normal meeting nobody
  // ever does). Set before the meeting's first participant is added.
  virtual void setSelfHearing(const std::string& /*meeting*/, bool /*on*/) {}
  // A short line of text shown across the bottom of the meeting's composite; empty removes it.
  virtual void setNotice(const std::string& meeting, const std::string& text) = 0;
  // What each output rung of the meeting's composite sends (for /metrics); none by default.
  struct RungSample {
    int width = 0;
    int height = 0;
    int viewers = 0;
    std::uint64_t bytes = 0;  // encoded since the meeting's mixer started
  };
  virtual std::vector<RungSample> rungStats(const std::string& /*meeting*/) const { return {}; }
  // Reads every connected leg's RTP statistics; each answer comes back, a moment later, as
  // MediaEvents::onLegStats. Called once per monitor interval.
  virtual void collectStats() {}
  // Replaces the participant's leg with a fresh one (new ICE agent and DTLS session) that makes
  // a new offer (MediaEvents::onLocalOffer); its place in the layout and the mixes stays.
  virtual void restartLeg(const std::string& meeting, const ParticipantId& participant,
                          const std::string& displayName) {
    removeParticipant(meeting, participant);
    addParticipant(meeting, participant, displayName);
  }
};

class MediaEvents {
 public:
  virtual ~MediaEvents() = default;
  virtual void onLocalOffer(const ParticipantId& participant, const std::string& sdp) = 0;
  virtual void onLocalCandidate(const ParticipantId& participant, int sdpMLineIndex,
                                const std::string& candidate) = 0;
  virtual void onLegState(const ParticipantId& participant, LegState state) = 0;
  // A request the media layer could not carry out (e.g. an answer that does not parse).
  virtual void onLegError(const ParticipantId& participant, ErrorCode code,
                          const std::string& message) = 0;
  // The loudness of what the room sends, on the RFC 6464 scale (0 = loudest, 127 = silence),
  // about every 100 ms while its audio flows.
  virtual void onAudioLevel(const ParticipantId& participant, int level) = 0;
  // The room's second video stream (its shared screen) started or stopped arriving.
  virtual void onShareState(const ParticipantId& participant, bool sharing) = 0;
  // The answer to MediaPort::collectStats for one leg.
  virtual void onLegStats(const ParticipantId& /*participant*/, const LegStats& /*stats*/) {}
};

class SignalPort {
 public:
  virtual ~SignalPort() = default;
  virtual void send(ConnectionId connection, const ServerMessage& message) = 0;
  // Sends one message to many connections, serialised once.
  virtual void broadcast(const std::vector<ConnectionId>& connections,
                         const ServerMessage& message) = 0;
};

}  // namespace mcu::core
