// mcu-sendpath: what one viewer's send path costs, per RTP packet, on this machine with these
// libraries. The server sends one encoded stream (a rung, a mix) to N viewers; today each viewer
// has its own payloader and webrtcbin leg on the stream's one send thread. This measures that
// ("webrtc") against a lighter path that payloads once and per viewer only copies the packet,
// rewrites its SSRC and sequence number, protects it with the viewer's own libsrtp session and
// sends it ("direct", over a UDP socket; "nice", through a connected libnice agent).
//
// Every figure is the sending thread's CPU time (CLOCK_THREAD_CPUTIME_ID) divided by packets x
// viewers, and the % of a core one viewer costs at the real rate (audio: 50 packets/s of ~100 B;
// video: 25 frames/s of 3 packets of ~1000 B, or what vp8enc makes at 500 kb/s for "webrtc").
// Each run is paced (real rate, so wake-ups count) and unpaced (back to back); the median of
// --repeat runs is printed, with the runs. Receivers run on other threads: their cost is not
// counted, except what the kernel does for them inside the sender's sendmsg (on loopback the
// UDP receive path up to the socket's queue runs in the sender's system call).
//
// The direct path is measured cumulatively, so that each stage's cost is a difference:
//   wakeup    nothing per viewer: the paced loop's own cost (its timer wake-ups), over N
//   copy      memcpy into the viewer's buffer (with SRTP trailer room), new SSRC and seq
//   +srtp     + srtp_protect, AES_CM_128_HMAC_SHA1_80, a random master key per viewer
//   +sendto   + sendto from the viewer's own socket to its receiver's
//   +sendmmsg + one sendmmsg per packet for all viewers, from one socket (a single-port server)
//   +nice     + nice_agent_send on the viewer's own ICE-connected agent (instead of sendto)
//   openssl   copy + AES-128-CTR and HMAC-SHA1 with OpenSSL's EVP, kept contexts: what the
//             SRTP transform itself costs without libsrtp's NSS backend (a reference only)
//
//   ninja -C build mcu-sendpath
//   nice -n 10 build/bench/mcu-sendpath --seconds 2   # everything (N = 1 10 50), ~15 minutes
//   nice -n 10 build/bench/mcu-sendpath --paths direct --viewers "1 10 50" --repeat 3
//   nice -n 10 build/bench/mcu-sendpath --paths webrtc --viewers "1 10" --kinds video
//   perf record --call-graph dwarf build/bench/mcu-sendpath --paths direct --stages +srtp
//       --modes unpaced --unpaced-seconds 1 --repeat 1   # (one line) where srtp_protect spends
// Options: --paths direct,nice,webrtc --kinds audio,video --viewers "1 10 50" --seconds 3 (paced)
// --unpaced-seconds 1 --repeat 3 --stages (direct/nice stage names) --modes paced,unpaced
// --webrtc-max-viewers 50.
#include <arpa/inet.h>
#include <gst/app/gstappsink.h>
#include <gst/gst.h>
#include <gst/sdp/sdp.h>
#include <netinet/in.h>
#include <nice/agent.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <srtp2/srtp.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#define GST_USE_UNSTABLE_API
#include <gst/webrtc/webrtc.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <functional>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "media/GstRef.hpp"
#include "tests/media/AnswerOffer.hpp"
#include "tests/media/LoopbackWebrtc.hpp"

