// The direct send path's per-viewer rewriting (DirectSend.hpp), without a network: what a viewer
// receives is decrypted with libsrtp and read back. A viewer starts on a keyframe, keeps its own
// sequence numbers, timestamps and VP8 picture IDs across a rung switch, and gets what it lost
// resent as RTX with the sequence number it had. A viewer with FEC on gets RED and ULPFEC from
// which any one lost packet of a group is rebuilt, by the spec and by GStreamer's own decoder.
#include "media/DirectSend.hpp"

#include <gst/gst.h>
#include <gtest/gtest.h>
#include <srtp2/srtp.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <vector>

namespace mcu::media {
namespace {

constexpr guint32 kOurSsrc = 0x11223344;
constexpr guint32 kRtxSsrc = 0x55667788;
constexpr int kRtxPayload = 97;

// One received RTP packet, decrypted.
struct Received {
  std::vector<guint8> bytes;
  guint8 payloadType() const { return bytes[1] & 0x7f; }
  bool marker() const { return bytes[1] & 0x80; }
  guint16 seq() const { return GST_READ_UINT16_BE(bytes.data() + 2); }
  guint32 ts() const { return GST_READ_UINT32_BE(bytes.data() + 4); }
  guint32 ssrc() const { return GST_READ_UINT32_BE(bytes.data() + 8); }
  // The VP8 picture ID (15-bit form, descriptor X and I set) after `skip` payload bytes.
  guint16 pictureId(std::size_t skip = 0) const {
    return guint16(((bytes[12 + skip + 2] & 0x7f) << 8) | bytes[12 + skip + 3]);
  }
  // The marker byte our synthetic packets carry at their end: which packet of which rung.
  guint8 tag() const { return bytes.back(); }
};

// A viewer: the stream sent to it, and what it received through libsrtp.
class Viewer {
 public:
  explicit Viewer(DirectStream::Kind kind) {
    gst_init(nullptr, nullptr);
    for (std::size_t i = 0; i < key_.size(); ++i) key_[i] = guint8(3 * i + 1);
    srtp_init();
    srtp_policy_t policy;
    std::memset(&policy, 0, sizeof policy);
    srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&policy.rtp);
    srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&policy.rtcp);
    policy.ssrc.type = ssrc_any_inbound;
    policy.key = key_.data();
    policy.window_size = 1024;
    EXPECT_EQ(srtp_create(&in_, &policy), srtp_err_status_ok);
    stream = DirectStream::create(
        SrtpSender::create(SrtpSender::Suite::kAesCm128HmacSha1_80, key_.data(), key_.size()),
        kOurSsrc, kind, [this](const guint8* packet, std::size_t size) {
          std::vector<guint8> copy(packet, packet + size);
          int len = int(size);
          const bool ok = srtp_unprotect(in_, copy.data(), &len) == srtp_err_status_ok;
          EXPECT_TRUE(ok) << "a packet libsrtp could not unprotect";
          copy.resize(std::size_t(len));
          if (ok) received.push_back({copy});
          return true;
        });
  }
  ~Viewer() { srtp_dealloc(in_); }

  std::shared_ptr<DirectStream> stream;
  std::vector<Received> received;

 private:
  std::array<guint8, 30> key_;
  srtp_t in_ = nullptr;
};

// A rung's VP8 packet as rtpvp8pay makes it: X and I set, a 15-bit picture ID; S on a frame's
// first packet, whose first payload byte has P clear on a keyframe; the marker on a frame's last.
// `fill` payload bytes, then `tag` as its last byte.
GstBuffer* vp8(guint16 seq, guint32 ts, guint16 pictureId, bool frameStart, bool keyframe,
               guint8 tag, bool marker = false, int fill = 40) {
  std::vector<guint8> p = {0x80, guint8(96 | (marker ? 0x80 : 0)), guint8(seq >> 8), guint8(seq)};
  for (int i = 3; i >= 0; --i) p.push_back(guint8(ts >> (8 * i)));
  for (guint8 b : {0xaa, 0xbb, 0xcc, 0xdd}) p.push_back(b);  // the rung's own SSRC
  p.push_back(guint8(0x80 | (frameStart ? 0x10 : 0)));
  p.push_back(0x80);
  p.push_back(guint8(0x80 | (pictureId >> 8)));
  p.push_back(guint8(pictureId));
  p.push_back(frameStart ? (keyframe ? 0x10 : 0x11) : 0x42);
  for (int i = 0; i < fill; ++i) p.push_back(guint8(i * 7 + seq));
  p.push_back(tag);
  return gst_buffer_new_memdup(p.data(), p.size());
}

