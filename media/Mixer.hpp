#pragma once
// One live meeting's media: a GStreamer pipeline with one webrtcbin per room, a compositor that
// draws the shown sources (rooms' cameras and shared screens) into one picture encoded once and
// shared by every viewer, and the sound of the K rooms that talk: one mix per talker (the other
// talkers) and one shared mix of all of them for everyone else, each encoded once.
//
// Threads: every public method runs on the core executor (the "strand"). GStreamer callbacks run
// on streaming threads; they only touch the Room they belong to (under its mutex) and post to the
// strand through weak references.
#include <gst/gst.h>

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "mcu/core/Config.hpp"
#include "mcu/core/Executor.hpp"
#include "mcu/core/Ports.hpp"
#include "mcu/core/RungSelector.hpp"
#include "mcu/core/TalkerSelector.hpp"
#include "media/DirectSend.hpp"
#include "media/GstRef.hpp"

namespace mcu::media {

// Process-wide ICE settings computed once (interfaces are enumerated at start-up, not per leg).
struct IceSettings {
  std::vector<std::string> localAddresses;
  std::string stunServer;
  int minPort = 0;
  int maxPort = 0;
};

class Mixer : public std::enable_shared_from_this<Mixer> {
 public:
  static std::shared_ptr<Mixer> create(const std::string& meeting, const core::Config& config,
                                       const IceSettings& ice, core::Executor& strand,
                                       core::MediaEvents* events);
  ~Mixer();
  Mixer(const Mixer&) = delete;
  Mixer& operator=(const Mixer&) = delete;

  void addRoom(const core::ParticipantId& id, const std::string& name);
  void removeRoom(const core::ParticipantId& id);
  void setAnswer(const core::ParticipantId& id, const std::string& sdp);
  void addCandidate(const core::ParticipantId& id, int mline, const std::string& candidate);
  // Tiles name a room (its camera) or core::shareSourceId(room) (its shared screen).
  void setLayout(const std::vector<core::TilePlacement>& tiles);
  // The chair's mute: the room's sound leaves (or rejoins) every other room's mix. Kept until the
  // room leaves, so mixes of rooms that connect later honour it too.
  void setAudioMuted(const core::ParticipantId& id, bool muted);
  // A test call's meeting: every room hears the shared mix, its own voice included. Set before
  // the first room is added.
  void setSelfHearing(bool on) { selfHearing_ = on; }
  // A line of text across the bottom of the composite; empty hides it.
  void setNotice(const std::string& text);
  void stop();

  bool empty() const { return rooms_.empty(); }
  GstElement* pipeline() const { return pipeline_.get(); }
  // Slot -> talker (what the mixes are made of); for tests and stats.
  const std::vector<std::optional<std::string>>& talkers() const { return talkers_.slots(); }
  // Whose audio is being decoded now: the talkers, and rooms that send no RFC 6464 level.
  std::vector<core::ParticipantId> decodingAudio() const;
  // Listeners that receive their mix by the direct path (DirectSend.hpp), over every mix.
  std::size_t directAudioListeners() const;
  // Viewers that receive their rung by the direct path, over every rung.
  std::size_t directVideoViewers() const;
  // Packets of its rung resent to a room (RTX), by the direct path or webrtcbin's.
  std::uint64_t videoPacketsResent(const core::ParticipantId& id) const;
  // The rung a room receives (0 = the full-size composite), nullopt before it is connected.
  std::optional<int> rungOf(const core::ParticipantId& id) const;
  struct RungStats {
    int width = 0;
    int height = 0;
    int viewers = 0;
    std::uint64_t bytes = 0;  // encoded since the meeting started
  };
  std::vector<RungStats> rungStats() const;
  // Asks every connected room's webrtcbin for its statistics; each answer comes back as
  // MediaEvents::onLegStats (posted to the strand). Called every few seconds by the core.
  void collectStats();

