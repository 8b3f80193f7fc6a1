#pragma once
// GStreamer implementation of core::MediaPort: one mixer pipeline per live meeting, one webrtcbin
// leg per room. Events go back to the core through MediaEvents, posted on the core executor.
#include <memory>
#include <string>
#include <vector>

#include "mcu/core/Config.hpp"
#include "mcu/core/Executor.hpp"
#include "mcu/core/Ports.hpp"

namespace mcu::media {

class Mixer;

// Initialises GStreamer once and checks that every element the mixer needs exists. Throws
// std::runtime_error naming the missing plugins (a setup failure, never a silent skip).
void initGStreamer();

class GstMediaPort : public core::MediaPort {
 public:
  GstMediaPort(const core::Config& config, core::Executor& coreExecutor);
  ~GstMediaPort() override;
  GstMediaPort(const GstMediaPort&) = delete;
  GstMediaPort& operator=(const GstMediaPort&) = delete;

  // Where events go; set once before the first call.
  void setEvents(core::MediaEvents* events);

  void addParticipant(const std::string& meeting, const core::ParticipantId& participant,
                      const std::string& displayName) override;
  void removeParticipant(const std::string& meeting,
                         const core::ParticipantId& participant) override;
  void setRemoteAnswer(const core::ParticipantId& participant, const std::string& sdp) override;
  void addRemoteCandidate(const core::ParticipantId& participant, int sdpMLineIndex,
                          const std::string& candidate) override;
  void setLayout(const std::string& meeting,
                 const std::vector<core::TilePlacement>& tiles) override;
  void setAudioMuted(const core::ParticipantId& participant, bool muted) override;
  void setNotice(const std::string& meeting, const std::string& text) override;
  std::vector<core::MediaPort::RungSample> rungStats(const std::string& meeting) const override;
  void collectStats() override;
  void setSelfHearing(const std::string& meeting, bool on) override;
  void restartLeg(const std::string& meeting, const core::ParticipantId& participant,
                  const std::string& displayName) override;

  // Stops every meeting's pipeline; called once at shutdown on the core executor.
  void shutdown();
  std::size_t liveMixers() const;
  // The meeting's mixer, for tests and diagnostics; null when the meeting is not live.
  std::shared_ptr<Mixer> mixerFor(const std::string& meeting) const;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace mcu::media
