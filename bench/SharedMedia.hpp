#pragma once
// The load generator's one GStreamer pipeline and the media every ordinary site sends: one VP8
// encoder and one Opus encoder for the whole process, each feeding a tee that the sites'
// payloaders tap. Pre-encoded media shared like this is what lets one process hold a hundred
// sites without costing more than the server it loads.
#include <gst/gst.h>

#include <cstdint>
#include <string>

namespace mcu::bench {

class SharedMedia {
 public:
  struct Options {
    int width = 320;
    int height = 180;
    int fps = 15;
    int videoKbps = 250;
    int keyframeIntervalMs = 2000;
    int keyframeMinIntervalMs = 500;  // rate limit for the sites' keyframe requests
    // "moving": the whole picture scrolls (every macroblock changes every frame, the worst case
    // for the server's encoders); "still": a still picture with one small moving ball, closer to
    // a meeting room's camera (a person at a table).
    std::string scene = "moving";
    // The silent sites' encoder in discontinuous transmission: a site whose offer asks for it
    // (usedtx=1) then sends a packet every 400 ms instead of fifty a second, as browsers do.
    bool dtx = true;
  };

  explicit SharedMedia(Options options);
  ~SharedMedia();
  SharedMedia(const SharedMedia&) = delete;
  SharedMedia& operator=(const SharedMedia&) = delete;

  void start();
  GstElement* pipeline() const { return pipeline_; }
  GstElement* videoTee() const { return videoTee_; }
  GstElement* audioTee() const { return audioTee_; }
  const Options& options() const { return options_; }
  // A new viewer of the shared stream needs a keyframe (rate-limited like a PLI).
  void requestKeyframe();

 private:
  static GstPadProbeReturn onKeyframeRequest(GstPad* pad, GstPadProbeInfo* info, gpointer self);
  static GstBusSyncReply onBusMessage(GstBus*, GstMessage* message, gpointer);
  void buildVideo();
  void buildAudio();

  Options options_;
  GstElement* pipeline_ = nullptr;
  GstElement* videoEncoder_ = nullptr;
  GstElement* videoTee_ = nullptr;
  GstElement* audioTee_ = nullptr;
  // Touched only by the probe on the encoder's source pad (one streaming thread at a time).
  gint64 lastKeyframeUs_ = 0;
  bool keyframePending_ = false;
};

// Element helpers shared by the bench's media code.
GstElement* makeElement(const char* factory, const std::string& name = {});
void linkOrThrow(GstElement* a, GstElement* b);
void setCaps(GstElement* capsfilter, const std::string& caps);

}  // namespace mcu::bench
