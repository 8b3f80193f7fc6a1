#pragma once
// Answering the server's offer on a webrtcbin as the room page does: the offer becomes the remote
// description, then an answer is created and becomes the local description. Shared by TestPeer
// and bench/SitePeer, which differ only in what they do with the answer.
#include <gst/gst.h>
#include <gst/sdp/sdp.h>
#define GST_USE_UNSTABLE_API
#include <gst/webrtc/webrtc.h>

#include <functional>
#include <memory>
#include <optional>
#include <string>

namespace mcu::testing {

namespace detail {

using AnswerDone = std::function<void(std::optional<std::string>)>;

struct Answering {
  Answering(GstElement* element, AnswerDone whenDone)
      : webrtc(GST_ELEMENT(gst_object_ref(element))), done(std::move(whenDone)) {}
  Answering(const Answering&) = delete;
  Answering& operator=(const Answering&) = delete;
  ~Answering() { gst_object_unref(webrtc); }

  GstElement* webrtc;  // a reference of its own: webrtcbin may reply after its owner stopped
  AnswerDone done;
};
using AnsweringRef = std::shared_ptr<Answering>;

// Each promise holds a reference, so `state` lives until webrtcbin has let go of both.
inline GstPromise* answeringPromise(GstPromiseChangeFunc onReply, const AnsweringRef& state) {
  return gst_promise_new_with_change_func(onReply, new AnsweringRef(state), [](gpointer ref) {
    delete static_cast<AnsweringRef*>(ref);
  });
}

// Pitfall 4: a reply without an answer was seen; never pass it on.
inline void onAnswerCreated(GstPromise* promise, gpointer ref) {
  const Answering& state = **static_cast<AnsweringRef*>(ref);
  const GstStructure* reply = gst_promise_get_reply(promise);
  GstWebRTCSessionDescription* answer = nullptr;
  if (reply && gst_structure_has_field(reply, "answer")) {
    gst_structure_get(reply, "answer", GST_TYPE_WEBRTC_SESSION_DESCRIPTION, &answer, nullptr);
  }
  gst_promise_unref(promise);
  if (!answer) {
    state.done(std::nullopt);
    return;
  }
  gchar* text = gst_sdp_message_as_text(answer->sdp);
  std::string sdp = text;
  g_free(text);
  g_signal_emit_by_name(state.webrtc, "set-local-description", answer, nullptr);
  gst_webrtc_session_description_free(answer);
  state.done(std::move(sdp));
}

inline void onRemoteSet(GstPromise* promise, gpointer ref) {
  const AnsweringRef& state = *static_cast<AnsweringRef*>(ref);
  gst_promise_unref(promise);
  g_signal_emit_by_name(state->webrtc, "create-answer", nullptr,
                        answeringPromise(&onAnswerCreated, state));
}

}  // namespace detail

// `done` runs on webrtcbin's thread with the answer's SDP text, after it became the local
// description, or with nothing when webrtcbin gave no answer.
inline void answerOffer(GstElement* webrtc, const std::string& offerSdp, detail::AnswerDone done) {
  auto state = std::make_shared<detail::Answering>(webrtc, std::move(done));
  GstSDPMessage* sdp = nullptr;
  gst_sdp_message_new_from_text(offerSdp.c_str(), &sdp);
  GstWebRTCSessionDescription* offer =
      gst_webrtc_session_description_new(GST_WEBRTC_SDP_TYPE_OFFER, sdp);
  g_signal_emit_by_name(webrtc, "set-remote-description", offer,
                        detail::answeringPromise(&detail::onRemoteSet, state));
  gst_webrtc_session_description_free(offer);
}

// Whether the offer's Opus format (payload type 111, as the server offers it) asks for
// discontinuous transmission (RFC 7587 usedtx=1).
inline bool offerAsksDtx(const std::string& sdp) {
  const std::size_t fmtp = sdp.find("a=fmtp:111 ");
  if (fmtp == std::string::npos) return false;
  return sdp.substr(fmtp, sdp.find_first_of("\r\n", fmtp) - fmtp).find("usedtx=1") !=
         std::string::npos;
}

}  // namespace mcu::testing