// A rung: its fanout and where its own numbering stands.
struct Rung {
  explicit Rung(guint16 firstSeq, guint32 firstTs, guint16 firstPicture, guint8 id)
      : seq(firstSeq), ts(firstTs), picture(firstPicture), id(id) {}
  DirectFanout fanout{DirectStream::Kind::kVideo};
  guint16 seq;
  guint32 ts;
  guint16 picture;
  guint8 id;
  // One frame of `packets` packets (of different sizes); returns the tags it sent.
  std::vector<guint8> frame(bool keyframe, int packets = 3) {
    std::vector<guint8> tags;
    for (int i = 0; i < packets; ++i) {
      const guint8 tag = guint8(id * 100 + (seq % 100));
      GstBuffer* b =
          vp8(seq++, ts, picture, i == 0, keyframe, tag, i == packets - 1, 40 + 13 * (i % 5));
      fanout.send(b);
      gst_buffer_unref(b);
      tags.push_back(tag);
    }
    ts += 3600;
    picture = guint16((picture + 1) & 0x7fff);
    return tags;
  }
};

TEST(DirectSendTest, Vp8PacketsAreReadForKeyframesAndPictureIds) {
  gst_init(nullptr, nullptr);
  auto read = [](GstBuffer* b) {
    GstMapInfo map;
    gst_buffer_map(b, &map, GST_MAP_READ);
    const PacketInfo info = vp8PacketInfo(map.data, map.size);
    gst_buffer_unmap(b, &map);
    gst_buffer_unref(b);
    return info;
  };
  const PacketInfo key = read(vp8(1, 0, 300, true, true, 0));
  EXPECT_TRUE(key.startsPicture);
  EXPECT_EQ(key.pictureIdAt, 14u);
  EXPECT_FALSE(read(vp8(2, 0, 300, false, true, 0)).startsPicture);  // the keyframe goes on
  EXPECT_FALSE(read(vp8(3, 0, 301, true, false, 0)).startsPicture);  // a delta frame
  // Short or foreign packets: nothing to start on, nothing to rewrite, and no read past the end.
  const guint8 shortPacket[] = {0x80, 96, 0, 1, 0, 0, 0, 0, 1, 2, 3, 4, 0x90};
  for (std::size_t n = 0; n <= sizeof shortPacket; ++n) {
    const PacketInfo info = vp8PacketInfo(shortPacket, n);
    EXPECT_FALSE(info.startsPicture);
    EXPECT_EQ(info.pictureIdAt, 0u);
  }
}

TEST(DirectSendTest, AViewerStartsOnAKeyframeAndKeepsItsOwnNumbersAcrossARungSwitch) {
  Viewer viewer(DirectStream::Kind::kVideo);
  Rung big(1000, 500000, 7000, 1), small(40000, 9000000, 20, 2);
  big.fanout.add(viewer.stream);
  big.frame(false);  // a delta frame: the viewer could not decode it, so it is not sent
  EXPECT_TRUE(viewer.received.empty());
  const auto first = big.frame(true);
  const auto second = big.frame(false);
  ASSERT_EQ(viewer.received.size(), 6u);
  for (std::size_t i = 0; i < 6; ++i) {
    const Received& r = viewer.received[i];
    EXPECT_EQ(r.ssrc(), kOurSsrc);
    EXPECT_EQ(r.tag(), (i < 3 ? first : second)[i % 3]);
    if (i > 0) {
      EXPECT_EQ(r.seq(), guint16(viewer.received[i - 1].seq() + 1));
    }
  }
  EXPECT_EQ(viewer.received[3].ts() - viewer.received[0].ts(), 3600u);  // the rung's own step
  EXPECT_EQ(viewer.received[3].pictureId(), guint16(viewer.received[0].pictureId() + 1));

  // To the small rung: nothing more from the big one, nothing from the small one until its
  // keyframe, then its frames with this viewer's numbers running on.
  big.fanout.remove(viewer.stream.get());
  small.fanout.add(viewer.stream);
  big.frame(false);
  small.frame(false);
  EXPECT_EQ(viewer.received.size(), 6u);
  const Received last = viewer.received.back();
  const auto after = small.frame(true);
  ASSERT_EQ(viewer.received.size(), 9u);
  const Received& next = viewer.received[6];
  EXPECT_EQ(next.tag(), after[0]);
  EXPECT_EQ(next.ssrc(), kOurSsrc);
  EXPECT_EQ(next.seq(), guint16(last.seq() + 1));
  EXPECT_EQ(next.pictureId(), guint16(last.pictureId() + 1));
  // The timestamp goes on by the time that passed (here well under a second), not by the
  // difference between the two rungs' clocks.
  EXPECT_LT(next.ts() - last.ts(), 90000u);
  EXPECT_FALSE(next.marker());
}

