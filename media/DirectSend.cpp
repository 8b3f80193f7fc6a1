#include "media/DirectSend.hpp"

#include <nice/agent.h>

#include <array>
#include <cstring>
#include <mutex>

namespace mcu::media {

namespace {

bool isA(GstElement* element, const char* factory) {
  GstElementFactory* f = gst_element_get_factory(element);
  return f && std::strcmp(GST_OBJECT_NAME(f), factory) == 0;
}

// The first element made by `factory` anywhere in `bin` (a reference), or nullptr.
GstElement* findIn(GstBin* bin, const char* factory) {
  GstIterator* it = gst_bin_iterate_recurse(bin);
  GValue item = G_VALUE_INIT;
  GstElement* found = nullptr;
  while (!found && gst_iterator_next(it, &item) == GST_ITERATOR_OK) {
    auto* e = GST_ELEMENT(g_value_get_object(&item));
    if (isA(e, factory)) found = GST_ELEMENT(gst_object_ref(e));
    g_value_reset(&item);
  }
  g_value_unset(&item);
  gst_iterator_free(it);
  return found;
}

// The nicesink of the transport an srtpenc belongs to: the nearest one among its ancestors' own.
GstElement* nicesinkNear(GstElement* srtpenc, GstElement* webrtcbin) {
  for (GstObject* up = gst_object_get_parent(GST_OBJECT(srtpenc)); up;) {
    GstElement* sink = GST_IS_BIN(up) ? findIn(GST_BIN(up), "nicesink") : nullptr;
    const bool top = GST_ELEMENT(up) == webrtcbin;
    GstObject* next = (sink || top) ? nullptr : gst_object_get_parent(up);
    gst_object_unref(up);
    if (sink) return sink;
    up = next;
  }
  return nullptr;
}

guint16 readPictureId(const guint8* at) {
  return guint16(((at[0] & 0x7f) << 8) | at[1]);
}

void writePictureId(guint8* at, guint16 id) {
  at[0] = guint8(0x80 | ((id >> 8) & 0x7f));  // M: the 15-bit form
  at[1] = guint8(id & 0xff);
}

// The RTP header's length with its CSRCs and extension, 0 if the packet is shorter.
std::size_t headerLength(const guint8* rtp, std::size_t size) {
  if (size < 12) return 0;
  std::size_t at = 12 + 4 * std::size_t(rtp[0] & 0x0f);
  if (rtp[0] & 0x10) {
    if (size < at + 4) return 0;
    at += 4 + 4 * ((std::size_t(rtp[at + 2]) << 8) | rtp[at + 3]);
  }
  return size < at ? 0 : at;
}

}  // namespace

PacketInfo vp8PacketInfo(const guint8* rtp, std::size_t size) {
  PacketInfo info{false, 0};
  const std::size_t at = headerLength(rtp, size);
  if (at == 0 || size <= at) return info;
  // RFC 7741 4.2: X R N S R PID(3) [I L T K RSV(4)] [M PictureID(7|15)] [TL0PICIDX] [TID Y KEYIDX]
  const guint8 first = rtp[at];
  std::size_t p = at + 1;
  if (first & 0x80) {
    if (size <= p) return info;
    const guint8 x = rtp[p++];
    if (x & 0x80) {
      if (size <= p) return info;
      if (rtp[p] & 0x80) {
        if (size < p + 2) return info;
        info.pictureIdAt = p;
        p += 2;
      } else {
        p += 1;
      }
    }
    if (x & 0x40) p += 1;
    if (x & 0x30) p += 1;
  }
  // The first packet of a frame's first partition starts with the VP8 payload header, whose
  // P bit is 0 on a keyframe (RFC 6386 9.1).
  const bool firstOfFrame = (first & 0x10) && (first & 0x07) == 0;
  info.startsPicture = firstOfFrame && size > p && (rtp[p] & 0x01) == 0;
  return info;
}

PacketHistory::PacketHistory(std::size_t slots) : slots_(slots) {}

void PacketHistory::add(const guint8* rtp, std::size_t size) {
  if (size < 12 || size > kMaxRtpPacket) return;
  const guint16 seq = GST_READ_UINT16_BE(rtp + 2);
  std::lock_guard lock(mu_);
  Slot& slot = slots_[seq & (slots_.size() - 1)];
  slot.seq = seq;
  slot.size = std::uint16_t(size);
  std::memcpy(slot.data.data(), rtp, size);
}

std::size_t PacketHistory::copy(guint16 seq, guint8* out) const {
  std::lock_guard lock(mu_);
  const Slot& slot = slots_[seq & (slots_.size() - 1)];
  if (slot.seq != seq) return 0;
  std::memcpy(out, slot.data.data(), slot.size);
  return slot.size;
}

std::shared_ptr<DirectStream> DirectStream::fromWebrtc(GstElement* webrtcbin, guint32 ssrc,
                                                       Kind kind) {
  GstElement* srtpenc = findIn(GST_BIN(webrtcbin), "srtpenc");
  if (!srtpenc) return nullptr;
  GstBuffer* key = nullptr;
  int cipher = 0, auth = 0;
  g_object_get(srtpenc, "key", &key, "rtp-cipher", &cipher, "rtp-auth", &auth, nullptr);
  GstElement* nicesink = nicesinkNear(srtpenc, webrtcbin);
  gst_object_unref(srtpenc);
  NiceAgent* agent = nullptr;
  guint stream = 0, component = 0;
  if (nicesink) {
    g_object_get(nicesink, "agent", &agent, "stream", &stream, "component", &component, nullptr);
    gst_object_unref(nicesink);
  }
  std::shared_ptr<NiceAgent> owned(agent, [](NiceAgent* a) {
    if (a) g_object_unref(a);
  });
  std::unique_ptr<SrtpSender> srtp;
  // srtpenc's GstSrtpCipherType 1 is aes-128-icm; GstSrtpAuthType 1 and 2 are HMAC-SHA1-32 and
  // -80: what webrtcbin's DTLS negotiates. Anything else keeps webrtcbin's path.
  GstMapInfo map;
  if (key && cipher == 1 && (auth == 1 || auth == 2) && gst_buffer_map(key, &map, GST_MAP_READ)) {
    srtp = SrtpSender::create(auth == 2 ? SrtpSender::Suite::kAesCm128HmacSha1_80
                                        : SrtpSender::Suite::kAesCm128HmacSha1_32,
                              map.data, map.size);
    gst_buffer_unmap(key, &map);
  }
  if (key) gst_buffer_unref(key);
  if (!srtp || !agent || stream == 0 || component == 0) return nullptr;
  return create(std::move(srtp), ssrc, kind,
                [owned, stream, component](const guint8* packet, std::size_t size) {
                  return nice_agent_send(owned.get(), stream, component, guint(size),
                                         reinterpret_cast<const gchar*>(packet)) > 0;
                });
}

std::shared_ptr<DirectStream> DirectStream::create(std::unique_ptr<SrtpSender> srtp, guint32 ssrc,
                                                   Kind kind, Transmit transmit) {
  if (!srtp || !transmit) return nullptr;
  std::shared_ptr<DirectStream> out(new DirectStream);
  out->srtp_ = std::move(srtp);
  out->transmit_ = std::move(transmit);
  out->ssrc_ = ssrc;
  out->kind_ = kind;
  out->clockRate_ = kind == Kind::kVideo ? 90000 : 48000;
  out->index_ = g_random_int_range(0, 0x8000);  // RFC 3711: the first sequence number < 2^15
  return out;
}

void DirectStream::enableRtx(guint32 ssrc, int payloadType) {
  std::lock_guard lock(mu_);
  rtxSsrc_ = ssrc;
  rtxPayload_ = payloadType;
  rtxIndex_ = g_random_int_range(0, 0x8000);
}

void DirectStream::enableFec(int redPayload, int fecPayload) {
  std::lock_guard lock(mu_);
  redPayload_ = redPayload;
  fecPayload_ = fecPayload;
  fec_ = std::make_unique<std::array<FecGroup, kFecGroups>>();
  fecOut_.resize(kFecGroups * kFecSlot);
  seqMap_ = std::make_unique<SeqMap>();
}

int DirectStream::protect(guint8* packet, std::size_t& size) {
  const std::size_t header = headerLength(packet, size);
  if (header == 0) return 0;
  // The packet's group: the current one until it holds kFecGroup (the last one, 16: its mask's
  // width); beyond that the frame's packets go unprotected.
  FecGroup* g = fecGroups_ > 0 ? &(*fec_)[std::size_t(fecGroups_ - 1)] : nullptr;
  if (!g || (g->count >= kFecGroup && fecGroups_ < kFecGroups)) {
    g = &(*fec_)[std::size_t(fecGroups_++)];
    g->count = 0;
    g->baseSeq = GST_READ_UINT16_BE(packet + 2);
    g->bits[0] = g->bits[1] = 0;
    g->ts = 0;
    g->length = 0;
    g->protection = 0;
  }
  if (g->count < 16) {
    // RFC 5109 7.3: everything after the fixed 12-byte header is protected, CSRCs and extension
    // included (what libwebrtc's receiver XORs too).
    const std::size_t payload = size - 12;
    g->bits[0] ^= packet[0];
    g->bits[1] ^= packet[1];
    g->lastTs = GST_READ_UINT32_BE(packet + 4);
    g->ts ^= g->lastTs;
    g->length ^= guint16(payload);
    if (payload > g->protection) {
      std::memset(g->payload.data() + g->protection, 0, payload - g->protection);
      g->protection = payload;
    }
    for (std::size_t i = 0; i < payload; ++i) g->payload[i] ^= packet[12 + i];
    ++g->count;
  }
  const bool frameEnds = packet[1] & 0x80;
  // RED (RFC 2198) with one block: the RTP header stays, its payload type becomes RED's, and a
  // one-byte block header (F=0, the media's payload type) goes before the payload.
  std::memmove(packet + header + 1, packet + header, size - header);
  packet[header] = packet[1] & 0x7f;
  packet[1] = guint8((packet[1] & 0x80) | redPayload_);
  ++size;
  if (!frameEnds) return 0;
  // A last group of one would cost a FEC packet that is a copy: it joins the group before.
  if (fecGroups_ > 1 && (*fec_)[std::size_t(fecGroups_ - 1)].count == 1) {
    FecGroup& into = (*fec_)[std::size_t(fecGroups_ - 2)];
    const FecGroup& last = (*fec_)[std::size_t(fecGroups_ - 1)];
    if (into.count < 16) {
      into.bits[0] ^= last.bits[0];
      into.bits[1] ^= last.bits[1];
      into.ts ^= last.ts;
      into.lastTs = last.lastTs;
      into.length ^= last.length;
      if (last.protection > into.protection) {
        std::memset(into.payload.data() + into.protection, 0, last.protection - into.protection);
        into.protection = last.protection;
      }
      for (std::size_t i = 0; i < last.protection; ++i) into.payload[i] ^= last.payload[i];
      ++into.count;
      --fecGroups_;
    }
  }
  const int n = fecGroups_;
  for (int i = 0; i < n; ++i) {
    fecLen_[std::size_t(i)] = writeFec((*fec_)[std::size_t(i)], fecOut_.data() + i * kFecSlot);
  }
  fecGroups_ = 0;
  return n;
}

// A group's ULPFEC packet in RED: our header (sequence number left to the caller), the block
// header, the FEC header (E=0, L=0: one level with a 16-bit mask) and level 0.
std::size_t DirectStream::writeFec(const FecGroup& g, guint8* fec) const {
  fec[0] = 0x80;
  fec[1] = guint8(redPayload_);
  GST_WRITE_UINT32_BE(fec + 4, g.lastTs);
  GST_WRITE_UINT32_BE(fec + 8, ssrc_);
  fec[12] = guint8(fecPayload_);
  guint8* f = fec + 13;
  f[0] = g.bits[0] & 0x3f;  // P, X and CC recovery
  f[1] = g.bits[1];         // M and PT recovery
  GST_WRITE_UINT16_BE(f + 2, g.baseSeq);
  GST_WRITE_UINT32_BE(f + 4, g.ts);
  GST_WRITE_UINT16_BE(f + 8, g.length);
  GST_WRITE_UINT16_BE(f + 10, guint16(g.protection));
  GST_WRITE_UINT16_BE(f + 12, guint16(0xffff << (16 - g.count)));  // the group's packets
  std::memcpy(f + 14, g.payload.data(), g.protection);
  return 13 + 14 + g.protection;
}

void DirectStream::send(const guint8* rtp, std::size_t size, gint64 nowUs, const PacketInfo& info,
                        const std::shared_ptr<PacketHistory>& history) {
  if (size < 12 || size > kMaxRtpPacket) return;
  std::array<guint8, kMaxRtpPacket + 1 + SrtpSender::kMaxTag> packet;  // + RED's block header
  std::size_t len = 0, sent = size;
  int fecPackets = 0;
  bool lose = false;
  {
    std::lock_guard lock(mu_);
    if (resync_.exchange(false)) waiting_ = true;
    const bool first = waiting_;
    if (waiting_) {
      if (kind_ == Kind::kVideo && !info.startsPicture) return;
      waiting_ = false;
      // The first packet from this shared stream: it continues from the last one sent, one
      // interval of real time later (the receiver's jitterbuffer sees no jump), and its picture
      // IDs from the last one's (a receiver takes a step back for old frames).
      const guint32 ts = GST_READ_UINT32_BE(rtp + 4);
      const guint32 next =
          started_ ? lastTs_ + guint32((nowUs - lastUs_) * clockRate_ / 1000000) : g_random_int();
      tsOffset_ = next - ts;
      if (info.pictureIdAt) {
        const guint16 id = readPictureId(rtp + info.pictureIdAt);
        pictureOffset_ = started_ ? guint16(lastPictureId_ + 1 - id) : 0;
      }
      if (history) {
        segments_.push_back(
            {index_, GST_READ_UINT16_BE(rtp + 2), tsOffset_, pictureOffset_, history});
        if (segments_.size() > 4) segments_.erase(segments_.begin());
      }
    }
    const std::uint64_t index = index_++;  // every packet of a run takes one (see Segment)
    std::memcpy(packet.data(), rtp, size);
    if (first && kind_ == Kind::kAudio) packet[1] |= 0x80;  // marker: a talkspurt starts
    const guint32 out = GST_READ_UINT32_BE(rtp + 4) + tsOffset_;
    GST_WRITE_UINT16_BE(packet.data() + 2, guint16(index));
    GST_WRITE_UINT32_BE(packet.data() + 4, out);
    GST_WRITE_UINT32_BE(packet.data() + 8, ssrc_);
    if (info.pictureIdAt) {
      lastPictureId_ = guint16((readPictureId(rtp + info.pictureIdAt) + pictureOffset_) & 0x7fff);
      writePictureId(packet.data() + info.pictureIdAt, lastPictureId_);
    }
    lastTs_ = out;
    lastUs_ = nowUs;
    started_ = true;
    if (seqMap_) {
      seqMap_->slots[index % SeqMap::kSlots] = {guint16(index), GST_READ_UINT16_BE(rtp + 2), true};
    }
    if (fec_ && fecOn_) {
      fecPackets = protect(packet.data(), sent);
    } else if (fec_) {
      fecGroups_ = 0;
    }
    ++packets_;
    octets_ += guint32(sent - 12);
    lose = lossEvery_ > 0 && ++lossCount_ % unsigned(lossEvery_) == 0;
    len = srtp_->protect(packet.data(), sent, guint32(index >> 16));
    for (int i = 0; i < fecPackets; ++i) {
      guint8* fec = fecOut_.data() + i * kFecSlot;
      std::size_t& fecLen = fecLen_[std::size_t(i)];
      const std::uint64_t fecIndex = index_++;
      seqMap_->slots[fecIndex % SeqMap::kSlots] = {guint16(fecIndex), 0, false};
      GST_WRITE_UINT16_BE(fec + 2, guint16(fecIndex));
      ++packets_;
      octets_ += guint32(fecLen - 12);
      const std::size_t plain = fecLen;
      fecLen = srtp_->protect(fec, fecLen, guint32(fecIndex >> 16));
      if (fecLen > 0) sent += plain;
    }
  }
  if (len > 0 && !lose && transmit_(packet.data(), len)) bytes_ += sent;
  // fecOut_ outside the lock: only this thread sends (one packet at a time).
  for (int i = 0; i < fecPackets; ++i) {
    const std::size_t fecLen = fecLen_[std::size_t(i)];
    if (fecLen > 0 && transmit_(fecOut_.data() + i * kFecSlot, fecLen)) ++fecSent_;
  }
}

bool DirectStream::resend(guint16 seq) {
  std::array<guint8, kMaxRtpPacket> original;
  std::array<guint8, kMaxRtpPacket> packet;
  std::size_t len = 0, size = 0;
  {
    std::lock_guard lock(mu_);
    if (rtxPayload_ < 0 || segments_.empty() || index_ == 0 || lossEvery_ > 0) return false;
    const std::uint64_t last = index_ - 1;
    const std::uint64_t back = guint16(guint16(last) - seq);
    if (back > last) return false;
    const std::uint64_t index = last - back;
    const Segment* run = nullptr;
    for (auto it = segments_.rbegin(); it != segments_.rend() && !run; ++it) {
      if (it->firstIndex <= index) run = &*it;
    }
    if (!run) return false;
    guint16 shared = guint16(run->firstSeq + (index - run->firstIndex));
    if (seqMap_) {
      const SeqMap::Slot& slot = seqMap_->slots[index % SeqMap::kSlots];
      if (!slot.media || slot.leg != guint16(index)) return false;  // a FEC packet, or too old
      shared = slot.shared;
    }
    size = run->history->copy(shared, original.data());
    const std::size_t header = headerLength(original.data(), size);
    if (header == 0 || size + 2 + SrtpSender::kMaxTag > packet.size()) return false;
    // RFC 4588: the RTX stream's own header, then the original sequence number, then the
    // original payload as this leg sent it.
    std::memcpy(packet.data(), original.data(), header);
    packet[1] = guint8((original[1] & 0x80) | rtxPayload_);
    GST_WRITE_UINT16_BE(packet.data() + 2, guint16(rtxIndex_));
    GST_WRITE_UINT32_BE(packet.data() + 4, GST_READ_UINT32_BE(original.data() + 4) + run->tsOffset);
    GST_WRITE_UINT32_BE(packet.data() + 8, rtxSsrc_);
    GST_WRITE_UINT16_BE(packet.data() + header, guint16(index));
    std::memcpy(packet.data() + header + 2, original.data() + header, size - header);
    const PacketInfo info = vp8PacketInfo(original.data(), size);
    if (info.pictureIdAt) {
      writePictureId(
          packet.data() + info.pictureIdAt + 2,
          guint16(readPictureId(original.data() + info.pictureIdAt) + run->pictureOffset));
    }
    len = srtp_->protect(packet.data(), size + 2, guint32(rtxIndex_ >> 16));
    ++rtxIndex_;
  }
  if (len == 0 || !transmit_(packet.data(), len)) return false;
  bytes_ += size + 2;
  ++resent_;
  return true;
}

std::optional<DirectStream::Report> DirectStream::report(gint64 nowUs) {
  std::lock_guard lock(mu_);
  if (!started_) return std::nullopt;
  return Report{ssrc_, lastTs_ + guint32((nowUs - lastUs_) * clockRate_ / 1000000), packets_,
                octets_};
}

DirectFanout::DirectFanout(DirectStream::Kind kind)
    : kind_(kind),
      history_(kind == DirectStream::Kind::kVideo ? std::make_shared<PacketHistory>() : nullptr) {}

void DirectFanout::add(const std::shared_ptr<DirectStream>& stream) {
  std::lock_guard lock(mu_);
  auto next = std::make_shared<List>(*list_);
  next->push_back(stream);
  stream->resync();
  list_ = std::move(next);
}

void DirectFanout::remove(const DirectStream* stream) {
  std::lock_guard lock(mu_);
  auto next = std::make_shared<List>();
  for (const auto& s : *list_) {
    if (s.get() != stream) next->push_back(s);
  }
  list_ = std::move(next);
}

std::size_t DirectFanout::size() const {
  std::lock_guard lock(mu_);
  return list_->size();
}

void DirectFanout::send(GstBuffer* rtp) {
  std::shared_ptr<const List> list;
  {
    std::lock_guard lock(mu_);
    list = list_;
  }
  if (list->empty()) return;
  GstMapInfo map;
  if (!gst_buffer_map(rtp, &map, GST_MAP_READ)) return;
  const PacketInfo info =
      kind_ == DirectStream::Kind::kVideo ? vp8PacketInfo(map.data, map.size) : PacketInfo{};
  if (history_) history_->add(map.data, map.size);
  const gint64 nowUs = g_get_monotonic_time();
  for (const auto& stream : *list) stream->send(map.data, map.size, nowUs, info, history_);
  gst_buffer_unmap(rtp, &map);
}

}  // namespace mcu::media
