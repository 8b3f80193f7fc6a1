// SrtpSender against libsrtp, the reference: the same key, SSRC and packets must give the same
// bytes, through a sequence-number wrap, with CSRCs and header extensions, for both tag lengths;
// and libsrtp must accept (unprotect) what SrtpSender made.
#include "media/Srtp.hpp"

#include <gtest/gtest.h>
#include <srtp2/srtp.h>

#include <array>
#include <cstring>
#include <random>
#include <vector>

namespace mcu::media {
namespace {

struct Reference {
  srtp_t out = nullptr;
  srtp_t in = nullptr;
  Reference(const std::uint8_t* material, bool tag80) {
    srtp_init();
    for (srtp_t* ctx : {&out, &in}) {
      srtp_policy_t policy;
      std::memset(&policy, 0, sizeof policy);
      if (tag80) {
        srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&policy.rtp);
      } else {
        srtp_crypto_policy_set_aes_cm_128_hmac_sha1_32(&policy.rtp);
      }
      srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&policy.rtcp);
      policy.ssrc.type = ctx == &out ? ssrc_any_outbound : ssrc_any_inbound;
      policy.key = const_cast<unsigned char*>(material);
      policy.window_size = 128;
      EXPECT_EQ(srtp_create(ctx, &policy), srtp_err_status_ok);
    }
  }
  ~Reference() {
    srtp_dealloc(out);
    srtp_dealloc(in);
  }
};

// An RTP packet: version 2, `csrcs` CSRCs, an optional one-byte-header extension, payload.
std::vector<std::uint8_t> packet(std::uint16_t seq, std::uint32_t ssrc, int csrcs, bool extension,
                                 std::size_t payload, std::mt19937& rng) {
  std::vector<std::uint8_t> p = {std::uint8_t(0x80 | (extension ? 0x10 : 0) | csrcs), 111,
                                 std::uint8_t(seq >> 8), std::uint8_t(seq)};
  for (int i = 0; i < 4; ++i) p.push_back(std::uint8_t(rng()));  // timestamp
  for (int i = 3; i >= 0; --i) p.push_back(std::uint8_t(ssrc >> (8 * i)));
  for (int i = 0; i < 4 * csrcs; ++i) p.push_back(std::uint8_t(rng()));
  if (extension) {
    for (std::uint8_t b : {0xbe, 0xde, 0x00, 0x01, 0x10, 0x55, 0x00, 0x00}) p.push_back(b);
  }
  for (std::size_t i = 0; i < payload; ++i) p.push_back(std::uint8_t(rng()));
  return p;
}

void sameAsLibsrtp(bool tag80) {
  std::mt19937 rng(tag80 ? 7 : 8);
  std::array<std::uint8_t, 30> material;
  for (auto& b : material) b = std::uint8_t(rng());
  auto ours = SrtpSender::create(
      tag80 ? SrtpSender::Suite::kAesCm128HmacSha1_80 : SrtpSender::Suite::kAesCm128HmacSha1_32,
      material.data(), material.size());
  ASSERT_TRUE(ours);
  Reference ref(material.data(), tag80);
  const std::uint32_t ssrc = 0x12345678;
  std::uint32_t roc = 0;
  std::uint16_t seq = 65530;  // wraps after six packets: the rollover counter counts
  for (int i = 0; i < 40; ++i, ++seq) {
    if (seq == 0) ++roc;
    const int csrcs = i % 3 == 0 ? 2 : 0;
    const bool extension = i % 2 == 0;
    const std::vector<std::uint8_t> plain = packet(seq, ssrc, csrcs, extension, 1 + 37 * i, rng);
    std::vector<std::uint8_t> a(plain.size() + SRTP_MAX_TRAILER_LEN);
    std::vector<std::uint8_t> b = a;
    std::memcpy(a.data(), plain.data(), plain.size());
    std::memcpy(b.data(), plain.data(), plain.size());
    const std::size_t n = ours->protect(a.data(), plain.size(), roc);
    int len = int(plain.size());
    ASSERT_EQ(srtp_protect(ref.out, b.data(), &len), srtp_err_status_ok) << "packet " << i;
    ASSERT_EQ(n, std::size_t(len)) << "packet " << i;
    EXPECT_EQ(0, std::memcmp(a.data(), b.data(), n)) << "packet " << i << " (seq " << seq << ")";
    int back = int(n);
    ASSERT_EQ(srtp_unprotect(ref.in, a.data(), &back), srtp_err_status_ok) << "packet " << i;
    ASSERT_EQ(std::size_t(back), plain.size());
    EXPECT_EQ(0, std::memcmp(a.data(), plain.data(), plain.size())) << "packet " << i;
  }
}

TEST(SrtpTest, ProtectsAsLibsrtpDoesWithAnEightyBitTag) {
  sameAsLibsrtp(true);
}

TEST(SrtpTest, ProtectsAsLibsrtpDoesWithAThirtyTwoBitTag) {
  sameAsLibsrtp(false);
}

TEST(SrtpTest, RefusesShortKeysAndMalformedPackets) {
  std::array<std::uint8_t, 30> material{};
  EXPECT_FALSE(SrtpSender::create(SrtpSender::Suite::kAesCm128HmacSha1_80, material.data(), 29));
  auto s = SrtpSender::create(SrtpSender::Suite::kAesCm128HmacSha1_80, material.data(), 30);
  ASSERT_TRUE(s);
  std::array<std::uint8_t, 64> p{};
  EXPECT_EQ(s->protect(p.data(), 8, 0), 0u);   // shorter than a header
  EXPECT_EQ(s->protect(p.data(), 20, 0), 0u);  // version 0
  p[0] = 0x80 | 0x10;                          // an extension that runs past the end
  p[14] = 0xff;
  EXPECT_EQ(s->protect(p.data(), 20, 0), 0u);
}

}  // namespace
}  // namespace mcu::media
