#pragma once
// A headless WebRTC room for tests and the load generator: a webrtcbin that answers the server's
// offer, sends a solid colour and a sine tone (and, if asked, a "shared screen" of another colour
// on the offer's third m-line), and keeps what it receives for analysis (the last decoded
// composite frame, the last second of decoded audio).
#include <gst/gst.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace mcu::testing {

struct Rgb {
  int r = 0, g = 0, b = 0;
};

struct Frame {
  int width = 0;
  int height = 0;
  std::vector<std::uint8_t> rgb;  // packed RGB, stride = width * 3
  Rgb at(int x, int y) const;
  // Mean colour of a square of side 2*radius+1 around (x, y).
  Rgb mean(int x, int y, int radius) const;
  // Writes the frame as a binary PPM (for looking at a failure).
  bool writePpm(const std::string& path) const;
};

class TestPeer {
 public:
  struct Options {
    std::uint32_t colour = 0xff0000;  // 0xRRGGBB sent as a solid picture
    double toneHz = 440;              // sine sent as audio
    double toneVolume = 0.4;          // of full scale; 0 sends digital silence
    int width = 320;
    int height = 180;
    int fps = 15;
    int keyframeDistance = 30;  // frames between the camera's periodic keyframes
    // The first this many keyframe requests are lost (the camera's encoder never sees them).
    int ignoreKeyframeRequests = 0;
    // Decode the composite. Off (cheap load): the video goes to a fakesink and framesReceived()
    // counts frames by the RTP marker bit; lastFrame() stays empty.
    bool decodeVideo = true;
    // A second video stream (a solid colour, as a browser's getDisplayMedia track) answered on
    // the server's screen-share m-line. It sends nothing until startShare().
    std::optional<std::uint32_t> shareColour = std::nullopt;
    int shareWidth = 480;
    int shareHeight = 270;
    // Put the microphone's RFC 6464 level (measured on the samples sent) on every audio packet
    // when the offer has the ssrc-audio-level extension, as browsers do.
    bool sendAudioLevel = true;
    // Discontinuous transmission, as a browser does when the offer asks for it (usedtx=1): while
    // the microphone is silent its encoder makes almost no packets and the payloader sends none,
    // so the server sees a gap in the RTP timestamps when speech starts again.
    bool dtx = false;
    // Count the received audio in which this tone is present (toneHeard()); 0: not counted.
    double listenHz = 0;
    // Everything it sends over its transport is lost from the start (setSendBlocked(true)): ICE
    // (answered by libnice itself) connects, but the DTLS handshake never completes.
    bool sendBlocked = false;
    // Answer the offer's NACK and RTX as a browser does (do-nack on its video transceiver): it
    // asks for what it lost on the way and resends what the server asks it for.
    bool nack = false;
    // The jitterbuffer's latency: how long a lost packet may take to come again.
    int jitterLatencyMs = 50;
    // After a loss it could not repair, the video depayloader asks for a keyframe (a PLI), as a
    // browser's decoder does. Off: it decodes on through the damage.
    bool requestKeyframes = false;
  };
  // What its link's loss cost and what repaired it, counted since start (video only).
  struct RepairStats {
    int retransmitted = 0;  // packets it sent again because the server asked (rtprtxsend)
    int repaired = 0;       // retransmissions it received for its losses (rtprtxreceive)
    int keyframeAsks = 0;   // keyframe requests its depayloader sent after unrepaired losses
  };
  struct Callbacks {
    std::function<void(const std::string& sdp)> answer;
    std::function<void(int mline, const std::string& candidate)> candidate;
  };

  TestPeer(std::string name, Options options, Callbacks callbacks);
  ~TestPeer();
  TestPeer(const TestPeer&) = delete;
  TestPeer& operator=(const TestPeer&) = delete;

  void start();
  void stop();
  // Applies the server's offer and produces an answer through Callbacks::answer.
  void handleOffer(const std::string& sdp);
  // The last offer the server sent it.
  std::string offer() const {
    std::lock_guard lock(mu_);
    return offer_;
  }
  void addCandidate(int mline, const std::string& candidate);
  // The shared screen starts or stops sending (as replaceTrack(screen) / replaceTrack(null) in a
  // browser: the m-line and its SSRC stay, no renegotiation). Needs Options::shareColour.
  void startShare();
  void stopShare();
  // The microphone's level from now on (0 = silent).
  void setToneVolume(double volume);
  // A lossy downlink from now on: this fraction of the packets arriving from the network (every
  // kind, after ICE) is dropped before webrtcbin sees them, so its receiver reports show the loss.
  void setReceiveLoss(double fraction) { receiveLoss_ = fraction; }
  // A slow return path from now on: each RTCP packet arriving from the network is held this long
  // before webrtcbin sees it (the kernel here has no netem). The sender reports it answers get
  // there late, so the server's round trip grows by about this much. Media packets pass at once.
  void setRtcpDelay(std::chrono::milliseconds delay) { rtcpDelayMs_ = int(delay.count()); }
  // The microphone stops (false) or starts (true) sending packets at all, like a room whose
  // sound card died.
  void setAudioSending(bool sending) { audioSending_ = sending; }
  // Its audio packets are lost on the way (true) until false, nothing else: its RTP session goes
  // on sending the stream and reporting it (sender reports), the server just receives none of it.
  void setAudioLost(bool lost) { audioLost_ = lost; }
  // Everything it sends is lost on the way (true) until false: a burst of loss on its uplink.
  void setSendBlocked(bool blocked) { sendBlocked_ = blocked; }
  // A lossy uplink from now on: this fraction of what it sends (every kind) is lost on the way.
  void setSendLoss(double fraction) { sendLoss_ = fraction; }
  // A jittery uplink from now on: four times a second what it sends is held this long, then
  // goes on in a burst (nothing is lost), as from a busy machine or a congested router.
  void setSendStalls(std::chrono::milliseconds stall) { sendStallMs_ = int(stall.count()); }
  // The camera's colour from now on (0xRRGGBB).
  void setColour(std::uint32_t colour);

