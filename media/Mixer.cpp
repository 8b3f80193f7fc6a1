#include "media/Mixer.hpp"

#include <gst/rtp/rtp.h>
#include <gst/sdp/sdp.h>
#include <gst/video/video.h>
#define GST_USE_UNSTABLE_API
#include <gst/webrtc/webrtc.h>
#include <nice/agent.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>

#include "mcu/core/LayoutEngine.hpp"

GST_DEBUG_CATEGORY_STATIC(mixer_debug);
#define GST_CAT_DEFAULT mixer_debug

namespace mcu::media {

namespace {

constexpr int kAudioPayload = 111;
constexpr int kVideoPayload = 96;
// RED (RFC 2198) and ULPFEC (RFC 5109) on the camera m-line, clear of 97 (its RTX), 98/99 (the
// screen's VP8 and RTX, across the bundle) and 111 (Opus).
constexpr int kRedPayload = 100;
constexpr int kUlpfecPayload = 101;
// The rungs' VP8 rate control (libvpx's client buffer model, in milliseconds of the target rate):
// the send rate is held over about a second, and frames are skipped when the buffer falls below
// kDropFrameBufferPercent (the content costs more than the target at the coarsest quantizer).
constexpr int kRateBufferMs = 1000;
constexpr int kRateBufferInitialMs = 500;
constexpr int kRateBufferOptimalMs = 600;
constexpr int kRateOvershootPercent = 15;
constexpr int kDropFrameBufferPercent = 30;
constexpr int kMaxKeyframePercent = 750;  // of one frame's share: 7.5 frames
// What a room's media may spend after its jitterbuffer (depayload, decode, scale to its tile, a
// busy moment's scheduling) and still reach its aggregator in time.
constexpr int kProcessingMarginMs = 20;

// How long an aggregator (compositor, audiomixer) waits for its inputs: the rooms' jitter and
// their processing. It starts with only its always-present background source, whose latency is
// all it would otherwise know of; rooms plugged in later would be dropped as late.
GstClockTime aggregatorLatency(int jitterBufferMs) {
  return GstClockTime(jitterBufferMs + kProcessingMarginMs) * GST_MSECOND;
}
const char* kRawAudioCaps = "audio/x-raw,format=S16LE,layout=interleaved,rate=48000,channels=1";
// The RFC 6464 level (ssrc-audio-level) each room's packets carry: who talks is known without
// decoding anyone. Offered with this id; an answer keeps the offer's ids.
constexpr guint8 kAudioLevelExtId = 1;
// usedtx=1 (RFC 7587): the server asks browsers to stop sending while their room is silent. Most
// rooms of a meeting are silent or muted at any time; with it each costs the server a packet
// every 400 ms instead of fifty a second, and its level still says when it starts talking.
const char* kOpusRtpCaps =
    "application/x-rtp,media=audio,encoding-name=OPUS,payload=111,clock-rate=48000,"
    "encoding-params=(string)2,usedtx=(string)1,"
    "extmap-1=(string)urn:ietf:params:rtp-hdrext:ssrc-audio-level";
// goog-remb: browsers then report what their link carries (REMB), which picks their rung.
const char* kVp8RtpCaps =
    "application/x-rtp,media=video,encoding-name=VP8,payload=96,clock-rate=90000,"
    "rtcp-fb-goog-remb=(boolean)true";
// The third m-line: the room's shared screen, received only. Its own payload type tells its
// packets from the camera's in the bundle whatever webrtcbin makes of their SSRC, and so picks
// the decode chain (and Chromium keeps offered payload types per m-line).
constexpr int kSharePayload = 98;
const char* kShareRtpCaps =
    "application/x-rtp,media=video,encoding-name=VP8,payload=98,clock-rate=90000";
constexpr std::size_t kLevelWindow = 4800;  // samples of 48 kHz audio per level report (100 ms)
constexpr int kLevelPackets = 5;            // 20 ms Opus packets per RFC 6464 level report
// Talkers are re-chosen at most this often (levels arrive every 100 ms per room).
constexpr gint64 kTalkerUpdateUs = 100 * 1000;
constexpr gint64 kParkUs = 1000 * 1000;  // an audio branch's drain before its mixer pad goes
constexpr GstClockTime kParkCheckInterval = 250 * GST_MSECOND;
// A demoted talker's leg leaves its old slot's mix for the shared one only after this long: the
// shared mix may still hold its voice in the encoder and the queues (tens of milliseconds).
constexpr gint64 kLeaveDrainUs = 300 * 1000;
// Receiver reports about a viewer's video are summed up (worst loss) over this long before the
// viewer's rung is reconsidered.
constexpr gint64 kLossWindowUs = 900 * 1000;
// A shown source whose first keyframe has not come: its keyframe request is repeated this often.
constexpr gint64 kViewKeyframeRetryUs = 1000 * 1000;
// A share whose frames stopped this long has ended (the browser replaced its track with none):
// a static screen still sends a frame every second or so.
constexpr gint64 kShareTimeoutUs = 2 * G_USEC_PER_SEC;
constexpr GstClockTime kShareCheckInterval = 500 * GST_MSECOND;
// RTCP bandwidth of a leg (bit/s). GStreamer's RTP session lets feedback leave early only once per
// regular RTCP interval (RFC 4585), and at its default bandwidth (a share of an assumed 64 kbit/s)
// that interval is about a second: a NACK for a lost camera packet would mostly leave after the
// jitterbuffer gave up on it. This makes the interval a quarter of a second or less (a few small
// RTCP packets a second per leg, about 5 kbit/s, next to the hundred-odd RTP packets it carries).
constexpr double kLegRtcpBandwidthBps = 24000;

constexpr int kUplinkDefaultKbps = 1000;  // a camera's REMB before the layout places it
constexpr int kUplinkMinKbps = 150;

// What a room may send us for its tiles: 1500 kb/s for the whole 1280x720 composite, in
// proportion to each tile's area (a tile in a 5 x 5 grid: 60 -> at least kUplinkMinKbps). The
// browser's estimate covers its whole connection, so a shared screen's pane adds its own share
// to the camera's. Off screen a camera sends nothing anyway.
int uplinkKbpsFor(const core::TilePlacement* camera, const core::TilePlacement* share) {
  auto kbps = [](const core::TilePlacement* tile) {
    return tile ? 1500.0 * double(tile->rect.width) * double(tile->rect.height) / (1280.0 * 720.0)
                : 0.0;
  };
  return std::clamp(int(kbps(camera) + kbps(share)), kUplinkMinKbps, 3000);
}

void ensureDebugCategory() {
  static std::once_flag once;
  std::call_once(once, [] { GST_DEBUG_CATEGORY_INIT(mixer_debug, "mcu-mixer", 0, "MCU mixer"); });
}

std::string videoCaps(int w, int h, int fps) {
  return "video/x-raw,format=I420,width=" + std::to_string(w) + ",height=" + std::to_string(h) +
         ",pixel-aspect-ratio=1/1" + (fps > 0 ? ",framerate=" + std::to_string(fps) + "/1" : "");
}

GstCapsRef rtpCaps(const char* base, guint ssrc) {
  return capsFromString(std::string(base) + ",ssrc=(uint)" + std::to_string(ssrc));
}

std::string orEmpty(const char* s) {
  return s ? s : "";
}

std::string escapeMarkup(const std::string& text) {
  GCharPtr escaped(g_markup_escape_text(text.c_str(), -1));
  return escaped.get();
}

core::LegState toLegState(GstWebRTCPeerConnectionState s) {
  switch (s) {
    case GST_WEBRTC_PEER_CONNECTION_STATE_NEW:
      return core::LegState::kNew;
    case GST_WEBRTC_PEER_CONNECTION_STATE_CONNECTING:
      return core::LegState::kConnecting;
    case GST_WEBRTC_PEER_CONNECTION_STATE_CONNECTED:
      return core::LegState::kConnected;
    case GST_WEBRTC_PEER_CONNECTION_STATE_DISCONNECTED:
      return core::LegState::kDisconnected;
    case GST_WEBRTC_PEER_CONNECTION_STATE_FAILED:
      return core::LegState::kFailed;
    case GST_WEBRTC_PEER_CONNECTION_STATE_CLOSED:
      return core::LegState::kClosed;
  }
  return core::LegState::kNew;
}

// webrtcbin 1.22 offers `transport-cc` feedback on every m-line (without the header extension
// it needs) and drops the `goog-remb` our codec preferences ask for. A browser that sees
// transport-cc on a stream it receives expects transport-wide feedback and sends no REMB, so the
// viewer's rung would be chosen from loss alone. The video m-lines therefore offer REMB instead.
void preferRemb(GstSDPMessage* sdp) {
  for (guint m = 0; m < gst_sdp_message_medias_len(sdp); ++m) {
    auto* media = const_cast<GstSDPMedia*>(gst_sdp_message_get_media(sdp, m));
    if (orEmpty(gst_sdp_media_get_media(media)) != "video") continue;
    std::vector<std::string> vp8;
    for (guint a = gst_sdp_media_attributes_len(media); a-- > 0;) {
      const GstSDPAttribute* attr = gst_sdp_media_get_attribute(media, a);
      const std::string key = orEmpty(attr->key), value = orEmpty(attr->value);
      if (key == "rtcp-fb" && value.size() > 13 &&
          value.compare(value.size() - 13, 13, " transport-cc") == 0) {
        gst_sdp_media_remove_attribute(media, a);
      } else if (key == "rtpmap" && value.find(" VP8/") != std::string::npos) {
        vp8.push_back(value.substr(0, value.find(' ')));
      }
    }
    for (const auto& pt : vp8)
      gst_sdp_media_add_attribute(media, "rtcp-fb", (pt + " goog-remb").c_str());
  }
}

// The camera m-line (media 1, the composite a viewer receives) also offers RED and ULPFEC: a
// viewer whose answer keeps both may get its video protected (DirectStream::setFec) while its
// link loses packets. Added by hand: webrtcbin's own fec-type builds an encoder pair per leg.
void offerFec(GstSDPMessage* sdp) {
  if (gst_sdp_message_medias_len(sdp) < 2) return;
  auto* media = const_cast<GstSDPMedia*>(gst_sdp_message_get_media(sdp, 1));
  if (orEmpty(gst_sdp_media_get_media(media)) != "video") return;
  for (const int pt : {kRedPayload, kUlpfecPayload})
    gst_sdp_media_add_format(media, std::to_string(pt).c_str());
  gst_sdp_media_add_attribute(media, "rtpmap",
                              (std::to_string(kRedPayload) + " red/90000").c_str());
  gst_sdp_media_add_attribute(media, "rtpmap",
                              (std::to_string(kUlpfecPayload) + " ulpfec/90000").c_str());
}

// Whether the answer's camera m-line kept both RED and ULPFEC at our payload types.
bool negotiatedFec(GstElement* webrtc) {
  GstWebRTCSessionDescription* remote = nullptr;
  g_object_get(webrtc, "remote-description", &remote, nullptr);
  bool red = false, ulpfec = false;
  if (remote && gst_sdp_message_medias_len(remote->sdp) > 1) {
    const GstSDPMedia* answered = gst_sdp_message_get_media(remote->sdp, 1);
    const std::string redMap = std::to_string(kRedPayload) + " red/";
    const std::string fecMap = std::to_string(kUlpfecPayload) + " ulpfec/";
    for (guint a = 0; a < gst_sdp_media_attributes_len(answered); ++a) {
      const GstSDPAttribute* attr = gst_sdp_media_get_attribute(answered, a);
      if (orEmpty(attr->key) != "rtpmap") continue;
      const std::string value = orEmpty(attr->value);
      red = red || value.rfind(redMap, 0) == 0;
      ulpfec = ulpfec || value.rfind(fecMap, 0) == 0;
    }
  }
  if (remote) gst_webrtc_session_description_free(remote);
  return red && ulpfec;
}

// Checks that an answer is well-formed SDP that answers our three m-lines in order (audio,
// camera, shared screen), with the ICE and DTLS attributes a WebRTC answer must carry; a rejected
// m-line (port 0) needs none. Returns an empty string when it is acceptable.
std::string checkAnswer(const GstSDPMessage* sdp) {
  const guint n = gst_sdp_message_medias_len(sdp);
  if (n != 3) {
    return "the answer must have 3 media sections (audio, video, screen video), it has " +
           std::to_string(n);
  }
  const char* kinds[] = {"audio", "video", "video"};
  for (guint i = 0; i < n; ++i) {
    const GstSDPMedia* m = gst_sdp_message_get_media(sdp, i);
    if (!gst_sdp_media_get_media(m) || std::string(gst_sdp_media_get_media(m)) != kinds[i]) {
      return std::string("media section ") + std::to_string(i) + " must be " + kinds[i];
    }
    if (gst_sdp_media_get_port(m) == 0 && i == 2) continue;
    auto attr = [&](const char* key) {
      return gst_sdp_media_get_attribute_val(m, key) || gst_sdp_message_get_attribute_val(sdp, key);
    };
    if (!attr("ice-ufrag") || !attr("ice-pwd")) return "missing ICE credentials";
    if (!attr("fingerprint")) return "missing DTLS fingerprint";
  }
  return {};
}

// The RTX stream our offer signalled for the video SSRC (a=ssrc-group:FID ssrc rtx, and the rtx
// payload type whose apt is VP8's), if the answer took it. What a leg sent directly resends with.
struct Rtx {
  guint32 ssrc = 0;
  int payload = -1;
};
std::optional<Rtx> negotiatedRtx(GstElement* webrtc, guint32 videoSsrc) {
  GstWebRTCSessionDescription* local = nullptr;
  GstWebRTCSessionDescription* remote = nullptr;
  g_object_get(webrtc, "local-description", &local, "remote-description", &remote, nullptr);
  std::optional<Rtx> out;
  if (local && remote && gst_sdp_message_medias_len(local->sdp) > 1 &&
      gst_sdp_message_medias_len(remote->sdp) > 1) {
    Rtx rtx;
    const GstSDPMedia* offered = gst_sdp_message_get_media(local->sdp, 1);
    for (guint a = 0; a < gst_sdp_media_attributes_len(offered); ++a) {
      const GstSDPAttribute* attr = gst_sdp_media_get_attribute(offered, a);
      const std::string key = orEmpty(attr->key), value = orEmpty(attr->value);
      guint32 media = 0, repair = 0;
      int pt = -1, apt = -1;
      if (key == "ssrc-group" && std::sscanf(value.c_str(), "FID %u %u", &media, &repair) == 2 &&
          media == videoSsrc) {
        rtx.ssrc = repair;
      } else if (key == "fmtp" && std::sscanf(value.c_str(), "%d apt=%d", &pt, &apt) == 2 &&
                 apt == kVideoPayload) {
        rtx.payload = pt;
      }
    }
    const GstSDPMedia* answered = gst_sdp_message_get_media(remote->sdp, 1);
    const std::string rtpmap = std::to_string(rtx.payload) + " rtx/";
    for (guint a = 0; a < gst_sdp_media_attributes_len(answered) && rtx.ssrc && rtx.payload >= 0;
         ++a) {
      const GstSDPAttribute* attr = gst_sdp_media_get_attribute(answered, a);
      if (orEmpty(attr->key) == "rtpmap" && orEmpty(attr->value).rfind(rtpmap, 0) == 0) out = rtx;
    }
  }
  if (local) gst_webrtc_session_description_free(local);
  if (remote) gst_webrtc_session_description_free(remote);
  return out;
}

constexpr guint32 kMaxRoundTrip = 10 * 65536;  // 10 s in RTCP's 1/65536 s

// Now on the NTP clock (RFC 3550 4): seconds since 1900 in the high 32 bits, the fraction below.
// Our sender reports carry it; a receiver report's LSR is its middle 32 bits.
guint64 ntpNow() {
  const gint64 us = g_get_real_time();
  const guint64 seconds = guint64(us / 1000000) + 2208988800ULL;
  return (seconds << 32) | ((guint64(us % 1000000) << 32) / 1000000);
}

// A branch queue answers allocation queries itself: upstream (a shared tee, the one encoder) must
// never wait on what one branch's consumer is doing.
GstPadProbeReturn answerAllocation(GstPad*, GstPadProbeInfo* info, gpointer) {
  GstQuery* q = GST_PAD_PROBE_INFO_QUERY(info);
  return GST_QUERY_TYPE(q) == GST_QUERY_ALLOCATION ? GST_PAD_PROBE_HANDLED : GST_PAD_PROBE_OK;
}

// A room's stream ends only when the room is removed: never let an EOS reach a mixer pad.
GstPadProbeReturn dropEos(GstPad*, GstPadProbeInfo* info, gpointer) {
  return GST_EVENT_TYPE(GST_PAD_PROBE_INFO_EVENT(info)) == GST_EVENT_EOS ? GST_PAD_PROBE_DROP
                                                                         : GST_PAD_PROBE_OK;
}

// The linear power of an RFC 6464 level (-dBov), looked up: it is needed per audio packet.
double levelPower(int level) {
  static const auto table = [] {
    std::array<double, 128> t{};
    for (int l = 0; l < 128; ++l) t[std::size_t(l)] = std::pow(10.0, -l / 10.0);
    return t;
  }();
  return table[std::size_t(level & 0x7f)];
}

// Gives a tee's request pad back to its tee (which then ignores a push in flight to it).
void releaseTeePad(GstPadRef& pad) {
  if (!pad) return;
  if (GstElement* tee = gst_pad_get_parent_element(pad.get())) {
    gst_element_release_request_pad(tee, pad.get());
    gst_object_unref(tee);
  }
  pad.reset();
}

void isolateBranch(GstElement* first, GstElement* last) {
  GstPadRef sink = adopt(gst_element_get_static_pad(first, "sink"));
  gst_pad_add_probe(sink.get(), GST_PAD_PROBE_TYPE_QUERY_DOWNSTREAM, &answerAllocation, nullptr,
                    nullptr);
  GstPadRef src = adopt(gst_element_get_static_pad(last, "src"));
  gst_pad_add_probe(src.get(), GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM, &dropEos, nullptr, nullptr);
}

}  // namespace

// ------------------------------------------------------------------------------------------------

struct Mixer::Room {
  core::ParticipantId id;
  std::string name;
  std::string prefix;  // element-name prefix, unique in the pipeline
  GstElement* webrtc = nullptr;
  GstPadRef audioSink;              // webrtcbin's request pads: released before it stops,
  GstPadRef videoSink;              // or they keep it (and its threads) alive
  std::optional<Branch> audioSend;  // a mix's Opus tee -> this room's webrtcbin
  int audioMix = -1;                // the mix audioSend hangs on (-1: none yet)
  guint audioSsrc = 0;              // ours, as the offer signals it
  // The mix and the rung sent around webrtcbin (set once secured, unless its transport could not
  // be read: then audioSend's and videoSend's payloaders and webrtcbin carry them).
  std::shared_ptr<DirectLegs> direct = std::make_shared<DirectLegs>();
  std::optional<Branch> videoSend;               // a rung's encoder tee -> this room's webrtcbin
  int videoRung = -1;                            // the rung videoSend hangs on (-1: none yet)
  guint videoSsrc = 0;                           // ours, as its receiver reports name it
  std::optional<core::RungSelector> rungChoice;  // from its link's reports, once connected
  // Receiver reports about our video, gathered for a second: a peer may send several per
  // interval (one per SSRC of its own), and only the first of them counts the new losses.
  double lossSince = 0;
  std::optional<gint64> lossWindowStartUs;
  // The worst of those windows since the last statistics read (for the monitor).
  std::optional<double> lossForStats;
  // Its video goes with RED/ULPFEC (its answer kept both; a lossy window switched it on), and
  // the clean windows since the last lossy one (five switch it off).
  bool fecNegotiated = false;
  int fecCleanWindows = 0;
  std::optional<int> estimateKbps;  // its last REMB: what its browser says its downlink carries
  // Read from its RTCP about the streams sent directly (webrtcbin knows nothing of those).
  std::optional<double> roundTripMs;
  unsigned keyframeRequests = 0;
  std::shared_ptr<UplinkLimit> uplink = std::make_shared<UplinkLimit>();
  std::shared_ptr<AudioGate> gate;
  Source camera;
  Source share;
  bool sharing = false;     // frames arrive on the share m-line (as last reported)
  bool chairMuted = false;  // its sound is out of every mix
  bool connected = false;   // ICE connected: its reports count, its rung is chosen
  // DTLS keys are set: webrtcbin no longer blocks what is pushed into it, so its send branches
  // may hang on the shared tees (which run every listener's branch on one thread).
  bool secured = false;
  std::shared_ptr<ShareActivity> shareActivity;
  // Written by streaming threads (pad-added), read by the strand after `stopping` or a post.
  std::mutex mu;
  std::vector<GstElement*> recvElements;
  GstElement* audioTee = nullptr;
  GstElement* videoTee = nullptr;
  GstElement* shareTee = nullptr;
  std::atomic<bool> stopping{false};

