#pragma once
// One site of the load generator: a webrtcbin in the process's one pipeline (SharedMedia), in a
// bin of its own so it can leave alone. It answers the server's offer like the room page.
//
// - An ordinary site sends the shared streams: it has only its own payloaders (its own SSRCs),
//   attached to the shared tees once its connection is up (a webrtcbin that is not connected
//   holds its sink pads, which would stall the shared encoders for everyone).
// - A probe site has its own encoders: a black picture that flashes white and a steady tone that
//   clicks loud, on request, and records when each flash and click left its source.
// - What a site receives is counted (RTP bytes, composite frames by the marker bit) and decoded
//   only if asked; a detecting site looks for the probe's flashes and clicks in what it decodes.
//   A site that decodes nothing counts at its socket and drops its media there (lightReceive).
// When the offer carries the RFC 6464 audio-level header extension, the site sends it with a
// truthful level (127, silence, for the shared stream).
#include <gst/gst.h>

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "bench/SharedMedia.hpp"

namespace mcu::bench {

using Clock = std::chrono::steady_clock;

// Times of content events, appended from streaming threads and read by the main thread.
class EventTimes {
 public:
  void add(Clock::time_point t) {
    std::lock_guard lock(mu_);
    times_.push_back(t);
  }
  std::vector<Clock::time_point> snapshot() const {
    std::lock_guard lock(mu_);
    return times_;
  }

 private:
  mutable std::mutex mu_;
  std::vector<Clock::time_point> times_;
};

// When recent RTP buffers (by their PTS) left a site's webrtcbin: a detected flash or click is
// traced back to the packets that carried it. Written and read by streaming threads.
class ArrivalLog {
 public:
  // A video frame's packets share a PTS: the last one (the frame complete) is kept.
  void add(GstClockTime pts, Clock::time_point at);
  // The arrival of the buffer whose PTS is within `tolerance` of `pts`, nearest first.
  std::optional<Clock::time_point> find(GstClockTime pts, GstClockTime tolerance) const;

 private:
  static constexpr std::size_t kSize = 256;
  mutable std::mutex mu_;
  std::array<std::pair<GstClockTime, Clock::time_point>, kSize> entries_{};
  std::size_t next_ = 0;
};

// Finds the probe's black-to-white flash in decoded composites wherever its tile is: the frame's
// luma is cut into a grid of blocks, and a flash is a few blocks that were dark in the last
// frames and are bright now. The shared pattern moves too slowly to do that.
class FlashDetector {
 public:
  // True when this frame starts a flash. `y` is the luma plane.
  bool onFrame(const std::uint8_t* y, int stride, int width, int height);

 private:
  static constexpr int kGrid = 20;    // blocks per side
  static constexpr int kHistory = 5;  // frames a block may take to go from dark to bright
  std::array<std::array<std::uint8_t, kGrid * kGrid>, kHistory> history_{};
  int frames_ = 0;
  int quietFrames_ = 0;  // frames since the last onset: one flash lasts several frames
};

class SitePeer {
 public:
  enum class Source { kShared, kProbe };
  struct Options {
    std::string name;
    Source source = Source::kShared;
    bool decode = false;  // decode the composite and the mix
    bool detect = false;  // look for the probe's flashes and clicks (implies decode)
    // A site that decodes nothing counts what it receives from the RTP headers (which SRTP
    // leaves in clear) as the packets leave its socket, and drops them there: no SRTP, no
    // rtpbin, no jitterbuffer for media it throws away, so the generator costs less per site.
    // DTLS, STUN and RTCP go on, but its receiver reports then carry no loss for the server's
    // streams (nothing reaches its RTP session): the server keeps it on the rung it has. Off: the
    // whole receive path, as a browser has.
    bool lightReceive = false;
    std::string localAddress = "127.0.0.1";  // where its ICE agent gathers
  };
  struct Callbacks {
    std::function<void(const std::string& sdp)> answer;
    std::function<void(int mline, const std::string& candidate)> candidate;
  };

  SitePeer(SharedMedia& shared, Options options, Callbacks callbacks);
  ~SitePeer();
  SitePeer(const SitePeer&) = delete;
  SitePeer& operator=(const SitePeer&) = delete;

  void start();
  // Leaves the shared tees and the pipeline; the site's threads are gone when it returns.
  void stop();
  void handleOffer(const std::string& sdp);
  // The server's video-wanted: off the composite a site sends no video, as the room page stops
  // its camera; back on, it starts again at a keyframe (any thread).
  void setVideoWanted(bool wanted);
  void addCandidate(int mline, const std::string& candidate);
  // From the site's owner thread: attaches the send side to the shared tees once connected.
  void poll();

  // Probe sites: the next picture turns white for 300 ms; the next 100 ms of tone are 6x louder.
  void flash() { flashRequested_ = true; }
  void click() { clickRequested_ = true; }

  const std::string& name() const { return options_.name; }
  int framesReceived() const { return frames_; }
  int keyframesReceived() const { return keyframes_; }  // decoding sites only
  std::uint64_t audioPackets() const { return audioPackets_; }
  std::uint64_t videoBytes() const { return videoBytes_; }
  std::uint64_t audioBytes() const { return audioBytes_; }
  std::optional<Clock::time_point> firstFrameAt() const;
  bool connected() const { return connected_; }
  bool sendsAudioLevel() const { return audioLevelExt_ > 0; }