 private:
  struct Branch {
    GstPadRef teePad;
    std::vector<GstElement*> elements;  // borrowed: the pipeline owns them
    GstPadRef sinkPad;
    GstElement* aggregator = nullptr;
  };
  struct Room;
  struct Rung;
  struct FeedbackProbe;
  struct DirectLegs;
  struct RtcpOut;
  struct Feedback;
  struct UplinkLimit;
  struct SignalContext;
  struct LevelMeter;
  struct AudioGate;
  // A mix of decoded talkers: audiomixer (+ silence) -> opusenc -> tee of encoded Opus that
  // rooms' send legs hang on. Mix i < K leaves out slot i's talker; mix K is the shared one.
  struct Mix {
    GstElement* mixer = nullptr;
    GstElement* tee = nullptr;
    // Its listeners whose legs take the mix around webrtcbin's send path (one payloader here).
    std::shared_ptr<DirectFanout> fanout = std::make_shared<DirectFanout>();
  };
  struct ShareActivity;
  struct ShareProbe;
  // What a room sends on an m-line, once decoded into its tee.
  enum class Stream { kAudio, kCamera, kShare };
  // A video source of a room: its camera or its shared screen, and where the layout puts it.
  struct Source {
    std::optional<core::Rect> tile;
    std::string label;
    std::optional<Branch> view;  // decoded video -> compositor, while shown
  };

  Mixer(const std::string& meeting, const core::Config& config, const IceSettings& ice,
        core::Executor& strand, core::MediaEvents* events);
  void build();
  void buildVideoOutput();
  GstElement* add(const char* factory, const std::string& name);
  GstElement* addFanoutSink(const std::string& name, const std::shared_ptr<DirectFanout>& fanout);
  void syncStates(const std::vector<GstElement*>& downstreamFirst);
  void removeElements(const std::vector<GstElement*>& elements);

  // Room construction (strand).
  void buildAudioSend(Room& room);
  void buildVideoSend(Room& room);
  void addShareTransceiver(Room& room);
  void attachLeg(Room& room);
  void configureIce(GstElement* webrtc);
  void connectSignals(const std::shared_ptr<Room>& room);
  void createOffer(const std::shared_ptr<Room>& room);

  // Branches: tee -> queue [-> extra] -> aggregator pad.
  Branch linkBranch(GstElement* tee, GstElement* aggregator, const std::vector<GstElement*>& extra,
                    const std::string& name, const std::function<void(Branch&)>& beforeData = {});
  void detachBranch(Branch& branch);
  void releaseWebrtcPads(Room& room);
  void unlinkBranch(Branch& branch);
  // An audio branch leaving a mix: its tee pad goes now, its audiomixer pad once drained.
  void parkAudioBranch(Branch branch);
  void releaseParked();
  // Top-K audio (strand).
  void buildMixes();
  void onLevel(const core::ParticipantId& id, int level);
  void updateTalkers(bool now);
  void applyTalkerChange(const core::TalkerSelector::Change& change);
  void linkTalkerInputs(Room& room, int slot);
  void unlinkAudioInputs(const core::ParticipantId& id);
  void routeAudio(Room& room, int mix);
  // Rungs (strand).
  void buildRung(int index, int width, int height, int kbps, GstElement* source);
  void routeVideo(Room& room, int rung);
  void leaveRung(Room& room);
  void watchFeedback(Room& room);
  void onFeedback(const core::ParticipantId& id, const Feedback& feedback);
  void chooseFec(Room& room, double windowLoss);
  static void onRtcp(GObject* session, GstBuffer* buffer, gpointer data);
  static void onWebrtcChild(GstBin* webrtc, GstElement* child, gpointer data);
  static gboolean onSendingRtcp(GObject* session, GstBuffer* buffer, gboolean early, gpointer data);
  int sharedMix() const { return int(mixes_.size()) - 1; }
  void applyTile(Room& room, Source& source, const core::TilePlacement* placement);
  void showSource(Room& room, Source& source);
  void hideSource(Source& source);
  void placeView(Branch& view, const Source& source);