namespace mcu::bench {
namespace {

using media::adopt;
using media::GstCapsRef;
using media::GstElementRef;
using media::GstPadRef;

// ------------------------------------------------------------------------------- measuring

double threadCpuSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return double(ts.tv_sec) + double(ts.tv_nsec) * 1e-9;
}

// What one stream sends: `fps` frames a second of `packetsPerFrame` packets of `bytes`.
struct Traffic {
  std::string kind;
  int fps;
  int packetsPerFrame;
  int bytes;
  int pps() const { return fps * packetsPerFrame; }
};
const Traffic kAudio{"audio", 50, 1, 100};
const Traffic kVideo{"video", 25, 3, 1000};

struct Sample {
  double cpuSeconds = 0;
  long packets = 0;  // per viewer
};

// Sends frames at the traffic's rate (paced: wake-ups included, as on the server's send thread)
// or back to back, for `seconds`; `sendFrame(frameIndex)` sends one frame to every viewer and
// returns the packets it sent per viewer.
Sample drive(int fps, bool paced, double seconds, const std::function<int(long)>& sendFrame) {
  const auto interval = std::chrono::nanoseconds(1'000'000'000 / fps);
  const auto start = std::chrono::steady_clock::now();
  const auto end = start + std::chrono::duration_cast<std::chrono::nanoseconds>(
                               std::chrono::duration<double>(seconds));
  Sample s;
  const double cpu0 = threadCpuSeconds();
  for (long frame = 0;; ++frame) {
    const auto due = start + frame * interval;
    if (paced) {
      if (due >= end) break;
      const auto ns = due.time_since_epoch().count();
      timespec ts{time_t(ns / 1'000'000'000), long(ns % 1'000'000'000)};
      clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, nullptr);
    } else if (std::chrono::steady_clock::now() >= end) {
      break;
    }
    s.packets += sendFrame(frame);
  }
  s.cpuSeconds = threadCpuSeconds() - cpu0;
  return s;
}

// One printed row: the median of the runs' µs per packet per viewer.
struct Row {
  std::string path, stage, kind, mode;
  int viewers = 0;
  int pps = 0;  // the real rate, for the % of a core
  std::vector<double> usPerPacket;
  std::string note;
};

void printHeader() {
  std::printf("%-7s %-9s %-6s %4s %-8s %10s %9s  %s\n", "path", "stage", "kind", "N", "mode",
              "us/pkt/vwr", "%core/vwr", "runs (us/pkt/vwr); note");
}

void printRow(Row row) {
  std::vector<double> sorted = row.usPerPacket;
  std::sort(sorted.begin(), sorted.end());
  const double median = sorted[sorted.size() / 2];
  std::ostringstream runs;
  for (double v : row.usPerPacket) runs << (runs.tellp() ? " " : "") << v;
  std::printf("%-7s %-9s %-6s %4d %-8s %10.2f %9.4f  %s%s%s\n", row.path.c_str(), row.stage.c_str(),
              row.kind.c_str(), row.viewers, row.mode.c_str(), median, median * row.pps * 1e-4,
              runs.str().c_str(), row.note.empty() ? "" : "; ", row.note.c_str());
  std::fflush(stdout);
}

// ------------------------------------------------------------------------------- SRTP

void check(srtp_err_status_t status, const char* what) {
  if (status != srtp_err_status_ok) {
    throw std::runtime_error(std::string(what) + " failed: " + std::to_string(int(status)));
  }
}

void randomBytes(void* out, std::size_t n) {
  if (getrandom(out, n, 0) != ssize_t(n)) throw std::runtime_error("getrandom failed");
}

// One viewer's outbound SRTP session, keyed as DTLS-SRTP would key it: a random master key and
// salt of its own, AES_CM_128_HMAC_SHA1_80.
class SrtpSession {
 public:
  SrtpSession() {
    unsigned char key[SRTP_MASTER_KEY_LEN];
    randomBytes(key, sizeof key);
    srtp_policy_t policy{};
    srtp_crypto_policy_set_rtp_default(&policy.rtp);
    srtp_crypto_policy_set_rtcp_default(&policy.rtcp);
    policy.ssrc.type = ssrc_any_outbound;
    policy.key = key;
    check(srtp_create(&session_, &policy), "srtp_create");
  }
  ~SrtpSession() { srtp_dealloc(session_); }
  SrtpSession(const SrtpSession&) = delete;
  SrtpSession& operator=(const SrtpSession&) = delete;

  // In place; `packet` has SRTP_MAX_TRAILER_LEN bytes of room after `length`.
  int protect(uint8_t* packet, int length) {
    check(srtp_protect(session_, packet, &length), "srtp_protect");
    return length;
  }

 private:
  srtp_t session_ = nullptr;
};

// The SRTP transform done with OpenSSL (AES-128-CTR keystream, HMAC-SHA1 over the packet, an
// 80-bit tag), contexts kept across packets: what the crypto costs without libsrtp's NSS backend.
class OpensslTransform {
 public:
  OpensslTransform() {
    unsigned char key[16], authKey[20];
    randomBytes(key, sizeof key);
    randomBytes(authKey, sizeof authKey);
    cipher_ = EVP_CIPHER_CTX_new();
    EVP_EncryptInit_ex(cipher_, EVP_aes_128_ctr(), nullptr, key, nullptr);
    mac_ = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
    macCtx_ = EVP_MAC_CTX_new(mac_);
    char digest[] = "SHA1";
    OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string("digest", digest, 0),
                           OSSL_PARAM_construct_end()};
    EVP_MAC_init(macCtx_, authKey, sizeof authKey, params);
  }
  ~OpensslTransform() {
    EVP_MAC_CTX_free(macCtx_);
    EVP_MAC_free(mac_);
    EVP_CIPHER_CTX_free(cipher_);
  }
  OpensslTransform(const OpensslTransform&) = delete;
  OpensslTransform& operator=(const OpensslTransform&) = delete;

  int protect(uint8_t* packet, int length) {
    unsigned char iv[16]{};
    std::memcpy(iv + 4, packet + 8, 4);  // the SSRC and the index, as SRTP's IV mixes them in
    std::memcpy(iv + 12, packet + 2, 2);
    EVP_EncryptInit_ex(cipher_, nullptr, nullptr, nullptr, iv);
    int out = 0;
    EVP_EncryptUpdate(cipher_, packet + 12, &out, packet + 12, length - 12);
    unsigned char roc[4]{};
    unsigned char tag[EVP_MAX_MD_SIZE];
    size_t tagLength = 0;
    EVP_MAC_init(macCtx_, nullptr, 0, nullptr);
    EVP_MAC_update(macCtx_, packet, length);
    EVP_MAC_update(macCtx_, roc, sizeof roc);
    EVP_MAC_final(macCtx_, tag, &tagLength, sizeof tag);
    std::memcpy(packet + length, tag, 10);
    return length + 10;
  }

 private:
  EVP_CIPHER_CTX* cipher_ = nullptr;
  EVP_MAC* mac_ = nullptr;
  EVP_MAC_CTX* macCtx_ = nullptr;
};

// ------------------------------------------------------------------------------- UDP