TEST(DirectSendTest, WhatAViewerLostIsResentAsRtxWithTheNumberItHad) {
  Viewer viewer(DirectStream::Kind::kVideo);
  viewer.stream->enableRtx(kRtxSsrc, kRtxPayload);
  Rung big(65530, 100, 32766, 1), small(7, 200, 5, 2);  // both wrap their numbers on the way
  big.fanout.add(viewer.stream);
  big.frame(true);
  big.frame(false);
  big.frame(false);
  big.fanout.remove(viewer.stream.get());
  small.fanout.add(viewer.stream);
  small.frame(true);
  small.frame(false);
  const std::vector<Received> sent = viewer.received;
  ASSERT_EQ(sent.size(), 15u);

  // The viewer lost one packet from each rung.
  for (std::size_t lost : {4u, 10u}) {
    const std::size_t before = viewer.received.size();
    ASSERT_TRUE(viewer.stream->resend(sent[lost].seq())) << "packet " << lost;
    ASSERT_EQ(viewer.received.size(), before + 1);
    const Received& rtx = viewer.received.back();
    EXPECT_EQ(rtx.ssrc(), kRtxSsrc);
    EXPECT_EQ(rtx.payloadType(), kRtxPayload);
    EXPECT_EQ(rtx.ts(), sent[lost].ts());
    // RFC 4588: the original sequence number, then the payload exactly as the viewer had it
    // (its picture ID included).
    EXPECT_EQ(GST_READ_UINT16_BE(rtx.bytes.data() + 12), sent[lost].seq());
    EXPECT_EQ(std::vector<guint8>(rtx.bytes.begin() + 14, rtx.bytes.end()),
              std::vector<guint8>(sent[lost].bytes.begin() + 12, sent[lost].bytes.end()));
  }
  const auto& a = viewer.received[15];
  const auto& b = viewer.received[16];
  EXPECT_EQ(b.seq(), guint16(a.seq() + 1));  // the RTX stream's own numbering
  // Never sent to this viewer (a number from before it started): nothing to resend.
  EXPECT_FALSE(viewer.stream->resend(guint16(sent[0].seq() - 1)));
  EXPECT_EQ(viewer.stream->packetsResent(), 2u);
}

TEST(DirectSendTest, WithoutNegotiatedRtxNothingIsResent) {
  Viewer viewer(DirectStream::Kind::kVideo);
  Rung rung(1, 1, 1, 1);
  rung.fanout.add(viewer.stream);
  rung.frame(true);
  ASSERT_EQ(viewer.received.size(), 3u);
  EXPECT_FALSE(viewer.stream->resend(viewer.received[1].seq()));
  EXPECT_EQ(viewer.received.size(), 3u);
}