  GstElement* teeOf(Stream stream) {
    std::lock_guard lock(mu);
    return stream == Stream::kAudio ? audioTee : stream == Stream::kCamera ? videoTee : shareTee;
  }
  Stream streamOf(const Source& source) const {
    return &source == &share ? Stream::kShare : Stream::kCamera;
  }
};

// A room's incoming audio before its decoder: the RFC 6464 levels its packets carry are averaged
// there (posted to the strand every kLevelPackets), and packets of a room that is not a talker
// stop there, so only the talkers are decoded. A room whose packets carry no level is always
// decoded and measured after its decoder instead (LevelMeter).
struct Mixer::AudioGate {
  std::weak_ptr<Mixer> mixer;
  core::Executor& strand;
  core::ParticipantId id;
  std::atomic<bool> decode{false};    // a talker: its packets go on to the decoder (strand writes)
  std::atomic<bool> levelExt{false};  // its packets carry levels
  // Streaming thread only.
  bool held = false;  // packets were dropped since the last one let through
  double power = 0;   // sum of linear powers of the levels in this report
  int packets = 0;
};

// The loudness of a room's decoded audio, summed on its streaming thread (one pad probe, no
// element, no bus message) and posted to the strand once per kLevelWindow samples; only for rooms
// whose packets carry no level.
struct Mixer::LevelMeter {
  std::weak_ptr<Mixer> mixer;
  core::Executor& strand;
  core::ParticipantId id;
  std::shared_ptr<AudioGate> gate;
  double sumSquares = 0;  // of samples normalised to full scale
  std::size_t samples = 0;
};

// When a room's shared screen last produced a decoded frame; `active` gates the start report so
// that only the first frame after a silence posts to the strand.
struct Mixer::ShareActivity {
  std::atomic<gint64> lastFrameUs{0};
  std::atomic<bool> active{false};
};

struct Mixer::ShareProbe {
  std::weak_ptr<Mixer> mixer;
  core::Executor& strand;
  core::ParticipantId id;
  std::shared_ptr<ShareActivity> activity;
};

// One encoding of the composite: raw composite -> queue -> valve -> [videoscale -> caps] ->
// vp8enc -> tee. The valve is closed while no viewer is on the rung, so an unused rung costs
// nothing. Keyframe requests (PLI/FIR, joins, switches) are rate-limited per rung.
struct Mixer::Rung {
  int index = 0;
  int width = 0;
  int height = 0;
  int kbps = 0;
  GstElement* valve = nullptr;
  GstElement* encoder = nullptr;
  GstElement* tee = nullptr;
  int viewers = 0;  // strand
  gint64 keyframeWindowUs = 0;
  std::atomic<gint64> lastKeyframeUs{0};
  std::atomic<bool> keyframePending{false};
  std::atomic<std::uint64_t> bytes{0};
  // Its viewers whose legs take it around webrtcbin's send path (one payloader here).
  std::shared_ptr<DirectFanout> fanout = std::make_shared<DirectFanout>(DirectStream::Kind::kVideo);
};

// A room's streams sent around its webrtcbin: set on the strand once secured, read by its RTCP
// threads (NACKs to resend, sender reports to write).
struct Mixer::DirectLegs {
  std::mutex mu;
  std::shared_ptr<DirectStream> audio;
  std::shared_ptr<DirectStream> video;
};

// What a room's RTCP said, for the strand.
struct Mixer::Feedback {
  std::optional<double> loss;         // fraction lost of our video, from a receiver report
  std::optional<int> estimateKbps;    // REMB
  std::optional<double> roundTripMs;  // from its reports on our direct streams
  unsigned keyframeRequests = 0;      // PLI and FIR about our direct video
};

// What a room's RTCP handler needs: our SSRCs to find its report blocks and feedback about
// them, and the streams sent directly to resend from.
struct Mixer::FeedbackProbe {
  std::weak_ptr<Mixer> mixer;
  core::Executor& strand;
  core::ParticipantId id;
  guint videoSsrc = 0;
  guint audioSsrc = 0;
  std::shared_ptr<DirectLegs> direct;
};

// What the room's RTCP sender adds to each compound packet: REMB with its camera's limit, and
// sender reports for the streams sent directly.
struct Mixer::RtcpOut {
  std::shared_ptr<UplinkLimit> uplink;
  std::shared_ptr<DirectLegs> direct;
};

// What the room's camera may send us, in kb/s, told to its browser as REMB with our RTCP: from
// the size of its tile (a browser with no feedback about its uplink never sends more than its
// start rate, ~300 kb/s, whatever its tile). Written on the strand, read on the RTCP thread.
struct Mixer::UplinkLimit {
  std::atomic<int> kbps{kUplinkDefaultKbps};
};

// What a GStreamer callback needs to find its way back: weak references only.
struct Mixer::SignalContext {
  std::weak_ptr<Mixer> mixer;
  std::weak_ptr<Room> room;
  static void destroy(gpointer data, GClosure*) { delete static_cast<SignalContext*>(data); }
  static void destroyPlain(gpointer data) { delete static_cast<SignalContext*>(data); }