  const std::string& name() const { return name_; }
  int framesReceived() const { return frames_; }
  // The longest wait between two decoded composite frames since the last resetFrameGaps(): how
  // long the picture froze (Options::decodeVideo only).
  std::chrono::milliseconds longestFrameGap() const {
    return std::chrono::milliseconds(longestGapUs_.load() / 1000);
  }
  void resetFrameGaps() {
    longestGapUs_ = 0;
    lastFrameUs_ = 0;
  }
  std::optional<Frame> lastFrame() const;
  // Amplitude (0..1 of full scale) of a tone in the last `windowMs` of received audio, by
  // Goertzel; nullopt while less audio than that has arrived.
  std::optional<double> toneLevel(double hz, int windowMs = 200) const;
  std::size_t audioSamplesReceived() const { return audioSamples_; }
  // How much of the audio received since start carried Options::listenHz (in 10 ms blocks).
  std::chrono::milliseconds toneHeard() const { return std::chrono::milliseconds(toneHeardMs_); }
  // Keyframe requests (PLI/FIR, as force-key-unit events) that reached the camera's encoder.
  int keyframeRequests() const { return keyframeRequests_; }
  // The bitrate the server's last REMB allows its camera, in kb/s (0: none yet).
  int rembKbps() const { return rembKbps_; }
  RepairStats repairStats() const;

 private:
  static void onPadAdded(GstElement*, GstPad* pad, gpointer self);
  static void onIceCandidate(GstElement*, guint mline, gchar* candidate, gpointer self);
  static GstFlowReturn onVideoSample(GstElement* sink, gpointer self);
  static GstFlowReturn onAudioSample(GstElement* sink, gpointer self);
  static GstPadProbeReturn onVideoPacket(GstPad*, GstPadProbeInfo* info, gpointer self);
  static void onElementAdded(GstBin*, GstBin*, GstElement* element, gpointer self);
  static GstPadProbeReturn onNetworkPacket(GstPad*, GstPadProbeInfo* info, gpointer self);
  static GstPadProbeReturn onSentPacket(GstPad*, GstPadProbeInfo* info, gpointer self);
  static GstPadProbeReturn onKeyframeRequest(GstPad*, GstPadProbeInfo* info, gpointer self);
  static GstPadProbeReturn onMicSamples(GstPad*, GstPadProbeInfo* info, gpointer self);
  static GstPadProbeReturn onAudioPacketOut(GstPad*, GstPadProbeInfo* info, gpointer self);
  void linkIncoming(GstPad* pad);
  void frameArrived();
  void watchRemb();
  static void onRtcpIn(GObject* session, GstBuffer* buffer, gpointer self);
  void linkVideoCounter(GstPad* pad);
  void buildShare(std::uint32_t colour);
  void enableNack(GstElement* videoPay);
  void shortenRtcpInterval();
  GObject* internalSession() const;

  std::string name_;
  Options options_;
  Callbacks callbacks_;
  GstElement* pipeline_ = nullptr;
  GstElement* webrtc_ = nullptr;
  GstElement* tone_ = nullptr;        // audiotestsrc
  GstElement* shareValve_ = nullptr;  // closed while not sharing
  mutable std::mutex mu_;
  std::optional<Frame> frame_;
  std::string offer_;
  std::deque<std::int16_t> audio_;  // last second, 48 kHz mono
  std::atomic<int> frames_{0};
  std::atomic<int> rembKbps_{0};
  std::atomic<bool> rembWatched_{false};
  std::atomic<std::int64_t> lastFrameUs_{0};  // monotonic; 0 until a frame after a reset
  std::atomic<std::int64_t> longestGapUs_{0};
  std::atomic<int> keyframeRequests_{0};
  std::atomic<double> receiveLoss_{0};
  std::atomic<unsigned> lossSeed_{12345};
  std::atomic<int> rtcpDelayMs_{0};
  std::atomic<int> sendStallMs_{0};
  std::atomic<gint64> lastStallUs_{0};
  std::atomic<bool> audioSending_{true};
  std::atomic<bool> audioLost_{false};
  std::atomic<guint32> audioSsrc_{0};  // of the packets its audio payloader makes
  std::atomic<bool> sendBlocked_{false};
  std::atomic<double> sendLoss_{0};
  std::atomic<unsigned> sendLossSeed_{54321};
  std::atomic<int> keyframeAsks_{0};
  std::atomic<int> micLevel_{127};       // RFC 6464 level of the last 20 ms sent
  std::atomic<int> audioLevelExtId_{0};  // the offer's ssrc-audio-level id, 0 if none
  std::atomic<std::size_t> audioSamples_{0};
  std::vector<std::int16_t> listenBlock_;  // the samples of the 10 ms block being counted
  std::atomic<int> toneHeardMs_{0};
};

// Goertzel amplitude of `hz` in samples (48 kHz), normalised to full scale.
double goertzelAmplitude(const std::vector<std::int16_t>& samples, double hz, double rate = 48000);

}  // namespace mcu::testing