TEST(DirectSendTest, AListenerMovedToAnotherMixGetsAMarkedTalkspurtAndASenderReport) {
  Viewer listener(DirectStream::Kind::kAudio);
  EXPECT_FALSE(listener.stream->report(g_get_monotonic_time()));  // nothing sent yet
  DirectFanout mixA, mixB;
  auto opus = [](guint16 seq, guint32 ts) {
    std::vector<guint8> p = {0x80, 111, guint8(seq >> 8), guint8(seq)};
    for (int i = 3; i >= 0; --i) p.push_back(guint8(ts >> (8 * i)));
    for (guint8 b : {0xaa, 0xbb, 0xcc, 0xdd}) p.push_back(b);  // the mix's own SSRC
    for (int i = 0; i < 30; ++i) p.push_back(guint8(i));
    return gst_buffer_new_memdup(p.data(), p.size());
  };
  mixA.add(listener.stream);
  for (guint16 i = 0; i < 3; ++i) {
    GstBuffer* b = opus(i, 960u * i);
    mixA.send(b);
    gst_buffer_unref(b);
  }
  mixA.remove(listener.stream.get());
  mixB.add(listener.stream);
  GstBuffer* b = opus(5000, 123456);
  mixB.send(b);
  gst_buffer_unref(b);
  ASSERT_EQ(listener.received.size(), 4u);
  EXPECT_TRUE(listener.received[0].marker());
  EXPECT_FALSE(listener.received[1].marker());
  EXPECT_TRUE(listener.received[3].marker());  // a new talkspurt for its jitterbuffer
  EXPECT_EQ(listener.received[3].seq(), guint16(listener.received[2].seq() + 1));
  const auto report = listener.stream->report(g_get_monotonic_time());
  ASSERT_TRUE(report);
  EXPECT_EQ(report->ssrc, kOurSsrc);
  EXPECT_EQ(report->packets, 4u);
  EXPECT_EQ(report->octets, 4u * 30u);                             // payload only
  EXPECT_LT(report->rtpTime - listener.received[3].ts(), 48000u);  // about now on its clock
}

// ------------------------------------------------------------------------ RED/ULPFEC

constexpr int kRed = 100;
constexpr int kUlpfec = 101;

// A packet as the viewer has it without RED (RFC 2198 with one block): the header, the block's
// payload type in place of RED's, the payload after the one-byte block header.
std::vector<guint8> unwrapRed(const Received& r) {
  EXPECT_EQ(r.payloadType(), kRed);
  const std::size_t header = 12;  // ours carry no CSRCs or extension
  EXPECT_EQ(r.bytes[header] & 0x80, 0) << "F=0: one block";
  std::vector<guint8> plain(r.bytes.size() - 1);
  std::copy(r.bytes.begin(), r.bytes.begin() + header, plain.begin());
  std::copy(r.bytes.begin() + header + 1, r.bytes.end(), plain.begin() + header);
  plain[1] = guint8((r.bytes[1] & 0x80) | (r.bytes[header] & 0x7f));
  return plain;
}

// RFC 5109 7.4, written from the spec for the test: the one packet of the FEC packet's group that
// is missing from `others`, rebuilt from the FEC packet (the RED-unwrapped payload) and them.
std::vector<guint8> recover(const std::vector<guint8>& fec, guint32 ssrc, guint16 missingSeq,
                            const std::vector<std::vector<guint8>>& others) {
  const guint8* f = fec.data() + 12;  // after the RTP header
  guint8 bits0 = f[0], bits1 = f[1];
  guint32 ts = GST_READ_UINT32_BE(f + 4);
  guint16 length = GST_READ_UINT16_BE(f + 8);
  const guint16 protection = GST_READ_UINT16_BE(f + 10);
  std::vector<guint8> payload(f + 14, f + 14 + protection);
  for (const auto& p : others) {
    bits0 ^= p[0];
    bits1 ^= p[1];
    ts ^= GST_READ_UINT32_BE(p.data() + 4);
    length ^= guint16(p.size() - 12);
    for (std::size_t i = 12; i < p.size(); ++i) payload[i - 12] ^= p[i];
  }
  std::vector<guint8> out(12);
  out[0] = guint8(0x80 | (bits0 & 0x3f));
  out[1] = bits1;
  GST_WRITE_UINT16_BE(out.data() + 2, missingSeq);
  GST_WRITE_UINT32_BE(out.data() + 4, ts);
  GST_WRITE_UINT32_BE(out.data() + 8, ssrc);
  out.insert(out.end(), payload.begin(), payload.begin() + length);
  return out;
}

TEST(DirectSendTest, WithFecOffNothingIsRedWrapped) {
  Viewer viewer(DirectStream::Kind::kVideo);
  viewer.stream->enableFec(kRed, kUlpfec);  // negotiated, but no loss yet
  Rung rung(1, 1, 1, 1);
  rung.fanout.add(viewer.stream);
  rung.frame(true, 6);
  rung.frame(false, 3);
  ASSERT_EQ(viewer.received.size(), 9u);
  for (const Received& r : viewer.received) EXPECT_EQ(r.payloadType(), 96);
  EXPECT_EQ(viewer.stream->fecPacketsSent(), 0u);
}