  // Streaming-thread handlers (static trampolines) and their strand continuations.
  static void onPadAdded(GstElement* webrtc, GstPad* pad, gpointer data);
  static void onIceCandidate(GstElement* webrtc, guint mline, gchar* candidate, gpointer data);
  static void onConnectionState(GObject* webrtc, GParamSpec*, gpointer data);
  static void onIceConnectionState(GObject* webrtc, GParamSpec*, gpointer data);
  void startSending(Room& room);
  static void onDtlsState(GObject* transport, GParamSpec*, gpointer data);
  void watchDtls(const std::shared_ptr<Room>& room);
  void secured(Room& room);
  static void onOfferCreated(GstPromise* promise, gpointer data);
  static void onStats(GstPromise* promise, gpointer data);
  static void onAnswerSet(GstPromise* promise, gpointer data);
  static GstBusSyncReply onBusMessage(GstBus* bus, GstMessage* message, gpointer data);
  static GstPadProbeReturn onKeyframeRequest(GstPad* pad, GstPadProbeInfo* info, gpointer data);
  // The kind of stream linked to a tee, or nothing (a stream we do not use, or a link failure).
  std::optional<Stream> buildReceiveChain(Room& room, GstPad* pad);
  void watchDecoded(Room& room, Stream stream, GstElement* tee);
  static GstPadProbeReturn onDecodedAudio(GstPad* pad, GstPadProbeInfo* info, gpointer data);
  static GstPadProbeReturn onAudioPacket(GstPad* pad, GstPadProbeInfo* info, gpointer data);
  static GstPadProbeReturn onShareFrame(GstPad* pad, GstPadProbeInfo* info, gpointer data);
  static GstPadProbeReturn onViewFrame(GstPad* pad, GstPadProbeInfo* info, gpointer data);
  struct Watch;
  void startWatch(GstClockID& watch, GstClockTime interval, void (Mixer::*tick)());
  void stopWatch(GstClockID& watch);
  static gboolean onWatch(GstClock* clock, GstClockTime time, GstClockID id, gpointer data);
  void mediaReady(const core::ParticipantId& id, Stream stream);
  void shareStarted(const core::ParticipantId& id);
  void checkShares();
  void legState(const core::ParticipantId& id, core::LegState state);
  void pipelineError(const std::string& source, const std::string& message);
  static void requestKeyframe(Rung& rung);

  // Posts fn to run on the strand if the mixer is still alive and running then. postWeak is for
  // callbacks that must not hold the mixer alive (they only have a weak reference).
  template <typename Fn>
  static void postWeak(core::Executor& strand, std::weak_ptr<Mixer> weak, Fn fn);
  template <typename Fn>
  void postToStrand(Fn fn);
  Room* find(const core::ParticipantId& id);

  const std::string meeting_;
  const core::Config& config_;
  const IceSettings& ice_;
  core::Executor& strand_;
  core::MediaEvents* events_;
  GstElementRef pipeline_;
  GstElement* compositor_ = nullptr;
  GstElement* compositeTee_ = nullptr;        // the raw composite, into every rung
  std::vector<std::unique_ptr<Rung>> rungs_;  // best first; stable addresses for probes
  GstElement* notice_ = nullptr;              // textoverlay on the composite, silent while empty
  GstClockID shareWatch_ = nullptr;  // periodic check for ended shares, only while one is live
  std::map<core::ParticipantId, std::shared_ptr<Room>> rooms_;
  std::vector<Mix> mixes_;  // K slot mixes, then the shared one
  core::TalkerSelector talkers_;
  gint64 lastTalkerUpdateUs_ = 0;
  // Demoted talkers whose leg still hangs on their old slot's mix, and since when: they move to
  // the shared mix once it can no longer hold their own voice (encoder and queues drained).
  std::map<core::ParticipantId, gint64> leavingTalkers_;
  std::map<std::pair<core::ParticipantId, int>, Branch> audioBranches_;  // (room, mix index)
  // Audio branches off their tee, their audiomixer pads not yet released (see parkAudioBranch).
  std::vector<std::pair<gint64, Branch>> parked_;  // (release after, monotonic us; branch)
  unsigned audioBranchSerial_ = 0;
  GstClockID parkWatch_ = nullptr;  // periodic, only while some branch is parked
  std::atomic<bool> stopped_{false};
  bool selfHearing_ = false;
};

}  // namespace mcu::media