int udpSocket() {
  const int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) throw std::runtime_error("socket failed");
  const int buffer = 4 << 20;
  setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buffer, sizeof buffer);
  setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &buffer, sizeof buffer);
  sockaddr_in any{};
  any.sin_family = AF_INET;
  any.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(fd, reinterpret_cast<sockaddr*>(&any), sizeof any) != 0) {
    throw std::runtime_error("bind failed");
  }
  return fd;
}

sockaddr_in localAddress(int fd) {
  sockaddr_in a{};
  socklen_t n = sizeof a;
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &n);
  return a;
}

// The viewers' ends: one socket each, drained by one thread with recvmmsg (not counted).
class UdpDrain {
 public:
  explicit UdpDrain(int n) {
    epoll_ = epoll_create1(EPOLL_CLOEXEC);
    stop_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    watch(stop_);
    for (int i = 0; i < n; ++i) {
      sockets_.push_back(udpSocket());
      watch(sockets_.back());
    }
    thread_ = std::thread([this] { run(); });
  }
  ~UdpDrain() {
    const uint64_t one = 1;
    (void)!write(stop_, &one, sizeof one);
    thread_.join();
    for (int fd : sockets_) close(fd);
    close(stop_);
    close(epoll_);
  }
  UdpDrain(const UdpDrain&) = delete;
  UdpDrain& operator=(const UdpDrain&) = delete;

  sockaddr_in address(int i) const { return localAddress(sockets_[i]); }

 private:
  void watch(int fd) {
    epoll_event e{};
    e.events = EPOLLIN;
    e.data.fd = fd;
    epoll_ctl(epoll_, EPOLL_CTL_ADD, fd, &e);
  }
  void run() {
    constexpr int kBatch = 64;
    std::vector<uint8_t> storage(kBatch * 2048);
    iovec iov[kBatch];
    mmsghdr msgs[kBatch];
    for (int i = 0; i < kBatch; ++i) {
      iov[i] = {storage.data() + i * 2048, 2048};
      msgs[i] = {};
      msgs[i].msg_hdr.msg_iov = &iov[i];
      msgs[i].msg_hdr.msg_iovlen = 1;
    }
    epoll_event events[64];
    for (;;) {
      const int n = epoll_wait(epoll_, events, 64, -1);
      for (int i = 0; i < n; ++i) {
        if (events[i].data.fd == stop_) return;
        while (recvmmsg(events[i].data.fd, msgs, kBatch, MSG_DONTWAIT, nullptr) > 0) {
        }
      }
    }
  }

  int epoll_ = -1;
  int stop_ = -1;
  std::vector<int> sockets_;
  std::thread thread_;
};

// ------------------------------------------------------------------------------- libnice

// The agents' one GLib main context and the thread that runs it (their receiving, their STUN
// checks and keepalives): not the measured thread.
class NiceLoop {
 public:
  NiceLoop() : context_(g_main_context_new()), loop_(g_main_loop_new(context_, FALSE)) {
    thread_ = std::thread([this] { g_main_loop_run(loop_); });
  }
  ~NiceLoop() {
    g_main_loop_quit(loop_);
    thread_.join();
    g_main_loop_unref(loop_);
    g_main_context_unref(context_);
  }
  NiceLoop(const NiceLoop&) = delete;
  NiceLoop& operator=(const NiceLoop&) = delete;
  GMainContext* context() const { return context_; }

 private:
  GMainContext* context_;
  GMainLoop* loop_;
  std::thread thread_;
};

// A viewer's ICE leg: a controlling agent (ours) and a controlled one (the viewer's) on
// 127.0.0.1, one stream of one component, unreliable, connected in-process.
class NicePair {
 public:
  explicit NicePair(GMainContext* context) {
    sender_ = makeAgent(context, true);
    receiver_ = makeAgent(context, false);
    senderStream_ = nice_agent_add_stream(sender_, 1);
    receiverStream_ = nice_agent_add_stream(receiver_, 1);
    nice_agent_attach_recv(sender_, senderStream_, 1, context, &NicePair::onReceive, nullptr);
    nice_agent_attach_recv(receiver_, receiverStream_, 1, context, &NicePair::onReceive, nullptr);
    g_signal_connect(sender_, "component-state-changed", G_CALLBACK(&NicePair::onState), this);
    nice_agent_gather_candidates(sender_, senderStream_);
    nice_agent_gather_candidates(receiver_, receiverStream_);
    exchange(sender_, senderStream_, receiver_, receiverStream_);
    exchange(receiver_, receiverStream_, sender_, senderStream_);
  }
  ~NicePair() {
    g_signal_handlers_disconnect_by_data(sender_, this);
    g_object_unref(sender_);
    g_object_unref(receiver_);
  }
  NicePair(const NicePair&) = delete;
  NicePair& operator=(const NicePair&) = delete;

  bool ready() const { return ready_.load(); }
  void send(const uint8_t* data, int length) {
    nice_agent_send(sender_, senderStream_, 1, guint(length), reinterpret_cast<const gchar*>(data));
  }