// A frame's packets go in groups of at most kFecGroup; after its last packet (never inside it)
// one ULPFEC packet per group follows in RED on the viewer's next sequence numbers, from which any
// one packet of the group it lost is rebuilt byte for byte.
TEST(DirectSendTest, WithFecOnAnyOnePacketOfAGroupIsRebuiltFromItsFecPacket) {
  Viewer viewer(DirectStream::Kind::kVideo);
  viewer.stream->enableRtx(kRtxSsrc, kRtxPayload);
  viewer.stream->enableFec(kRed, kUlpfec);
  viewer.stream->setFec(true);
  Rung rung(65533, 1, 1, 1);  // the rung's numbers wrap on the way
  rung.fanout.add(viewer.stream);
  rung.frame(true, 6);   // groups of 4 and 2
  rung.frame(false, 3);  // a group of 3
  rung.frame(false, 5);  // one group of 5: a group of one would be a copy
  ASSERT_EQ(viewer.received.size(), 14u + 4u);
  EXPECT_EQ(viewer.stream->fecPacketsSent(), 4u);

  std::vector<std::vector<guint8>> media;  // as the viewer would have had them without RED
  std::vector<std::size_t> sizes;
  bool afterFrame = false;  // the last media packet ended a frame
  for (std::size_t i = 0; i < viewer.received.size(); ++i) {
    const Received& r = viewer.received[i];
    EXPECT_EQ(r.ssrc(), kOurSsrc);
    if (i > 0) {
      EXPECT_EQ(r.seq(), guint16(viewer.received[i - 1].seq() + 1)) << i;
    }
    ASSERT_EQ(r.payloadType(), kRed) << i;
    const guint8 block = r.bytes[12] & 0x7f;
    if (block == 96) {
      media.push_back(unwrapRed(r));
      afterFrame = r.marker();
      continue;
    }
    ASSERT_EQ(block, kUlpfec) << i;
    EXPECT_TRUE(afterFrame) << "FEC packet " << i << " inside a frame";
    EXPECT_FALSE(r.marker());
    const std::vector<guint8> fec = unwrapRed(r);
    const guint8* f = fec.data() + 12;
    // RFC 5109 7.3: E=0 and L=0 (a 16-bit mask), SN base the group's first packet, protection
    // length its longest payload, the mask's first bits its packets.
    EXPECT_EQ(f[0] & 0xc0, 0);
    const guint16 base = GST_READ_UINT16_BE(f + 2);
    const guint16 mask = GST_READ_UINT16_BE(f + 12);
    std::size_t n = 0;
    while (n < 16 && (mask & (0x8000 >> n))) ++n;
    EXPECT_EQ(mask, guint16(0xffff << (16 - n)));
    std::vector<std::vector<guint8>> group;
    for (const auto& p : media) {
      if (guint16(GST_READ_UINT16_BE(p.data() + 2) - base) < n) group.push_back(p);
    }
    ASSERT_EQ(group.size(), n) << "FEC " << i;
    sizes.push_back(n);
    std::size_t longest = 0;
    for (const auto& p : group) longest = std::max(longest, p.size() - 12);
    EXPECT_EQ(GST_READ_UINT16_BE(f + 10), longest);
    EXPECT_EQ(fec.size(), 12 + 14 + longest);
    for (std::size_t lost = 0; lost < group.size(); ++lost) {
      std::vector<std::vector<guint8>> others = group;
      others.erase(others.begin() + std::ptrdiff_t(lost));
      const guint16 seq = GST_READ_UINT16_BE(group[lost].data() + 2);
      EXPECT_EQ(recover(fec, kOurSsrc, seq, others), group[lost])
          << "FEC " << i << " lost " << lost;
    }
  }
  EXPECT_EQ(sizes, (std::vector<std::size_t>{4, 2, 3, 5}));

  // NACK/RTX still work: a media packet is resent plain with the number it had, a FEC packet not.
  const Received sent = viewer.received[5];  // the first frame's last packet
  ASSERT_EQ(sent.bytes[12], 96);
  ASSERT_TRUE(viewer.stream->resend(sent.seq()));
  const Received& rtx = viewer.received.back();
  EXPECT_EQ(rtx.ssrc(), kRtxSsrc);
  EXPECT_EQ(GST_READ_UINT16_BE(rtx.bytes.data() + 12), sent.seq());
  const std::vector<guint8> plain = unwrapRed(sent);
  EXPECT_EQ(std::vector<guint8>(rtx.bytes.begin() + 14, rtx.bytes.end()),
            std::vector<guint8>(plain.begin() + 12, plain.end()));
  EXPECT_FALSE(viewer.stream->resend(viewer.received[6].seq()));  // the first FEC packet

  // Off again: plain packets, no FEC.
  viewer.stream->setFec(false);
  const std::size_t before = viewer.received.size();
  rung.frame(false, 5);
  ASSERT_EQ(viewer.received.size(), before + 5);
  for (std::size_t i = before; i < viewer.received.size(); ++i) {
    EXPECT_EQ(viewer.received[i].payloadType(), 96);
  }
}

