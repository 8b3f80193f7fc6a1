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

}  // namespace

std::shared_ptr<DirectStream> DirectStream::fromWebrtc(GstElement* webrtcbin, guint32 ssrc,
                                                       int clockRate) {
  GstElement* srtpenc = findIn(GST_BIN(webrtcbin), "srtpenc");
  if (!srtpenc) return nullptr;
  GstBuffer* key = nullptr;
  int cipher = 0, auth = 0;
  g_object_get(srtpenc, "key", &key, "rtp-cipher", &cipher, "rtp-auth", &auth, nullptr);
  GstElement* nicesink = nicesinkNear(srtpenc, webrtcbin);
  gst_object_unref(srtpenc);
  std::shared_ptr<DirectStream> out(new DirectStream);
  out->ssrc_ = ssrc;
  out->clockRate_ = clockRate;
  out->index_ = g_random_int_range(0, 0x8000);  // RFC 3711: the first sequence number < 2^15
  bool ok = key && nicesink;
  if (ok) {
    g_object_get(nicesink, "agent", &out->agent_, "stream", &out->stream_, "component",
                 &out->component_, nullptr);
    ok = out->agent_ && out->stream_ > 0 && out->component_ > 0;
  }
  // srtpenc's GstSrtpCipherType 1 is aes-128-icm; GstSrtpAuthType 1 and 2 are HMAC-SHA1-32 and
  // -80: what webrtcbin's DTLS negotiates. Anything else keeps webrtcbin's path.
  if (ok && cipher == 1 && (auth == 1 || auth == 2)) {
    GstMapInfo map;
    if (gst_buffer_map(key, &map, GST_MAP_READ)) {
      out->srtp_ = SrtpSender::create(auth == 2 ? SrtpSender::Suite::kAesCm128HmacSha1_80
                                                : SrtpSender::Suite::kAesCm128HmacSha1_32,
                                      map.data, map.size);
      gst_buffer_unmap(key, &map);
    }
  }
  ok = ok && out->srtp_;
  if (key) gst_buffer_unref(key);
  if (nicesink) gst_object_unref(nicesink);
  return ok ? out : nullptr;
}

DirectStream::~DirectStream() {
  if (agent_) g_object_unref(agent_);
}

void DirectStream::send(const guint8* rtp, std::size_t size, gint64 nowUs) {
  constexpr std::size_t kMax = 1500;
  if (size < 12 || size + SrtpSender::kMaxTag > kMax) return;
  std::array<guint8, kMax> packet;
  std::memcpy(packet.data(), rtp, size);
  const guint32 ts = GST_READ_UINT32_BE(packet.data() + 4);
  std::size_t len = 0;
  {
    std::lock_guard lock(mu_);
    if (resync_.exchange(false)) {
      // The first packet from this shared stream: it continues from the last one sent, one
      // interval of real time later (the receiver's jitterbuffer sees no jump).
      const guint32 next =
          started_ ? lastTs_ + guint32((nowUs - lastUs_) * clockRate_ / 1000000) : g_random_int();
      tsOffset_ = next - ts;
      packet[1] |= 0x80;  // marker: a talkspurt (or its stream) starts
    }
    const guint32 out = ts + tsOffset_;
    GST_WRITE_UINT16_BE(packet.data() + 2, guint16(index_));
    GST_WRITE_UINT32_BE(packet.data() + 4, out);
    GST_WRITE_UINT32_BE(packet.data() + 8, ssrc_);
    lastTs_ = out;
    lastUs_ = nowUs;
    started_ = true;
    len = srtp_->protect(packet.data(), size, guint32(index_ >> 16));
    ++index_;
    if (len == 0) return;
  }
  if (nice_agent_send(agent_, stream_, component_, guint(len),
                      reinterpret_cast<const gchar*>(packet.data())) > 0) {
    bytes_ += size;
  }
}

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
  const gint64 nowUs = g_get_monotonic_time();
  for (const auto& stream : *list) stream->send(map.data, map.size, nowUs);
  gst_buffer_unmap(rtp, &map);
}

}  // namespace mcu::media
