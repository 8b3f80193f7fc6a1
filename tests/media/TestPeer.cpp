#include "tests/media/TestPeer.hpp"

#include <gst/app/gstappsink.h>
#include <gst/rtp/rtp.h>
#include <gst/sdp/sdp.h>
#include <gst/video/video.h>
#define GST_USE_UNSTABLE_API
#include <gst/webrtc/webrtc.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <stdexcept>

#include "tests/media/AnswerOffer.hpp"
#include "tests/media/LoopbackWebrtc.hpp"

namespace mcu::testing {

namespace {

constexpr std::size_t kAudioKeep = 48000;  // one second
// A tone this loud (of full scale) in a 10 ms block counts as heard (a talker sends 0.4).
constexpr double kToneHeardAmplitude = 0.05;
// The payload type of the server's screen-share m-line (media/Mixer.cpp): an answerer's pad must
// carry the offer's payload type to be matched to it.
constexpr int kSharePayload = 98;
// RTCP bandwidth (bit/s) of a peer that negotiated NACK: RTCP every few tens of milliseconds.
constexpr double kRtcpBandwidthBps = 100000;

GstElement* make(const char* factory, const std::string& name) {
  GstElement* e = gst_element_factory_make(factory, name.c_str());
  if (!e) throw std::runtime_error(std::string("missing element ") + factory);
  return e;
}

void linkOrThrow(GstElement* a, GstElement* b) {
  if (!gst_element_link(a, b)) {
    throw std::runtime_error(std::string("cannot link ") + GST_ELEMENT_NAME(a) + " to " +
                             GST_ELEMENT_NAME(b));
  }
}

// The id of the ssrc-audio-level extension in the offer's audio section, 0 if it has none.
int audioLevelExtId(const std::string& sdp) {
  const std::string uri = " urn:ietf:params:rtp-hdrext:ssrc-audio-level";
  const std::size_t audio = sdp.find("m=audio");
  if (audio == std::string::npos) return 0;
  const std::size_t end = sdp.find("\nm=", audio);
  for (std::size_t at = sdp.find("a=extmap:", audio); at != std::string::npos && at < end;
       at = sdp.find("a=extmap:", at + 1)) {
    const std::size_t eol = sdp.find_first_of("\r\n", at);
    const std::string line = sdp.substr(at, eol - at);
    if (line.size() > uri.size() && line.compare(line.size() - uri.size(), uri.size(), uri) == 0) {
      return std::atoi(line.c_str() + 9);
    }
  }
  return 0;
}

// The RTP marker bit is set on the last packet of a video frame.
gboolean countFrameEnd(GstBuffer** buffer, guint, gpointer frames) {
  std::uint8_t header[2];
  if (gst_buffer_extract(*buffer, 0, header, 2) == 2 && (header[1] & 0x80)) {
    ++*static_cast<std::atomic<int>*>(frames);
  }
  return TRUE;
}

}  // namespace

Rgb Frame::at(int x, int y) const {
  const std::size_t i = (std::size_t(y) * width + x) * 3;
  return Rgb{rgb[i], rgb[i + 1], rgb[i + 2]};
}

Rgb Frame::mean(int x, int y, int radius) const {
  long r = 0, g = 0, b = 0, n = 0;
  for (int yy = std::max(0, y - radius); yy <= std::min(height - 1, y + radius); ++yy) {
    for (int xx = std::max(0, x - radius); xx <= std::min(width - 1, x + radius); ++xx) {
      const Rgb p = at(xx, yy);
      r += p.r, g += p.g, b += p.b, ++n;
    }
  }
  if (n == 0) return {};
  return Rgb{int(r / n), int(g / n), int(b / n)};
}

bool Frame::writePpm(const std::string& path) const {
  FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) return false;
  std::fprintf(f, "P6\n%d %d\n255\n", width, height);
  std::fwrite(rgb.data(), 1, rgb.size(), f);
  return std::fclose(f) == 0;
}

double goertzelAmplitude(const std::vector<std::int16_t>& samples, double hz, double rate) {
  const double w = 2.0 * M_PI * hz / rate;
  const double coeff = 2.0 * std::cos(w);
  double s1 = 0, s2 = 0;
  for (std::int16_t v : samples) {
    const double s0 = v / 32768.0 + coeff * s1 - s2;
    s2 = s1;
    s1 = s0;
  }
  const double power = s1 * s1 + s2 * s2 - coeff * s1 * s2;
  return samples.empty() ? 0.0 : 2.0 * std::sqrt(std::max(0.0, power)) / samples.size();
}