  const EventTimes& flashesSent() const { return flashesSent_; }
  const EventTimes& clicksSent() const { return clicksSent_; }
  const EventTimes& flashesSeen() const { return flashesSeen_; }
  const EventTimes& clicksHeard() const { return clicksHeard_; }
  // The mixer's own share, on the RTP wire: when the probe's encoder put out the flash or the
  // click, and when the packets the detector found them in left its webrtcbin.
  const EventTimes& flashesEncoded() const { return flashesEncoded_; }
  const EventTimes& clicksEncoded() const { return clicksEncoded_; }
  const EventTimes& flashesArrived() const { return flashesArrived_; }
  const EventTimes& clicksArrived() const { return clicksArrived_; }

 private:
  static void onPadAdded(GstElement*, GstPad* pad, gpointer self);
  static void onIceCandidate(GstElement*, guint mline, gchar* candidate, gpointer self);
  static void onConnectionState(GstElement* webrtc, GParamSpec*, gpointer self);
  static GstFlowReturn onVideoSample(GstElement* sink, gpointer self);
  static GstFlowReturn onAudioSample(GstElement* sink, gpointer self);
  static GstPadProbeReturn onReceivedPacket(GstPad*, GstPadProbeInfo* info, gpointer self);
  static void onElementAdded(GstBin*, GstBin*, GstElement* element, gpointer self);
  static GstPadProbeReturn onNetworkPacket(GstPad*, GstPadProbeInfo* info, gpointer self);
  static GstPadProbeReturn onEncodedFrame(GstPad*, GstPadProbeInfo* info, gpointer self);
  static GstPadProbeReturn onAudioSent(GstPad*, GstPadProbeInfo* info, gpointer self);
  static GstPadProbeReturn onVideoToSend(GstPad*, GstPadProbeInfo* info, gpointer self);
  static GstPadProbeReturn onProbePicture(GstPad*, GstPadProbeInfo* info, gpointer self);
  static GstPadProbeReturn onProbeSound(GstPad*, GstPadProbeInfo* info, gpointer self);
  static GstPadProbeReturn onProbeEncodedPicture(GstPad*, GstPadProbeInfo* info, gpointer self);
  static GstPadProbeReturn onProbeEncodedSound(GstPad*, GstPadProbeInfo* info, gpointer self);

  void addSendChains();
  GstElement* addProbeVideo();
  GstElement* addProbeAudio();
  void linkToWebrtc(GstElement* payloader, const std::string& rtpCaps);
  void attachShared();
  void linkIncoming(GstPad* pad);
  void addDecoder(GstPad* pad, bool video);
  void countPacket(GstBuffer* buffer, bool video);
  void watchSocket(GstElement* nicesrc);
  bool countAndDrop(GstBuffer* buffer);
  void detectClick(const std::int16_t* samples, std::size_t n, GstClockTime pts);

  SharedMedia& shared_;
  Options options_;
  Callbacks callbacks_;
  GstElement* bin_ = nullptr;
  GstElement* webrtc_ = nullptr;
  GstElement* audioPay_ = nullptr;
  GstElement* videoPay_ = nullptr;
  std::vector<std::pair<GstElement*, GstPad*>> teePads_;  // owner thread only
  std::atomic<bool> connected_{false};
  enum VideoGate { kSending, kOff, kAwaitingKeyframe };
  std::atomic<int> videoGate_{kSending};
  bool attached_ = false;  // owner thread only

  std::atomic<int> audioLevelExt_{0};  // the offer's extension id; 0: not offered
  std::atomic<int> audioLevel_{127};   // RFC 6464 -dBov of what the site sends now

  std::atomic<int> frames_{0};
  std::atomic<int> keyframes_{0};
  std::atomic<std::uint64_t> audioPackets_{0};
  std::atomic<std::uint64_t> videoBytes_{0};
  std::atomic<std::uint64_t> audioBytes_{0};
  std::atomic<Clock::rep> firstFrameAt_{0};  // 0: none yet

  // Probe: requested from the main thread, served by the source's streaming thread.
  std::atomic<bool> flashRequested_{false};
  std::atomic<bool> clickRequested_{false};
  int whiteFramesLeft_ = 0;
  int loudBuffersLeft_ = 0;
  EventTimes flashesSent_;
  EventTimes clicksSent_;
  // PTS of the flash's first picture and the click's first sample, until the encoder puts it out.
  std::atomic<GstClockTime> flashPts_{GST_CLOCK_TIME_NONE};
  std::atomic<GstClockTime> clickPts_{GST_CLOCK_TIME_NONE};
  EventTimes flashesEncoded_;
  EventTimes clicksEncoded_;

  // Detecting site: touched by one streaming thread each.
  FlashDetector flashDetector_;
  std::size_t samplesSinceClick_ = 0;
  EventTimes flashesSeen_;
  EventTimes clicksHeard_;
  ArrivalLog videoArrivals_;
  ArrivalLog audioArrivals_;
  EventTimes flashesArrived_;
  EventTimes clicksArrived_;
};

}  // namespace mcu::bench