 private:
  static NiceAgent* makeAgent(GMainContext* context, bool controlling) {
    NiceAgent* agent = nice_agent_new(context, NICE_COMPATIBILITY_RFC5245);
    g_object_set(agent, "controlling-mode", gboolean(controlling), "ice-tcp", FALSE, nullptr);
    if (g_object_class_find_property(G_OBJECT_GET_CLASS(agent), "upnp")) {
      g_object_set(agent, "upnp", FALSE, nullptr);
    }
    NiceAddress address;
    nice_address_init(&address);
    nice_address_set_from_string(&address, "127.0.0.1");
    nice_agent_add_local_address(agent, &address);
    return agent;
  }
  // Host candidates exist once gathering started: no STUN or TURN here to wait for.
  static void exchange(NiceAgent* from, guint fromStream, NiceAgent* to, guint toStream) {
    gchar* ufrag = nullptr;
    gchar* password = nullptr;
    nice_agent_get_local_credentials(from, fromStream, &ufrag, &password);
    nice_agent_set_remote_credentials(to, toStream, ufrag, password);
    g_free(ufrag);
    g_free(password);
    GSList* candidates = nice_agent_get_local_candidates(from, fromStream, 1);
    nice_agent_set_remote_candidates(to, toStream, 1, candidates);
    g_slist_free_full(candidates, reinterpret_cast<GDestroyNotify>(&nice_candidate_free));
  }
  static void onReceive(NiceAgent*, guint, guint, guint, gchar*, gpointer) {}
  static void onState(NiceAgent*, guint, guint, guint state, gpointer self) {
    if (state == NICE_COMPONENT_STATE_READY) static_cast<NicePair*>(self)->ready_ = true;
  }

  NiceAgent* sender_ = nullptr;
  NiceAgent* receiver_ = nullptr;
  guint senderStream_ = 0;
  guint receiverStream_ = 0;
  std::atomic<bool> ready_{false};
};

// ------------------------------------------------------------------------------- direct path

enum class Stage { Wakeup, Copy, Srtp, Sendto, Sendmmsg, Nice, Openssl };

const char* stageName(Stage s) {
  switch (s) {
    case Stage::Wakeup:
      return "wakeup";
    case Stage::Copy:
      return "copy";
    case Stage::Srtp:
      return "+srtp";
    case Stage::Sendto:
      return "+sendto";
    case Stage::Sendmmsg:
      return "+sendmmsg";
    case Stage::Nice:
      return "+nice";
    case Stage::Openssl:
      return "openssl";
  }
  return "?";
}

struct DirectViewer {
  uint32_t ssrc = 0;
  uint16_t seq = 0;         // what its SRTP session has seen: no jumps of 2^15 or more
  uint16_t scratchSeq = 0;  // for the stages without libsrtp
  SrtpSession srtp;
  OpensslTransform openssl;
  std::vector<uint8_t> buffer;
  int length = 0;
  int fd = -1;
  sockaddr_in to{};
  std::unique_ptr<NicePair> nice;
};

// Payloaded once per stream; each viewer gets a copy with its own SSRC and sequence number.
class DirectPath {
 public:
  DirectPath(int viewers, const Traffic& traffic, bool withNice, NiceLoop* loop)
      : drain_(viewers), packet_(traffic.bytes) {
    randomBytes(packet_.data(), packet_.size());
    packet_[0] = 0x80;  // version 2, no padding, extension or CSRCs
    packet_[1] = 96;
    shared_ = udpSocket();
    for (int i = 0; i < viewers; ++i) {
      DirectViewer& v = *viewers_.emplace_back(std::make_unique<DirectViewer>());
      randomBytes(&v.ssrc, sizeof v.ssrc);
      v.buffer.resize(packet_.size() + SRTP_MAX_TRAILER_LEN);
      v.fd = udpSocket();
      v.to = drain_.address(i);
      if (withNice) v.nice = std::make_unique<NicePair>(loop->context());
    }
    batch_.resize(viewers);
    iov_.resize(viewers);
    if (withNice) waitConnected();
  }
  ~DirectPath() {
    for (const auto& v : viewers_) close(v->fd);
    close(shared_);
  }
  DirectPath(const DirectPath&) = delete;
  DirectPath& operator=(const DirectPath&) = delete;

  // One packet of the stream to every viewer, through `stage` and the stages before it.
  void sendPacket(Stage stage) {
    if (stage == Stage::Wakeup) return;
    for (std::size_t i = 0; i < viewers_.size(); ++i) {
      DirectViewer& v = *viewers_[i];
      const bool srtp = stage != Stage::Copy && stage != Stage::Openssl;
      prepare(v, srtp ? v.seq : v.scratchSeq);
      if (stage == Stage::Copy) continue;
      v.length = stage == Stage::Openssl ? v.openssl.protect(v.buffer.data(), v.length)
                                         : v.srtp.protect(v.buffer.data(), v.length);
      if (stage == Stage::Sendto) {
        sendto(v.fd, v.buffer.data(), v.length, 0, reinterpret_cast<const sockaddr*>(&v.to),
               sizeof v.to);
      } else if (stage == Stage::Nice) {
        v.nice->send(v.buffer.data(), v.length);
      } else if (stage == Stage::Sendmmsg) {
        queue(i);
      }
    }
    if (stage == Stage::Sendmmsg) sendmmsg(shared_, batch_.data(), unsigned(batch_.size()), 0);
  }

