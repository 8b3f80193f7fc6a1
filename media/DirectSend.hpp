#pragma once
// The lighter per-viewer send path for a shared stream (issue 5): the stream is packetised
// once, and each viewer or listener gets a copy with its own SSRC, sequence numbers and
// timestamps, protected with its leg's SRTP key (Srtp.hpp) and handed to its leg's ICE agent. A
// viewer costs a copy, an SRTP protect and a socket write: no payloader, rtpbin, rtprtxsend,
// srtpenc or nicesink of its own on the stream's send thread (measured there: ~65 % of
// webrtcbin's cost per packet was GStreamer's own element and pad work). webrtcbin still
// negotiates, runs ICE and DTLS, receives, and sends the leg's RTCP, to which the mixer adds
// sender reports for these streams (report()).
//
// Used for the audio mixes and for the video rungs. A rung's viewer also needs what webrtcbin's
// send path did for it: it starts (and restarts, on a rung switch) on a keyframe, its VP8 picture
// IDs run on across switches, and packets it lost are resent as RTX (RFC 4588) from the rung's
// one packet history; the mixer reads its NACK and PLI/FIR from the leg's RTCP.
#include <gst/gst.h>

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include "media/Srtp.hpp"

typedef struct _NiceAgent NiceAgent;

namespace mcu::media {

constexpr std::size_t kMaxRtpPacket = 1500;

// What a packet of a shared stream is, read once for all its viewers.
struct PacketInfo {
  bool startsPicture = true;    // a viewer may start here: a keyframe's first packet (audio: any)
  std::size_t pictureIdAt = 0;  // where its 15-bit VP8 picture ID is (0: none)
};

// A VP8 RTP packet (RFC 7741) read: whether it starts a keyframe, and where its picture ID is.
PacketInfo vp8PacketInfo(const guint8* rtp, std::size_t size);

// The last packets of a shared stream by sequence number, for resending what a viewer lost.
// Written by the stream's send thread, read by the viewers' RTCP threads.
class PacketHistory {
 public:
  explicit PacketHistory(std::size_t slots = 512);  // a power of two
  void add(const guint8* rtp, std::size_t size);
  // Copies packet `seq` into `out` (kMaxRtpPacket bytes); its size, or 0 if no longer held.
  std::size_t copy(guint16 seq, guint8* out) const;

 private:
  struct Slot {
    gint32 seq = -1;
    std::uint16_t size = 0;
    std::array<guint8, kMaxRtpPacket> data;
  };
  mutable std::mutex mu_;
  std::vector<Slot> slots_;
};

// One leg's stream sent around its webrtcbin: the SSRC the offer signalled for it, its own
// sequence numbers and timestamps, the leg's SRTP key and ICE component.
class DirectStream {
 public:
  enum class Kind { kAudio, kVideo };
  // From a webrtcbin whose DTLS is connected: its SRTP encoder's key and suite, and its ICE
  // agent's stream and component. nullptr if either cannot be found (the caller keeps webrtcbin's
  // own send path then).
  static std::shared_ptr<DirectStream> fromWebrtc(GstElement* webrtcbin, guint32 ssrc, Kind kind);
  // What sends a protected packet (the leg's ICE agent); true if it left.
  using Transmit = std::function<bool(const guint8* packet, std::size_t size)>;
  // With an SRTP sender and a transmit of the caller's (fromWebrtc's are the leg's; tests').
  static std::shared_ptr<DirectStream> create(std::unique_ptr<SrtpSender> srtp, guint32 ssrc,
                                              Kind kind, Transmit transmit);
  DirectStream(const DirectStream&) = delete;
  DirectStream& operator=(const DirectStream&) = delete;

  // Video: lost packets are resent as RTX with this SSRC and payload type (the offer's, when the
  // viewer's answer took RTX). Without it NACKs are ignored. Before the first send.
  void enableRtx(guint32 ssrc, int payloadType);

  // Video: the RED (RFC 2198) and ULPFEC (RFC 5109) payload types the viewer's answer kept;
  // without them setFec does nothing. Before the first send.
  void enableFec(int redPayload, int fecPayload);
  // While on, every packet leaves wrapped in RED, and a frame's packets are protected in groups of
  // up to kFecGroup (a last group of one joins the one before; the last of kFecGroups groups takes
  // up to 16): after the frame's last packet
  // (never inside a frame: Chromium's packet buffer takes a FEC packet's number for an empty
  // packet, which would split the frame) one ULPFEC packet per group, wrapped in RED too, protects
  // it as the viewer would have had it without RED: any one lost packet of a group can be
  // rebuilt from the others. Off by default; any thread, any time (a frame in progress is left
  // unprotected).
  void setFec(bool on) { fecOn_ = on; }
  bool fecOn() const { return fecOn_; }
  static constexpr int kFecGroup = 4;
  static constexpr int kFecGroups = 12;
  // Tests only: every `every`-th media packet to this viewer is not transmitted, and nothing is
  // resent (a lossy link that loses the resends too). Before the first send.
  void simulateLoss(int every) { lossEvery_ = every; }

  // Sends one RTP packet of a shared stream (`size` bytes, header first) as this leg's: its SSRC,
  // the next of its sequence numbers, and timestamps (and VP8 picture IDs) that run on from the
  // last packet it sent, whichever shared stream that came from. After a resync video waits for
  // a packet that starts a keyframe. `nowUs`: the monotonic time the packet leaves, read once for
  // all its viewers; `history`: the shared stream's, if lost packets may be resent from it. Any
  // thread; one packet at a time.
  void send(const guint8* rtp, std::size_t size, gint64 nowUs, const PacketInfo& info,
            const std::shared_ptr<PacketHistory>& history = nullptr);
  // The next packet comes from another shared stream (another mix or rung): its timestamps are
  // moved to continue this leg's, by the time that passed.
  void resync() { resync_ = true; }
  // Resends, as RTX, the packet this leg sent with sequence number `seq` if RTX is on and its
  // shared stream still holds it. On the leg's RTCP thread.
  bool resend(guint16 seq);