// GStreamer's own ULPFEC receiver, as webrtcbin builds it: rtpreddec ! rtpstorage !
// rtpulpfecdec, fed what a viewer received but one packet, then told that one is lost (the event
// rtpjitterbuffer sends). Returns the packets it passed on, rebuilt ones included.
std::vector<std::vector<guint8>> throughGstreamer(const std::vector<Received>& received,
                                                  guint16 lost) {
  GstElement* pipeline = gst_pipeline_new(nullptr);
  GstElement* red = gst_element_factory_make("rtpreddec", nullptr);
  GstElement* storage = gst_element_factory_make("rtpstorage", nullptr);
  GstElement* ulpfec = gst_element_factory_make("rtpulpfecdec", nullptr);
  EXPECT_TRUE(red && storage && ulpfec)
      << "rtpreddec, rtpstorage and rtpulpfecdec (gst-plugins-good)";
  if (!red || !storage || !ulpfec) return {};
  g_object_set(red, "pt", kRed, nullptr);
  g_object_set(storage, "size-time", guint64(10 * GST_SECOND), nullptr);
  GObject* store = nullptr;
  g_object_get(storage, "internal-storage", &store, nullptr);
  g_object_set(ulpfec, "pt", kUlpfec, "storage", store, nullptr);
  g_object_unref(store);
  gst_bin_add_many(GST_BIN(pipeline), red, storage, ulpfec, nullptr);
  EXPECT_TRUE(gst_element_link_many(red, storage, ulpfec, nullptr));
  static std::vector<std::vector<guint8>> out;
  out.clear();
  GstPad* src = gst_pad_new("src", GST_PAD_SRC);
  GstPad* sink = gst_pad_new("sink", GST_PAD_SINK);
  gst_pad_set_chain_function(sink, [](GstPad*, GstObject*, GstBuffer* buffer) {
    GstMapInfo map;
    if (gst_buffer_map(buffer, &map, GST_MAP_READ)) {
      out.emplace_back(map.data, map.data + map.size);
      gst_buffer_unmap(buffer, &map);
    }
    gst_buffer_unref(buffer);
    return GST_FLOW_OK;
  });
  GstPad* redSink = gst_element_get_static_pad(red, "sink");
  GstPad* fecSrc = gst_element_get_static_pad(ulpfec, "src");
  EXPECT_EQ(gst_pad_link(src, redSink), GST_PAD_LINK_OK);
  EXPECT_EQ(gst_pad_link(fecSrc, sink), GST_PAD_LINK_OK);
  gst_object_unref(redSink);
  gst_object_unref(fecSrc);
  gst_pad_set_active(sink, TRUE);
  gst_pad_set_active(src, TRUE);
  gst_element_set_state(pipeline, GST_STATE_PLAYING);
  gst_pad_push_event(src, gst_event_new_stream_start("fec"));
  gst_pad_push_event(src, gst_event_new_caps(gst_caps_new_simple(
                              "application/x-rtp", "media", G_TYPE_STRING, "video", "clock-rate",
                              G_TYPE_INT, 90000, "encoding-name", G_TYPE_STRING, "VP8", "payload",
                              G_TYPE_INT, kRed, "ssrc", G_TYPE_UINT, kOurSsrc, nullptr)));
  GstSegment segment;
  gst_segment_init(&segment, GST_FORMAT_TIME);
  gst_pad_push_event(src, gst_event_new_segment(&segment));
  GstClockTime at = 0;
  for (const Received& r : received) {
    at += 10 * GST_MSECOND;
    if (r.seq() == lost) continue;
    GstBuffer* b = gst_buffer_new_memdup(r.bytes.data(), r.bytes.size());
    GST_BUFFER_PTS(b) = GST_BUFFER_DTS(b) = at;
    EXPECT_EQ(gst_pad_push(src, b), GST_FLOW_OK);
  }
  gst_pad_push_event(
      src, gst_event_new_custom(
               GST_EVENT_CUSTOM_DOWNSTREAM,
               gst_structure_new("GstRTPPacketLost", "seqnum", G_TYPE_UINT, guint(lost),
                                 "timestamp", G_TYPE_UINT64, at, "duration", G_TYPE_UINT64,
                                 guint64(0), "retry", G_TYPE_UINT, 0u, nullptr)));
  gst_element_set_state(pipeline, GST_STATE_NULL);
  gst_pad_set_active(src, FALSE);
  gst_pad_set_active(sink, FALSE);
  gst_object_unref(src);
  gst_object_unref(sink);
  gst_object_unref(pipeline);
  return out;
}