 private:
  void prepare(DirectViewer& v, uint16_t& counter) {
    std::memcpy(v.buffer.data(), packet_.data(), packet_.size());
    v.length = int(packet_.size());
    const uint16_t seq = htons(counter++);
    const uint32_t ssrc = htonl(v.ssrc);
    std::memcpy(v.buffer.data() + 2, &seq, 2);
    std::memcpy(v.buffer.data() + 8, &ssrc, 4);
  }
  void queue(std::size_t i) {
    DirectViewer& v = *viewers_[i];
    iov_[i] = {v.buffer.data(), std::size_t(v.length)};
    batch_[i] = {};
    batch_[i].msg_hdr.msg_name = &v.to;
    batch_[i].msg_hdr.msg_namelen = sizeof v.to;
    batch_[i].msg_hdr.msg_iov = &iov_[i];
    batch_[i].msg_hdr.msg_iovlen = 1;
  }
  void waitConnected() {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    for (const auto& v : viewers_) {
      while (!v->nice->ready()) {
        if (std::chrono::steady_clock::now() > deadline) {
          throw std::runtime_error("libnice agents did not connect in 20 s");
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
      }
    }
  }

  UdpDrain drain_;
  std::vector<uint8_t> packet_;
  std::vector<std::unique_ptr<DirectViewer>> viewers_;
  int shared_ = -1;
  std::vector<mmsghdr> batch_;
  std::vector<iovec> iov_;
};

struct Options {
  std::vector<int> viewers{1, 10, 50};
  std::vector<std::string> paths{"direct", "nice", "webrtc"};
  std::vector<std::string> kinds{"audio", "video"};
  double pacedSeconds = 3;
  double unpacedSeconds = 1;
  int repeat = 3;
  int webrtcMaxViewers = 50;
  std::vector<std::string> stages;  // the direct and nice stages to run (empty: all)
  std::vector<std::string> modes{"paced", "unpaced"};
};

bool wanted(const std::vector<std::string>& list, const std::string& name) {
  return std::find(list.begin(), list.end(), name) != list.end();
}

const Traffic& trafficOf(const std::string& kind) {
  return kind == "video" ? kVideo : kAudio;
}

void runDirect(const Options& o, const std::string& kind, int n, bool withNice, NiceLoop* loop) {
  const Traffic& t = trafficOf(kind);
  DirectPath path(n, t, withNice, loop);
  std::vector<Stage> stages = {Stage::Wakeup,  Stage::Copy,   Stage::Srtp,
                               Stage::Openssl, Stage::Sendto, Stage::Sendmmsg};
  if (withNice) stages = {Stage::Wakeup, Stage::Sendto, Stage::Nice};
  for (bool paced : {true, false}) {
    if (!wanted(o.modes, paced ? "paced" : "unpaced")) continue;
    for (Stage stage : stages) {
      if (!o.stages.empty() && !wanted(o.stages, stageName(stage))) continue;
      Row row{withNice ? "nice" : "direct",
              stageName(stage),
              kind,
              paced ? "paced" : "unpaced",
              n,
              t.pps(),
              {},
              {}};
      for (int r = 0; r < o.repeat; ++r) {
        const Sample s = drive(t.fps, paced, paced ? o.pacedSeconds : o.unpacedSeconds, [&](long) {
          for (int p = 0; p < t.packetsPerFrame; ++p) path.sendPacket(stage);
          return t.packetsPerFrame;
        });
        row.usPerPacket.push_back(s.cpuSeconds * 1e6 / double(s.packets) / n);
      }
      printRow(row);
    }
  }
}

// ------------------------------------------------------------------------------- webrtcbin path

// A few seconds of one encoded stream, made once and pushed round and round.
struct EncodedStream {
  GstCapsRef caps;
  std::vector<GstBuffer*> frames;
  int fps = 0;
  EncodedStream() = default;
  EncodedStream(const EncodedStream&) = delete;
  EncodedStream& operator=(const EncodedStream&) = delete;
  ~EncodedStream() {
    for (GstBuffer* b : frames) gst_buffer_unref(b);
  }
};

void encode(const std::string& kind, EncodedStream& out) {
  const std::string description =
      kind == "video"
          ? "videotestsrc num-buffers=125 pattern=smpte horizontal-speed=2 ! "
            "video/x-raw,format=I420,width=640,height=360,framerate=25/1 ! "
            "vp8enc deadline=1 cpu-used=16 end-usage=cbr target-bitrate=500000 "
            "keyframe-max-dist=125 lag-in-frames=0 error-resilient=1 ! appsink name=out sync=false"
          : "audiotestsrc num-buffers=250 samplesperbuffer=960 ! "
            "audio/x-raw,format=S16LE,rate=48000,channels=1 ! "
            "opusenc bitrate=32000 frame-size=20 ! appsink name=out sync=false";
  GError* error = nullptr;
  GstElementRef pipeline = adopt(gst_parse_launch(description.c_str(), &error));
  if (!pipeline) throw std::runtime_error(error ? error->message : "cannot build the encoder");
  GstElementRef sink = adopt(gst_bin_get_by_name(GST_BIN(pipeline.get()), "out"));
  gst_element_set_state(pipeline.get(), GST_STATE_PLAYING);
  while (GstSample* sample = gst_app_sink_pull_sample(GST_APP_SINK(sink.get()))) {
    if (!out.caps) out.caps.reset(gst_caps_ref(gst_sample_get_caps(sample)));
    out.frames.push_back(gst_buffer_ref(gst_sample_get_buffer(sample)));
    gst_sample_unref(sample);
  }
  gst_element_set_state(pipeline.get(), GST_STATE_NULL);
  out.fps = kind == "video" ? 25 : 50;
}

void onWebrtcChild(GstBin*, GstElement* child, gpointer) {
  GstElementFactory* factory = gst_element_get_factory(child);
  if (factory && std::string_view(GST_OBJECT_NAME(factory)) == "clocksync") {
    g_object_set(child, "sync", FALSE, nullptr);  // as the server does (media/Mixer.cpp)
  }
}

GstBusSyncReply onBusMessage(GstBus*, GstMessage* message, gpointer) {
  if (GST_MESSAGE_TYPE(message) == GST_MESSAGE_ERROR) {
    GError* error = nullptr;
    gst_message_parse_error(message, &error, nullptr);
    std::fprintf(stderr, "mcu-sendpath: GStreamer error from %s: %s\n",
                 GST_OBJECT_NAME(GST_MESSAGE_SRC(message)), error ? error->message : "?");
    g_clear_error(&error);
  }
  gst_message_unref(message);
  return GST_BUS_DROP;
}

// N webrtcbin legs as the server builds them (tee -> payloader -> webrtcbin, clocksync off,
// NACK/RTX on video), each connected over loopback to a receiving webrtcbin; this thread pushes
// the stream into the tee, so every leg runs on it, as on the server's send queue thread.
class WebrtcPath {
 public:
  WebrtcPath(int viewers, const std::string& kind, const EncodedStream& stream)
      : kind_(kind), stream_(stream) {
    pipeline_ = adopt(gst_pipeline_new("sendpath"));
    GstBus* bus = gst_pipeline_get_bus(GST_PIPELINE(pipeline_.get()));
    gst_bus_set_sync_handler(bus, &onBusMessage, nullptr, nullptr);
    gst_object_unref(bus);
    tee_ = gst_element_factory_make("tee", "tee");
    g_object_set(tee_, "allow-not-linked", TRUE, nullptr);
    gst_bin_add(GST_BIN(pipeline_.get()), tee_);
    for (int i = 0; i < viewers; ++i) addLeg(i);
    gst_element_set_state(pipeline_.get(), GST_STATE_PLAYING);
    for (std::size_t i = 0; i < senders_.size(); ++i) negotiate(senders_[i], receivers_[i]);
    waitConnected();
    startFeed();
  }
  ~WebrtcPath() {
    gst_element_set_state(pipeline_.get(), GST_STATE_NULL);
    if (feed_) gst_pad_set_active(feed_.get(), FALSE);
  }
  WebrtcPath(const WebrtcPath&) = delete;
  WebrtcPath& operator=(const WebrtcPath&) = delete;