TestPeer::TestPeer(std::string name, Options options, Callbacks callbacks)
    : name_(std::move(name)), options_(options), callbacks_(std::move(callbacks)) {
  sendBlocked_ = options_.sendBlocked;
}

TestPeer::~TestPeer() {
  stop();
}

void TestPeer::start() {
  pipeline_ = gst_pipeline_new(("peer-" + name_).c_str());
  webrtc_ = makeLoopbackWebrtcbin("webrtc");  // tests run on loopback only
  g_object_set(webrtc_, "latency", guint(options_.jitterLatencyMs), nullptr);
  gst_bin_add(GST_BIN(pipeline_), webrtc_);

  // Audio first, video second: the same order as the server's offer.
  GstElement* asrc = make("audiotestsrc", "asrc");
  g_object_set(asrc, "is-live", TRUE, "wave", 0 /* sine */, "freq", options_.toneHz, "volume",
               options_.toneVolume, "samplesperbuffer", 960, nullptr);
  tone_ = asrc;
  GstElement* aconv = make("audioconvert", "aconv");
  GstElement* acaps = make("capsfilter", "acaps");
  GstCaps* raw = gst_caps_from_string("audio/x-raw,format=S16LE,rate=48000,channels=1");
  g_object_set(acaps, "caps", raw, nullptr);
  gst_caps_unref(raw);
  GstElement* aenc = make("opusenc", "aenc");
  GstElement* apay = make("rtpopuspay", "apay");
  // Not auto-header-extension: it would enable the offer's ssrc-audio-level itself once the offer
  // is applied and change its caps mid-stream, which webrtcbin refuses (the level is written by
  // onAudioPacketOut instead).
  g_object_set(apay, "pt", 111, "auto-header-extension", FALSE, nullptr);
  if (options_.dtx) {
    g_object_set(aenc, "dtx", TRUE, nullptr);
    g_object_set(apay, "dtx", TRUE, nullptr);
  }
  GstElement* vsrc = make("videotestsrc", "vsrc");
  g_object_set(vsrc, "is-live", TRUE, "pattern", 17 /* solid-color */, "foreground-color",
               guint(0xff000000u | options_.colour), nullptr);
  GstElement* vcaps = make("capsfilter", "vcaps");
  GstCaps* caps = gst_caps_new_simple("video/x-raw", "width", G_TYPE_INT, options_.width, "height",
                                      G_TYPE_INT, options_.height, "framerate", GST_TYPE_FRACTION,
                                      options_.fps, 1, nullptr);
  g_object_set(vcaps, "caps", caps, nullptr);
  gst_caps_unref(caps);
  GstElement* vconv = make("videoconvert", "vconv");
  GstElement* venc = make("vp8enc", "venc");
  g_object_set(venc, "deadline", G_GINT64_CONSTANT(1), "cpu-used", 16, "target-bitrate", 200000,
               "keyframe-max-dist", options_.keyframeDistance, nullptr);
  GstElement* vpay = make("rtpvp8pay", "vpay");
  g_object_set(vpay, "pt", 96, nullptr);
  gst_bin_add_many(GST_BIN(pipeline_), asrc, aconv, acaps, aenc, apay, vsrc, vcaps, vconv, venc,
                   vpay, nullptr);
  linkOrThrow(asrc, aconv);
  linkOrThrow(aconv, acaps);
  linkOrThrow(acaps, aenc);
  if (options_.sendAudioLevel) {
    GstPad* mic = gst_element_get_static_pad(acaps, "src");
    gst_pad_add_probe(mic, GST_PAD_PROBE_TYPE_BUFFER, &TestPeer::onMicSamples, this, nullptr);
    gst_object_unref(mic);
    GstPad* out = gst_element_get_static_pad(apay, "src");
    gst_pad_add_probe(out, GST_PAD_PROBE_TYPE_BUFFER, &TestPeer::onAudioPacketOut, this, nullptr);
    gst_object_unref(out);
  }
  linkOrThrow(aenc, apay);
  linkOrThrow(apay, webrtc_);
  linkOrThrow(vsrc, vcaps);
  linkOrThrow(vcaps, vconv);
  linkOrThrow(vconv, venc);
  linkOrThrow(venc, vpay);
  GstPad* vencSrc = gst_element_get_static_pad(venc, "src");
  gst_pad_add_probe(vencSrc, GST_PAD_PROBE_TYPE_EVENT_UPSTREAM, &TestPeer::onKeyframeRequest, this,
                    nullptr);
  gst_object_unref(vencSrc);
  linkOrThrow(vpay, webrtc_);
  if (options_.nack) enableNack(vpay);
  if (options_.shareColour) buildShare(*options_.shareColour);

  g_signal_connect(webrtc_, "pad-added", G_CALLBACK(&TestPeer::onPadAdded), this);
  g_signal_connect(pipeline_, "deep-element-added", G_CALLBACK(&TestPeer::onElementAdded), this);
  g_signal_connect(webrtc_, "on-ice-candidate", G_CALLBACK(&TestPeer::onIceCandidate), this);
  if (gst_element_set_state(pipeline_, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE) {
    throw std::runtime_error("peer pipeline failed to start");
  }
}

// colour -> valve -> vp8enc -> rtpvp8pay(pt 98) -> webrtcbin's third sink pad, sendonly. The valve
// sits before the encoder, so closing and reopening it leaves a gap in time, never a missing
// reference frame at the receiver. The codec preferences let the answer match the m-line before
// any frame (and so any caps) has reached the pad.
void TestPeer::buildShare(std::uint32_t colour) {
  GstElement* src = make("videotestsrc", "share-src");
  g_object_set(src, "is-live", TRUE, "pattern", 17 /* solid-color */, "foreground-color",
               guint(0xff000000u | colour), nullptr);
  GstElement* caps = make("capsfilter", "share-caps");
  GstCaps* raw = gst_caps_new_simple("video/x-raw", "width", G_TYPE_INT, options_.shareWidth,
                                     "height", G_TYPE_INT, options_.shareHeight, "framerate",
                                     GST_TYPE_FRACTION, options_.fps, 1, nullptr);
  g_object_set(caps, "caps", raw, nullptr);
  gst_caps_unref(raw);
  shareValve_ = make("valve", "share-valve");
  g_object_set(shareValve_, "drop", TRUE, "drop-mode", 1 /* forward-sticky-events */, nullptr);
  GstElement* conv = make("videoconvert", "share-conv");
  GstElement* enc = make("vp8enc", "share-enc");
  g_object_set(enc, "deadline", G_GINT64_CONSTANT(1), "cpu-used", 16, "target-bitrate", 200000,
               "keyframe-max-dist", 30, nullptr);
  GstElement* pay = make("rtpvp8pay", "share-pay");
  g_object_set(pay, "pt", kSharePayload, nullptr);
  gst_bin_add_many(GST_BIN(pipeline_), src, caps, shareValve_, conv, enc, pay, nullptr);
  linkOrThrow(src, caps);
  linkOrThrow(caps, shareValve_);
  linkOrThrow(shareValve_, conv);
  linkOrThrow(conv, enc);
  linkOrThrow(enc, pay);
  GstPad* sink = gst_element_request_pad_simple(webrtc_, "sink_%u");
  GstPad* srcPad = gst_element_get_static_pad(pay, "src");
  const bool linked = gst_pad_link(srcPad, sink) == GST_PAD_LINK_OK;
  gst_object_unref(srcPad);
  GstWebRTCRTPTransceiver* trans = nullptr;
  g_object_get(sink, "transceiver", &trans, nullptr);
  gst_object_unref(sink);
  if (!linked || !trans) throw std::runtime_error("cannot link the share stream");
  GstCaps* prefs = gst_caps_from_string(
      ("application/x-rtp,media=video,encoding-name=VP8,clock-rate=90000,payload=" +
       std::to_string(kSharePayload))
          .c_str());
  g_object_set(trans, "direction", GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_SENDONLY,
               "codec-preferences", prefs, nullptr);
  gst_caps_unref(prefs);
  gst_object_unref(trans);
}

// The offer's m-line is matched to this pre-linked transceiver, whose do-nack puts NACK and an RTX
// payload in the answer (and asks webrtcbin to request and resend lost packets).
void TestPeer::enableNack(GstElement* videoPay) {
  GstPad* src = gst_element_get_static_pad(videoPay, "src");
  GstPad* sink = gst_pad_get_peer(src);
  gst_object_unref(src);
  GstWebRTCRTPTransceiver* trans = nullptr;
  if (sink) {
    g_object_get(sink, "transceiver", &trans, nullptr);
    gst_object_unref(sink);
  }
  if (!trans) throw std::runtime_error("no video transceiver");
  g_object_set(trans, "do-nack", TRUE, nullptr);
  gst_object_unref(trans);
}

// A browser sends its NACKs at once. GStreamer's RTP session holds feedback to the RFC 4585 budget
// of one early RTCP packet per regular interval, which at its default RTCP bandwidth (a share of an
// assumed 64 kbit/s) is about a second: most NACKs would leave after the packet's deadline. A
// larger RTCP bandwidth shortens the interval, so this peer's NACKs leave about as soon.
void TestPeer::shortenRtcpInterval() {
  if (GObject* session = internalSession()) {
    g_object_set(session, "rtcp-fraction", kRtcpBandwidthBps, nullptr);
    g_object_unref(session);
  }
}

// The bundle's RTP session inside webrtcbin (a reference), or null before it exists.
GObject* TestPeer::internalSession() const {
  GstElement* rtpbin = gst_bin_get_by_name(GST_BIN(webrtc_), "rtpbin");
  if (!rtpbin) return nullptr;
  GObject* session = nullptr;
  g_signal_emit_by_name(rtpbin, "get-internal-session", 0u, &session);
  gst_object_unref(rtpbin);
  return session;
}

void TestPeer::startShare() {
  if (shareValve_) g_object_set(shareValve_, "drop", FALSE, nullptr);
}

void TestPeer::stopShare() {
  if (shareValve_) g_object_set(shareValve_, "drop", TRUE, nullptr);
}

void TestPeer::setColour(std::uint32_t colour) {
  if (GstElement* vsrc = gst_bin_get_by_name(GST_BIN(pipeline_), "vsrc")) {
    g_object_set(vsrc, "foreground-color", guint(0xff000000u | colour), nullptr);
    gst_object_unref(vsrc);
  }
}

void TestPeer::setToneVolume(double volume) {
  if (tone_) g_object_set(tone_, "volume", volume, nullptr);
}

void TestPeer::stop() {
  if (!pipeline_) return;
  gst_element_set_state(pipeline_, GST_STATE_NULL);
  gst_object_unref(pipeline_);
  pipeline_ = nullptr;
  webrtc_ = nullptr;
  tone_ = nullptr;
  shareValve_ = nullptr;
}

// webrtcbin's nicesrc is made when the offer is applied: hook what it receives.
void TestPeer::onElementAdded(GstBin*, GstBin*, GstElement* element, gpointer data) {
  GstElementFactory* f = gst_element_get_factory(element);
  const std::string factory = f ? GST_OBJECT_NAME(f) : "";
  if (factory == "nicesink") {
    GstPad* sink = gst_element_get_static_pad(element, "sink");
    gst_pad_add_probe(sink, GST_PAD_PROBE_TYPE_BUFFER, &TestPeer::onSentPacket, data, nullptr);
    gst_object_unref(sink);
    return;
  }
  if (factory != "nicesrc") return;
  GstPad* src = gst_element_get_static_pad(element, "src");
  gst_pad_add_probe(src, GST_PAD_PROBE_TYPE_BUFFER, &TestPeer::onNetworkPacket, data, nullptr);
  gst_object_unref(src);
}

namespace {

// A small LCG: deterministic per peer, no locking, good enough to spread the drops.
bool lose(std::atomic<unsigned>& seed, double fraction) {
  if (fraction <= 0) return false;
  const unsigned next = seed * 1103515245u + 12345u;
  seed = next;
  return double((next >> 8) & 0xffff) / 65536.0 < fraction;
}

}  // namespace

GstPadProbeReturn TestPeer::onSentPacket(GstPad*, GstPadProbeInfo* info, gpointer data) {
  auto* self = static_cast<TestPeer*>(data);
  if (self->sendBlocked_ || lose(self->sendLossSeed_, self->sendLoss_)) return GST_PAD_PROBE_DROP;
  if (self->audioLost_) {
    // SRTP keeps the RTP header in the clear: version 2, not an RTCP type, the audio's SSRC.
    guint8 head[12] = {};
    if (gst_buffer_extract(GST_PAD_PROBE_INFO_BUFFER(info), 0, head, 12) == 12 &&
        (head[0] >> 6) == 2 && (head[1] < 200 || head[1] > 206) &&
        GST_READ_UINT32_BE(head + 8) == self->audioSsrc_) {
      return GST_PAD_PROBE_DROP;
    }
  }
  if (const int stallMs = self->sendStallMs_; stallMs > 0) {
    // Holding the sink's thread holds everything queued behind this packet too.
    const gint64 now = g_get_monotonic_time();
    if (now - self->lastStallUs_ >= 250'000) {
      g_usleep(gulong(stallMs) * 1000);
      self->lastStallUs_ = g_get_monotonic_time();
    }
  }
  return GST_PAD_PROBE_OK;
}

GstPadProbeReturn TestPeer::onNetworkPacket(GstPad*, GstPadProbeInfo* info, gpointer data) {
  auto* self = static_cast<TestPeer*>(data);
  if (const int delayMs = self->rtcpDelayMs_; delayMs > 0) {
    // SRTCP keeps the RTCP header in the clear: version 2, packet type 200..206.
    guint8 head[2] = {0, 0};
    GstBuffer* buffer = GST_PAD_PROBE_INFO_BUFFER(info);
    if (gst_buffer_extract(buffer, 0, head, 2) == 2 && (head[0] >> 6) == 2 && head[1] >= 200 &&
        head[1] <= 206) {
      g_usleep(gulong(delayMs) * 1000);
    }
  }
  return lose(self->lossSeed_, self->receiveLoss_) ? GST_PAD_PROBE_DROP : GST_PAD_PROBE_OK;
}

GstPadProbeReturn TestPeer::onKeyframeRequest(GstPad*, GstPadProbeInfo* info, gpointer data) {
  auto* self = static_cast<TestPeer*>(data);
  if (gst_video_event_is_force_key_unit(GST_PAD_PROBE_INFO_EVENT(info))) {
    // As if the request (a PLI) or the keyframe it brought were lost on the way.
    if (++self->keyframeRequests_ <= self->options_.ignoreKeyframeRequests) {
      return GST_PAD_PROBE_DROP;
    }
  }
  return GST_PAD_PROBE_OK;
}

// -dBov of the RMS of 20 ms of samples, as RFC 6464 carries it (0 loudest .. 127 silent).
GstPadProbeReturn TestPeer::onMicSamples(GstPad*, GstPadProbeInfo* info, gpointer data) {
  auto* self = static_cast<TestPeer*>(data);
  GstMapInfo map;
  GstBuffer* buffer = GST_PAD_PROBE_INFO_BUFFER(info);
  if (!gst_buffer_map(buffer, &map, GST_MAP_READ)) return GST_PAD_PROBE_OK;
  const auto* samples = reinterpret_cast<const std::int16_t*>(map.data);
  const std::size_t n = map.size / 2;
  double sum = 0;
  for (std::size_t i = 0; i < n; ++i) sum += double(samples[i]) * samples[i];
  gst_buffer_unmap(buffer, &map);
  const double meanSquare = n ? sum / double(n) / (32768.0 * 32768.0) : 0;
  self->micLevel_ =
      meanSquare <= 0 ? 127 : std::clamp(int(std::lround(-10 * std::log10(meanSquare))), 0, 127);
  return GST_PAD_PROBE_OK;
}

GstPadProbeReturn TestPeer::onAudioPacketOut(GstPad*, GstPadProbeInfo* info, gpointer data) {
  auto* self = static_cast<TestPeer*>(data);
  if (!self->audioSending_) return GST_PAD_PROBE_DROP;
  guint8 ssrc[4];
  if (gst_buffer_extract(GST_PAD_PROBE_INFO_BUFFER(info), 8, ssrc, 4) == 4) {
    self->audioSsrc_ = GST_READ_UINT32_BE(ssrc);
  }
  const int id = self->audioLevelExtId_;
  if (id <= 0 || id > 14) return GST_PAD_PROBE_OK;
  GstBuffer* buffer = gst_buffer_make_writable(GST_PAD_PROBE_INFO_BUFFER(info));
  GST_PAD_PROBE_INFO_DATA(info) = buffer;
  GstRTPBuffer rtp = GST_RTP_BUFFER_INIT;
  if (gst_rtp_buffer_map(buffer, GST_MAP_READWRITE, &rtp)) {
    const int level = self->micLevel_;
    const guint8 byte = guint8((level <= 50 ? 0x80 : 0) | level);  // V: voice activity
    gst_rtp_buffer_add_extension_onebyte_header(&rtp, guint8(id), &byte, 1);
    gst_rtp_buffer_unmap(&rtp);
  }
  return GST_PAD_PROBE_OK;
}

void TestPeer::handleOffer(const std::string& sdpText) {
  audioLevelExtId_ = audioLevelExtId(sdpText);
  {
    std::lock_guard lock(mu_);
    offer_ = sdpText;
  }
  answerOffer(webrtc_, sdpText, [this](std::optional<std::string> sdp) {
    if (sdp && callbacks_.answer) callbacks_.answer(*sdp);
  });
}

void TestPeer::addCandidate(int mline, const std::string& candidate) {
  if (webrtc_) g_signal_emit_by_name(webrtc_, "add-ice-candidate", guint(mline), candidate.c_str());
}

void TestPeer::onIceCandidate(GstElement*, guint mline, gchar* candidate, gpointer data) {
  auto* self = static_cast<TestPeer*>(data);
  if (self->callbacks_.candidate) self->callbacks_.candidate(int(mline), candidate);
}

void TestPeer::onPadAdded(GstElement*, GstPad* pad, gpointer data) {
  if (GST_PAD_DIRECTION(pad) == GST_PAD_SRC) static_cast<TestPeer*>(data)->linkIncoming(pad);
}

// The server's RTCP as its RTP session reads it (decrypted): the last REMB's bitrate.
void TestPeer::watchRemb() {
  if (GObject* session = internalSession()) {
    g_signal_connect(session, "on-receiving-rtcp", G_CALLBACK(&TestPeer::onRtcpIn), this);
    g_object_unref(session);
  }
}

void TestPeer::onRtcpIn(GObject*, GstBuffer* buffer, gpointer data) {
  auto* self = static_cast<TestPeer*>(data);
  GstRTCPBuffer rtcp = GST_RTCP_BUFFER_INIT;
  if (!gst_rtcp_buffer_map(buffer, GST_MAP_READ, &rtcp)) return;
  GstRTCPPacket packet;
  for (bool more = gst_rtcp_buffer_get_first_packet(&rtcp, &packet); more;
       more = gst_rtcp_packet_move_to_next(&packet)) {
    if (gst_rtcp_packet_get_type(&packet) != GST_RTCP_TYPE_PSFB ||
        gst_rtcp_packet_fb_get_type(&packet) != GST_RTCP_PSFB_TYPE_AFB ||
        gst_rtcp_packet_fb_get_fci_length(&packet) < 2) {
      continue;
    }
    const guint8* fci = gst_rtcp_packet_fb_get_fci(&packet);
    if (std::memcmp(fci, "REMB", 4) != 0) continue;
    const std::uint64_t mantissa =
        (std::uint64_t(fci[5] & 0x3) << 16) | (std::uint64_t(fci[6]) << 8) | fci[7];
    self->rembKbps_ = int((mantissa << (fci[5] >> 2)) / 1000);
  }
  gst_rtcp_buffer_unmap(&rtcp);
}

// Decode what the server sends into appsinks (RGB frames, 48 kHz mono samples).
void TestPeer::linkIncoming(GstPad* pad) {
  if (!rembWatched_.exchange(true)) watchRemb();
  GstCaps* caps = gst_pad_get_current_caps(pad);
  if (!caps) caps = gst_pad_query_caps(pad, nullptr);
  const char* kind = gst_structure_get_string(gst_caps_get_structure(caps, 0), "media");
  const std::string media = kind ? kind : "";
  gst_caps_unref(caps);
  if (media == "video" && !options_.decodeVideo) {
    linkVideoCounter(pad);
    return;
  }
  std::vector<GstElement*> chain;
  const std::string p = "in-" + media;
  if (media == "video") {
    chain = {make("rtpvp8depay", p + "-depay"), make("vp8dec", p + "-dec"),
             make("videoconvert", p + "-conv"), make("capsfilter", p + "-caps"),
             make("appsink", p + "-sink")};
    GstCaps* raw = gst_caps_from_string("video/x-raw,format=RGB");
    g_object_set(chain[3], "caps", raw, nullptr);
    gst_caps_unref(raw);
    g_signal_connect(chain[4], "new-sample", G_CALLBACK(&TestPeer::onVideoSample), this);
    if (options_.requestKeyframes) {
      g_object_set(chain[0], "request-keyframe", TRUE, "wait-for-keyframe", TRUE, nullptr);
      GstPad* depaySink = gst_element_get_static_pad(chain[0], "sink");
      gst_pad_add_probe(
          depaySink, GST_PAD_PROBE_TYPE_EVENT_UPSTREAM,
          [](GstPad*, GstPadProbeInfo* info, gpointer d) {
            if (gst_video_event_is_force_key_unit(GST_PAD_PROBE_INFO_EVENT(info))) {
              ++static_cast<TestPeer*>(d)->keyframeAsks_;
            }
            return GST_PAD_PROBE_OK;
          },
          this, nullptr);
      gst_object_unref(depaySink);
    }
    if (options_.nack) shortenRtcpInterval();
  } else {
    chain = {make("rtpopusdepay", p + "-depay"), make("opusdec", p + "-dec"),
             make("audioconvert", p + "-conv"),  make("audioresample", p + "-resample"),
             make("capsfilter", p + "-caps"),    make("appsink", p + "-sink")};
    GstCaps* raw = gst_caps_from_string("audio/x-raw,format=S16LE,rate=48000,channels=1");
    g_object_set(chain[4], "caps", raw, nullptr);
    gst_caps_unref(raw);
    g_signal_connect(chain[5], "new-sample", G_CALLBACK(&TestPeer::onAudioSample), this);
  }
  // async=false: a sink added to a playing pipeline must not send it back to prerolling.
  g_object_set(chain.back(), "emit-signals", TRUE, "sync", FALSE, "async", FALSE, "max-buffers", 2u,
               "drop", TRUE, nullptr);
  for (GstElement* e : chain) gst_bin_add(GST_BIN(pipeline_), e);
  for (std::size_t i = 0; i + 1 < chain.size(); ++i) gst_element_link(chain[i], chain[i + 1]);
  for (GstElement* e : chain) gst_element_sync_state_with_parent(e);
  GstPad* sink = gst_element_get_static_pad(chain.front(), "sink");
  gst_pad_link(pad, sink);
  gst_object_unref(sink);
}

// Cheap load: count the composite's frames without depacketising or decoding them.
void TestPeer::linkVideoCounter(GstPad* pad) {
  GstElement* sink = make("fakesink", "in-video-discard");
  g_object_set(sink, "sync", FALSE, "async", FALSE, nullptr);
  gst_bin_add(GST_BIN(pipeline_), sink);
  gst_element_sync_state_with_parent(sink);
  GstPad* sinkPad = gst_element_get_static_pad(sink, "sink");
  gst_pad_add_probe(sinkPad,
                    GstPadProbeType(GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_BUFFER_LIST),
                    &TestPeer::onVideoPacket, this, nullptr);
  gst_pad_link(pad, sinkPad);
  gst_object_unref(sinkPad);
}

GstPadProbeReturn TestPeer::onVideoPacket(GstPad*, GstPadProbeInfo* info, gpointer data) {
  auto* self = static_cast<TestPeer*>(data);
  if (info->type & GST_PAD_PROBE_TYPE_BUFFER) {
    GstBuffer* buffer = GST_PAD_PROBE_INFO_BUFFER(info);
    countFrameEnd(&buffer, 0, &self->frames_);
  } else if (info->type & GST_PAD_PROBE_TYPE_BUFFER_LIST) {
    gst_buffer_list_foreach(GST_PAD_PROBE_INFO_BUFFER_LIST(info), &countFrameEnd, &self->frames_);
  }
  return GST_PAD_PROBE_OK;
}

GstFlowReturn TestPeer::onVideoSample(GstElement* sink, gpointer data) {
  auto* self = static_cast<TestPeer*>(data);
  GstSample* sample = gst_app_sink_pull_sample(GST_APP_SINK(sink));
  if (!sample) return GST_FLOW_OK;
  const GstStructure* s = gst_caps_get_structure(gst_sample_get_caps(sample), 0);
  Frame f;
  gst_structure_get_int(s, "width", &f.width);
  gst_structure_get_int(s, "height", &f.height);
  GstMapInfo map;
  GstBuffer* buf = gst_sample_get_buffer(sample);
  if (gst_buffer_map(buf, &map, GST_MAP_READ)) {
    // RGB rows are padded to 4 bytes in GStreamer; repack to a tight stride.
    const std::size_t stride = (std::size_t(f.width) * 3 + 3) & ~std::size_t(3);
    const std::size_t row = std::size_t(f.width) * 3;
    if (f.height > 0 && map.size >= stride * (f.height - 1) + row) {
      f.rgb.resize(row * f.height);
      for (int y = 0; y < f.height; ++y) {
        std::copy_n(map.data + y * stride, row, f.rgb.data() + y * row);
      }
    }
    gst_buffer_unmap(buf, &map);
    std::lock_guard lock(self->mu_);
    self->frame_ = std::move(f);
  }
  gst_sample_unref(sample);
  ++self->frames_;
  self->frameArrived();
  return GST_FLOW_OK;
}

void TestPeer::frameArrived() {
  const std::int64_t now = g_get_monotonic_time();
  const std::int64_t last = lastFrameUs_.exchange(now);
  if (last == 0) return;
  std::int64_t longest = longestGapUs_.load();
  while (now - last > longest && !longestGapUs_.compare_exchange_weak(longest, now - last)) {
  }
}

GstFlowReturn TestPeer::onAudioSample(GstElement* sink, gpointer data) {
  auto* self = static_cast<TestPeer*>(data);
  GstSample* sample = gst_app_sink_pull_sample(GST_APP_SINK(sink));
  if (!sample) return GST_FLOW_OK;
  GstMapInfo map;
  GstBuffer* buf = gst_sample_get_buffer(sample);
  if (gst_buffer_map(buf, &map, GST_MAP_READ)) {
    const auto* v = reinterpret_cast<const std::int16_t*>(map.data);
    const std::size_t n = map.size / 2;
    std::lock_guard lock(self->mu_);
    self->audio_.insert(self->audio_.end(), v, v + n);
    while (self->audio_.size() > kAudioKeep) self->audio_.pop_front();
    self->audioSamples_ += n;
    if (self->options_.listenHz > 0) {
      constexpr std::size_t kBlock = 480;  // 10 ms
      for (std::size_t i = 0; i < n; ++i) {
        self->listenBlock_.push_back(v[i]);
        if (self->listenBlock_.size() < kBlock) continue;
        if (goertzelAmplitude(self->listenBlock_, self->options_.listenHz) > kToneHeardAmplitude)
          self->toneHeardMs_ += 10;
        self->listenBlock_.clear();
      }
    }
    gst_buffer_unmap(buf, &map);
  }
  gst_sample_unref(sample);
  return GST_FLOW_OK;
}

namespace {

guint uintProperty(GstElement* e, const char* name) {
  guint v = 0;
  g_object_get(e, name, &v, nullptr);
  return v;
}

}  // namespace

TestPeer::RepairStats TestPeer::repairStats() const {
  RepairStats out;
  out.keyframeAsks = keyframeAsks_;
  if (!webrtc_) return out;
  GstIterator* it = gst_bin_iterate_recurse(GST_BIN(webrtc_));
  GValue item = G_VALUE_INIT;
  while (gst_iterator_next(it, &item) == GST_ITERATOR_OK) {
    auto* e = GST_ELEMENT(g_value_get_object(&item));
    GstElementFactory* f = gst_element_get_factory(e);
    const std::string factory = f ? GST_OBJECT_NAME(f) : "";
    if (factory == "rtprtxsend") {
      out.retransmitted += int(uintProperty(e, "num-rtx-packets"));
    } else if (factory == "rtprtxreceive") {
      out.repaired += int(uintProperty(e, "num-rtx-assoc-packets"));
    }
    g_value_reset(&item);
  }
  g_value_unset(&item);
  gst_iterator_free(it);
  return out;
}

std::optional<Frame> TestPeer::lastFrame() const {
  std::lock_guard lock(mu_);
  return frame_;
}

std::optional<double> TestPeer::toneLevel(double hz, int windowMs) const {
  const std::size_t n = std::size_t(48) * windowMs;
  std::vector<std::int16_t> window;
  {
    std::lock_guard lock(mu_);
    if (audio_.size() < n) return std::nullopt;
    window.assign(audio_.end() - n, audio_.end());
  }
  return goertzelAmplitude(window, hz);
}

}  // namespace mcu::testing
