#pragma once
// The lighter per-listener send path for a shared stream (issue 5): the stream is packetised
// once, and each listener gets a copy with its own SSRC, sequence numbers and timestamps,
// protected with its leg's SRTP key (Srtp.hpp) and handed to its leg's ICE agent. A listener costs
// a copy, an SRTP protect and a socket write: no payloader, rtpbin, rtprtxsend, srtpenc or nicesink
// of its own on the stream's send thread (measured there: ~65 % of webrtcbin's cost per packet
// was GStreamer's own element and pad work). webrtcbin still negotiates, runs ICE and DTLS,
// receives, and sends the leg's RTCP.
//
// Used for the audio mixes: nothing there needs what webrtcbin's send path adds per listener
// (no NACK/RTX, no keyframes; the listener's receiver reports about the mix are not read).
#include <gst/gst.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

#include "media/Srtp.hpp"

typedef struct _NiceAgent NiceAgent;

namespace mcu::media {

// One leg's stream sent around its webrtcbin: the SSRC the offer signalled for it, its own
// sequence numbers and timestamps, the leg's SRTP key and ICE component.
class DirectStream {
 public:
  // From a webrtcbin whose DTLS is connected: its SRTP encoder's key and suite, and its ICE
  // agent's stream and component. nullptr if either cannot be found (the caller keeps webrtcbin's
  // own send path then).
  static std::shared_ptr<DirectStream> fromWebrtc(GstElement* webrtcbin, guint32 ssrc,
                                                  int clockRate);
  ~DirectStream();
  DirectStream(const DirectStream&) = delete;
  DirectStream& operator=(const DirectStream&) = delete;

  // Sends one RTP packet of a shared stream (`size` bytes, header first) as this leg's: its SSRC,
  // the next of its sequence numbers, and timestamps that run on from the last packet it sent,
  // whichever shared stream that came from. `nowUs`: the monotonic time the packet leaves, read
  // once for all its listeners. Any thread; one packet at a time.
  void send(const guint8* rtp, std::size_t size, gint64 nowUs);
  // The next packet comes from another shared stream (another mix): its timestamps are moved to
  // continue this leg's, by the time that passed.
  void resync() { resync_ = true; }

  std::uint64_t bytesSent() const { return bytes_; }

 private:
  DirectStream() = default;

  std::mutex mu_;
  NiceAgent* agent_ = nullptr;  // a reference of ours
  guint stream_ = 0;
  guint component_ = 0;
  std::unique_ptr<SrtpSender> srtp_;
  guint32 ssrc_ = 0;
  int clockRate_ = 48000;
  std::uint64_t index_ = 0;  // SRTP packet index: rollover counter * 2^16 + sequence number
  guint32 tsOffset_ = 0;     // added to the shared stream's timestamps
  guint32 lastTs_ = 0;       // the last timestamp sent, and when (monotonic µs)
  gint64 lastUs_ = 0;
  bool started_ = false;
  std::atomic<bool> resync_{true};
  std::atomic<std::uint64_t> bytes_{0};
};

// The listeners of one shared stream. The stream's send thread reads the list for every packet;
// the strand changes it (copy on write), so neither waits on the other.
class DirectFanout {
 public:
  void add(const std::shared_ptr<DirectStream>& stream);
  void remove(const DirectStream* stream);
  std::size_t size() const;
  // On the stream's send thread: one packetised buffer to every listener.
  void send(GstBuffer* rtp);

 private:
  using List = std::vector<std::shared_ptr<DirectStream>>;
  mutable std::mutex mu_;
  std::shared_ptr<const List> list_ = std::make_shared<const List>();
};

}  // namespace mcu::media