  // One encoded frame into the tee; returns the RTP packets the first viewer's payloader made.
  int pushFrame() {
    const long before = packets_.load(std::memory_order_relaxed);
    const GstBuffer* frame = stream_.frames[frame_ % stream_.frames.size()];
    GstBuffer* b = gst_buffer_copy(frame);
    const GstClockTime duration = GST_SECOND / stream_.fps;
    GST_BUFFER_PTS(b) = GST_BUFFER_DTS(b) = frame_ * duration;
    GST_BUFFER_DURATION(b) = duration;
    ++frame_;
    gst_pad_push(feed_.get(), b);
    return int(packets_.load(std::memory_order_relaxed) - before);
  }
  double bytesPerPacket() const { return double(bytes_.load()) / double(packets_.load()); }
  long packets() const { return packets_.load(); }
  long received() const { return received_.load(); }

 private:
  void addLeg(int i) {
    const std::string n = std::to_string(i);
    GstElement* sender = testing::makeLoopbackWebrtcbin("send" + n);
    g_signal_connect(sender, "element-added", G_CALLBACK(&onWebrtcChild), nullptr);
    GstElement* receiver = testing::makeLoopbackWebrtcbin("recv" + n);
    g_signal_connect(receiver, "pad-added", G_CALLBACK(&WebrtcPath::onReceived), this);
    g_signal_connect(sender, "on-ice-candidate", G_CALLBACK(&WebrtcPath::onCandidate), receiver);
    g_signal_connect(receiver, "on-ice-candidate", G_CALLBACK(&WebrtcPath::onCandidate), sender);
    const guint ssrc = g_random_int();
    const bool video = kind_ == "video";
    GstElement* pay = gst_element_factory_make(video ? "rtpvp8pay" : "rtpopuspay", nullptr);
    if (video) {
      g_object_set(pay, "pt", 96, "picture-id-mode", 2, "ssrc", ssrc, nullptr);
    } else {
      g_object_set(pay, "pt", 111, "ssrc", ssrc, "auto-header-extension", FALSE, nullptr);
    }
    gst_bin_add_many(GST_BIN(pipeline_.get()), sender, receiver, pay, nullptr);
    GstPadRef sink = adopt(gst_element_request_pad_simple(sender, "sink_%u"));
    gst_pad_link(GstPadRef(gst_element_get_static_pad(pay, "src")).get(), sink.get());
    GstWebRTCRTPTransceiver* trans = nullptr;
    g_object_get(sink.get(), "transceiver", &trans, nullptr);
    const std::string caps =
        std::string(video ? "application/x-rtp,media=video,encoding-name=VP8,payload=96,"
                            "clock-rate=90000"
                          : "application/x-rtp,media=audio,encoding-name=OPUS,payload=111,"
                            "clock-rate=48000,encoding-params=(string)2") +
        ",ssrc=(uint)" + std::to_string(ssrc);
    g_object_set(trans, "direction", GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_SENDRECV,
                 "codec-preferences", media::capsFromString(caps).get(), "do-nack", gboolean(video),
                 nullptr);
    gst_object_unref(trans);
    GstPadRef teeSrc = adopt(gst_element_request_pad_simple(tee_, "src_%u"));
    gst_pad_link(teeSrc.get(), GstPadRef(gst_element_get_static_pad(pay, "sink")).get());
    if (i == 0) countPackets(pay);
    senders_.push_back(sender);
    receivers_.push_back(receiver);
  }

