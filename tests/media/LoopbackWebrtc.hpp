#pragma once
// A webrtcbin for a headless peer on loopback, as TestPeer and bench/SitePeer need it: bundled
// like a browser's RTCPeerConnection (max-bundle), a short jitterbuffer, no lip-sync, and
// 127.0.0.1 given to libnice, which does not gather on lo unless told (WEBRTC-NOTES pitfall 1).
#include <gst/gst.h>
#define GST_USE_UNSTABLE_API
#include <gst/webrtc/webrtc.h>
#include <nice/agent.h>

#include <stdexcept>
#include <string>

namespace mcu::testing {

// `address`: the one local address libnice gathers on (a test host in another network namespace
// passes its veth address).
inline GstElement* makeLoopbackWebrtcbin(const std::string& name,
                                         const std::string& address = "127.0.0.1") {
  GstElement* webrtc = gst_element_factory_make("webrtcbin", name.c_str());
  if (!webrtc) throw std::runtime_error("missing element webrtcbin");
  g_object_set(webrtc, "bundle-policy", GST_WEBRTC_BUNDLE_POLICY_MAX_BUNDLE, "latency", 50u,
               nullptr);
  // No lip-sync between the streams it receives: the server's mix and composite share a CNAME
  // and both carry sender reports, and rtpbin would hold the earlier one back by a ts-offset set
  // from its jitterbuffers' first skew estimates (100-280 ms, as the server measured it for
  // rooms' streams: media/Mixer.cpp). A headless peer measures each stream's own latency.
  if (GstElement* rtpbin = gst_bin_get_by_name(GST_BIN(webrtc), "rtpbin")) {
    g_object_set(rtpbin, "max-ts-offset", gint64(1), nullptr);
    gst_object_unref(rtpbin);
  }
  GstWebRTCICE* ice = nullptr;
  g_object_get(webrtc, "ice-agent", &ice, nullptr);
  NiceAgent* agent = nullptr;
  g_object_get(ice, "agent", &agent, nullptr);
  NiceAddress addr;
  nice_address_init(&addr);
  nice_address_set_from_string(&addr, address.c_str());
  nice_agent_add_local_address(agent, &addr);
  g_object_unref(agent);
  gst_object_unref(ice);
  return webrtc;
}

}  // namespace mcu::testing