  // For the leg's RTCP sender report: where its RTP clock is now, what it has sent.
  struct Report {
    guint32 ssrc = 0;
    guint32 rtpTime = 0;
    guint32 packets = 0;
    guint32 octets = 0;  // payload octets
  };
  std::optional<Report> report(gint64 nowUs);

  guint32 ssrc() const { return ssrc_; }
  std::uint64_t bytesSent() const { return bytes_; }
  std::uint64_t packetsResent() const { return resent_; }
  std::uint64_t fecPacketsSent() const { return fecSent_; }

 private:
  DirectStream() = default;

  // Which shared stream's packets a run of this leg's sequence numbers carried, and how they
  // were rewritten: to find a lost one again.
  struct Segment {
    std::uint64_t firstIndex = 0;  // this leg's packet index of the run's first packet
    guint16 firstSeq = 0;          // that packet's sequence number in the shared stream
    guint32 tsOffset = 0;
    guint16 pictureOffset = 0;
    std::shared_ptr<PacketHistory> history;
  };

  // The XOR of a FEC group's packets so far (RFC 5109 7.3): their first two header bytes,
  // timestamps and payload lengths, and their payloads (from byte 12, zero-padded to the longest).
  struct FecGroup {
    guint16 baseSeq = 0;
    int count = 0;
    guint8 bits[2] = {0, 0};
    guint32 ts = 0;
    guint32 lastTs = 0;
    guint16 length = 0;
    std::size_t protection = 0;  // the longest payload so far
    std::array<guint8, kMaxRtpPacket> payload;
  };
  // Where this leg's sequence number `index` came from in its shared stream (FEC packets take
  // numbers of their own, so a run's numbers are no longer contiguous).
  struct SeqMap {
    static constexpr std::size_t kSlots = 512;
    struct Slot {
      guint16 leg = 0;
      guint16 shared = 0;
      bool media = false;
    };
    std::array<Slot, kSlots> slots;
  };
  // Adds the packet (as the viewer would have it without RED) to its frame's groups, and rewrites
  // it in place as RED. At the frame's end, writes each group's ULPFEC packet (sequence number
  // left to the caller) to fecOut_; how many.
  int protect(guint8* packet, std::size_t& size);
  std::size_t writeFec(const FecGroup& g, guint8* out) const;
  static constexpr std::size_t kFecSlot = kMaxRtpPacket + 27 + SrtpSender::kMaxTag;

  std::mutex mu_;
  Transmit transmit_;
  std::unique_ptr<SrtpSender> srtp_;
  Kind kind_ = Kind::kAudio;
  guint32 ssrc_ = 0;
  int clockRate_ = 48000;
  std::uint64_t index_ = 0;  // SRTP packet index: rollover counter * 2^16 + sequence number
  guint32 tsOffset_ = 0;     // added to the shared stream's timestamps
  guint16 pictureOffset_ = 0;
  guint32 lastTs_ = 0;  // the last timestamp sent, and when (monotonic µs)
  gint64 lastUs_ = 0;
  guint16 lastPictureId_ = 0;
  bool started_ = false;
  bool waiting_ = false;  // video after a resync: nothing until a keyframe starts
  guint32 packets_ = 0;
  guint32 octets_ = 0;
  std::vector<Segment> segments_;  // the last few, oldest first (video with a history only)
  guint32 rtxSsrc_ = 0;
  int rtxPayload_ = -1;
  std::uint64_t rtxIndex_ = 0;
  int redPayload_ = -1;
  int fecPayload_ = -1;
  // Once enableFec'd (only viewers that may have FEC pay): the current frame's groups, and the
  // ULPFEC packets written at its end (sent after the lock, by the one thread that sends).
  std::unique_ptr<std::array<FecGroup, kFecGroups>> fec_;
  int fecGroups_ = 0;
  std::vector<guint8> fecOut_;
  std::array<std::size_t, kFecGroups> fecLen_{};
  std::unique_ptr<SeqMap> seqMap_;  // likewise
  std::atomic<bool> fecOn_{false};
  int lossEvery_ = 0;
  unsigned lossCount_ = 0;
  std::atomic<bool> resync_{true};
  std::atomic<std::uint64_t> bytes_{0};
  std::atomic<std::uint64_t> resent_{0};
  std::atomic<std::uint64_t> fecSent_{0};
};

// The viewers of one shared stream. The stream's send thread reads the list for every packet;
// the strand changes it (copy on write), so neither waits on the other. A video stream's packets
// are read once (vp8PacketInfo) and kept in its history for resending.
class DirectFanout {
 public:
  explicit DirectFanout(DirectStream::Kind kind = DirectStream::Kind::kAudio);
  void add(const std::shared_ptr<DirectStream>& stream);
  void remove(const DirectStream* stream);
  std::size_t size() const;
  // On the stream's send thread: one packetised buffer to every viewer.
  void send(GstBuffer* rtp);

 private:
  using List = std::vector<std::shared_ptr<DirectStream>>;
  const DirectStream::Kind kind_;
  const std::shared_ptr<PacketHistory> history_;  // video only
  mutable std::mutex mu_;
  std::shared_ptr<const List> list_ = std::make_shared<const List>();
};

}  // namespace mcu::media