  void countPackets(GstElement* pay) {
    GstPadRef src = adopt(gst_element_get_static_pad(pay, "src"));
    gst_pad_add_probe(src.get(),
                      GstPadProbeType(GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_BUFFER_LIST),
                      &WebrtcPath::onPayloaded, this, nullptr);
  }
  static GstPadProbeReturn onPayloaded(GstPad*, GstPadProbeInfo* info, gpointer data) {
    auto* self = static_cast<WebrtcPath*>(data);
    if (info->type & GST_PAD_PROBE_TYPE_BUFFER_LIST) {
      GstBufferList* list = GST_PAD_PROBE_INFO_BUFFER_LIST(info);
      self->packets_ += gst_buffer_list_length(list);
      self->bytes_ += long(gst_buffer_list_calculate_size(list));
    } else {
      self->packets_ += 1;
      self->bytes_ += long(gst_buffer_get_size(GST_PAD_PROBE_INFO_BUFFER(info)));
    }
    return GST_PAD_PROBE_OK;
  }

  // What the viewers decrypt is counted, to show the legs deliver (on the receivers' threads).
  static void onReceived(GstElement* receiver, GstPad* pad, gpointer self) {
    if (GST_PAD_DIRECTION(pad) != GST_PAD_SRC) return;
    GstElement* sink = gst_element_factory_make("fakesink", nullptr);
    g_object_set(sink, "sync", FALSE, "async", FALSE, "signal-handoffs", TRUE, nullptr);
    g_signal_connect(sink, "handoff", G_CALLBACK(&WebrtcPath::onHandoff), self);
    GstElement* bin = GST_ELEMENT(gst_element_get_parent(receiver));
    gst_bin_add(GST_BIN(bin), sink);
    gst_element_sync_state_with_parent(sink);
    gst_pad_link(pad, GstPadRef(gst_element_get_static_pad(sink, "sink")).get());
    gst_object_unref(bin);
  }
  static void onHandoff(GstElement*, GstBuffer*, GstPad*, gpointer self) {
    static_cast<WebrtcPath*>(self)->received_.fetch_add(1, std::memory_order_relaxed);
  }
  static void onCandidate(GstElement*, guint mline, gchar* candidate, gpointer peer) {
    g_signal_emit_by_name(GST_ELEMENT(peer), "add-ice-candidate", mline, candidate);
  }

  // Offer from the sender, answered by the receiver; the promises' callbacks run on webrtcbin's
  // threads, and this thread only waits for the connection (a benchmark, not the server).
  static void negotiate(GstElement* sender, GstElement* receiver) {
    struct Pair {
      GstElement* sender;
      GstElement* receiver;
    };
    auto* pair = new Pair{sender, receiver};
    GstPromise* promise = gst_promise_new_with_change_func(
        [](GstPromise* p, gpointer data) {
          std::unique_ptr<Pair> pair(static_cast<Pair*>(data));
          GstWebRTCSessionDescription* offer = nullptr;
          gst_structure_get(gst_promise_get_reply(p), "offer", GST_TYPE_WEBRTC_SESSION_DESCRIPTION,
                            &offer, nullptr);
          gst_promise_unref(p);
          g_signal_emit_by_name(pair->sender, "set-local-description", offer, nullptr);
          media::GCharPtr text(gst_sdp_message_as_text(offer->sdp));
          gst_webrtc_session_description_free(offer);
          GstElement* s = pair->sender;
          testing::answerOffer(pair->receiver, text.get(), [s](std::optional<std::string> answer) {
            if (!answer) return;
            GstSDPMessage* sdp = nullptr;
            gst_sdp_message_new_from_text(answer->c_str(), &sdp);
            GstWebRTCSessionDescription* desc =
                gst_webrtc_session_description_new(GST_WEBRTC_SDP_TYPE_ANSWER, sdp);
            g_signal_emit_by_name(s, "set-remote-description", desc, nullptr);
            gst_webrtc_session_description_free(desc);
          });
        },
        pair, nullptr);
    g_signal_emit_by_name(sender, "create-offer", nullptr, promise);
  }

