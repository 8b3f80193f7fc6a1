#pragma once
// SRTP (RFC 3711) for the direct send path, AES_CM_128_HMAC_SHA1_80 and _32 (the suites
// webrtcbin's DTLS negotiates), on OpenSSL with the cipher and MAC set up once per stream.
// Debian's libsrtp2 is built against NSS and sets up a PK11 context for every packet: measured,
// that set-up and NSS's HMAC were ~3/4 of its srtp_protect, and srtp_protect ~2/3 of a direct
// listener's cost (docs/performance.md). Checked byte for byte against libsrtp (SrtpTest).
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

namespace mcu::media {

class SrtpSender {
 public:
  static constexpr std::size_t kMaxTag = 10;
  enum class Suite { kAesCm128HmacSha1_80, kAesCm128HmacSha1_32 };
  // `material`: the 16-byte master key then the 14-byte master salt, as DTLS-SRTP exports them.
  // nullptr if it is too short or OpenSSL refuses.
  static std::unique_ptr<SrtpSender> create(Suite suite, const std::uint8_t* material,
                                            std::size_t size);
  ~SrtpSender();
  SrtpSender(const SrtpSender&) = delete;
  SrtpSender& operator=(const SrtpSender&) = delete;

  // Protects the RTP packet in place: `packet` holds `size` bytes and room for kMaxTag more.
  // `roc` is the sender's rollover counter for this packet's sequence number (the index is
  // roc * 65536 + seq). Returns the protected size, 0 on a malformed packet.
  std::size_t protect(std::uint8_t* packet, std::size_t size, std::uint32_t roc);

 private:
  struct Impl;
  explicit SrtpSender(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace mcu::media
