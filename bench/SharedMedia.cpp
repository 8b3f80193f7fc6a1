#include "bench/SharedMedia.hpp"

#include <gst/video/video.h>

#include <algorithm>
#include <cstdio>
#include <stdexcept>

namespace mcu::bench {

GstElement* makeElement(const char* factory, const std::string& name) {
  GstElement* e = gst_element_factory_make(factory, name.empty() ? nullptr : name.c_str());
  if (!e) throw std::runtime_error(std::string("missing GStreamer element ") + factory);
  return e;
}

void linkOrThrow(GstElement* a, GstElement* b) {
  if (!gst_element_link(a, b)) {
    throw std::runtime_error(std::string("cannot link ") + GST_ELEMENT_NAME(a) + " to " +
                             GST_ELEMENT_NAME(b));
  }
}

void setCaps(GstElement* capsfilter, const std::string& caps) {
  GstCaps* c = gst_caps_from_string(caps.c_str());
  g_object_set(capsfilter, "caps", c, nullptr);
  gst_caps_unref(c);
}

SharedMedia::SharedMedia(Options options) : options_(options) {}

SharedMedia::~SharedMedia() {
  if (!pipeline_) return;
  gst_element_set_state(pipeline_, GST_STATE_NULL);
  gst_object_unref(pipeline_);
}

void SharedMedia::start() {
  pipeline_ = gst_pipeline_new("loadgen");
  // Nobody pops this bus: without a handler that drops them, messages would pile up for the
  // whole run (and each holds its source element).
  GstBus* bus = gst_pipeline_get_bus(GST_PIPELINE(pipeline_));
  gst_bus_set_sync_handler(bus, &SharedMedia::onBusMessage, nullptr, nullptr);
  gst_object_unref(bus);
  buildVideo();
  buildAudio();
  if (gst_element_set_state(pipeline_, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE) {
    throw std::runtime_error("the shared pipeline failed to start");
  }
}

// A moving test pattern, so the stream costs the server what a camera's inter frames cost (a
// still picture would shrink to almost nothing between keyframes); or, with the "still" scene,
// a still background with one small ball moving over it.
void SharedMedia::buildVideo() {
  const Options& o = options_;
  GstElement* src = makeElement("videotestsrc", "shared-vsrc");
  if (o.scene == "still") {
    g_object_set(src, "is-live", TRUE, "pattern", 18 /* ball */, "motion", 0 /* wavy */,
                 "background-color", 0xff806040u, "foreground-color", 0xffe0c0a0u, nullptr);
  } else {
    g_object_set(src, "is-live", TRUE, "pattern", 0 /* smpte */, "horizontal-speed", 2, nullptr);
  }
  GstElement* caps = makeElement("capsfilter", "shared-vcaps");
  setCaps(caps, "video/x-raw,format=I420,width=" + std::to_string(o.width) + ",height=" +
                    std::to_string(o.height) + ",framerate=" + std::to_string(o.fps) + "/1");
  videoEncoder_ = makeElement("vp8enc", "shared-venc");
  g_object_set(videoEncoder_, "deadline", G_GINT64_CONSTANT(1), "cpu-used", 16, "end-usage",
               1 /* cbr */, "target-bitrate", o.videoKbps * 1000, "keyframe-max-dist",
               std::max(1, o.keyframeIntervalMs * o.fps / 1000), "lag-in-frames", 0,
               "error-resilient", 1, nullptr);
  videoTee_ = makeElement("tee", "shared-vtee");
  g_object_set(videoTee_, "allow-not-linked", TRUE, nullptr);
  gst_bin_add_many(GST_BIN(pipeline_), src, caps, videoEncoder_, videoTee_, nullptr);
  linkOrThrow(src, caps);
  linkOrThrow(caps, videoEncoder_);
  linkOrThrow(videoEncoder_, videoTee_);
  GstPad* encSrc = gst_element_get_static_pad(videoEncoder_, "src");
  gst_pad_add_probe(encSrc,
                    GstPadProbeType(GST_PAD_PROBE_TYPE_EVENT_UPSTREAM | GST_PAD_PROBE_TYPE_BUFFER),
                    &SharedMedia::onKeyframeRequest, this, nullptr);
  gst_object_unref(encSrc);
}

// Silence: the ordinary sites are listeners, as in a real meeting where a few rooms talk.
void SharedMedia::buildAudio() {
  GstElement* src = makeElement("audiotestsrc", "shared-asrc");
  g_object_set(src, "is-live", TRUE, "wave", 4 /* silence */, "samplesperbuffer", 960, nullptr);
  GstElement* caps = makeElement("capsfilter", "shared-acaps");
  setCaps(caps, "audio/x-raw,format=S16LE,rate=48000,channels=1");
  GstElement* enc = makeElement("opusenc", "shared-aenc");
  g_object_set(enc, "bitrate", 32000, "frame-size", 20, "dtx", gboolean(options_.dtx), nullptr);
  audioTee_ = makeElement("tee", "shared-atee");
  g_object_set(audioTee_, "allow-not-linked", TRUE, nullptr);
  gst_bin_add_many(GST_BIN(pipeline_), src, caps, enc, audioTee_, nullptr);
  linkOrThrow(src, caps);
  linkOrThrow(caps, enc);
  linkOrThrow(enc, audioTee_);
}

// The server's PLIs/FIRs from every site reach the one encoder as upstream force-key-unit
// events: let one through per keyframeMinIntervalMs and serve the rest with the first frame after
// the window, as the server does for its own shared encoder.
GstPadProbeReturn SharedMedia::onKeyframeRequest(GstPad* pad, GstPadProbeInfo* info,
                                                 gpointer data) {
  auto* self = static_cast<SharedMedia*>(data);
  const gint64 now = g_get_monotonic_time();
  const gint64 window = gint64(self->options_.keyframeMinIntervalMs) * 1000;
  if (info->type & GST_PAD_PROBE_TYPE_BUFFER) {
    if (self->keyframePending_ && now - self->lastKeyframeUs_ >= window) {
      self->keyframePending_ = false;
      gst_pad_send_event(pad,
                         gst_video_event_new_upstream_force_key_unit(GST_CLOCK_TIME_NONE, TRUE, 0));
    }
    return GST_PAD_PROBE_OK;
  }
  GstEvent* event = GST_PAD_PROBE_INFO_EVENT(info);
  if (!gst_video_event_is_force_key_unit(event)) return GST_PAD_PROBE_OK;
  if (now - self->lastKeyframeUs_ < window) {
    self->keyframePending_ = true;
    return GST_PAD_PROBE_DROP;
  }
  self->lastKeyframeUs_ = now;
  return GST_PAD_PROBE_OK;
}

void SharedMedia::requestKeyframe() {
  GstPad* encSrc = gst_element_get_static_pad(videoEncoder_, "src");
  gst_pad_send_event(encSrc,
                     gst_video_event_new_upstream_force_key_unit(GST_CLOCK_TIME_NONE, TRUE, 0));
  gst_object_unref(encSrc);
}

GstBusSyncReply SharedMedia::onBusMessage(GstBus*, GstMessage* message, gpointer) {
  if (GST_MESSAGE_TYPE(message) == GST_MESSAGE_ERROR) {
    GError* error = nullptr;
    gchar* debug = nullptr;
    gst_message_parse_error(message, &error, &debug);
    std::fprintf(stderr, "mcu-loadgen: GStreamer error from %s: %s\n",
                 GST_OBJECT_NAME(GST_MESSAGE_SRC(message)), error ? error->message : "?");
    g_clear_error(&error);
    g_free(debug);
  }
  gst_message_unref(message);
  return GST_BUS_DROP;
}

}  // namespace mcu::bench