TEST(DirectSendTest, GstreamersUlpfecDecoderRebuildsALostPacket) {
  Viewer viewer(DirectStream::Kind::kVideo);
  viewer.stream->enableFec(kRed, kUlpfec);
  viewer.stream->setFec(true);
  Rung rung(100, 1, 1, 1);
  rung.fanout.add(viewer.stream);
  rung.frame(true, 6);   // groups of 4 and 2: their FEC packets 6 and 7
  rung.frame(false, 3);  // its FEC packet 11
  rung.frame(false, 5);  // one group of 5: its FEC packet 17
  ASSERT_EQ(viewer.received.size(), 6u + 2u + 3u + 1u + 5u + 1u);
  // Each media packet lost in turn.
  for (std::size_t lost : {0u, 1u, 2u, 3u, 4u, 5u, 8u, 9u, 10u, 12u, 13u, 14u, 15u, 16u}) {
    const std::vector<guint8> want = unwrapRed(viewer.received[lost]);
    const auto got = throughGstreamer(viewer.received, viewer.received[lost].seq());
    // rtpulpfecdec numbers what it passes on afresh (it expects to follow a jitterbuffer), so
    // the rebuilt packet, the last it passed on, is compared but for its sequence number.
    ASSERT_FALSE(got.empty());
    std::vector<guint8> rebuilt = got.back();
    ASSERT_GE(rebuilt.size(), 12u);
    rebuilt[2] = want[2];
    rebuilt[3] = want[3];
    EXPECT_EQ(rebuilt, want) << "packet " << lost;
  }
}

// A keyframe of many packets: kFecGroups groups, the last of up to 16 (its mask's width), all
// their FEC packets after the frame; packets beyond them go unprotected.
TEST(DirectSendTest, ABigFrameIsProtectedInAtMostKFecGroupsGroups) {
  Viewer viewer(DirectStream::Kind::kVideo);
  viewer.stream->enableFec(kRed, kUlpfec);
  viewer.stream->setFec(true);
  Rung rung(1, 1, 1, 1);
  rung.fanout.add(viewer.stream);
  rung.frame(true, 70);
  constexpr std::size_t kGroups = DirectStream::kFecGroups;
  ASSERT_EQ(viewer.received.size(), 70u + kGroups);
  for (std::size_t i = 0; i < 70; ++i) ASSERT_EQ(viewer.received[i].bytes[12], 96) << i;
  for (std::size_t g = 0; g < kGroups; ++g) {
    const Received& fec = viewer.received[70 + g];
    ASSERT_EQ(fec.bytes[12], kUlpfec);
    const guint16 base = GST_READ_UINT16_BE(fec.bytes.data() + 13 + 2);
    const guint16 mask = GST_READ_UINT16_BE(fec.bytes.data() + 13 + 12);
    const std::size_t first = DirectStream::kFecGroup * g;
    EXPECT_EQ(base, viewer.received[first].seq()) << g;
    EXPECT_EQ(mask, g + 1 < kGroups ? 0xf000 : 0xffff) << g;
  }
}

TEST(DirectSendTest, WithoutNegotiatedFecNothingIsProtected) {
  Viewer viewer(DirectStream::Kind::kVideo);
  viewer.stream->setFec(true);  // no enableFec: the answer did not keep RED/ULPFEC
  Rung rung(1, 1, 1, 1);
  rung.fanout.add(viewer.stream);
  rung.frame(true, 5);
  ASSERT_EQ(viewer.received.size(), 5u);
  for (const Received& r : viewer.received) EXPECT_EQ(r.payloadType(), 96);
}

}  // namespace
}  // namespace mcu::media