  // The mixer and room a callback is for; either is null once it is gone.
  struct Live {
    std::shared_ptr<Mixer> mixer;
    std::shared_ptr<Room> room;
  };
  static Live lock(gpointer data) {
    auto* ctx = static_cast<SignalContext*>(data);
    return Live{ctx->mixer.lock(), ctx->room.lock()};
  }
};

template <typename Fn>
void Mixer::postWeak(core::Executor& strand, std::weak_ptr<Mixer> weak, Fn fn) {
  strand.post([weak = std::move(weak), fn = std::move(fn)]() mutable {
    auto self = weak.lock();
    if (self && !self->stopped_) fn(*self);
  });
}

template <typename Fn>
void Mixer::postToStrand(Fn fn) {
  postWeak(strand_, weak_from_this(), std::move(fn));
}

std::shared_ptr<Mixer> Mixer::create(const std::string& meeting, const core::Config& config,
                                     const IceSettings& ice, core::Executor& strand,
                                     core::MediaEvents* events) {
  std::shared_ptr<Mixer> mixer(new Mixer(meeting, config, ice, strand, events));
  mixer->build();
  return mixer;
}

Mixer::Mixer(const std::string& meeting, const core::Config& config, const IceSettings& ice,
             core::Executor& strand, core::MediaEvents* events)
    : meeting_(meeting),
      config_(config),
      ice_(ice),
      strand_(strand),
      events_(events),
      talkers_(core::TalkerPolicy{.talkers = config.audio.talkers}) {
  ensureDebugCategory();
}

Mixer::~Mixer() {
  stop();
}

GstElement* Mixer::add(const char* factory, const std::string& name) {
  GstElement* e = makeElement(factory, name);
  gst_bin_add(GST_BIN(pipeline_.get()), e);
  return e;
}

void Mixer::syncStates(const std::vector<GstElement*>& downstreamFirst) {
  for (GstElement* e : downstreamFirst) gst_element_sync_state_with_parent(e);
}

void Mixer::removeElements(const std::vector<GstElement*>& elements) {
  for (GstElement* e : elements) {
    gst_element_set_locked_state(e, TRUE);
    gst_element_set_state(e, GST_STATE_NULL);
  }
  for (GstElement* e : elements) gst_bin_remove(GST_BIN(pipeline_.get()), e);
}

void Mixer::build() {
  pipeline_ = refSink(gst_pipeline_new(("meeting-" + meeting_).c_str()));
  GstBusRef bus = adopt(gst_pipeline_get_bus(GST_PIPELINE(pipeline_.get())));
  auto* ctx = new SignalContext{weak_from_this(), {}};
  gst_bus_set_sync_handler(bus.get(), &Mixer::onBusMessage, ctx, &SignalContext::destroyPlain);
  buildVideoOutput();
  buildMixes();
  if (gst_element_set_state(pipeline_.get(), GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE) {
    throw std::runtime_error("meeting pipeline failed to start");
  }
  GST_INFO("meeting=%s mixer started", meeting_.c_str());
}

// background -> compositor -> textoverlay(notice) -> tee -> one encoder per rung: the encoders
// every viewer shares (one per size, not per viewer), and the one notice line drawn for all.
void Mixer::buildVideoOutput() {
  const auto& v = config_.video;
  GstElement* bg = add("videotestsrc", "bg");
  g_object_set(bg, "is-live", TRUE, "pattern", 2 /* black */, nullptr);
  GstElement* bgCaps = add("capsfilter", "bg-caps");
  g_object_set(bgCaps, "caps", capsFromString(videoCaps(v.width, v.height, v.fps)).get(), nullptr);
  compositor_ = add("compositor", "compositor");
  // start-time-selection=first, as for the audio mixes: an aggregate before the background's
  // first frame would find every pad inactive and end the composite for good (a meeting whose
  // rooms then never get a picture).
  g_object_set(compositor_, "background", 1 /* black */, "ignore-inactive-pads", TRUE,
               "min-upstream-latency", aggregatorLatency(v.jitterBufferMs), "start-time-selection",
               1 /* first */, nullptr);
  GstElement* outCaps = add("capsfilter", "composite-caps");
  g_object_set(outCaps, "caps", capsFromString(videoCaps(v.width, v.height, v.fps)).get(), nullptr);
  // Silent (a plain pass-through) while there is no notice. Text is rendered once per change and
  // then only blended into each composite frame.
  notice_ = add("textoverlay", "notice");
  const std::string noticeFont =
      v.labelFont + " " + std::to_string(std::max(10, v.height / 22)) + "px";
  g_object_set(notice_, "silent", TRUE, "valignment", 1 /* bottom */, "halignment", 1 /* center */,
               "line-alignment", 1 /* center */, "shaded-background", TRUE, "auto-resize", FALSE,
               "wait-text", FALSE, "font-desc", noticeFont.c_str(), "ypad",
               std::max(2, v.height / 72), nullptr);
  compositeTee_ = add("tee", "composite-tee");
  g_object_set(compositeTee_, "allow-not-linked", TRUE, nullptr);
  GstPadRef bgPad = adopt(gst_element_request_pad_simple(compositor_, "sink_%u"));
  g_object_set(bgPad.get(), "zorder", 0u, nullptr);
  if (!gst_element_link(bg, bgCaps) ||
      gst_pad_link(adopt(gst_element_get_static_pad(bgCaps, "src")).get(), bgPad.get()) !=
          GST_PAD_LINK_OK ||
      !gst_element_link_many(compositor_, outCaps, notice_, compositeTee_, nullptr)) {
    throw std::runtime_error("cannot link the composite video chain");
  }
  buildRung(0, v.width, v.height, v.bitrateKbps, compositeTee_);
  for (const auto& r : v.rungs) {
    if (r.width < v.width && r.height < v.height) {
      buildRung(int(rungs_.size()), r.width, r.height, r.bitrateKbps, compositeTee_);
    }
  }
}

// A sink that hands every packet it gets to a fanout's listeners, on the thread that pushes it.
GstElement* Mixer::addFanoutSink(const std::string& name,
                                 const std::shared_ptr<DirectFanout>& fanout) {
  GstElement* out = add("fakesink", name);
  g_object_set(out, "sync", FALSE, "async", FALSE, "enable-last-sample", FALSE, "signal-handoffs",
               TRUE, nullptr);
  g_signal_connect_data(
      out, "handoff", G_CALLBACK(+[](GstElement*, GstBuffer* buffer, GstPad*, gpointer data) {
        (*static_cast<std::shared_ptr<DirectFanout>*>(data))->send(buffer);
      }),
      new std::shared_ptr<DirectFanout>(fanout),
      [](gpointer d, GClosure*) { delete static_cast<std::shared_ptr<DirectFanout>*>(d); },
      GConnectFlags(0));
  return out;
}

// The composite's own size needs no scaling; smaller rungs scale the raw composite once each.
void Mixer::buildRung(int index, int width, int height, int kbps, GstElement* source) {
  const auto& v = config_.video;
  auto rung = std::make_unique<Rung>();
  rung->index = index;
  rung->width = width;
  rung->height = height;
  rung->kbps = kbps;
  rung->keyframeWindowUs = gint64(v.keyframeMinIntervalMs) * 1000;
  const std::string p = "rung" + std::to_string(index) + "-";
  GstElement* queue = add("queue", p + "queue");
  g_object_set(queue, "max-size-buffers", 2, "max-size-bytes", 0, "max-size-time", 0, "leaky",
               2 /* downstream */, nullptr);
  rung->valve = add("valve", p + "valve");
  g_object_set(rung->valve, "drop", TRUE, nullptr);
  std::vector<GstElement*> chain = {queue, rung->valve};
  if (index > 0) {
    chain.push_back(add("videoscale", p + "scale"));
    GstElement* caps = add("capsfilter", p + "caps");
    g_object_set(caps, "caps", capsFromString(videoCaps(width, height, v.fps)).get(), nullptr);
    chain.push_back(caps);
  }
  rung->encoder = add("vp8enc", p + "vp8enc");
  // One thread for every rung: libvpx's row-parallel VP8 encoder makes its threads wait for each
  // other by spinning (`pause` loops), and on a busy 2-core server that spinning cost as much as
  // the encoding saved (0.35 -> 0.20 core-s/s for the 720p rung at 10 sites; docs/performance.md).
  g_object_set(rung->encoder, "deadline", G_GINT64_CONSTANT(1), "cpu-used", v.vp8CpuUsed,
               "end-usage", 1 /* cbr */, "target-bitrate", kbps * 1000, "keyframe-max-dist",
               std::max(1, v.keyframeIntervalMs * v.fps / 1000), "lag-in-frames", 0,
               "error-resilient", 1, "threads", 1, nullptr);
  // Hold the rung's rate over a second, as a viewer's link sees it, not over libvpx's default six
  // (a burst of seconds of overshoot is what fills a commune link's queue). A busy composite can
  // cost more than the target even at the coarsest quantizer: the encoder then skips a frame
  // when its buffer runs low rather than overshoot, as browsers' real-time encoders do. Keyframes
  // are capped at kMaxKeyframePercent of a frame's share so that they do not burst either.
  g_object_set(rung->encoder, "buffer-size", kRateBufferMs, "buffer-initial-size",
               kRateBufferInitialMs, "buffer-optimal-size", kRateBufferOptimalMs, "overshoot",
               kRateOvershootPercent, "dropframe-threshold", kDropFrameBufferPercent,
               "max-intra-bitrate", kMaxKeyframePercent, nullptr);
  chain.push_back(rung->encoder);
  // The rung's one send thread: every viewer's payloader and webrtcbin run on it, one after the
  // other, so a viewer costs no thread of its own, and the encoder never waits on the sending.
  // Not short: a frame dropped here breaks every viewer's picture until the next keyframe, which
  // costs more than the latency a stall's backlog leaves (the mix's queue, where a drop is only a
  // 20 ms gap, is kept short instead).
  GstElement* send = add("queue", p + "send");
  g_object_set(send, "max-size-buffers", 30, "max-size-bytes", 0, "max-size-time", 0, "leaky",
               2 /* downstream */, nullptr);
  chain.push_back(send);
  rung->tee = add("tee", p + "tee");
  g_object_set(rung->tee, "allow-not-linked", TRUE, nullptr);
  chain.push_back(rung->tee);
  GstPadRef teeSrc = adopt(gst_element_request_pad_simple(source, "src_%u"));
  if (gst_pad_link(teeSrc.get(), adopt(gst_element_get_static_pad(queue, "sink")).get()) !=
      GST_PAD_LINK_OK) {
    throw std::runtime_error("cannot link a rung");
  }
  for (std::size_t i = 0; i + 1 < chain.size(); ++i) {
    if (!gst_element_link(chain[i], chain[i + 1])) throw std::runtime_error("cannot link a rung");
  }
  // The rung packetised once for the viewers sent directly (DirectSend.hpp), on its send thread.
  GstElement* pay = add("rtpvp8pay", p + "pay");
  g_object_set(pay, "pt", kVideoPayload, "picture-id-mode", 2 /* 15-bit */, nullptr);
  GstElement* out = addFanoutSink(p + "direct", rung->fanout);
  if (!gst_element_link_many(rung->tee, pay, out, nullptr)) {
    throw std::runtime_error("cannot link a rung's direct send");
  }
  GstPadRef encSrc = adopt(gst_element_get_static_pad(rung->encoder, "src"));
  gst_pad_add_probe(encSrc.get(),
                    GstPadProbeType(GST_PAD_PROBE_TYPE_EVENT_UPSTREAM | GST_PAD_PROBE_TYPE_BUFFER),
                    &Mixer::onKeyframeRequest, rung.get(), nullptr);
  rungs_.push_back(std::move(rung));
}

// Keyframe requests from a rung's viewers (PLI/FIR, joins, switches) reach its one encoder: let
// one through per keyframeMinIntervalMs and remember the rest, which the next frame after the
// window then serves. The probe also counts what the rung sends. Its Rung outlives the pipeline.
GstPadProbeReturn Mixer::onKeyframeRequest(GstPad* pad, GstPadProbeInfo* info, gpointer data) {
  auto* rung = static_cast<Rung*>(data);
  const gint64 now = g_get_monotonic_time();
  if (info->type & GST_PAD_PROBE_TYPE_BUFFER) {
    rung->bytes += gst_buffer_get_size(GST_PAD_PROBE_INFO_BUFFER(info));
    if (rung->keyframePending && now - rung->lastKeyframeUs >= rung->keyframeWindowUs) {
      rung->keyframePending = false;
      // Goes through this probe again as an event, which then opens the next window.
      gst_pad_send_event(pad,
                         gst_video_event_new_upstream_force_key_unit(GST_CLOCK_TIME_NONE, TRUE, 0));
    }
    return GST_PAD_PROBE_OK;
  }
  GstEvent* event = GST_PAD_PROBE_INFO_EVENT(info);
  if (!gst_video_event_is_force_key_unit(event)) return GST_PAD_PROBE_OK;
  if (now - rung->lastKeyframeUs < rung->keyframeWindowUs) {
    rung->keyframePending = true;
    return GST_PAD_PROBE_DROP;
  }
  rung->lastKeyframeUs = now;
  return GST_PAD_PROBE_OK;
}

void Mixer::requestKeyframe(Rung& rung) {
  GstPadRef encSrc = adopt(gst_element_get_static_pad(rung.encoder, "src"));
  gst_pad_send_event(encSrc.get(),
                     gst_video_event_new_upstream_force_key_unit(GST_CLOCK_TIME_NONE, TRUE, 0));
}

Mixer::Room* Mixer::find(const core::ParticipantId& id) {
  auto it = rooms_.find(id);
  return it == rooms_.end() ? nullptr : it->second.get();
}

// ------------------------------------------------------------------------------------ rooms

void Mixer::addRoom(const core::ParticipantId& id, const std::string& name) {
  if (rooms_.count(id)) return;
  auto room = std::make_shared<Room>();
  room->id = id;
  room->name = name;
  room->prefix = id + "-";
  room->shareActivity = std::make_shared<ShareActivity>();
  room->webrtc = add("webrtcbin", room->prefix + "webrtc");
  // webrtcbin 1.22 puts a clocksync (sync on) behind each sink pad: it held every packet we send
  // until its timestamp plus the pipeline's latency (~80 ms here), though our sources are live and
  // the packet was ready ~27 ms after its stamp. Measured with per-hop probes: the mix's packets
  // waited ~53 ms there (and backed up ~33 ms in the mix's send queue behind it); without it,
  // audio mixer-added fell from 82-101 to 28-29 ms p50. Packets go out when they are ready.
  g_signal_connect(room->webrtc, "element-added", G_CALLBACK(&Mixer::onWebrtcChild), nullptr);
  // One rtpbin holds the room's audio and video jitterbuffers: the shorter wait is theirs. The
  // compositor waits the video's own (aggregatorLatency) whatever its jitterbuffer does: without
  // retransmission a jitterbuffer only has reordering to wait for.
  const int jitterMs = std::min(config_.audio.jitterBufferMs, config_.video.jitterBufferMs);
  g_object_set(room->webrtc, "bundle-policy", GST_WEBRTC_BUNDLE_POLICY_MAX_BUNDLE, "latency",
               guint(jitterMs), nullptr);
  // No lip-sync between a room's audio and video. rtpbin would delay the earlier of the two (a
  // ts-offset on its jitterbuffer, from the room's RTCP sender reports) and the mixes then hold
  // that room's voice for as long: measured 100-280 ms, set once from the first reports while the
  // jitterbuffer's clock-skew estimate still settled after the join's burst, kept for the whole
  // call, different every run. Both go to the aggregators at arrival time instead; a room's voice
  // may then lead its picture by its sender's extra video delay. Offsets larger than
  // max-ts-offset are ignored, so 1 ns leaves none.
  if (GstElement* rtpbin = gst_bin_get_by_name(GST_BIN(room->webrtc), "rtpbin")) {
    g_object_set(rtpbin, "max-ts-offset", gint64(1), nullptr);
    gst_object_unref(rtpbin);
  }
  if (!ice_.stunServer.empty()) {
    g_object_set(room->webrtc, "stun-server", ice_.stunServer.c_str(), nullptr);
  }
  configureIce(room->webrtc);
  room->gate = std::make_shared<AudioGate>(weak_from_this(), strand_, id);
  rooms_[id] = room;
  talkers_.addRoom(id);
  connectSignals(room);
  // webrtcbin must be playing before anything upstream of it is: the room's audio chain starts
  // at once, and a first buffer meeting a stopped webrtcbin would stop that chain for good.
  gst_element_sync_state_with_parent(room->webrtc);
  buildAudioSend(*room);
  buildVideoSend(*room);
  addShareTransceiver(*room);
  createOffer(room);
  GST_INFO("meeting=%s participant=%s room added", meeting_.c_str(), id.c_str());
}

// A mix's Opus tee -> rtpopuspay -> webrtcbin: like video, a listener costs packetising, never
// mixing or encoding, and no thread of its own (the mix's send queue runs every listener's
// branch). Which mix it hangs on is routeAudio()'s business.
void Mixer::buildAudioSend(Room& room) {
  const std::string p = room.prefix;
  // An explicit SSRC, set on the payloader and in the codec preferences, makes the offer signal
  // it (a=ssrc): browsers then bind the stream to its m-line without guessing.
  const guint ssrc = g_random_int();
  room.audioSsrc = ssrc;
  GstElement* pay = add("rtpopuspay", p + "opuspay");
  // Not auto-header-extension: it would take the offered ssrc-audio-level (which is for what the
  // rooms send us) as its own to write, and change its caps so that webrtcbin refuses them.
  g_object_set(pay, "pt", kAudioPayload, "ssrc", ssrc, "auto-header-extension", FALSE, nullptr);
  room.audioSink = adopt(gst_element_request_pad_simple(room.webrtc, "sink_%u"));
  if (gst_pad_link(adopt(gst_element_get_static_pad(pay, "src")).get(), room.audioSink.get()) !=
      GST_PAD_LINK_OK) {
    throw std::runtime_error("cannot link the audio send chain");
  }
  GstWebRTCRTPTransceiver* trans = nullptr;
  g_object_get(room.audioSink.get(), "transceiver", &trans, nullptr);
  g_object_set(trans, "direction", GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_SENDRECV,
               "codec-preferences", rtpCaps(kOpusRtpCaps, ssrc).get(), nullptr);
  gst_object_unref(trans);
  isolateBranch(pay, pay);
  syncStates({pay});
  Branch branch;
  branch.elements = {pay};
  room.audioSend = std::move(branch);
}

// A rung's tee -> rtpvp8pay -> webrtcbin: a viewer costs packetising, never encoding, and no
// thread of its own (the rung's send queue runs every viewer's branch).
void Mixer::buildVideoSend(Room& room) {
  const std::string p = room.prefix;
  const guint ssrc = g_random_int();
  room.videoSsrc = ssrc;
  GstElement* pay = add("rtpvp8pay", p + "vp8pay");
  g_object_set(pay, "pt", kVideoPayload, "picture-id-mode", 2 /* 15-bit */, "ssrc", ssrc, nullptr);
  room.videoSink = adopt(gst_element_request_pad_simple(room.webrtc, "sink_%u"));
  GstPad* webrtcPad = room.videoSink.get();
  Branch branch;
  branch.elements = {pay};
  if (gst_pad_link(adopt(gst_element_get_static_pad(pay, "src")).get(), webrtcPad) !=
      GST_PAD_LINK_OK) {
    throw std::runtime_error("cannot link the video send chain");
  }
  GstWebRTCRTPTransceiver* trans = nullptr;
  g_object_get(webrtcPad, "transceiver", &trans, nullptr);
  g_object_set(trans, "direction", GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_SENDRECV,
               "codec-preferences", rtpCaps(kVp8RtpCaps, ssrc).get(), "do-nack", TRUE, nullptr);
  gst_object_unref(trans);
  isolateBranch(pay, pay);
  syncStates({pay});
  room.videoSend = std::move(branch);
}

// The third m-line: recvonly from our side, so the browser keeps a sender there and can
// replaceTrack() its screen onto it without renegotiating. Bundled like the others.
void Mixer::addShareTransceiver(Room& room) {
  GstWebRTCRTPTransceiver* trans = nullptr;
  g_signal_emit_by_name(room.webrtc, "add-transceiver",
                        GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_RECVONLY,
                        capsFromString(kShareRtpCaps).get(), &trans);
  if (!trans) throw std::runtime_error("cannot add the screen-share transceiver");
  g_object_set(trans, "do-nack", TRUE, nullptr);
  gst_object_unref(trans);
}

// Called once the leg's DTLS keys are set: until then webrtcbin blocks whatever is pushed into
// it, and a branch from a shared tee into it would stall that tee's thread, and with it every
// other viewer on the rung or listener of the mix. A viewer that is not connected costs nothing.
void Mixer::attachLeg(Room& room) {
  routeVideo(room, room.rungChoice ? room.rungChoice->rung() : 0);
  routeAudio(room, talkers_.slotOf(room.id).value_or(sharedMix()));
}

// libnice gathers nothing on loopback unless told to, and gathers on every interface otherwise:
// give it the configured (or enumerated once at start-up) addresses explicitly.
void Mixer::configureIce(GstElement* webrtc) {
  GstWebRTCICE* ice = nullptr;
  g_object_get(webrtc, "ice-agent", &ice, nullptr);
  if (!ice) return;
  if (ice_.minPort > 0 && g_object_class_find_property(G_OBJECT_GET_CLASS(ice), "min-rtp-port")) {
    g_object_set(ice, "min-rtp-port", guint(ice_.minPort), "max-rtp-port",
                 guint(ice_.maxPort > 0 ? ice_.maxPort : 65535), nullptr);
  }
  NiceAgent* agent = nullptr;
  if (g_object_class_find_property(G_OBJECT_GET_CLASS(ice), "agent")) {
    g_object_get(ice, "agent", &agent, nullptr);
  }
  if (agent) {
    for (const auto& addr : ice_.localAddresses) {
      NiceAddress na;
      nice_address_init(&na);
      if (nice_address_set_from_string(&na, addr.c_str())) nice_agent_add_local_address(agent, &na);
    }
    g_object_unref(agent);
  }
  gst_object_unref(ice);
}

void Mixer::connectSignals(const std::shared_ptr<Room>& room) {
  auto connect = [&](const char* signal, GCallback cb) {
    g_signal_connect_data(room->webrtc, signal, cb, new SignalContext{weak_from_this(), room},
                          &SignalContext::destroy, GConnectFlags(0));
  };
  connect("pad-added", G_CALLBACK(&Mixer::onPadAdded));
  connect("on-ice-candidate", G_CALLBACK(&Mixer::onIceCandidate));
  connect("notify::connection-state", G_CALLBACK(&Mixer::onConnectionState));
  connect("notify::ice-connection-state", G_CALLBACK(&Mixer::onIceConnectionState));
}

void Mixer::createOffer(const std::shared_ptr<Room>& room) {
  GstPromise* promise = gst_promise_new_with_change_func(&Mixer::onOfferCreated,
                                                         new SignalContext{weak_from_this(), room},
                                                         &SignalContext::destroyPlain);
  g_signal_emit_by_name(room->webrtc, "create-offer", nullptr, promise);
}

void Mixer::onOfferCreated(GstPromise* promise, gpointer data) {
  GstPromiseRef owned(promise);
  auto [mixer, room] = SignalContext::lock(data);
  if (!mixer || !room || room->stopping) return;
  const GstStructure* reply = gst_promise_get_reply(promise);
  GstWebRTCSessionDescription* offer = nullptr;
  if (gst_promise_wait(promise) == GST_PROMISE_RESULT_REPLIED && reply &&
      gst_structure_has_field(reply, "offer")) {
    gst_structure_get(reply, "offer", GST_TYPE_WEBRTC_SESSION_DESCRIPTION, &offer, nullptr);
  }
  const core::ParticipantId id = room->id;
  if (!offer) {
    mixer->postToStrand([id](Mixer& m) {
      if (m.events_) m.events_->onLegError(id, core::ErrorCode::kMediaFailed, "no SDP offer");
    });
    return;
  }
  preferRemb(offer->sdp);
  offerFec(offer->sdp);
  GCharPtr text(gst_sdp_message_as_text(offer->sdp));
  std::string sdp = text.get();
  GST_DEBUG("meeting=%s participant=%s offer:\n%s", mixer->meeting_.c_str(), room->id.c_str(),
            sdp.c_str());
  // Set locally before the client can have it: a fast answer applied first would be refused
  // (webrtcbin still "stable"). Both happen inside this webrtcbin operation (the promise is
  // answered on its thread), and gathering starts only in the next one, so the offer still
  // reaches the strand before any candidate.
  g_signal_emit_by_name(room->webrtc, "set-local-description", offer, nullptr);
  gst_webrtc_session_description_free(offer);
  mixer->postToStrand([id, sdp](Mixer& m) {
    if (m.find(id) && m.events_) m.events_->onLocalOffer(id, sdp);
  });
}

void Mixer::onIceCandidate(GstElement*, guint mline, gchar* candidate, gpointer data) {
  auto [mixer, room] = SignalContext::lock(data);
  if (!mixer || !room || room->stopping) return;
  std::string cand = candidate;
  const core::ParticipantId id = room->id;
  mixer->postToStrand([id, mline, cand](Mixer& m) {
    if (m.find(id) && m.events_) m.events_->onLocalCandidate(id, int(mline), cand);
  });
}

void Mixer::onConnectionState(GObject* webrtc, GParamSpec*, gpointer data) {
  auto [mixer, room] = SignalContext::lock(data);
  if (!mixer || !room || room->stopping) return;
  GstWebRTCPeerConnectionState state;
  g_object_get(webrtc, "connection-state", &state, nullptr);
  const core::ParticipantId id = room->id;
  mixer->postToStrand([id, state](Mixer& m) { m.legState(id, toLegState(state)); });
}

// ICE connected starts the leg's rung choice; its send branches wait for DTLS (watchDtls).
// Taking either signal means a leg is never left without media when one of the two
// notifications comes late or not at all.
void Mixer::onIceConnectionState(GObject* webrtc, GParamSpec*, gpointer data) {
  auto [mixer, room] = SignalContext::lock(data);
  if (!mixer || !room || room->stopping) return;
  GstWebRTCICEConnectionState state;
  g_object_get(webrtc, "ice-connection-state", &state, nullptr);
  if (state != GST_WEBRTC_ICE_CONNECTION_STATE_CONNECTED &&
      state != GST_WEBRTC_ICE_CONNECTION_STATE_COMPLETED) {
    return;
  }
  const core::ParticipantId id = room->id;
  mixer->postToStrand([id](Mixer& m) {
    if (Room* r = m.find(id)) m.startSending(*r);
  });
}

void Mixer::startSending(Room& room) {
  if (room.connected) return;
  room.connected = true;
  std::vector<int> kbps;
  for (const auto& r : rungs_) kbps.push_back(r->kbps);
  room.rungChoice.emplace(kbps, 0, std::chrono::milliseconds(g_get_monotonic_time() / 1000));
  watchFeedback(room);
  watchDtls(rooms_.at(room.id));
}

// The bundle's one DTLS transport, from the video sender: its state turns connected once the
// handshake is done and the SRTP keys are set, which is when webrtcbin stops blocking.
void Mixer::watchDtls(const std::shared_ptr<Room>& room) {
  GstWebRTCRTPTransceiver* trans = nullptr;
  g_object_get(room->videoSink.get(), "transceiver", &trans, nullptr);
  GstWebRTCRTPSender* sender = nullptr;
  if (trans) g_object_get(trans, "sender", &sender, nullptr);
  GstWebRTCDTLSTransport* dtls = nullptr;
  if (sender) g_object_get(sender, "transport", &dtls, nullptr);
  if (dtls) {
    g_signal_connect_data(dtls, "notify::state", G_CALLBACK(&Mixer::onDtlsState),
                          new SignalContext{weak_from_this(), room}, &SignalContext::destroy,
                          GConnectFlags(0));
    onDtlsState(G_OBJECT(dtls), nullptr, new SignalContext{weak_from_this(), room});
  }
  for (gpointer o : {gpointer(dtls), gpointer(sender), gpointer(trans)}) {
    if (o) gst_object_unref(o);
  }
  // Without a transport to watch, the peer connection's own "connected" (ICE and DTLS) will do.
}

void Mixer::onDtlsState(GObject* transport, GParamSpec* pspec, gpointer data) {
  auto [mixer, room] = SignalContext::lock(data);
  if (!pspec) delete static_cast<SignalContext*>(data);  // the first look, not a signal
  if (!mixer || !room || room->stopping) return;
  GstWebRTCDTLSTransportState state;
  g_object_get(transport, "state", &state, nullptr);
  if (state != GST_WEBRTC_DTLS_TRANSPORT_STATE_CONNECTED) return;
  const core::ParticipantId id = room->id;
  mixer->postToStrand([id](Mixer& m) {
    if (Room* r = m.find(id)) m.secured(*r);
  });
}

void Mixer::secured(Room& room) {
  if (room.secured) return;
  startSending(room);
  room.secured = true;
  auto audio = DirectStream::fromWebrtc(room.webrtc, room.audioSsrc, DirectStream::Kind::kAudio);
  // MCU_BENCH_WEBRTCBIN_VIDEO=1 keeps the rungs on webrtcbin's send path: the A/B of
  // docs/performance.md ("The rungs sent around webrtcbin").
  auto video =
      std::getenv("MCU_BENCH_WEBRTCBIN_VIDEO")
          ? nullptr
          : DirectStream::fromWebrtc(room.webrtc, room.videoSsrc, DirectStream::Kind::kVideo);
  const std::optional<Rtx> rtx = video ? negotiatedRtx(room.webrtc, room.videoSsrc) : std::nullopt;
  if (rtx) video->enableRtx(rtx->ssrc, rtx->payload);
  room.fecNegotiated = video && negotiatedFec(room.webrtc);
  if (room.fecNegotiated) {
    video->enableFec(kRedPayload, kUlpfecPayload);
    video->setFec(config_.video.fecOnLossPercent == 0);
  }
  // The browser test of FEC (tests/browser/fec.test.mjs): a lossy link whose resends are lost.
  if (const char* every = std::getenv("MCU_TEST_VIDEO_LOSS_EVERY"); every && video) {
    video->simulateLoss(std::atoi(every));
  }
  {
    std::lock_guard lock(room.direct->mu);
    room.direct->audio = std::move(audio);
    room.direct->video = std::move(video);
  }
  GST_INFO("meeting=%s participant=%s mix and rung sent %s%s", meeting_.c_str(), room.id.c_str(),
           room.direct->audio && room.direct->video
               ? "directly"
               : "through webrtcbin (its transport was not found)",
           rtx ? ", lost packets resent as RTX" : "");
  if (room.fecNegotiated) {
    GST_INFO("meeting=%s participant=%s RED/ULPFEC negotiated, FEC %s", meeting_.c_str(),
             room.id.c_str(), config_.video.fecOnLossPercent == 0 ? "always on" : "on loss");
  }
  attachLeg(room);
}

void Mixer::legState(const core::ParticipantId& id, core::LegState state) {
  Room* room = find(id);
  if (!room) return;
  if (state == core::LegState::kConnected) secured(*room);  // ICE and DTLS
  if (events_) events_->onLegState(id, state);
}

void Mixer::setAnswer(const core::ParticipantId& id, const std::string& sdpText) {
  Room* room = find(id);
  if (!room || !events_) return;
  GST_DEBUG("meeting=%s participant=%s answer:\n%s", meeting_.c_str(), id.c_str(), sdpText.c_str());
  GstSDPMessage* sdp = nullptr;
  gst_sdp_message_new_from_text(sdpText.c_str(), &sdp);
  std::string problem = sdp ? checkAnswer(sdp) : "the SDP does not parse";
  if (!problem.empty()) {
    GST_WARNING("meeting=%s participant=%s answer refused: %s", meeting_.c_str(), id.c_str(),
                problem.c_str());
    if (sdp) gst_sdp_message_free(sdp);
    events_->onLegError(id, core::ErrorCode::kBadSdp, problem);
    return;
  }
  GstWebRTCSessionDescription* answer =
      gst_webrtc_session_description_new(GST_WEBRTC_SDP_TYPE_ANSWER, sdp);
  GstPromise* promise = gst_promise_new_with_change_func(
      &Mixer::onAnswerSet, new SignalContext{weak_from_this(), rooms_.at(id)},
      &SignalContext::destroyPlain);
  g_signal_emit_by_name(room->webrtc, "set-remote-description", answer, promise);
  gst_webrtc_session_description_free(answer);
}

void Mixer::onAnswerSet(GstPromise* promise, gpointer data) {
  GstPromiseRef owned(promise);
  auto [mixer, room] = SignalContext::lock(data);
  if (!mixer || !room || room->stopping) return;
  const GstStructure* reply = gst_promise_get_reply(promise);
  std::string error;
  if (gst_promise_wait(promise) != GST_PROMISE_RESULT_REPLIED) {
    error = "the answer was not applied";
  } else if (reply && gst_structure_has_field(reply, "error")) {
    GError* err = nullptr;
    gst_structure_get(reply, "error", G_TYPE_ERROR, &err, nullptr);
    error = err ? err->message : "the answer was rejected";
    if (err) g_error_free(err);
  }
  if (error.empty()) return;
  const core::ParticipantId id = room->id;
  GST_WARNING("meeting=%s participant=%s answer refused: %s", mixer->meeting_.c_str(), id.c_str(),
              error.c_str());
  mixer->postToStrand([id, error](Mixer& m) {
    if (m.events_) m.events_->onLegError(id, core::ErrorCode::kBadSdp, error);
  });
}

void Mixer::addCandidate(const core::ParticipantId& id, int mline, const std::string& candidate) {
  Room* room = find(id);
  if (!room) return;
  std::string line = candidate.rfind("a=", 0) == 0 ? candidate.substr(2) : candidate;
  // candidate:<foundation> <component> <transport> <priority> <address> <port> typ <type>
  int fields = 0;
  for (std::size_t i = 0; i < line.size();) {
    while (i < line.size() && line[i] == ' ') ++i;
    if (i < line.size()) ++fields;
    while (i < line.size() && line[i] != ' ') ++i;
  }
  if (fields < 8 || line.find(" typ ") == std::string::npos) {
    if (events_) events_->onLegError(id, core::ErrorCode::kBadCandidate, "malformed candidate");
    return;
  }
  g_signal_emit_by_name(room->webrtc, "add-ice-candidate", guint(mline), line.c_str());
}

// --------------------------------------------------------------------------- receive side

void Mixer::onPadAdded(GstElement*, GstPad* pad, gpointer data) {
  if (GST_PAD_DIRECTION(pad) != GST_PAD_SRC) return;
  auto [mixer, room] = SignalContext::lock(data);
  if (!mixer || !room || room->stopping) return;
  if (auto stream = mixer->buildReceiveChain(*room, pad)) {
    const core::ParticipantId id = room->id;
    mixer->postToStrand([id, stream = *stream](Mixer& m) { m.mediaReady(id, stream); });
  }
}

// Runs on the streaming thread that announced the pad: link at once or the jitterbuffer stalls.
// Each room's media ends in a tee, so the strand can attach and detach consumers later: audio
// decoded (only the talkers' packets reach the decoder), video still encoded (a view branch
// decodes it while the source is shown). The screen share has its own chain like the camera; its
// pad stays for the leg's life, so one chain serves every share the room starts.
std::optional<Mixer::Stream> Mixer::buildReceiveChain(Room& room, GstPad* pad) {
  GstCapsRef caps(gst_pad_get_current_caps(pad));
  if (!caps) caps.reset(gst_pad_query_caps(pad, nullptr));
  const GstStructure* s = gst_caps_get_structure(caps.get(), 0);
  const std::string media = orEmpty(gst_structure_get_string(s, "media"));
  const std::string enc = orEmpty(gst_structure_get_string(s, "encoding-name"));
  int payload = -1;
  gst_structure_get_int(s, "payload", &payload);
  std::lock_guard lock(room.mu);
  const std::string p = room.prefix + "in-" + media + std::to_string(room.recvElements.size());
  std::vector<GstElement*> chain;
  GstElement** teeSlot = nullptr;
  std::optional<Stream> stream;
  if (media == "video" && enc == "VP8" && payload == kSharePayload && !room.shareTee) {
    teeSlot = &room.shareTee;
    stream = Stream::kShare;
  } else if (media == "video" && enc == "VP8" && payload != kSharePayload && !room.videoTee) {
    teeSlot = &room.videoTee;
    stream = Stream::kCamera;
  }
  if (stream) {
    // Encoded frames into the tee: a source is decoded in its view branch, only while shown.
    // After a lost packet the frames that follow are useless until a keyframe (a still camera
    // may otherwise send none for minutes and its tile would stay wrong): the depayloader drops
    // them and asks the room for one (a PLI).
    GstElement* depay = makeElement("rtpvp8depay", p + "-depay");
    g_object_set(depay, "request-keyframe", TRUE, "wait-for-keyframe", TRUE, nullptr);
    chain = {depay, makeElement("tee", p + "-tee")};
  } else if (media == "audio" && enc == "OPUS" && !room.audioTee) {
    GstElement* capsf = makeElement("capsfilter", p + "-caps");
    g_object_set(capsf, "caps", capsFromString(kRawAudioCaps).get(), nullptr);
    chain = {makeElement("rtpopusdepay", p + "-depay"),
             makeElement("opusdec", p + "-dec"),
             makeElement("audioconvert", p + "-convert"),
             makeElement("audioresample", p + "-resample"),
             capsf,
             makeElement("tee", p + "-tee")};
    teeSlot = &room.audioTee;
    stream = Stream::kAudio;
  } else {
    chain = {makeElement("fakesink", p + "-discard")};  // a stream we do not use
    g_object_set(chain[0], "async", FALSE, "sync", FALSE, nullptr);
  }
  for (GstElement* e : chain) gst_bin_add(GST_BIN(pipeline_.get()), e);
  if (teeSlot) g_object_set(chain.back(), "allow-not-linked", TRUE, nullptr);
  for (std::size_t i = 0; i + 1 < chain.size(); ++i) gst_element_link(chain[i], chain[i + 1]);
  if (stream) watchDecoded(room, *stream, chain.back());
  if (stream == Stream::kAudio) {
    GstPadRef depaySink = adopt(gst_element_get_static_pad(chain.front(), "sink"));
    gst_pad_add_probe(depaySink.get(), GST_PAD_PROBE_TYPE_BUFFER, &Mixer::onAudioPacket,
                      new std::shared_ptr<AudioGate>(room.gate),
                      [](gpointer d) { delete static_cast<std::shared_ptr<AudioGate>*>(d); });
  }
  for (auto it = chain.rbegin(); it != chain.rend(); ++it) gst_element_sync_state_with_parent(*it);
  GstPadRef sink = adopt(gst_element_get_static_pad(chain.front(), "sink"));
  gst_pad_add_probe(sink.get(), GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM, &dropEos, nullptr, nullptr);
  const bool linked = gst_pad_link(pad, sink.get()) == GST_PAD_LINK_OK;
  room.recvElements.insert(room.recvElements.end(), chain.begin(), chain.end());
  if (!teeSlot || !linked) return std::nullopt;
  *teeSlot = chain.back();
  return stream;
}

// One probe on the tee's input, where the stream is already there for other reasons: decoded
// audio is measured for its level, share frames (encoded) are stamped so the strand sees a share
// end whether or not the share is shown.
void Mixer::watchDecoded(Room& room, Stream stream, GstElement* tee) {
  GstPadRef pad = adopt(gst_element_get_static_pad(tee, "sink"));
  if (stream == Stream::kAudio) {
    gst_pad_add_probe(pad.get(), GST_PAD_PROBE_TYPE_BUFFER, &Mixer::onDecodedAudio,
                      new LevelMeter{weak_from_this(), strand_, room.id, room.gate},
                      [](gpointer d) { delete static_cast<LevelMeter*>(d); });
  } else if (stream == Stream::kShare) {
    gst_pad_add_probe(pad.get(), GST_PAD_PROBE_TYPE_BUFFER, &Mixer::onShareFrame,
                      new ShareProbe{weak_from_this(), strand_, room.id, room.shareActivity},
                      [](gpointer d) { delete static_cast<ShareProbe*>(d); });
  }
}

// RFC 6464 level of S16 mono audio: -dBov of its RMS, 0 (full scale) .. 127 (silence), as the
// ssrc-audio-level header extension would carry it.
GstPadProbeReturn Mixer::onDecodedAudio(GstPad*, GstPadProbeInfo* info, gpointer data) {
  auto* meter = static_cast<LevelMeter*>(data);
  if (meter->gate->levelExt) return GST_PAD_PROBE_OK;  // its packets say it: nothing to measure
  GstBuffer* buffer = GST_PAD_PROBE_INFO_BUFFER(info);
  GstMapInfo map;
  if (!gst_buffer_map(buffer, &map, GST_MAP_READ)) return GST_PAD_PROBE_OK;
  const auto* samples = reinterpret_cast<const gint16*>(map.data);
  const std::size_t n = map.size / sizeof(gint16);
  double sum = 0;
  for (std::size_t i = 0; i < n; ++i) sum += double(samples[i]) * samples[i];
  gst_buffer_unmap(buffer, &map);
  meter->sumSquares += sum / (32768.0 * 32768.0);
  meter->samples += n;
  if (meter->samples < kLevelWindow) return GST_PAD_PROBE_OK;
  const double meanSquare = meter->sumSquares / double(meter->samples);
  meter->sumSquares = 0;
  meter->samples = 0;
  const int level = meanSquare <= 0 ? core::kSilentLevel
                                    : std::clamp(int(std::lround(-10.0 * std::log10(meanSquare))),
                                                 0, core::kSilentLevel);
  // Posted through the weak reference: a streaming thread never holds the mixer alive.
  postWeak(meter->strand, meter->mixer,
           [id = meter->id, level](Mixer& m) { m.onLevel(id, level); });
  return GST_PAD_PROBE_OK;
}

// Per incoming audio packet, before the decoder: read its RFC 6464 level, and let it on only if
// its room is a talker (or sends no levels, so must be decoded to be measured). Dropping here is
// what keeps the decoders to K: a room's packets are parsed, never decoded, until it talks.
GstPadProbeReturn Mixer::onAudioPacket(GstPad*, GstPadProbeInfo* info, gpointer data) {
  AudioGate& gate = **static_cast<std::shared_ptr<AudioGate>*>(data);
  GstBuffer* buffer = GST_PAD_PROBE_INFO_BUFFER(info);
  GstRTPBuffer rtp = GST_RTP_BUFFER_INIT;
  if (gst_rtp_buffer_map(buffer, GST_MAP_READ, &rtp)) {
    gpointer ext = nullptr;
    guint size = 0;
    if (gst_rtp_buffer_get_extension_onebyte_header(&rtp, kAudioLevelExtId, 0, &ext, &size) &&
        size >= 1) {
      const int level = static_cast<const guint8*>(ext)[0] & 0x7f;
      gate.levelExt = true;
      gate.power += levelPower(level);
      ++gate.packets;
    }
    gst_rtp_buffer_unmap(&rtp);
  }
  if (gate.packets >= kLevelPackets) {
    const double mean = gate.power / gate.packets;
    gate.power = 0;
    gate.packets = 0;
    const int level = std::clamp(int(std::lround(-10.0 * std::log10(mean))), 0, core::kSilentLevel);
    postWeak(gate.strand, gate.mixer, [id = gate.id, level](Mixer& m) { m.onLevel(id, level); });
  }
  if (gate.levelExt && !gate.decode) {
    gate.held = true;
    return GST_PAD_PROBE_DROP;
  }
  if (gate.held) {  // the decoder missed packets: tell it, so it conceals instead of glitching
    gate.held = false;
    buffer = gst_buffer_make_writable(buffer);
    GST_BUFFER_FLAG_SET(buffer, GST_BUFFER_FLAG_DISCONT);
    GST_PAD_PROBE_INFO_DATA(info) = buffer;
  }
  return GST_PAD_PROBE_OK;
}

GstPadProbeReturn Mixer::onShareFrame(GstPad*, GstPadProbeInfo*, gpointer data) {
  auto* probe = static_cast<ShareProbe*>(data);
  probe->activity->lastFrameUs = g_get_monotonic_time();
  if (!probe->activity->active.exchange(true)) {
    postWeak(probe->strand, probe->mixer, [id = probe->id](Mixer& m) { m.shareStarted(id); });
  }
  return GST_PAD_PROBE_OK;
}

void Mixer::mediaReady(const core::ParticipantId& id, Stream stream) {
  Room* room = find(id);
  if (!room) return;
  if (stream == Stream::kCamera) return showSource(*room, room->camera);
  if (stream == Stream::kShare) return;  // shown once its frames arrive (shareStarted)
  if (auto slot = talkers_.slotOf(id)) linkTalkerInputs(*room, *slot);
}

// ------------------------------------------------------------------------------- screen share

void Mixer::shareStarted(const core::ParticipantId& id) {
  Room* room = find(id);
  if (!room || room->sharing) return;
  room->sharing = true;
  startWatch(shareWatch_, kShareCheckInterval, &Mixer::checkShares);
  showSource(*room, room->share);
  GST_INFO("meeting=%s participant=%s share started", meeting_.c_str(), id.c_str());
  if (events_) events_->onShareState(id, true);
}

// On the strand, every kShareCheckInterval while some room shares: a share without frames for
// kShareTimeoutUs has ended. Its chain stays for the next share; its view goes.
void Mixer::checkShares() {
  const gint64 now = g_get_monotonic_time();
  bool live = false;
  for (auto& [id, room] : rooms_) {
    if (!room->sharing) continue;
    if (now - room->shareActivity->lastFrameUs < kShareTimeoutUs) {
      live = true;
      continue;
    }
    room->shareActivity->active = false;  // the next frame reports a new share
    room->sharing = false;
    hideSource(room->share);
    GST_INFO("meeting=%s participant=%s share ended", meeting_.c_str(), id.c_str());
    if (events_) events_->onShareState(id, false);
  }
  if (!live) stopWatch(shareWatch_);
}

// A periodic wake-up on the system clock's thread that only posts `tick` to the strand.
struct Mixer::Watch {
  std::weak_ptr<Mixer> mixer;
  core::Executor& strand;
  void (Mixer::*tick)();
};

void Mixer::startWatch(GstClockID& watch, GstClockTime interval, void (Mixer::*tick)()) {
  if (watch) return;
  GstClock* clock = gst_system_clock_obtain();
  watch = gst_clock_new_periodic_id(clock, gst_clock_get_time(clock) + interval, interval);
  gst_object_unref(clock);
  gst_clock_id_wait_async(watch, &Mixer::onWatch, new Watch{weak_from_this(), strand_, tick},
                          [](gpointer d) { delete static_cast<Watch*>(d); });
}

void Mixer::stopWatch(GstClockID& watch) {
  if (!watch) return;
  gst_clock_id_unschedule(watch);
  gst_clock_id_unref(watch);
  watch = nullptr;
}

gboolean Mixer::onWatch(GstClock*, GstClockTime, GstClockID, gpointer data) {
  auto* ctx = static_cast<Watch*>(data);
  postWeak(ctx->strand, ctx->mixer, [tick = ctx->tick](Mixer& m) { (m.*tick)(); });
  return TRUE;
}

// ------------------------------------------------------------------------------- branches

Mixer::Branch Mixer::linkBranch(GstElement* tee, GstElement* aggregator,
                                const std::vector<GstElement*>& extra, const std::string& name,
                                const std::function<void(Branch&)>& beforeData) {
  Branch b;
  b.aggregator = aggregator;
  GstElement* queue = add("queue", name + "-queue");
  g_object_set(queue, "max-size-buffers", 0, "max-size-bytes", 0, "max-size-time",
               guint64(200 * GST_MSECOND), "leaky", 2, nullptr);
  b.elements.push_back(queue);
  for (GstElement* e : extra) {
    gst_bin_add(GST_BIN(pipeline_.get()), e);
    b.elements.push_back(e);
  }
  for (std::size_t i = 0; i + 1 < b.elements.size(); ++i) {
    gst_element_link(b.elements[i], b.elements[i + 1]);
  }
  isolateBranch(queue, b.elements.back());
  b.sinkPad = adopt(gst_element_request_pad_simple(aggregator, "sink_%u"));
  gst_pad_link(adopt(gst_element_get_static_pad(b.elements.back(), "src")).get(), b.sinkPad.get());
  for (auto it = b.elements.rbegin(); it != b.elements.rend(); ++it) {
    gst_element_sync_state_with_parent(*it);
  }
  if (beforeData) beforeData(b);
  b.teePad = adopt(gst_element_request_pad_simple(tee, "src_%u"));
  gst_pad_link(b.teePad.get(), adopt(gst_element_get_static_pad(queue, "sink")).get());
  return b;
}

// Detach both ends before stopping anything: releasing the tee pad marks it removed inside tee,
// so a push in flight is ignored; releasing the aggregator pad flushes it, so a push blocked in
// the aggregator returns. Only then can the branch's queue stop without waiting on a stuck push.
void Mixer::detachBranch(Branch& b) {
  releaseTeePad(b.teePad);
  if (b.sinkPad && b.aggregator) gst_element_release_request_pad(b.aggregator, b.sinkPad.get());
  b.sinkPad.reset();
}

void Mixer::unlinkBranch(Branch& b) {
  detachBranch(b);
  removeElements(b.elements);
  b = Branch{};
}

// audiomixer (GstAudioAggregator, 1.22) lets go of its object lock while it mixes a pad's buffer,
// in the middle of walking its sink pads: a pad released from another thread just then is freed
// under it ("invalid unclassed pointer in cast to 'GstAudioMixerPad'", then a crash of the whole
// server; seen when a talker changed or a room left). A pad with no buffer is never mixed, so the
// pad is released only once its branch has drained: the tee pad goes now (nothing new enters),
// the rest after kParkUs (the branch queue holds at most 200 ms, the mixer's wait ~50 ms).
void Mixer::parkAudioBranch(Branch branch) {
  releaseTeePad(branch.teePad);
  parked_.emplace_back(g_get_monotonic_time() + kParkUs, std::move(branch));
  startWatch(parkWatch_, kParkCheckInterval, &Mixer::releaseParked);
}

// On the strand, every kParkCheckInterval while some branch is parked.
void Mixer::releaseParked() {
  const gint64 now = g_get_monotonic_time();
  for (auto it = parked_.begin(); it != parked_.end();) {
    if (it->first > now) {
      ++it;
      continue;
    }
    unlinkBranch(it->second);
    it = parked_.erase(it);
  }
  if (parked_.empty()) stopWatch(parkWatch_);
}

// The chair's mute takes the room out of the talkers at once (and keeps it out): its voice leaves
// every mix it was in, and its decoder stops.
void Mixer::setAudioMuted(const core::ParticipantId& id, bool muted) {
  Room* room = find(id);
  if (!room || room->chairMuted == muted) return;
  room->chairMuted = muted;
  talkers_.setEligible(id, !muted);
  updateTalkers(true);
  GST_INFO("meeting=%s participant=%s chair %s", meeting_.c_str(), id.c_str(),
           muted ? "muted" : "unmuted");
}

// ------------------------------------------------------------------------------- rungs

// Hangs a connected room's video leg on a rung's encoder tee. Its payloader stays (one RTP stream
// whatever the rung); frames reach it from the new rung's next keyframe on, which is asked for
// now, so the room's decoder never sees a frame from another encoder's references.
void Mixer::routeVideo(Room& room, int rung) {
  if (!room.secured || !room.videoSend) return;  // attachLeg() routes it once secured
  if (const auto& direct = room.direct->video) {
    // The leg waits for the new rung's keyframe (DirectStream::send), asked for now.
    if (room.videoRung == rung) return;
    leaveRung(room);
    Rung& r = *rungs_[std::size_t(rung)];
    if (r.viewers++ == 0) g_object_set(r.valve, "drop", FALSE, nullptr);
    r.fanout->add(direct);
    room.videoRung = rung;
    requestKeyframe(r);
    GST_INFO("meeting=%s participant=%s receives rung %d (%dx%d, direct)", meeting_.c_str(),
             room.id.c_str(), rung, r.width, r.height);
    return;
  }
  Branch& leg = *room.videoSend;
  if (leg.teePad && room.videoRung == rung) return;
  if (leg.teePad) leaveRung(room);
  releaseTeePad(leg.teePad);
  Rung& r = *rungs_[std::size_t(rung)];
  if (r.viewers++ == 0) g_object_set(r.valve, "drop", FALSE, nullptr);
  leg.teePad = adopt(gst_element_request_pad_simple(r.tee, "src_%u"));
  gst_pad_add_probe(
      leg.teePad.get(), GST_PAD_PROBE_TYPE_BUFFER,
      [](GstPad*, GstPadProbeInfo* info, gpointer) {
        return GST_BUFFER_FLAG_IS_SET(GST_PAD_PROBE_INFO_BUFFER(info), GST_BUFFER_FLAG_DELTA_UNIT)
                   ? GST_PAD_PROBE_DROP
                   : GST_PAD_PROBE_REMOVE;  // the keyframe passes; so does all that follows
      },
      nullptr, nullptr);
  gst_pad_link(leg.teePad.get(),
               adopt(gst_element_get_static_pad(leg.elements.front(), "sink")).get());
  room.videoRung = rung;
  requestKeyframe(r);
  GST_INFO("meeting=%s participant=%s receives rung %d (%dx%d)", meeting_.c_str(), room.id.c_str(),
           rung, r.width, r.height);
}

// The room's leg leaves its rung; the last viewer to leave closes the rung's valve.
void Mixer::leaveRung(Room& room) {
  if (room.videoRung < 0) return;
  Rung& r = *rungs_[std::size_t(room.videoRung)];
  if (room.direct->video) r.fanout->remove(room.direct->video.get());
  if (--r.viewers == 0) g_object_set(r.valve, "drop", TRUE, nullptr);
  room.videoRung = -1;
}

// The room's RTCP as its webrtcbin's session receives it (decrypted): receiver reports about our
// video and REMB estimates. One handler per room, called per RTCP packet (about once a second),
// posting only what it found. The session's own RTCP is made more frequent here too (see
// kLegRtcpBandwidthBps), so that its NACKs to the room leave in time.
void Mixer::watchFeedback(Room& room) {
  GstElement* rtpbin = gst_bin_get_by_name(GST_BIN(room.webrtc), "rtpbin");
  if (!rtpbin) return;
  GObject* session = nullptr;
  g_signal_emit_by_name(rtpbin, "get-internal-session", 0u, &session);
  gst_object_unref(rtpbin);
  if (!session) return;
  g_object_set(session, "rtcp-fraction", kLegRtcpBandwidthBps, nullptr);
  g_signal_connect_data(
      session, "on-sending-rtcp", G_CALLBACK(&Mixer::onSendingRtcp),
      new RtcpOut{room.uplink, room.direct},
      [](gpointer d, GClosure*) { delete static_cast<RtcpOut*>(d); }, GConnectFlags(0));
  if (g_signal_lookup("on-receiving-rtcp", G_OBJECT_TYPE(session)) != 0) {
    g_signal_connect_data(
        session, "on-receiving-rtcp", G_CALLBACK(&Mixer::onRtcp),
        new FeedbackProbe{weak_from_this(), strand_, room.id, room.videoSsrc, room.audioSsrc,
                          room.direct},
        [](gpointer d, GClosure*) { delete static_cast<FeedbackProbe*>(d); }, GConnectFlags(0));
  }
  g_object_unref(session);
}

// Adds to each compound packet we send the room a REMB (RTCP PSFB, application layer feedback
// "REMB"): its camera's bitrate limit, for every stream our report blocks cover; and a sender
// report for each stream sent directly, which the room's receiver reports then answer (LSR and
// DLSR: our round-trip time) and its browser lines the streams' clocks up with.
gboolean Mixer::onSendingRtcp(GObject*, GstBuffer* buffer, gboolean, gpointer data) {
  const auto* out = static_cast<RtcpOut*>(data);
  const int kbps = out->uplink->kbps;
  std::vector<DirectStream::Report> reports;
  {
    std::lock_guard lock(out->direct->mu);
    const gint64 nowUs = g_get_monotonic_time();
    for (const auto& direct : {out->direct->audio, out->direct->video}) {
      if (auto report = direct ? direct->report(nowUs) : std::nullopt) reports.push_back(*report);
    }
  }
  GstRTCPBuffer rtcp = GST_RTCP_BUFFER_INIT;
  if (!gst_rtcp_buffer_map(buffer, GST_MAP_READWRITE, &rtcp)) return FALSE;
  guint32 sender = 0;
  std::vector<guint32> streams;
  GstRTCPPacket packet;
  for (bool more = gst_rtcp_buffer_get_first_packet(&rtcp, &packet); more;
       more = gst_rtcp_packet_move_to_next(&packet)) {
    const GstRTCPType type = gst_rtcp_packet_get_type(&packet);
    if (type != GST_RTCP_TYPE_RR && type != GST_RTCP_TYPE_SR) continue;
    sender = type == GST_RTCP_TYPE_RR ? gst_rtcp_packet_rr_get_ssrc(&packet) : [&] {
      guint32 ssrc = 0;
      gst_rtcp_packet_sr_get_sender_info(&packet, &ssrc, nullptr, nullptr, nullptr, nullptr);
      return ssrc;
    }();
    for (guint i = 0; i < gst_rtcp_packet_get_rb_count(&packet) && streams.size() < 8; ++i) {
      guint32 ssrc = 0;
      gst_rtcp_packet_get_rb(&packet, i, &ssrc, nullptr, nullptr, nullptr, nullptr, nullptr,
                             nullptr);
      streams.push_back(ssrc);
    }
  }
  const guint64 ntp = ntpNow();
  for (const auto& r : reports) {
    if (!gst_rtcp_buffer_add_packet(&rtcp, GST_RTCP_TYPE_SR, &packet)) break;
    gst_rtcp_packet_sr_set_sender_info(&packet, r.ssrc, ntp, r.rtpTime, r.packets, r.octets);
  }
  if (!streams.empty() && gst_rtcp_buffer_add_packet(&rtcp, GST_RTCP_TYPE_PSFB, &packet)) {
    gst_rtcp_packet_fb_set_type(&packet, GST_RTCP_PSFB_TYPE_AFB);
    gst_rtcp_packet_fb_set_sender_ssrc(&packet, sender);
    gst_rtcp_packet_fb_set_media_ssrc(&packet, 0);
    if (gst_rtcp_packet_fb_set_fci_length(&packet, guint16(2 + streams.size()))) {
      guint8* fci = gst_rtcp_packet_fb_get_fci(&packet);
      std::uint64_t mantissa = std::uint64_t(kbps) * 1000;
      guint8 exponent = 0;
      while (mantissa > 0x3ffff) {
        mantissa >>= 1;
        ++exponent;
      }
      std::memcpy(fci, "REMB", 4);
      fci[4] = guint8(streams.size());
      fci[5] = guint8((exponent << 2) | ((mantissa >> 16) & 0x3));
      fci[6] = guint8((mantissa >> 8) & 0xff);
      fci[7] = guint8(mantissa & 0xff);
      for (std::size_t i = 0; i < streams.size(); ++i)
        GST_WRITE_UINT32_BE(fci + 8 + 4 * i, streams[i]);
    } else {
      gst_rtcp_packet_remove(&packet);
    }
  }
  gst_rtcp_buffer_unmap(&rtcp);
  return TRUE;
}

// Called per RTCP packet (about once a second per room, more while it loses packets). What is
// about the streams sent directly is handled here, not by webrtcbin (which never sent them):
// NACKed packets are resent at once from this thread, the rest is posted to the strand.
void Mixer::onRtcp(GObject*, GstBuffer* buffer, gpointer data) {
  auto* probe = static_cast<FeedbackProbe*>(data);
  std::shared_ptr<DirectStream> directVideo, directAudio;
  {
    std::lock_guard lock(probe->direct->mu);
    directVideo = probe->direct->video;
    directAudio = probe->direct->audio;
  }
  GstRTCPBuffer rtcp = GST_RTCP_BUFFER_INIT;
  if (!gst_rtcp_buffer_map(buffer, GST_MAP_READ, &rtcp)) return;
  Feedback feedback;
  const guint32 ntpMiddle = guint32(ntpNow() >> 16);
  GstRTCPPacket packet;
  for (bool more = gst_rtcp_buffer_get_first_packet(&rtcp, &packet); more;
       more = gst_rtcp_packet_move_to_next(&packet)) {
    const GstRTCPType type = gst_rtcp_packet_get_type(&packet);
    if (type == GST_RTCP_TYPE_RR || type == GST_RTCP_TYPE_SR) {
      for (guint i = 0; i < gst_rtcp_packet_get_rb_count(&packet); ++i) {
        guint32 ssrc = 0, highest = 0, jitter = 0, lsr = 0, dlsr = 0;
        guint8 fraction = 0;
        gint32 lost = 0;
        gst_rtcp_packet_get_rb(&packet, i, &ssrc, &fraction, &lost, &highest, &jitter, &lsr, &dlsr);
        if (ssrc == probe->videoSsrc) feedback.loss = fraction / 256.0;
        // RFC 3550 6.4.1: now - LSR - DLSR, in 1/65536 s, for a report of ours it received.
        const bool ours =
            (ssrc == probe->videoSsrc && directVideo) || (ssrc == probe->audioSsrc && directAudio);
        // A sample over 10 s is a corrupt report, not a link (seen once at 50 bench sites, whose
        // GStreamer sessions sometimes report a DLSR from before their last SR arrived).
        const guint32 rtt = ntpMiddle - lsr - dlsr;
        if (ours && lsr != 0 && rtt < kMaxRoundTrip) {
          feedback.roundTripMs = std::max(feedback.roundTripMs.value_or(0), rtt * 1000.0 / 65536);
        }
      }
    } else if (type == GST_RTCP_TYPE_PSFB) {
      const GstRTCPFBType fb = gst_rtcp_packet_fb_get_type(&packet);
      const guint8* fci = gst_rtcp_packet_fb_get_fci(&packet);
      const guint words = gst_rtcp_packet_fb_get_fci_length(&packet);
      if (fb == GST_RTCP_PSFB_TYPE_AFB) {
        // REMB: "REMB", SSRC count, 6-bit exponent and 18-bit mantissa of the bitrate.
        if (fci && words >= 2 && std::memcmp(fci, "REMB", 4) == 0) {
          const int exponent = fci[5] >> 2;
          const guint64 mantissa = (guint64(fci[5] & 3) << 16) | (guint64(fci[6]) << 8) | fci[7];
          feedback.estimateKbps = int(std::min<guint64>((mantissa << exponent) / 1000, G_MAXINT));
        }
      } else if (fb == GST_RTCP_PSFB_TYPE_PLI && directVideo &&
                 gst_rtcp_packet_fb_get_media_ssrc(&packet) == probe->videoSsrc) {
        ++feedback.keyframeRequests;
      } else if (fb == GST_RTCP_PSFB_TYPE_FIR && directVideo && fci) {
        // RFC 5104 4.3.1: entries of SSRC, sequence number and three reserved bytes.
        for (guint w = 0; w + 1 < words; w += 2) {
          if (GST_READ_UINT32_BE(fci + 4 * w) == probe->videoSsrc) ++feedback.keyframeRequests;
        }
      }
    } else if (type == GST_RTCP_TYPE_RTPFB && directVideo &&
               gst_rtcp_packet_fb_get_type(&packet) == GST_RTCP_RTPFB_TYPE_NACK &&
               gst_rtcp_packet_fb_get_media_ssrc(&packet) == probe->videoSsrc) {
      // RFC 4585 6.2.1: a lost packet's sequence number and a bitmask of the 16 after it.
      const guint8* fci = gst_rtcp_packet_fb_get_fci(&packet);
      const guint words = gst_rtcp_packet_fb_get_fci_length(&packet);
      for (guint w = 0; fci && w < words; ++w) {
        const guint16 first = GST_READ_UINT16_BE(fci + 4 * w);
        const guint16 more = GST_READ_UINT16_BE(fci + 4 * w + 2);
        directVideo->resend(first);
        for (int bit = 0; bit < 16; ++bit) {
          if (more & (1u << bit)) directVideo->resend(guint16(first + bit + 1));
        }
      }
    }
  }
  gst_rtcp_buffer_unmap(&rtcp);
  if (!feedback.loss && !feedback.estimateKbps && !feedback.roundTripMs &&
      feedback.keyframeRequests == 0) {
    return;
  }
  postWeak(probe->strand, probe->mixer,
           [id = probe->id, feedback](Mixer& m) { m.onFeedback(id, feedback); });
}

void Mixer::onFeedback(const core::ParticipantId& id, const Feedback& feedback) {
  Room* room = find(id);
  if (!room || !room->rungChoice) return;
  const std::optional<double>& loss = feedback.loss;
  const std::optional<int>& estimateKbps = feedback.estimateKbps;
  if (feedback.roundTripMs) room->roundTripMs = feedback.roundTripMs;
  if (feedback.keyframeRequests > 0) {
    room->keyframeRequests += feedback.keyframeRequests;
    if (room->videoRung >= 0) requestKeyframe(*rungs_[std::size_t(room->videoRung)]);
  }
  const gint64 nowUs = g_get_monotonic_time();
  const std::chrono::milliseconds now(nowUs / 1000);
  if (loss) {
    room->lossSince = std::max(room->lossSince, *loss);
    if (!room->lossWindowStartUs) room->lossWindowStartUs = nowUs;
    if (nowUs - *room->lossWindowStartUs >= kLossWindowUs) {
      room->lossForStats = std::max(room->lossForStats.value_or(0), room->lossSince);
      room->rungChoice->onLoss(room->lossSince, now);
      chooseFec(*room, room->lossSince);
      room->lossSince = 0;
      room->lossWindowStartUs.reset();
    }
  }
  if (estimateKbps) {
    room->estimateKbps = estimateKbps;
    room->rungChoice->onEstimate(*estimateKbps, now);
  }
  const int rung = room->rungChoice->update(now);
  if (rung != room->videoRung) routeVideo(*room, rung);
}

// A viewer's FEC follows its loss windows: on at one losing fecOnLossPercent or more, off after
// five clean ones (a FEC packet per group costs its link up to a quarter more).
void Mixer::chooseFec(Room& room, double windowLoss) {
  const int percent = config_.video.fecOnLossPercent;
  if (!room.fecNegotiated || percent == 0) return;
  std::shared_ptr<DirectStream> video;
  {
    std::lock_guard lock(room.direct->mu);
    video = room.direct->video;
  }
  if (!video) return;
  const bool was = video->fecOn();
  if (windowLoss * 100 >= percent) {
    room.fecCleanWindows = 0;
    video->setFec(true);
  } else if (was && ++room.fecCleanWindows >= 5) {
    video->setFec(false);
  }
  if (video->fecOn() != was) {
    GST_INFO("meeting=%s participant=%s FEC %s (window lost %.1f %%)", meeting_.c_str(),
             room.id.c_str(), was ? "off" : "on", windowLoss * 100);
  }
}

// ------------------------------------------------------------------------------ leg statistics

void Mixer::collectStats() {
  for (auto& [id, room] : rooms_) {
    if (!room->connected) continue;
    GstPromise* promise = gst_promise_new_with_change_func(
        &Mixer::onStats, new SignalContext{weak_from_this(), room}, &SignalContext::destroyPlain);
    g_signal_emit_by_name(room->webrtc, "get-stats", nullptr, promise);
  }
}

namespace {

// What one RTP source of the room (its session's gst-rtpsource-stats) adds to the leg's incoming
// figures; audio and video are told apart by the source's clock rate. Packets lost on the way in
// are what our own receiver reports count for the source (expected less received), not
// webrtcbin's "packets-lost": that one is the jitterbuffer's, which counts packets that came after
// their time to play (a busy machine) and is attached to every stream of the bundle.
void addReceived(const GstStructure* source, core::LegStats& out) {
  gboolean internal = FALSE;
  if (gst_structure_get_boolean(source, "internal", &internal) && internal) return;  // ours
  int clockRate = 0;
  gst_structure_get_int(source, "clock-rate", &clockRate);
  const bool audio = clockRate == 48000;
  guint64 u64 = 0;
  if (gst_structure_get_uint64(source, "octets-received", &u64)) {
    (audio ? out.audioBytesIn : out.videoBytesIn) += u64;
  }
  if (gst_structure_get_uint64(source, "packets-received", &u64)) out.packetsIn += u64;
  gboolean sentReport = FALSE;
  gint lost = 0;
  if (gst_structure_get_boolean(source, "sent-rb", &sentReport) && sentReport &&
      gst_structure_get_int(source, "sent-rb-packetslost", &lost) && lost > 0) {
    out.packetsLostIn += lost;
  }
  guint jitter = 0;
  if (audio && gst_structure_get_uint(source, "jitter", &jitter)) {
    out.jitterInMs = jitter * 1000.0 / clockRate;
  }
}

// Every RTP source the leg's one (bundled) RTP session knows. webrtcbin's get-stats lists only the
// sources in its own SSRC map: it drops one from the map when the session calls it no longer a
// sender (no packets for 5-10 s: a room whose mic stopped) and adds one only when the session
// meets a new source. A source that sends again before the session has forgotten it (its RTCP
// keeps it known) is never listed again, and the room's audio would look gone for the rest of the
// call, while the session counts it on.
std::unique_ptr<GstStructure, GstStructureFree> sessionStats(GstElement* webrtc) {
  GstElementRef rtpbin(gst_bin_get_by_name(GST_BIN(webrtc), "rtpbin"));
  if (!rtpbin) return nullptr;
  GObject* session = nullptr;
  g_signal_emit_by_name(rtpbin.get(), "get-internal-session", 0u, &session);
  if (!session) return nullptr;
  GstStructure* stats = nullptr;
  g_object_get(session, "stats", &stats, nullptr);
  g_object_unref(session);
  return std::unique_ptr<GstStructure, GstStructureFree>(stats);
}

// One leg's statistics as the core wants them: what it receives from the sources of its RTP
// session, the rest from webrtcbin's get-stats. webrtcbin 1.22 labels streams by the transceiver
// that carries the bundle, not by their own kind (hence the clock rates), and it swaps the
// local/remote candidate labels, so the room's candidate is found through the selected pair.
core::LegStats legStatsOf(const GstStructure* reply, const GstStructure* session) {
  core::LegStats out;
  // A GValueArray (deprecated in GLib, still what rtpsession's "stats" holds): read as a struct.
  const GValue* sources = session ? gst_structure_get_value(session, "source-stats") : nullptr;
  if (sources && g_strcmp0(G_VALUE_TYPE_NAME(sources), "GValueArray") == 0) {
    const auto* array = static_cast<const GValueArray*>(g_value_get_boxed(sources));
    for (guint i = 0; array && i < array->n_values; ++i) {
      const GValue* source = &array->values[i];
      if (GST_VALUE_HOLDS_STRUCTURE(source)) addReceived(gst_value_get_structure(source), out);
    }
  }
  std::map<std::string, std::string> candidateTypes;  // stats id -> candidate type
  std::string remoteCandidateId;
  const int n = gst_structure_n_fields(reply);
  for (int i = 0; i < n; ++i) {
    const GValue* value = gst_structure_get_value(reply, gst_structure_nth_field_name(reply, i));
    if (!value || !GST_VALUE_HOLDS_STRUCTURE(value)) continue;
    const GstStructure* st = gst_value_get_structure(value);
    const std::string type = gst_structure_get_name(st);
    guint64 u64 = 0;
    guint u = 0;
    double d = 0;
    if (type == "outbound-rtp") {
      if (gst_structure_get_uint64(st, "bytes-sent", &u64)) out.bytesOut += u64;
      if (gst_structure_get_uint(st, "pli-count", &u)) out.keyframeRequests += u;
      if (gst_structure_get_uint(st, "fir-count", &u)) out.keyframeRequests += u;
    } else if (type == "remote-inbound-rtp") {
      if (gst_structure_get_double(st, "round-trip-time", &d) && d > 0) {
        out.roundTripMs = std::max(out.roundTripMs.value_or(0), d * 1000.0);
      }
    } else if (type == "local-candidate" || type == "remote-candidate") {
      const gchar* id = gst_structure_get_string(st, "id");
      const gchar* kind = gst_structure_get_string(st, "candidate-type");
      if (id && kind) candidateTypes[id] = kind;
    } else if (type == "candidate-pair") {
      if (const gchar* id = gst_structure_get_string(st, "remote-candidate-id")) {
        remoteCandidateId = id;
      }
    }
  }
  if (auto it = candidateTypes.find(remoteCandidateId); it != candidateTypes.end()) {
    out.candidateType = it->second;
  }
  return out;
}

}  // namespace

void Mixer::onStats(GstPromise* promise, gpointer data) {
  GstPromiseRef owned(promise);
  auto [mixer, room] = SignalContext::lock(data);
  if (!mixer || !room || room->stopping) return;
  if (gst_promise_wait(promise) != GST_PROMISE_RESULT_REPLIED) return;
  const GstStructure* reply = gst_promise_get_reply(promise);
  if (!reply) return;
  core::LegStats stats = legStatsOf(reply, sessionStats(room->webrtc).get());
  mixer->postToStrand([id = room->id, stats = std::move(stats)](Mixer& m) mutable {
    Room* r = m.find(id);
    if (!r || !m.events_) return;
    // Its receiver reports as read for the rung choice: webrtcbin's own figure shows only the
    // last report block, and a peer sends one per SSRC of its own, the later ones empty.
    if (r->lossForStats) {
      stats.lossOutPercent = *r->lossForStats * 100.0;
      r->lossForStats.reset();
    }
    if (r->estimateKbps) stats.estimateKbps = double(*r->estimateKbps);
    for (const auto& direct : {r->direct->audio, r->direct->video}) {
      if (direct) stats.bytesOut += direct->bytesSent();
    }
    stats.keyframeRequests += r->keyframeRequests;
    if (r->roundTripMs)
      stats.roundTripMs = std::max(stats.roundTripMs.value_or(0), *r->roundTripMs);
    if (r->videoRung >= 0 && r->videoRung < int(m.rungs_.size())) {
      const Rung& rung = *m.rungs_[std::size_t(r->videoRung)];
      stats.rung = std::to_string(rung.width) + "x" + std::to_string(rung.height);
    }
    m.events_->onLegStats(id, stats);
  });
}

std::optional<int> Mixer::rungOf(const core::ParticipantId& id) const {
  auto it = rooms_.find(id);
  if (it == rooms_.end() || it->second->videoRung < 0) return std::nullopt;
  return it->second->videoRung;
}

std::vector<Mixer::RungStats> Mixer::rungStats() const {
  std::vector<RungStats> out;
  for (const auto& r : rungs_) out.push_back({r->width, r->height, r->viewers, r->bytes.load()});
  return out;
}

// ------------------------------------------------------------------------------- top-K audio

// K slot mixes and the shared one, built with the pipeline and running from its start: silence
// keeps each going while it has no talker. K + 1 Opus encoders per meeting, whoever listens.
void Mixer::buildMixes() {
  const int k = talkers_.policy().talkers;
  for (int i = 0; i <= k; ++i) {
    const std::string p = i < k ? "mix" + std::to_string(i) + "-" : std::string("mix-shared-");
    GstElement* silence = add("audiotestsrc", p + "silence");
    g_object_set(silence, "is-live", TRUE, "wave", 4 /* silence */, "samplesperbuffer", 960,
                 nullptr);
    GstElement* silenceCaps = add("capsfilter", p + "silence-caps");
    g_object_set(silenceCaps, "caps", capsFromString(kRawAudioCaps).get(), nullptr);
    Mix mix;
    mix.mixer = add("audiomixer", p + "audiomixer");
    // start-time-selection=first: with ignore-inactive-pads, an aggregate that ran before the
    // silence's first buffer found every pad inactive, took that for the end of the stream and
    // ended the mix for good (its listeners heard nothing, intermittently, from the start).
    // Starting at the first buffer means the silence pad is active from the first aggregate on.
    g_object_set(mix.mixer, "ignore-inactive-pads", TRUE, "min-upstream-latency",
                 aggregatorLatency(config_.audio.jitterBufferMs), "start-time-selection",
                 1 /* first */, nullptr);
    GstElement* mixCaps = add("capsfilter", p + "caps");
    g_object_set(mixCaps, "caps", capsFromString(kRawAudioCaps).get(), nullptr);
    GstElement* enc = add("opusenc", p + "opusenc");
    g_object_set(enc, "bitrate", config_.audio.bitrateKbps * 1000, "frame-size", 20, nullptr);
    // The mix's one send thread (every listener's payloader and webrtcbin run on it), so the
    // aggregator never waits on the sending. Three packets at most: a backlog left by a stall
    // would stay as latency (measured: 200 ms here added ~120 ms to every listener's mix).
    GstElement* send = add("queue", p + "send");
    g_object_set(send, "max-size-buffers", 0, "max-size-bytes", 0, "max-size-time",
                 guint64(60 * GST_MSECOND), "leaky", 2 /* downstream */, nullptr);
    mix.tee = add("tee", p + "tee");
    g_object_set(mix.tee, "allow-not-linked", TRUE, nullptr);
    // The mix packetised once for the listeners sent directly (DirectSend.hpp), on this same
    // send thread: the sink's handoff hands each packet to every one of them.
    GstElement* pay = add("rtpopuspay", p + "pay");
    g_object_set(pay, "pt", kAudioPayload, "auto-header-extension", FALSE, nullptr);
    GstElement* out = addFanoutSink(p + "direct", mix.fanout);
    if (!gst_element_link_many(silence, silenceCaps, mix.mixer, mixCaps, enc, send, mix.tee, pay,
                               out, nullptr)) {
      throw std::runtime_error("cannot link an audio mix");
    }
    mixes_.push_back(mix);
  }
}

void Mixer::onLevel(const core::ParticipantId& id, int level) {
  if (!find(id)) return;
  talkers_.onLevel(id, level, std::chrono::milliseconds(g_get_monotonic_time() / 1000));
  if (events_) events_->onAudioLevel(id, level);
  updateTalkers(false);
}

// Re-chooses the talkers (at most every kTalkerUpdateUs unless `now`) and moves legs of talkers
// that left once the shared mix is clear of them.
void Mixer::updateTalkers(bool now) {
  const gint64 t = g_get_monotonic_time();
  if (!now && t - lastTalkerUpdateUs_ < kTalkerUpdateUs) return;
  lastTalkerUpdateUs_ = t;
  for (const auto& change : talkers_.update(std::chrono::milliseconds(t / 1000))) {
    applyTalkerChange(change);
  }
  for (auto it = leavingTalkers_.begin(); it != leavingTalkers_.end();) {
    if (t - it->second < kLeaveDrainUs) {
      ++it;
      continue;
    }
    if (Room* room = find(it->first); room && !talkers_.slotOf(room->id)) {
      routeAudio(*room, sharedMix());
    }
    it = leavingTalkers_.erase(it);
  }
}

// The order is what keeps anyone from hearing themselves: a leaving talker's voice leaves every
// mix before its leg may move to the shared mix (later, drained); an arriving talker's leg moves
// to its own slot's mix (which leaves it out) before its voice enters any mix.
void Mixer::applyTalkerChange(const core::TalkerSelector::Change& change) {
  if (change.before) {
    unlinkAudioInputs(*change.before);
    if (Room* old = find(*change.before)) {
      old->gate->decode = false;
      leavingTalkers_[old->id] = g_get_monotonic_time();
    }
  }
  if (change.after) {
    if (Room* room = find(*change.after)) {
      leavingTalkers_.erase(room->id);
      routeAudio(*room, change.slot);
      room->gate->decode = true;
      linkTalkerInputs(*room, change.slot);
    }
  }
  GST_INFO("meeting=%s talker slot %d: %s -> %s", meeting_.c_str(), change.slot,
           change.before.value_or("-").c_str(), change.after.value_or("-").c_str());
}

// A talker's decoded voice into every mix but its own slot's.
void Mixer::linkTalkerInputs(Room& room, int slot) {
  GstElement* tee = room.teeOf(Stream::kAudio);
  if (!tee) return;  // its audio has not arrived yet: mediaReady() links it then
  for (int mix = 0; mix < int(mixes_.size()); ++mix) {
    if (mix == slot || audioBranches_.count({room.id, mix})) continue;
    // Numbered: the same room's branch into the same mix may still be parked (draining).
    audioBranches_[{room.id, mix}] = linkBranch(
        tee, mixes_[std::size_t(mix)].mixer, {},
        room.prefix + "to-mix" + std::to_string(mix) + "-" + std::to_string(++audioBranchSerial_));
  }
}

void Mixer::unlinkAudioInputs(const core::ParticipantId& id) {
  for (auto it = audioBranches_.lower_bound({id, 0});
       it != audioBranches_.end() && it->first.first == id;) {
    parkAudioBranch(std::move(it->second));
    it = audioBranches_.erase(it);
  }
}

// Hangs a connected room's audio leg on a mix's Opus tee. Its payloader stays, so the room's RTP
// stream (SSRC, sequence numbers, timestamps on the pipeline's clock) simply continues.
void Mixer::routeAudio(Room& room, int mix) {
  if (!room.secured || !room.audioSend) return;  // attachLeg() routes it once secured
  if (selfHearing_) mix = sharedMix();  // a test call: the mix with every talker, itself too
  if (const auto& direct = room.direct->audio) {
    if (room.audioMix == mix) return;
    if (room.audioMix >= 0) mixes_[std::size_t(room.audioMix)].fanout->remove(direct.get());
    mixes_[std::size_t(mix)].fanout->add(direct);
    GST_INFO("meeting=%s participant=%s hears mix %d (direct)", meeting_.c_str(), room.id.c_str(),
             mix);
    room.audioMix = mix;
    return;
  }
  Branch& leg = *room.audioSend;
  if (leg.teePad && room.audioMix == mix) return;
  releaseTeePad(leg.teePad);
  leg.teePad = adopt(gst_element_request_pad_simple(mixes_[std::size_t(mix)].tee, "src_%u"));
  const GstPadLinkReturn linked = gst_pad_link(
      leg.teePad.get(), adopt(gst_element_get_static_pad(leg.elements.front(), "sink")).get());
  GST_INFO("meeting=%s participant=%s hears mix %d (link %d)", meeting_.c_str(), room.id.c_str(),
           mix, int(linked));
  room.audioMix = mix;
}

std::size_t Mixer::directAudioListeners() const {
  std::size_t n = 0;
  for (const Mix& mix : mixes_) n += mix.fanout->size();
  return n;
}

std::vector<core::ParticipantId> Mixer::decodingAudio() const {
  std::vector<core::ParticipantId> out;
  for (const auto& [id, room] : rooms_) {
    if (!room->gate->levelExt || room->gate->decode) out.push_back(id);
  }
  return out;
}

void Mixer::setNotice(const std::string& text) {
  if (text.empty()) {
    g_object_set(notice_, "silent", TRUE, "text", "", nullptr);
  } else {
    g_object_set(notice_, "text", escapeMarkup(text).c_str(), "silent", FALSE, nullptr);
  }
  GST_INFO("meeting=%s notice %s", meeting_.c_str(), text.empty() ? "cleared" : "set");
}

// ------------------------------------------------------------------------------- layout

void Mixer::setLayout(const std::vector<core::TilePlacement>& tiles) {
  std::map<std::string, const core::TilePlacement*> bySource;
  for (const auto& t : tiles) bySource[t.participant] = &t;
  auto placementOf = [&](const std::string& source) -> const core::TilePlacement* {
    auto it = bySource.find(source);
    return it == bySource.end() ? nullptr : it->second;
  };
  for (auto& [id, room] : rooms_) {
    applyTile(*room, room->camera, placementOf(id));
    applyTile(*room, room->share, placementOf(core::shareSourceId(id)));
    room->uplink->kbps = uplinkKbpsFor(placementOf(id), placementOf(core::shareSourceId(id)));
  }
}

void Mixer::applyTile(Room& room, Source& source, const core::TilePlacement* placement) {
  if (!placement) {
    source.tile.reset();
    hideSource(source);
    return;
  }
  source.tile = placement->rect;
  source.label = placement->label;
  if (source.view)
    placeView(*source.view, source);
  else
    showSource(room, source);
}

// VP8 frames -> queue -> vp8dec -> videoconvert -> videoscale -> capsfilter(tile) ->
// textoverlay(name) -> compositor. A source is decoded here, only while shown: a room off screen
// costs no decoder. Scaling happens here, once, at tile size: the compositor only blends. A share
// is shown only while its frames arrive (a stale last frame would otherwise stay on screen).
void Mixer::showSource(Room& room, Source& source) {
  const Stream stream = room.streamOf(source);
  if (!source.tile || source.view || (stream == Stream::kShare && !room.sharing)) return;
  GstElement* tee = room.teeOf(stream);
  if (!tee) return;
  const std::string p = room.prefix + (stream == Stream::kShare ? "share-view" : "view");
  GstElement* dec = makeElement("vp8dec", p + "-dec");
  GstElement* convert = makeElement("videoconvert", p + "-convert");
  GstElement* scale = makeElement("videoscale", p + "-scale");
  GstElement* capsf = makeElement("capsfilter", p + "-caps");
  GstElement* overlay = makeElement("textoverlay", p + "-label");
  g_object_set(overlay, "valignment", 1 /* bottom */, "halignment", 0 /* left */,
               "shaded-background", TRUE, "auto-resize", FALSE, "wait-text", FALSE, nullptr);
  // Placed before the first frame flows, so the tile never shows at the wrong place or size.
  source.view =
      linkBranch(tee, compositor_, {dec, convert, scale, capsf, overlay}, p, [&](Branch& b) {
        // Encoded frames: a dropped one breaks the picture until the next
        // keyframe, so leave room for a slow moment before dropping.
        g_object_set(b.elements.front(), "max-size-time", guint64(0), "max-size-buffers", 8,
                     nullptr);
        placeView(b, source);
      });
  // The decoder starts at the room's next keyframe: ask the room for one now (webrtcbin turns the
  // request into an RTCP PLI) rather than wait for its periodic one. Until it comes, frames that
  // cannot be decoded are dropped before the queue, and the request is repeated every
  // kViewKeyframeRetryUs: a lost PLI or keyframe must not leave a still camera's tile blank for
  // good (a browser sends few keyframes of a picture that does not move).
  GstPadRef queueSink = adopt(gst_element_get_static_pad(source.view->elements.front(), "sink"));
  gst_pad_add_probe(queueSink.get(), GST_PAD_PROBE_TYPE_BUFFER, &Mixer::onViewFrame,
                    new gint64(g_get_monotonic_time()),
                    [](gpointer d) { delete static_cast<gint64*>(d); });
  gst_pad_push_event(queueSink.get(),
                     gst_video_event_new_upstream_force_key_unit(GST_CLOCK_TIME_NONE, TRUE, 0));
}

// Before a view's first keyframe (one probe per shown source, removed by that keyframe).
GstPadProbeReturn Mixer::onViewFrame(GstPad* pad, GstPadProbeInfo* info, gpointer data) {
  if (!GST_BUFFER_FLAG_IS_SET(GST_PAD_PROBE_INFO_BUFFER(info), GST_BUFFER_FLAG_DELTA_UNIT)) {
    return GST_PAD_PROBE_REMOVE;  // the keyframe passes; so does all that follows
  }
  auto* lastAskUs = static_cast<gint64*>(data);  // only this streaming thread touches it
  const gint64 now = g_get_monotonic_time();
  if (now - *lastAskUs >= kViewKeyframeRetryUs) {
    *lastAskUs = now;
    gst_pad_push_event(pad,
                       gst_video_event_new_upstream_force_key_unit(GST_CLOCK_TIME_NONE, TRUE, 0));
  }
  return GST_PAD_PROBE_DROP;
}

void Mixer::hideSource(Source& source) {
  if (source.view) unlinkBranch(*source.view);
  source.view.reset();
}

void Mixer::placeView(Branch& view, const Source& source) {
  const core::Rect& r = *source.tile;
  GstElement* capsf = view.elements[4];  // queue, vp8dec, videoconvert, videoscale, capsfilter
  GstElement* overlay = view.elements[5];
  g_object_set(capsf, "caps", capsFromString(videoCaps(r.width, r.height, 0)).get(), nullptr);
  const int fontPx = std::max(8, r.height / 14);
  const std::string font = config_.video.labelFont + " " + std::to_string(fontPx) + "px";
  g_object_set(overlay, "text", escapeMarkup(source.label).c_str(), "font-desc", font.c_str(),
               "xpad", std::max(2, r.width / 60), "ypad", std::max(2, r.height / 40), nullptr);
  g_object_set(view.sinkPad.get(), "xpos", r.x, "ypos", r.y, "width", r.width, "height", r.height,
               "zorder", 1u, nullptr);
}

std::size_t Mixer::directVideoViewers() const {
  std::size_t n = 0;
  for (const auto& rung : rungs_) n += rung->fanout->size();
  return n;
}

std::uint64_t Mixer::videoPacketsResent(const core::ParticipantId& id) const {
  auto it = rooms_.find(id);
  if (it == rooms_.end()) return 0;
  std::uint64_t n = it->second->direct->video ? it->second->direct->video->packetsResent() : 0;
  GstIterator* iter = gst_bin_iterate_recurse(GST_BIN(it->second->webrtc));
  GValue item = G_VALUE_INIT;
  while (gst_iterator_next(iter, &item) == GST_ITERATOR_OK) {
    auto* e = GST_ELEMENT(g_value_get_object(&item));
    GstElementFactory* f = gst_element_get_factory(e);
    if (f && std::strcmp(GST_OBJECT_NAME(f), "rtprtxsend") == 0) {
      guint resent = 0;
      g_object_get(e, "num-rtx-packets", &resent, nullptr);
      n += resent;
    }
    g_value_reset(&item);
  }
  g_value_unset(&item);
  gst_iterator_free(iter);
  return n;
}

// ------------------------------------------------------------------------------- teardown

void Mixer::removeRoom(const core::ParticipantId& id) {
  auto it = rooms_.find(id);
  if (it == rooms_.end()) return;
  std::shared_ptr<Room> room = it->second;
  room->stopping = true;
  std::vector<GstElement*> doomed;
  auto take = [&](Branch& b) {
    detachBranch(b);
    doomed.insert(doomed.end(), b.elements.begin(), b.elements.end());
  };
  leaveRung(*room);
  if (room->direct->audio && room->audioMix >= 0) {
    mixes_[std::size_t(room->audioMix)].fanout->remove(room->direct->audio.get());
  }
  for (std::optional<Branch>* b :
       {&room->audioSend, &room->videoSend, &room->camera.view, &room->share.view}) {
    if (*b) take(**b);
  }
  talkers_.removeRoom(id);
  leavingTalkers_.erase(id);
  for (auto b = audioBranches_.begin(); b != audioBranches_.end();) {
    if (b->first.first == id) {
      parkAudioBranch(std::move(b->second));  // its elements are the pipeline's, not the room's
      b = audioBranches_.erase(b);
    } else {
      ++b;
    }
  }
  // Stopping webrtcbin first unblocks the send queues pushing into it (a leg that never
  // connected blocks them), and waits for its streaming threads, so no pad-added handler is
  // still adding receive elements after this.
  releaseWebrtcPads(*room);
  removeElements({room->webrtc});
  {
    std::lock_guard lock(room->mu);
    doomed.insert(doomed.end(), room->recvElements.begin(), room->recvElements.end());
    room->recvElements.clear();
    room->audioTee = room->videoTee = room->shareTee = nullptr;
  }
  removeElements(doomed);
  rooms_.erase(it);
  updateTalkers(true);  // its slot, if it had one, goes to the next talker now
  GST_INFO("meeting=%s participant=%s room removed", meeting_.c_str(), id.c_str());
}

void Mixer::releaseWebrtcPads(Room& room) {
  for (GstPadRef* pad : {&room.audioSink, &room.videoSink}) {
    if (*pad) gst_element_release_request_pad(room.webrtc, pad->get());
    pad->reset();
  }
}

void Mixer::stop() {
  if (stopped_.exchange(true) || !pipeline_) return;
  stopWatch(shareWatch_);
  stopWatch(parkWatch_);
  for (auto& [id, room] : rooms_) room->stopping = true;
  // The aggregators stop first: releasing an audiomixer's sink pads one after another while its
  // thread aggregates crashed it now and then in GStreamer 1.22 (a released pad still visited:
  // "invalid unclassed pointer in cast to 'GstAudioMixerPad'", then an abort or a SIGSEGV; about
  // one meeting end in five in ChairingMediaTest.AChairMuted... under --gtest_repeat). Stopped,
  // they hold no thread, and their flushing pads also return any push blocked in them.
  std::vector<GstElement*> aggregators{compositor_};
  for (const Mix& mix : mixes_) aggregators.push_back(mix.mixer);
  for (GstElement* a : aggregators) {
    if (!a) continue;
    gst_element_set_locked_state(a, TRUE);
    gst_element_set_state(a, GST_STATE_NULL);
  }
  for (auto& [id, room] : rooms_) {
    for (std::optional<Branch>* b :
         {&room->audioSend, &room->videoSend, &room->camera.view, &room->share.view}) {
      if (*b) detachBranch(**b);
    }
  }
  for (auto& [key, b] : audioBranches_) detachBranch(b);
  for (auto& [due, b] : parked_) detachBranch(b);
  for (auto& [id, room] : rooms_) releaseWebrtcPads(*room);
  GstBusRef bus = adopt(gst_pipeline_get_bus(GST_PIPELINE(pipeline_.get())));
  gst_bus_set_sync_handler(bus.get(), nullptr, nullptr, nullptr);
  // Without the handler, messages posted while stopping would queue on the bus, each holding its
  // source element (the pipeline's own, a cycle): a flushing bus drops them as they come.
  gst_bus_set_flushing(bus.get(), TRUE);
  gst_element_set_state(pipeline_.get(), GST_STATE_NULL);
  audioBranches_.clear();
  parked_.clear();
  rooms_.clear();
  GST_INFO("meeting=%s mixer stopped", meeting_.c_str());
}

void Mixer::onWebrtcChild(GstBin*, GstElement* child, gpointer) {
  GstElementFactory* factory = gst_element_get_factory(child);
  if (factory && std::string_view(GST_OBJECT_NAME(factory)) == "clocksync") {
    g_object_set(child, "sync", FALSE, nullptr);
  }
}

// ------------------------------------------------------------------------------- bus

// A sync handler that returns GST_BUS_DROP owns the message and must unref it. A leaked message
// keeps a reference to its source element: every element that ever changed state (each room's
// webrtcbin with its pc and ice threads, sockets and buffers; the meeting's encoder) outlived it.
GstBusSyncReply Mixer::onBusMessage(GstBus*, GstMessage* message, gpointer data) {
  GstMessagePtr owned(message);
  auto* ctx = static_cast<SignalContext*>(data);
  auto mixer = ctx->mixer.lock();
  if (!mixer || mixer->stopped_) return GST_BUS_DROP;
  switch (GST_MESSAGE_TYPE(message)) {
    case GST_MESSAGE_ERROR: {
      GError* err = nullptr;
      gst_message_parse_error(message, &err, nullptr);
      std::string source = orEmpty(GST_MESSAGE_SRC_NAME(message));
      std::string text = err ? err->message : "pipeline error";
      if (err) g_error_free(err);
      GST_ERROR("meeting=%s source=%s error=%s", mixer->meeting_.c_str(), source.c_str(),
                text.c_str());
      mixer->postToStrand([source, text](Mixer& m) { m.pipelineError(source, text); });
      break;
    }
    // GST_MESSAGE_LATENCY is not answered with gst_bin_recalculate_latency(): every sink of the
    // meeting's pipeline is sync=false (each leg's nicesink, the mixes' fakesinks; checked by
    // iterating them), so the pipeline's latency configures nothing, and the aggregators query
    // their own. The recalculation queried every sink upstream through the shared tees and the
    // aggregators: measured 30-300 ms of the strand at 30-50 rooms and 0.3-1.9 s at 100, several
    // times per join, and a ramp to 100 sites fell behind the 15 s answer timeout.
    default:
      break;
  }
  return GST_BUS_DROP;
}

// An error inside one room's elements ends that room only; the meeting carries on.
void Mixer::pipelineError(const std::string& source, const std::string& message) {
  for (auto& [id, room] : rooms_) {
    if (source.rfind(room->prefix, 0) == 0) {
      if (events_) events_->onLegError(id, core::ErrorCode::kMediaFailed, message);
      return;
    }
  }
}

GstElement* makeElement(const char* factory, const std::string& name) {
  GstElement* e = gst_element_factory_make(factory, name.c_str());
  if (!e) throw std::runtime_error(std::string("missing GStreamer element: ") + factory);
  return e;
}

}  // namespace mcu::media
