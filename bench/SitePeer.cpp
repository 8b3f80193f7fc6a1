#include "bench/SitePeer.hpp"

#include <gst/app/gstappsink.h>
#include <gst/rtp/gstrtpbuffer.h>
#include <gst/sdp/sdp.h>
#include <gst/video/video.h>
#define GST_USE_UNSTABLE_API
#include <gst/webrtc/webrtc.h>

#include <algorithm>
#include <cmath>
#include <regex>
#include <stdexcept>

#include "tests/media/AnswerOffer.hpp"
#include "tests/media/LoopbackWebrtc.hpp"

namespace mcu::bench {

namespace {

const char* kAudioLevelUri = "urn:ietf:params:rtp-hdrext:ssrc-audio-level";
// The server's offer (media/Mixer.cpp): Opus 111 on the first m-line, VP8 96 on the second.
const char* kOpusRtpCaps =
    "application/x-rtp,media=audio,encoding-name=OPUS,payload=111,clock-rate=48000,"
    "encoding-params=(string)2";
const char* kVp8RtpCaps =
    "application/x-rtp,media=video,encoding-name=VP8,payload=96,clock-rate=90000";
constexpr int kAudioPayload = 111;
constexpr int kVideoPayload = 96;
constexpr double kToneAmplitude = 0.1;  // a steady talker, -23 dBov RMS
constexpr double kClickGain = 6;        // the click: 0.6 of full scale
constexpr int kLoudBuffers = 5;         // 100 ms of 20 ms buffers
constexpr double kFlashSeconds = 0.3;
constexpr int kClickThreshold = int(0.3 * 32768);     // between the tone's and the click's peaks
constexpr std::size_t kClickDeadSamples = 48000 / 2;  // one click is one onset

// RFC 6464 level (-dBov, 0 loudest .. 127 silent) of 16-bit samples.
int audioLevel(const std::int16_t* s, std::size_t n) {
  double sum = 0;
  for (std::size_t i = 0; i < n; ++i) sum += double(s[i]) * s[i];
  const double rms = n ? std::sqrt(sum / n) / 32768.0 : 0;
  if (rms <= 0) return 127;
  return std::clamp(int(std::lround(-20 * std::log10(rms))), 0, 127);
}

// webrtcbin 1.22 as an answerer leaves out header extensions its own caps do not carry; the
// room page's browser would accept the server's audio-level extension, so the answer says so.
std::string withAudioLevelExtmap(const std::string& sdp, int id) {
  if (sdp.find(kAudioLevelUri) != std::string::npos) return sdp;
  const auto audio = sdp.find("m=audio");
  if (audio == std::string::npos) return sdp;
  const auto firstAttribute = sdp.find("\r\na=", audio);
  if (firstAttribute == std::string::npos) return sdp;
  return sdp.substr(0, firstAttribute + 2) + "a=extmap:" + std::to_string(id) + " " +
         kAudioLevelUri + "\r\n" + sdp.substr(firstAttribute + 2);
}

// The id of the audio-level extension on the offer's audio m-line, 0 if it has none.
int audioLevelExtension(const std::string& sdp) {
  const auto audio = sdp.find("m=audio");
  if (audio == std::string::npos) return 0;
  const auto next = sdp.find("\nm=", audio);
  const std::string section = sdp.substr(audio, next == std::string::npos ? next : next - audio);
  static const std::regex extmap(
      R"(a=extmap:(\d+)(/\w+)? urn:ietf:params:rtp-hdrext:ssrc-audio-level)");
  std::smatch m;
  return std::regex_search(section, m, extmap) ? std::stoi(m[1]) : 0;
}

// Lets a shared tee's allocation query stop at a site's payloader instead of travelling into the
// webrtcbin (which could hold it).
GstPadProbeReturn answerAllocation(GstPad*, GstPadProbeInfo* info, gpointer) {
  GstQuery* query = GST_PAD_PROBE_INFO_QUERY(info);
  return GST_QUERY_TYPE(query) == GST_QUERY_ALLOCATION ? GST_PAD_PROBE_HANDLED : GST_PAD_PROBE_OK;
}

void forEachBuffer(GstPadProbeInfo* info, const std::function<void(GstBuffer*)>& f) {
  if (info->type & GST_PAD_PROBE_TYPE_BUFFER) {
    f(GST_PAD_PROBE_INFO_BUFFER(info));
  } else if (info->type & GST_PAD_PROBE_TYPE_BUFFER_LIST) {
    GstBufferList* list = GST_PAD_PROBE_INFO_BUFFER_LIST(info);
    for (guint i = 0; i < gst_buffer_list_length(list); ++i) f(gst_buffer_list_get(list, i));
  }
}

Clock::time_point fromRep(Clock::rep r) {
  return Clock::time_point(Clock::duration(r));
}

}  // namespace

// ------------------------------------------------------------------------------ ArrivalLog

void ArrivalLog::add(GstClockTime pts, Clock::time_point at) {
  if (!GST_CLOCK_TIME_IS_VALID(pts)) return;
  std::lock_guard lock(mu_);
  auto& last = entries_[(next_ + kSize - 1) % kSize];
  if (next_ > 0 && last.first == pts) {
    last.second = at;
    return;
  }
  entries_[next_ % kSize] = {pts, at};
  ++next_;
}

std::optional<Clock::time_point> ArrivalLog::find(GstClockTime pts, GstClockTime tolerance) const {
  if (!GST_CLOCK_TIME_IS_VALID(pts)) return std::nullopt;
  std::lock_guard lock(mu_);
  std::optional<Clock::time_point> best;
  GstClockTime bestDistance = tolerance + 1;
  for (std::size_t i = 0; i < std::min(next_, kSize); ++i) {
    const auto& [when, at] = entries_[i];
    const GstClockTime distance = when > pts ? when - pts : pts - when;
    if (distance < bestDistance) {
      bestDistance = distance;
      best = at;
    }
  }
  return best;
}

// ------------------------------------------------------------------------------ FlashDetector

bool FlashDetector::onFrame(const std::uint8_t* y, int stride, int width, int height) {
  std::array<std::uint8_t, kGrid * kGrid> now{};
  const int bw = width / kGrid, bh = height / kGrid;
  if (bw < 2 || bh < 2) return false;
  for (int by = 0; by < kGrid; ++by) {
    for (int bx = 0; bx < kGrid; ++bx) {
      unsigned sum = 0, n = 0;
      for (int yy = by * bh; yy < (by + 1) * bh; yy += 2) {
        const std::uint8_t* row = y + std::size_t(yy) * stride;
        for (int xx = bx * bw; xx < (bx + 1) * bw; xx += 2, ++n) sum += row[xx];
      }
      now[by * kGrid + bx] = std::uint8_t(sum / n);
    }
  }
  int flashed = 0;
  if (frames_ >= kHistory) {
    for (int b = 0; b < kGrid * kGrid; ++b) {
      std::uint8_t darkest = 255;
      for (const auto& h : history_) darkest = std::min(darkest, h[b]);
      if (darkest < 60 && now[b] > 150) ++flashed;
    }
  }
  history_[frames_ % kHistory] = now;
  ++frames_;
  ++quietFrames_;
  // Two blocks: a whole tile is at least 2x2 blocks of the 20x20 grid up to a 5x5 layout.
  if (flashed < 2 || quietFrames_ < kHistory * 2) return false;
  quietFrames_ = 0;
  return true;
}

// ------------------------------------------------------------------------------ SitePeer

SitePeer::SitePeer(SharedMedia& shared, Options options, Callbacks callbacks)
    : shared_(shared), options_(std::move(options)), callbacks_(std::move(callbacks)) {
  if (options_.detect) options_.decode = true;
}

SitePeer::~SitePeer() {
  stop();
}

void SitePeer::start() {
  bin_ = gst_bin_new(("site-" + options_.name).c_str());
  webrtc_ = testing::makeLoopbackWebrtcbin("site-webrtc", options_.localAddress);
  gst_bin_add(GST_BIN(bin_), webrtc_);
  if (options_.lightReceive && !options_.decode) {
    g_signal_connect(bin_, "deep-element-added", G_CALLBACK(&SitePeer::onElementAdded), this);
    GstIterator* it = gst_bin_iterate_recurse(GST_BIN(webrtc_));  // any made already
    GValue item = G_VALUE_INIT;
    while (gst_iterator_next(it, &item) == GST_ITERATOR_OK) {
      onElementAdded(nullptr, nullptr, GST_ELEMENT(g_value_get_object(&item)), this);
      g_value_reset(&item);
    }
    g_value_unset(&item);
    gst_iterator_free(it);
  }

  addSendChains();
  g_signal_connect(webrtc_, "pad-added", G_CALLBACK(&SitePeer::onPadAdded), this);
  g_signal_connect(webrtc_, "on-ice-candidate", G_CALLBACK(&SitePeer::onIceCandidate), this);
  g_signal_connect(webrtc_, "notify::connection-state", G_CALLBACK(&SitePeer::onConnectionState),
                   this);
  gst_bin_add(GST_BIN(shared_.pipeline()), bin_);
  if (!gst_element_sync_state_with_parent(bin_)) throw std::runtime_error("site failed to start");
}

// Audio first, video second: the server's offer order. An explicit SSRC in the codec preferences
// puts it in the answer, as a browser's a=ssrc lines.
void SitePeer::addSendChains() {
  audioPay_ = makeElement("rtpopuspay");
  videoPay_ = makeElement("rtpvp8pay");
  const guint audioSsrc = g_random_int(), videoSsrc = g_random_int();
  // The level extension is written by hand after the payloader; left to itself the payloader would
  // enable it once the offer is applied and change its caps, which webrtcbin refuses.
  g_object_set(audioPay_, "pt", 111, "ssrc", audioSsrc, "auto-header-extension", FALSE, nullptr);
  g_object_set(videoPay_, "pt", 96, "ssrc", videoSsrc, "picture-id-mode", 2 /* 15-bit */, nullptr);
  gst_bin_add_many(GST_BIN(bin_), audioPay_, videoPay_, nullptr);
  if (options_.source == Source::kProbe) {
    linkOrThrow(addProbeAudio(), audioPay_);
    linkOrThrow(addProbeVideo(), videoPay_);
  }
  GstPad* frames = gst_element_get_static_pad(videoPay_, "sink");
  gst_pad_add_probe(frames, GST_PAD_PROBE_TYPE_BUFFER, &SitePeer::onVideoToSend, this, nullptr);
  gst_object_unref(frames);
  GstPad* sent = gst_element_get_static_pad(audioPay_, "src");
  gst_pad_add_probe(sent,
                    GstPadProbeType(GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_BUFFER_LIST),
                    &SitePeer::onAudioSent, this, nullptr);
  gst_object_unref(sent);
  linkToWebrtc(audioPay_, std::string(kOpusRtpCaps) + ",ssrc=(uint)" + std::to_string(audioSsrc));
  linkToWebrtc(videoPay_, std::string(kVp8RtpCaps) + ",ssrc=(uint)" + std::to_string(videoSsrc));
}

void SitePeer::linkToWebrtc(GstElement* payloader, const std::string& rtpCaps) {
  GstPad* sink = gst_element_request_pad_simple(webrtc_, "sink_%u");
  GstPad* src = gst_element_get_static_pad(payloader, "src");
  const bool linked = gst_pad_link(src, sink) == GST_PAD_LINK_OK;
  gst_object_unref(src);
  GstWebRTCRTPTransceiver* trans = nullptr;
  g_object_get(sink, "transceiver", &trans, nullptr);
  gst_object_unref(sink);
  if (!linked || !trans) throw std::runtime_error("cannot link a payloader to webrtcbin");
  GstCaps* prefs = gst_caps_from_string(rtpCaps.c_str());
  g_object_set(trans, "direction", GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_SENDRECV,
               "codec-preferences", prefs, nullptr);
  gst_caps_unref(prefs);
  gst_object_unref(trans);
}

// black picture -> (flash probe) -> vp8enc: the probe's own encoder, 300 ms white on request.
GstElement* SitePeer::addProbeVideo() {
  const SharedMedia::Options& o = shared_.options();
  GstElement* src = makeElement("videotestsrc");
  g_object_set(src, "is-live", TRUE, "pattern", 2 /* black */, nullptr);
  GstElement* caps = makeElement("capsfilter");
  setCaps(caps, "video/x-raw,format=I420,width=" + std::to_string(o.width) + ",height=" +
                    std::to_string(o.height) + ",framerate=" + std::to_string(o.fps) + "/1");
  GstElement* enc = makeElement("vp8enc");
  g_object_set(enc, "deadline", G_GINT64_CONSTANT(1), "cpu-used", 16, "end-usage", 1,
               "target-bitrate", o.videoKbps * 1000, "keyframe-max-dist",
               std::max(1, o.keyframeIntervalMs * o.fps / 1000), "lag-in-frames", 0,
               "error-resilient", 1, nullptr);
  gst_bin_add_many(GST_BIN(bin_), src, caps, enc, nullptr);
  linkOrThrow(src, caps);
  linkOrThrow(caps, enc);
  GstPad* pad = gst_element_get_static_pad(caps, "src");
  gst_pad_add_probe(pad, GST_PAD_PROBE_TYPE_BUFFER, &SitePeer::onProbePicture, this, nullptr);
  gst_object_unref(pad);
  pad = gst_element_get_static_pad(enc, "src");
  gst_pad_add_probe(pad, GST_PAD_PROBE_TYPE_BUFFER, &SitePeer::onProbeEncodedPicture, this,
                    nullptr);
  gst_object_unref(pad);
  return enc;
}

// steady tone -> (click probe, level) -> opusenc: a talker the server keeps in its mix.
GstElement* SitePeer::addProbeAudio() {
  GstElement* src = makeElement("audiotestsrc");
  g_object_set(src, "is-live", TRUE, "wave", 0 /* sine */, "freq", 440.0, "volume", kToneAmplitude,
               "samplesperbuffer", 960, nullptr);
  GstElement* caps = makeElement("capsfilter");
  setCaps(caps, "audio/x-raw,format=S16LE,rate=48000,channels=1");
  GstElement* enc = makeElement("opusenc");
  g_object_set(enc, "bitrate", 32000, "frame-size", 20, nullptr);
  gst_bin_add_many(GST_BIN(bin_), src, caps, enc, nullptr);
  linkOrThrow(src, caps);
  linkOrThrow(caps, enc);
  GstPad* pad = gst_element_get_static_pad(caps, "src");
  gst_pad_add_probe(pad, GST_PAD_PROBE_TYPE_BUFFER, &SitePeer::onProbeSound, this, nullptr);
  gst_object_unref(pad);
  pad = gst_element_get_static_pad(enc, "src");
  gst_pad_add_probe(pad, GST_PAD_PROBE_TYPE_BUFFER, &SitePeer::onProbeEncodedSound, this, nullptr);
  gst_object_unref(pad);
  return enc;
}

GstPadProbeReturn SitePeer::onProbePicture(GstPad*, GstPadProbeInfo* info, gpointer data) {
  auto* self = static_cast<SitePeer*>(data);
  if (self->flashRequested_.exchange(false)) {
    self->whiteFramesLeft_ = std::max(1, int(kFlashSeconds * self->shared_.options().fps));
    self->flashesSent_.add(Clock::now());
    self->flashPts_ = GST_BUFFER_PTS(GST_PAD_PROBE_INFO_BUFFER(info));
  }
  if (self->whiteFramesLeft_ == 0) return GST_PAD_PROBE_OK;
  --self->whiteFramesLeft_;
  GstBuffer* buffer = gst_buffer_make_writable(GST_PAD_PROBE_INFO_BUFFER(info));
  GST_PAD_PROBE_INFO_DATA(info) = buffer;
  const SharedMedia::Options& o = self->shared_.options();
  GstVideoInfo vinfo;
  gst_video_info_set_format(&vinfo, GST_VIDEO_FORMAT_I420, o.width, o.height);
  GstVideoFrame frame;
  if (gst_video_frame_map(&frame, &vinfo, buffer, GST_MAP_WRITE)) {
    auto* y = static_cast<std::uint8_t*>(GST_VIDEO_FRAME_PLANE_DATA(&frame, 0));
    std::fill_n(y, std::size_t(GST_VIDEO_FRAME_PLANE_STRIDE(&frame, 0)) * o.height, 235);
    gst_video_frame_unmap(&frame);
  }
  return GST_PAD_PROBE_OK;
}

GstPadProbeReturn SitePeer::onProbeSound(GstPad*, GstPadProbeInfo* info, gpointer data) {
  auto* self = static_cast<SitePeer*>(data);
  if (self->clickRequested_.exchange(false)) {
    self->loudBuffersLeft_ = kLoudBuffers;
    self->clicksSent_.add(Clock::now());
    self->clickPts_ = GST_BUFFER_PTS(GST_PAD_PROBE_INFO_BUFFER(info));
  }
  GstBuffer* buffer = GST_PAD_PROBE_INFO_BUFFER(info);
  const bool loud = self->loudBuffersLeft_ > 0;
  if (loud) {
    --self->loudBuffersLeft_;
    buffer = gst_buffer_make_writable(buffer);
    GST_PAD_PROBE_INFO_DATA(info) = buffer;
  }
  GstMapInfo map;
  if (!gst_buffer_map(buffer, &map, loud ? GST_MAP_READWRITE : GST_MAP_READ)) {
    return GST_PAD_PROBE_OK;
  }
  auto* s = reinterpret_cast<std::int16_t*>(map.data);
  const std::size_t n = map.size / 2;
  if (loud) {
    for (std::size_t i = 0; i < n; ++i)
      s[i] = std::int16_t(std::clamp(s[i] * kClickGain, -32768.0, 32767.0));
  }
  self->audioLevel_ = audioLevel(s, n);
  gst_buffer_unmap(buffer, &map);
  return GST_PAD_PROBE_OK;
}

// The encoded picture that carries the flash's first frame (vp8enc keeps the PTS, lag 0).
GstPadProbeReturn SitePeer::onProbeEncodedPicture(GstPad*, GstPadProbeInfo* info, gpointer data) {
  auto* self = static_cast<SitePeer*>(data);
  const GstClockTime pending = self->flashPts_;
  const GstClockTime pts = GST_BUFFER_PTS(GST_PAD_PROBE_INFO_BUFFER(info));
  if (GST_CLOCK_TIME_IS_VALID(pending) && GST_CLOCK_TIME_IS_VALID(pts) && pts >= pending) {
    self->flashPts_ = GST_CLOCK_TIME_NONE;
    self->flashesEncoded_.add(Clock::now());
  }
  return GST_PAD_PROBE_OK;
}

// The Opus packet that holds the click's first sample. Dated like the detector dates what it
// receives: when the packet came out, plus where the onset lies in it.
GstPadProbeReturn SitePeer::onProbeEncodedSound(GstPad*, GstPadProbeInfo* info, gpointer data) {
  auto* self = static_cast<SitePeer*>(data);
  const GstClockTime pending = self->clickPts_;
  GstBuffer* buffer = GST_PAD_PROBE_INFO_BUFFER(info);
  const GstClockTime pts = GST_BUFFER_PTS(buffer), duration = GST_BUFFER_DURATION(buffer);
  if (!GST_CLOCK_TIME_IS_VALID(pending) || !GST_CLOCK_TIME_IS_VALID(pts) ||
      !GST_CLOCK_TIME_IS_VALID(duration) || pts + duration <= pending) {
    return GST_PAD_PROBE_OK;
  }
  self->clickPts_ = GST_CLOCK_TIME_NONE;
  const GstClockTime into = pending > pts ? pending - pts : 0;
  self->clicksEncoded_.add(Clock::now() + std::chrono::nanoseconds(into));
  return GST_PAD_PROBE_OK;
}

// RFC 6464 one-byte extension on every audio packet, when the offer asked for it.
GstPadProbeReturn SitePeer::onAudioSent(GstPad*, GstPadProbeInfo* info, gpointer data) {
  auto* self = static_cast<SitePeer*>(data);
  const int id = self->audioLevelExt_;
  if (id <= 0) return GST_PAD_PROBE_OK;
  const int level = self->audioLevel_;
  const std::uint8_t byte = std::uint8_t((level <= 50 ? 0x80 : 0) | level);
  auto mark = [&](GstBuffer* buffer) {
    GstRTPBuffer rtp = GST_RTP_BUFFER_INIT;
    if (!gst_rtp_buffer_map(buffer, GST_MAP_READWRITE, &rtp)) return;
    gst_rtp_buffer_add_extension_onebyte_header(&rtp, guint8(id), &byte, 1);
    gst_rtp_buffer_unmap(&rtp);
  };
  if (info->type & GST_PAD_PROBE_TYPE_BUFFER) {
    GstBuffer* buffer = gst_buffer_make_writable(GST_PAD_PROBE_INFO_BUFFER(info));
    GST_PAD_PROBE_INFO_DATA(info) = buffer;
    mark(buffer);
  } else {
    GstBufferList* list = gst_buffer_list_make_writable(GST_PAD_PROBE_INFO_BUFFER_LIST(info));
    GST_PAD_PROBE_INFO_DATA(info) = list;
    for (guint i = 0; i < gst_buffer_list_length(list); ++i) {
      mark(gst_buffer_list_get_writable(list, i));
    }
  }
  return GST_PAD_PROBE_OK;
}

void SitePeer::stop() {
  if (!bin_) return;
  // Off the shared tees first: releasing a tee pad makes the tee skip a push in flight, and the
  // other sites never wait for this one's teardown.
  for (auto& [tee, pad] : teePads_) {
    gst_element_release_request_pad(tee, pad);
    gst_object_unref(pad);
  }
  teePads_.clear();
  gst_element_set_state(bin_, GST_STATE_NULL);
  gst_bin_remove(GST_BIN(shared_.pipeline()), bin_);
  bin_ = nullptr;
  webrtc_ = nullptr;
}

void SitePeer::poll() {
  if (attached_ || !connected_ || options_.source != Source::kShared) return;
  attached_ = true;
  attachShared();
}

void SitePeer::attachShared() {
  for (auto [tee, pay] :
       {std::pair{shared_.audioTee(), audioPay_}, {shared_.videoTee(), videoPay_}}) {
    GstPad* teePad = gst_element_request_pad_simple(tee, "src_%u");
    GstPad* sink = gst_element_get_static_pad(pay, "sink");
    gst_pad_add_probe(sink, GST_PAD_PROBE_TYPE_QUERY_DOWNSTREAM, &answerAllocation, nullptr,
                      nullptr);
    if (!gst_pad_link_maybe_ghosting(teePad, sink)) {
      std::fprintf(stderr, "mcu-loadgen: %s: cannot attach to %s\n", options_.name.c_str(),
                   GST_ELEMENT_NAME(tee));
    }
    gst_object_unref(sink);
    teePads_.emplace_back(tee, teePad);
  }
  shared_.requestKeyframe();
}

void SitePeer::onConnectionState(GstElement* webrtc, GParamSpec*, gpointer data) {
  GstWebRTCPeerConnectionState state;
  g_object_get(webrtc, "connection-state", &state, nullptr);
  if (state == GST_WEBRTC_PEER_CONNECTION_STATE_CONNECTED)
    static_cast<SitePeer*>(data)->connected_ = true;
}

void SitePeer::setVideoWanted(bool wanted) {
  if (!wanted) {
    videoGate_ = kOff;
    return;
  }
  int off = kOff;
  if (videoGate_.compare_exchange_strong(off, kAwaitingKeyframe)) shared_.requestKeyframe();
}

GstPadProbeReturn SitePeer::onVideoToSend(GstPad*, GstPadProbeInfo* info, gpointer data) {
  auto* self = static_cast<SitePeer*>(data);
  switch (self->videoGate_.load()) {
    case kSending:
      return GST_PAD_PROBE_OK;
    case kAwaitingKeyframe:
      if (GST_BUFFER_FLAG_IS_SET(GST_PAD_PROBE_INFO_BUFFER(info), GST_BUFFER_FLAG_DELTA_UNIT)) {
        return GST_PAD_PROBE_DROP;
      }
      self->videoGate_ = kSending;
      return GST_PAD_PROBE_OK;
    default:
      return GST_PAD_PROBE_DROP;
  }
}

void SitePeer::handleOffer(const std::string& text) {
  audioLevelExt_ = audioLevelExtension(text);
  // Asked for DTX, the payloader leaves out the encoder's empty packets (only the shared
  // silence has any: its encoder runs in DTX unless --dtx off).
  g_object_set(audioPay_, "dtx", gboolean(testing::offerAsksDtx(text)), nullptr);
  testing::answerOffer(webrtc_, text, [this](std::optional<std::string> sdp) {
    if (!sdp) {
      std::fprintf(stderr, "mcu-loadgen: %s: webrtcbin gave no answer\n", name().c_str());
      return;
    }
    if (const int id = audioLevelExt_; id > 0) *sdp = withAudioLevelExtmap(*sdp, id);
    if (callbacks_.answer) callbacks_.answer(*sdp);
  });
}

void SitePeer::addCandidate(int mline, const std::string& candidate) {
  if (webrtc_) g_signal_emit_by_name(webrtc_, "add-ice-candidate", guint(mline), candidate.c_str());
}

void SitePeer::onIceCandidate(GstElement*, guint mline, gchar* candidate, gpointer data) {
  auto* self = static_cast<SitePeer*>(data);
  if (self->callbacks_.candidate) self->callbacks_.candidate(int(mline), candidate);
}

std::optional<Clock::time_point> SitePeer::firstFrameAt() const {
  const Clock::rep r = firstFrameAt_;
  return r ? std::optional(fromRep(r)) : std::nullopt;
}

// ------------------------------------------------------------------------------ receiving

void SitePeer::onPadAdded(GstElement*, GstPad* pad, gpointer data) {
  if (GST_PAD_DIRECTION(pad) == GST_PAD_SRC) static_cast<SitePeer*>(data)->linkIncoming(pad);
}

// Linked at once on the streaming thread (pitfall 9: a pad left unlinked stalls the
// jitterbuffer). Every packet is counted here, before any depayloading.
void SitePeer::linkIncoming(GstPad* pad) {
  GstCaps* caps = gst_pad_get_current_caps(pad);
  if (!caps) caps = gst_pad_query_caps(pad, nullptr);
  const char* kind = gst_structure_get_string(gst_caps_get_structure(caps, 0), "media");
  const bool video = kind && std::string(kind) == "video";
  gst_caps_unref(caps);
  gst_pad_add_probe(pad,
                    GstPadProbeType(GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_BUFFER_LIST),
                    &SitePeer::onReceivedPacket, this, nullptr);
  if (options_.decode) {
    addDecoder(pad, video);
    return;
  }
  GstElement* sink = makeElement("fakesink");
  g_object_set(sink, "sync", FALSE, "async", FALSE, nullptr);
  gst_bin_add(GST_BIN(bin_), sink);
  gst_element_sync_state_with_parent(sink);
  GstPad* sinkPad = gst_element_get_static_pad(sink, "sink");
  gst_pad_link(pad, sinkPad);
  gst_object_unref(sinkPad);
}

// video: depay -> vp8dec -> appsink (I420, vp8dec's own format); audio: -> 48 kHz mono S16.
void SitePeer::addDecoder(GstPad* pad, bool video) {
  std::vector<GstElement*> chain;
  if (video) {
    chain = {makeElement("rtpvp8depay"), makeElement("vp8dec"), makeElement("appsink")};
    GstCaps* raw = gst_caps_from_string("video/x-raw,format=I420");
    g_object_set(chain.back(), "caps", raw, nullptr);
    gst_caps_unref(raw);
    g_signal_connect(chain.back(), "new-sample", G_CALLBACK(&SitePeer::onVideoSample), this);
  } else {
    chain = {makeElement("rtpopusdepay"), makeElement("opusdec"), makeElement("audioconvert"),
             makeElement("audioresample"), makeElement("appsink")};
    GstCaps* raw = gst_caps_from_string("audio/x-raw,format=S16LE,rate=48000,channels=1");
    g_object_set(chain.back(), "caps", raw, nullptr);
    gst_caps_unref(raw);
    g_signal_connect(chain.back(), "new-sample", G_CALLBACK(&SitePeer::onAudioSample), this);
  }
  // async=false: a sink added to a playing pipeline must not send it back to prerolling.
  g_object_set(chain.back(), "emit-signals", TRUE, "sync", FALSE, "async", FALSE, "max-buffers", 2u,
               "drop", TRUE, nullptr);
  for (GstElement* e : chain) gst_bin_add(GST_BIN(bin_), e);
  for (std::size_t i = 0; i + 1 < chain.size(); ++i) gst_element_link(chain[i], chain[i + 1]);
  for (GstElement* e : chain) gst_element_sync_state_with_parent(e);
  if (video) {
    GstPad* frames = gst_element_get_static_pad(chain[1], "sink");
    gst_pad_add_probe(frames, GST_PAD_PROBE_TYPE_BUFFER, &SitePeer::onEncodedFrame, this, nullptr);
    gst_object_unref(frames);
  }
  GstPad* sink = gst_element_get_static_pad(chain.front(), "sink");
  gst_pad_link(pad, sink);
  gst_object_unref(sink);
}

// Depayloaded VP8 frames into the decoder: keyframes are counted (what the rung's rate spends on
// them).
GstPadProbeReturn SitePeer::onEncodedFrame(GstPad*, GstPadProbeInfo* info, gpointer data) {
  if (!GST_BUFFER_FLAG_IS_SET(GST_PAD_PROBE_INFO_BUFFER(info), GST_BUFFER_FLAG_DELTA_UNIT)) {
    ++static_cast<SitePeer*>(data)->keyframes_;
  }
  return GST_PAD_PROBE_OK;
}

GstPadProbeReturn SitePeer::onReceivedPacket(GstPad* pad, GstPadProbeInfo* info, gpointer data) {
  auto* self = static_cast<SitePeer*>(data);
  GstCaps* caps = gst_pad_get_current_caps(pad);
  const char* kind =
      caps ? gst_structure_get_string(gst_caps_get_structure(caps, 0), "media") : nullptr;
  const bool video = kind && std::string(kind) == "video";
  if (caps) gst_caps_unref(caps);
  forEachBuffer(info, [&](GstBuffer* b) { self->countPacket(b, video); });
  return GST_PAD_PROBE_OK;
}

void SitePeer::onElementAdded(GstBin*, GstBin*, GstElement* element, gpointer data) {
  GstElementFactory* f = gst_element_get_factory(element);
  if (f && std::string(GST_OBJECT_NAME(f)) == "nicesrc")
    static_cast<SitePeer*>(data)->watchSocket(element);
}

void SitePeer::watchSocket(GstElement* nicesrc) {
  GstPad* src = gst_element_get_static_pad(nicesrc, "src");
  gst_pad_add_probe(src,
                    GstPadProbeType(GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_BUFFER_LIST),
                    &SitePeer::onNetworkPacket, this, nullptr);
  gst_object_unref(src);
}

GstPadProbeReturn SitePeer::onNetworkPacket(GstPad*, GstPadProbeInfo* info, gpointer data) {
  auto* self = static_cast<SitePeer*>(data);
  if (info->type & GST_PAD_PROBE_TYPE_BUFFER) {
    return self->countAndDrop(GST_PAD_PROBE_INFO_BUFFER(info)) ? GST_PAD_PROBE_DROP
                                                               : GST_PAD_PROBE_OK;
  }
  GstBufferList* list = gst_buffer_list_make_writable(GST_PAD_PROBE_INFO_BUFFER_LIST(info));
  GST_PAD_PROBE_INFO_DATA(info) = list;
  gst_buffer_list_foreach(
      list,
      [](GstBuffer** buffer, guint, gpointer site) -> gboolean {
        if (static_cast<SitePeer*>(site)->countAndDrop(*buffer)) {
          gst_buffer_unref(*buffer);
          *buffer = nullptr;  // removed from the list
        }
        return TRUE;
      },
      self);
  return gst_buffer_list_length(list) == 0 ? GST_PAD_PROBE_DROP : GST_PAD_PROBE_OK;
}

// An SRTP packet from the server (RFC 5761/7983: version 2, and a second byte outside RTCP's
// 192..223) is counted by its clear header, as linkIncoming's probe would after SRTP, and
// dropped. The count includes SRTP's 10-byte tag.
bool SitePeer::countAndDrop(GstBuffer* buffer) {
  std::uint8_t header[2];
  if (gst_buffer_extract(buffer, 0, header, 2) != 2) return false;
  if ((header[0] & 0xc0) != 0x80 || (header[1] >= 192 && header[1] <= 223)) return false;
  const int pt = header[1] & 0x7f;
  if (pt == kAudioPayload || pt == kVideoPayload) countPacket(buffer, pt == kVideoPayload);
  return true;
}

void SitePeer::countPacket(GstBuffer* buffer, bool video) {
  const std::size_t size = gst_buffer_get_size(buffer);
  if (options_.detect) {
    (video ? videoArrivals_ : audioArrivals_).add(GST_BUFFER_PTS(buffer), Clock::now());
  }
  if (!video) {
    audioBytes_ += size;
    ++audioPackets_;
    return;
  }
  videoBytes_ += size;
  if (options_.decode) return;  // frames are counted as decoded
  // The RTP marker bit is set on the last packet of a video frame.
  std::uint8_t header[2];
  if (gst_buffer_extract(buffer, 0, header, 2) == 2 && (header[1] & 0x80)) {
    Clock::rep none = 0;
    firstFrameAt_.compare_exchange_strong(none, Clock::now().time_since_epoch().count());
    ++frames_;
  }
}

GstFlowReturn SitePeer::onVideoSample(GstElement* sink, gpointer data) {
  auto* self = static_cast<SitePeer*>(data);
  GstSample* sample = gst_app_sink_pull_sample(GST_APP_SINK(sink));
  if (!sample) return GST_FLOW_OK;
  const auto now = Clock::now();
  Clock::rep none = 0;
  self->firstFrameAt_.compare_exchange_strong(none, now.time_since_epoch().count());
  ++self->frames_;
  GstVideoInfo vinfo;
  GstVideoFrame frame;
  if (self->options_.detect && gst_video_info_from_caps(&vinfo, gst_sample_get_caps(sample)) &&
      gst_video_frame_map(&frame, &vinfo, gst_sample_get_buffer(sample), GST_MAP_READ)) {
    if (self->flashDetector_.onFrame(
            static_cast<const std::uint8_t*>(GST_VIDEO_FRAME_PLANE_DATA(&frame, 0)),
            GST_VIDEO_FRAME_PLANE_STRIDE(&frame, 0), vinfo.width, vinfo.height)) {
      self->flashesSeen_.add(now);
      // The frame's packets: depayloader and decoder keep the PTS they had.
      if (auto at = self->videoArrivals_.find(GST_BUFFER_PTS(gst_sample_get_buffer(sample)), 0)) {
        self->flashesArrived_.add(*at);
      }
    }
    gst_video_frame_unmap(&frame);
  }
  gst_sample_unref(sample);
  return GST_FLOW_OK;
}

GstFlowReturn SitePeer::onAudioSample(GstElement* sink, gpointer data) {
  auto* self = static_cast<SitePeer*>(data);
  GstSample* sample = gst_app_sink_pull_sample(GST_APP_SINK(sink));
  if (!sample) return GST_FLOW_OK;
  GstMapInfo map;
  GstBuffer* buffer = gst_sample_get_buffer(sample);
  if (self->options_.detect && gst_buffer_map(buffer, &map, GST_MAP_READ)) {
    self->detectClick(reinterpret_cast<const std::int16_t*>(map.data), map.size / 2,
                      GST_BUFFER_PTS(buffer));
    gst_buffer_unmap(buffer, &map);
  }
  gst_sample_unref(sample);
  return GST_FLOW_OK;
}

// The click's onset is the first sample above the tone's peak. It cannot be played before its
// buffer is decoded, so it is heard at the earliest its offset into the buffer after now (the
// probe's source, a live test source, sends each buffer at its first sample's time). The packet
// that held it (the decoder keeps the packet's PTS, give or take its timestamp smoothing: half a
// packet is allowed) is dated the same way from its arrival.
void SitePeer::detectClick(const std::int16_t* samples, std::size_t n, GstClockTime pts) {
  const auto now = Clock::now();
  for (std::size_t i = 0; i < n; ++i) {
    ++samplesSinceClick_;
    if (samplesSinceClick_ < kClickDeadSamples || std::abs(int(samples[i])) < kClickThreshold) {
      continue;
    }
    samplesSinceClick_ = 0;
    const auto into =
        std::chrono::duration_cast<Clock::duration>(std::chrono::microseconds(i * 1000000 / 48000));
    clicksHeard_.add(now + into);
    if (auto at = audioArrivals_.find(pts, 10 * GST_MSECOND)) clicksArrived_.add(*at + into);
  }
}

}  // namespace mcu::bench