  void waitConnected() {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(90);
    for (GstElement* sender : senders_) {
      for (;;) {
        GstWebRTCPeerConnectionState state = GST_WEBRTC_PEER_CONNECTION_STATE_NEW;
        g_object_get(sender, "connection-state", &state, nullptr);
        if (state == GST_WEBRTC_PEER_CONNECTION_STATE_CONNECTED) break;
        if (std::chrono::steady_clock::now() > deadline) {
          throw std::runtime_error("webrtcbin legs did not connect in 90 s");
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      }
    }
  }

  // Our own source pad into the tee: gst_pad_push runs every leg on the calling thread.
  void startFeed() {
    feed_ = media::refSink(gst_pad_new("feed", GST_PAD_SRC));
    gst_pad_set_active(feed_.get(), TRUE);
    gst_pad_link(feed_.get(), GstPadRef(gst_element_get_static_pad(tee_, "sink")).get());
    gst_pad_push_event(feed_.get(), gst_event_new_stream_start("sendpath"));
    gst_pad_push_event(feed_.get(), gst_event_new_caps(stream_.caps.get()));
    GstSegment segment;
    gst_segment_init(&segment, GST_FORMAT_TIME);
    gst_pad_push_event(feed_.get(), gst_event_new_segment(&segment));
  }

  std::string kind_;
  const EncodedStream& stream_;
  GstElementRef pipeline_;
  GstElement* tee_ = nullptr;  // borrowed from the pipeline
  std::vector<GstElement*> senders_, receivers_;
  GstPadRef feed_;
  guint64 frame_ = 0;
  std::atomic<long> packets_{0};
  std::atomic<long> bytes_{0};
  std::atomic<long> received_{0};
};

void runWebrtc(const Options& o, const std::string& kind, int n) {
  EncodedStream stream;
  encode(kind, stream);
  WebrtcPath path(n, kind, stream);
  // Caps negotiation, the first keyframe and the legs' first packets are not what is measured.
  drive(stream.fps, true, 1.0, [&](long) { return path.pushFrame(); });
  for (bool paced : {true, false}) {
    if (!wanted(o.modes, paced ? "paced" : "unpaced")) continue;
    Row row{"webrtc", "full", kind, paced ? "paced" : "unpaced", n, 0, {}, {}};
    double pps = 0;
    for (int r = 0; r < o.repeat; ++r) {
      const Sample s = drive(stream.fps, paced, paced ? o.pacedSeconds : o.unpacedSeconds,
                             [&](long) { return path.pushFrame(); });
      row.usPerPacket.push_back(s.cpuSeconds * 1e6 / double(s.packets) / n);
      if (paced) pps = double(s.packets) / o.pacedSeconds;
    }
    if (paced) {
      // Received so far over sent so far to all viewers (lower while the last are in flight).
      const double delivered = double(path.received()) / double(path.packets()) / n;
      char note[128];
      std::snprintf(note, sizeof note, "%.1f pkt/s of %.0f B; viewers received %.0f %% of all", pps,
                    path.bytesPerPacket(), delivered * 100);
      row.note = note;
    }
    row.pps = kind == "video" ? kVideo.pps() : kAudio.pps();
    printRow(row);
  }
}

// ------------------------------------------------------------------------------- main

std::vector<std::string> words(const std::string& s) {
  std::vector<std::string> out;
  std::string w;
  for (char c : s + " ") {
    if (c == ' ' || c == ',') {
      if (!w.empty()) out.push_back(w);
      w.clear();
    } else {
      w += c;
    }
  }
  return out;
}

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string key = argv[i], value = argv[i + 1];
    if (key == "--viewers") {
      o.viewers.clear();
      for (const std::string& w : words(value)) o.viewers.push_back(std::stoi(w));
    } else if (key == "--paths") {
      o.paths = words(value);
    } else if (key == "--kinds") {
      o.kinds = words(value);
    } else if (key == "--seconds") {
      o.pacedSeconds = std::stod(value);
    } else if (key == "--unpaced-seconds") {
      o.unpacedSeconds = std::stod(value);
    } else if (key == "--repeat") {
      o.repeat = std::stoi(value);
    } else if (key == "--stages") {
      o.stages = words(value);
    } else if (key == "--modes") {
      o.modes = words(value);
    } else if (key == "--webrtc-max-viewers") {
      o.webrtcMaxViewers = std::stoi(value);
    } else {
      throw std::runtime_error("unknown option " + key);
    }
  }
  return o;
}

}  // namespace
}  // namespace mcu::bench

int main(int argc, char** argv) {
  using namespace mcu::bench;
  try {
    gst_init(&argc, &argv);
    const Options o = parse(argc, argv);
    mcu::bench::check(srtp_init(), "srtp_init");
    std::printf(
        "# mcu-sendpath: CPU of the sending thread per RTP packet per viewer (median of %d)"
        "; %%core/vwr at %d pkt/s audio, %d pkt/s video\n",
        o.repeat, kAudio.pps(), kVideo.pps());
    printHeader();
    std::unique_ptr<NiceLoop> loop;
    for (const std::string& path : o.paths) {
      for (const std::string& kind : o.kinds) {
        for (int n : o.viewers) {
          if (path == "direct") runDirect(o, kind, n, false, nullptr);
          if (path == "nice") {
            if (!loop) loop = std::make_unique<NiceLoop>();
            runDirect(o, kind, n, true, loop.get());
          }
          if (path == "webrtc" && n <= o.webrtcMaxViewers) runWebrtc(o, kind, n);
        }
      }
    }
    srtp_shutdown();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "mcu-sendpath: %s\n", e.what());
    return 1;
  }
  return 0;
}
