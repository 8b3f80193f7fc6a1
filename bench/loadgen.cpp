// mcu-loadgen: puts N headless sites into a meeting of a running mcu-server, over the real WSS
// signaling and WebRTC, and holds them there so the server's cost can be measured from outside
// (bench/rooms.sh, bench/sites.sh). All sites live in one GStreamer pipeline and send the same
// pre-encoded streams (bench/SharedMedia); a few signaling threads serve every site's WebSocket.
//
// With --latency-trials, site 1 is a probe (its own encoders: a picture that flashes, a tone
// that clicks) and site 2 decodes the composite and the mix and finds each flash and click in
// them, so the latency is measured by content on one clock: end to end (source to decoded), and
// the mixer's own share (the probe's encoder output to the detector's received RTP). With
// --join-trials, a decoding site joins the full meeting and leaves again, timing its join to its
// first frame.
//
// Signals: SIGINT/SIGTERM end the hold early; SIGUSR1 marks the start and then the end of a
// measurement window, over which frame rates and received bitrates are reported.
#include <gst/gst.h>
#include <pthread.h>
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "bench/SharedMedia.hpp"
#include "bench/SitePeer.hpp"
#include "tests/support/WsClient.hpp"

namespace {

using mcu::bench::Clock;
using mcu::bench::SharedMedia;
using mcu::bench::SitePeer;
using mcu::testsupport::WsClient;
using json = nlohmann::json;
using namespace std::chrono_literals;

constexpr int kReadyFrames = 10;     // composite frames every site must have before the hold
constexpr double kAudioGraceS = 10;  // how long audio may lag behind the first composite frames
constexpr int kSitesPerThread = 8;   // WebSocket polls are 1 ms each when idle
constexpr auto kMatchWindow =
    1s;  // a flash or click seen later than this after it was sent is lost

struct Args {
  int port = 0;
  std::string host = "127.0.0.1";  // the server's address (another test host: its veth address)
  std::string localAddress = "127.0.0.1";  // where the sites' ICE agents gather
  std::string namePrefix = "bench-";       // sites are named PREFIX1, PREFIX2, ...
  int rooms = 2;
  std::string meeting = "demo";
  double seconds = 30;  // 0: hold until SIGINT/SIGTERM
  double readyTimeout = 60;
  int staggerMs = 0;  // between two sites' joins
  bool decodeAll = false;
  int decodeSites = 0;
  int width = 320, height = 180, fps = 15, videoKbps = 250;
  int latencyTrials = 0;
  double trialInterval = 1.5;
  int joinTrials = 0;
  bool untilMarked = false;
  int threads = 0;  // 0: one per kSitesPerThread sites
  std::string scene = "moving";
  bool dtx = true;
  bool lightReceive = false;
};

void usage() {
  std::fprintf(
      stderr,
      "usage: mcu-loadgen --port P [--host ADDR] [--local-address ADDR] [--name-prefix P]\n"
      "                   [--rooms N] [--meeting CODE] [--seconds S]\n"
      "                   [--ready-timeout S] [--stagger MS] [--decode] [--decode-sites K]\n"
      "                   [--size WxH] [--fps F] [--kbps K] [--latency-trials T]\n"
      "                   [--trial-interval S] [--join-trials J] [--until-marked] [--threads T]\n"
      "                   [--scene moving|still] [--dtx on|off] [--receive light|full]\n"
      "  --seconds 0 holds until SIGINT/SIGTERM; SIGUSR1 marks a measurement window;\n"
      "  --until-marked ends the hold at the second mark (after the latency trials);\n"
      "  --dtx off: the silent sites send fifty packets a second even when asked for DTX;\n"
      "  --receive light: sites that decode nothing count their media and drop it at the\n"
      "  socket, so they send no receiver reports about it (full, the default: through SRTP and\n"
      "  rtpbin as a browser; the server chooses a site's rung from those reports).\n");
}

bool parseArgs(int argc, char** argv, Args& a) {
  for (int i = 1; i < argc; ++i) {
    const std::string k = argv[i];
    if (k == "--decode") {
      a.decodeAll = true;
      continue;
    }
    if (k == "--until-marked") {
      a.untilMarked = true;
      continue;
    }
    const char* v = i + 1 < argc ? argv[++i] : nullptr;
    if (!v) return false;
    if (k == "--port")
      a.port = std::atoi(v);
    else if (k == "--host")
      a.host = v;
    else if (k == "--local-address")
      a.localAddress = v;
    else if (k == "--name-prefix")
      a.namePrefix = v;
    else if (k == "--rooms")
      a.rooms = std::atoi(v);
    else if (k == "--meeting")
      a.meeting = v;
    else if (k == "--seconds")
      a.seconds = std::atof(v);
    else if (k == "--ready-timeout")
      a.readyTimeout = std::atof(v);
    else if (k == "--stagger")
      a.staggerMs = std::atoi(v);
    else if (k == "--decode-sites")
      a.decodeSites = std::atoi(v);
    else if (k == "--fps")
      a.fps = std::atoi(v);
    else if (k == "--kbps")
      a.videoKbps = std::atoi(v);
    else if (k == "--latency-trials")
      a.latencyTrials = std::atoi(v);
    else if (k == "--trial-interval")
      a.trialInterval = std::atof(v);
    else if (k == "--join-trials")
      a.joinTrials = std::atoi(v);
    else if (k == "--threads")
      a.threads = std::atoi(v);
    else if (k == "--scene")
      a.scene = v;
    else if (k == "--receive") {
      if (std::string(v) != "light" && std::string(v) != "full") return false;
      a.lightReceive = std::string(v) == "light";
    } else if (k == "--dtx") {
      if (std::string(v) != "on" && std::string(v) != "off") return false;
      a.dtx = std::string(v) == "on";
    } else if (k == "--size") {
      if (std::sscanf(v, "%dx%d", &a.width, &a.height) != 2) return false;
    } else
      return false;
  }
  return a.port > 0 && a.port < 65536 && a.rooms >= 1 && a.fps >= 1 && a.width >= 16 &&
         a.height >= 16 && (a.latencyTrials == 0 || a.rooms >= 2) && a.trialInterval > 1 &&
         (a.scene == "moving" || a.scene == "still");
}

double secondsSince(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

double ms(Clock::duration d) {
  return std::chrono::duration<double, std::milli>(d).count();
}

// One site's signaling: driven by exactly one thread (WsClient is single-threaded); the peer's
// callbacks arrive on GStreamer threads and only queue what is to be sent.
class Site {
 public:
  Site(SharedMedia& shared, SitePeer::Options options, const Args& args)
      : args_(args),
        peer_(shared, std::move(options),
              {[this](const std::string& sdp) { onAnswer(sdp); },
               [this](int mline, const std::string& c) { onCandidate(mline, c); }}) {}
  ~Site() { peer_.stop(); }
  Site(const Site&) = delete;
  Site& operator=(const Site&) = delete;

  // Starts the peer, connects and sends `join`; the rest happens in service(). Tried once: a
  // site that cannot connect has failed (a retry would build a second peer under the same name).
  void join() {
    attempted_ = true;
    try {
      peer_.start();
      ws_.connect(std::uint16_t(args_.port), std::chrono::seconds(10), "/ws", args_.host);
      joinedAt_ = Clock::now();
      ws_.sendText(json{
          {"type", "join"},
          {"id", 1},
          {"meeting", args_.meeting},
          {"name", peer_.name()},
          {"version",
           1}}.dump());
    } catch (const std::exception& e) {
      fail(e.what());
    }
  }

  // Handles what arrived within `wait`, sends what is queued, attaches the peer when connected.
  void service(std::chrono::milliseconds wait) {
    if (failed_ || !joinedAt_) return;
    try {
      for (auto message = ws_.receive(wait); message; message = ws_.receive(0ms)) handle(*message);
      flush();
      peer_.poll();
      if (!ws_.isOpen()) throw std::runtime_error("the server closed the connection");
    } catch (const std::exception& e) {
      fail(e.what());
    }
  }

  void leave() {
    if (ws_.isOpen()) ws_.close(2s);
    peer_.stop();
  }

  SitePeer& peer() { return peer_; }
  const SitePeer& peer() const { return peer_; }
  std::optional<Clock::time_point> joinedAt() const { return joinedAt_; }
  bool attempted() const { return attempted_; }
  bool failed() const { return failed_; }
  std::string problem() const {
    std::lock_guard lock(mu_);
    return problem_;
  }
  std::string mediaState() const {
    std::lock_guard lock(mu_);
    return mediaState_;
  }

 private:
  void handle(const std::string& text) {
    const json m = json::parse(text, nullptr, false);
    const std::string type = m.is_object() ? m.value("type", "") : "";
    if (type == "offer") {
      peer_.handleOffer(m.value("sdp", ""));
    } else if (type == "candidate") {
      const std::string c = m.value("candidate", "");
      if (!c.empty()) peer_.addCandidate(m.value("sdpMLineIndex", 0), c);
    } else if (type == "video-wanted") {
      peer_.setVideoWanted(m.value("wanted", true));
    } else if (type == "media-state") {
      std::lock_guard lock(mu_);
      mediaState_ = m.value("state", "");
    } else if (type == "error") {
      fail("server error " + m.value("code", "") + ": " + m.value("message", ""));
    }
  }

  // The server refuses candidates before the answer, and webrtcbin may report one first.
  void onAnswer(const std::string& sdp) {
    std::lock_guard lock(mu_);
    outbox_.push_back(json{{"type", "answer"}, {"id", 2}, {"sdp", sdp}}.dump());
    answered_ = true;
    outbox_.insert(outbox_.end(), held_.begin(), held_.end());
    held_.clear();
  }

  void onCandidate(int mline, const std::string& candidate) {
    std::string text =
        json{{"type", "candidate"}, {"candidate", candidate}, {"sdpMLineIndex", mline}}.dump();
    std::lock_guard lock(mu_);
    (answered_ ? outbox_ : held_).push_back(std::move(text));
  }

  void flush() {
    std::vector<std::string> out;
    {
      std::lock_guard lock(mu_);
      out.swap(outbox_);
    }
    for (const auto& text : out) ws_.sendText(text);
  }

  void fail(const std::string& why) {
    std::fprintf(stderr, "mcu-loadgen: %s: %s\n", peer_.name().c_str(), why.c_str());
    std::lock_guard lock(mu_);
    if (problem_.empty()) problem_ = why;
    failed_ = true;
  }

  const Args& args_;
  WsClient ws_;
  SitePeer peer_;
  std::optional<Clock::time_point> joinedAt_;
  bool attempted_ = false;
  std::atomic<bool> failed_{false};
  mutable std::mutex mu_;
  std::vector<std::string> outbox_;
  std::vector<std::string> held_;
  bool answered_ = false;
  std::string problem_;
  std::string mediaState_ = "-";
};

using Sites = std::vector<std::unique_ptr<Site>>;

// Site 1 is the probe and site 2 detects its content when latency is measured; then come the
// decoding sites; the rest only count what they receive. The probe joins first, so it has a pane
// whatever the number of sites.
SitePeer::Options siteOptions(int index, const Args& args) {
  SitePeer::Options o;
  o.name = args.namePrefix + std::to_string(index + 1);
  o.localAddress = args.localAddress;
  const int special = args.latencyTrials > 0 ? 2 : 0;
  if (special && index == 0) o.source = SitePeer::Source::kProbe;
  if (special && index == 1) o.detect = true;
  o.decode = args.decodeAll || (index >= special && index < special + args.decodeSites);
  o.lightReceive = args.lightReceive;
  return o;
}

// A few threads serve every site's WebSocket: thread t owns sites t, t+T, t+2T, ... and joins
// each at its staggered time.
class SignalingPool {
 public:
  SignalingPool(Sites& sites, const Args& args) {
    const int n = int(sites.size());
    const int threads =
        args.threads > 0 ? args.threads : (n + kSitesPerThread - 1) / kSitesPerThread;
    const auto start = Clock::now();
    for (int t = 0; t < std::min(threads, n); ++t) {
      threads_.emplace_back([this, &sites, &args, t, threads, n, start] {
        std::vector<std::pair<Site*, Clock::time_point>> mine;
        for (int i = t; i < n; i += threads) {
          mine.emplace_back(sites[i].get(), start + std::chrono::milliseconds(i * args.staggerMs));
        }
        run(mine);
      });
    }
  }
  ~SignalingPool() { stop(); }
  void stop() {
    stopping_ = true;
    for (auto& t : threads_) {
      if (t.joinable()) t.join();
    }
  }

 private:
  void run(std::vector<std::pair<Site*, Clock::time_point>>& mine) {
    while (!stopping_) {
      for (auto& [site, due] : mine) {
        if (!site->attempted() && Clock::now() >= due) site->join();
        site->service(1ms);
      }
      if (mine.empty()) std::this_thread::sleep_for(10ms);
    }
  }

  std::atomic<bool> stopping_{false};
  std::vector<std::thread> threads_;
};

struct Mark {
  Clock::time_point at;
  std::vector<int> frames, keyframes;
  std::vector<std::uint64_t> videoBytes, audioBytes;
};

Mark mark(const Sites& sites) {
  Mark m{Clock::now(), {}, {}, {}, {}};
  for (const auto& s : sites) {
    m.frames.push_back(s->peer().framesReceived());
    m.keyframes.push_back(s->peer().keyframesReceived());
    m.videoBytes.push_back(s->peer().videoBytes());
    m.audioBytes.push_back(s->peer().audioBytes());
  }
  return m;
}

// Waits for a signal for up to `timeout`; returns it, or 0 on timeout.
int waitSignal(const sigset_t& set, std::chrono::milliseconds timeout) {
  timespec ts{time_t(timeout.count() / 1000), long(timeout.count() % 1000) * 1000000};
  const int sig = sigtimedwait(&set, nullptr, &ts);
  return sig > 0 ? sig : 0;
}

const Site* firstFailed(const Sites& sites) {
  for (const auto& s : sites) {
    if (s->failed()) return s.get();
  }
  return nullptr;
}

bool allReceiving(const Sites& sites, bool audioToo) {
  return std::all_of(sites.begin(), sites.end(), [&](const auto& s) {
    return s->peer().framesReceived() >= kReadyFrames &&
           (!audioToo || s->peer().audioPackets() > 0);
  });
}

int sitesWithoutAudio(const Sites& sites) {
  return int(std::count_if(sites.begin(), sites.end(),
                           [](const auto& s) { return s->peer().audioPackets() == 0; }));
}

// Until every site receives the composite (and, for a few seconds more, audio); false on
// failure, timeout or a signal. A site without audio is reported, not fatal: the load is on.
bool waitReady(const Sites& sites, const sigset_t& set, const Args& args) {
  const auto start = Clock::now();
  std::optional<Clock::time_point> videoAt;
  while (!allReceiving(sites, !videoAt || secondsSince(*videoAt) < kAudioGraceS)) {
    if (!videoAt && allReceiving(sites, false)) videoAt = Clock::now();
    if (const Site* bad = firstFailed(sites)) {
      std::fprintf(stderr, "mcu-loadgen: %s failed before receiving: %s\n",
                   bad->peer().name().c_str(), bad->problem().c_str());
      return false;
    }
    if (secondsSince(start) > args.readyTimeout) {
      int waiting = 0;
      for (const auto& s : sites) waiting += s->peer().framesReceived() < kReadyFrames;
      std::fprintf(stderr,
                   "mcu-loadgen: timed out after %.0f s waiting for the composite (%d of %zu "
                   "sites without it):\n",
                   args.readyTimeout, waiting, sites.size());
      for (const auto& s : sites) {
        if (s->peer().framesReceived() >= kReadyFrames) continue;
        std::fprintf(stderr, "  %s: %d frames, %llu audio packets, media-state %s\n",
                     s->peer().name().c_str(), s->peer().framesReceived(),
                     (unsigned long long)s->peer().audioPackets(), s->mediaState().c_str());
      }
      return false;
    }
    const int sig = waitSignal(set, 100ms);
    if (sig == SIGINT || sig == SIGTERM) return false;
  }
  if (const int silent = sitesWithoutAudio(sites)) {
    std::printf("mcu-loadgen: WARNING: %d of %zu rooms receive no audio %.0f s after video\n",
                silent, sites.size(), kAudioGraceS);
  }
  // "rooms receive the composite": the line bench/rooms.sh and bench/sites.sh wait for.
  std::printf("mcu-loadgen: all %zu rooms receive the composite after %.1f s\n", sites.size(),
              secondsSince(start));
  std::fflush(stdout);
  return true;
}

// Holds the load, running the latency trials; returns the measurement window (two SIGUSR1
// marks, else the whole hold).
std::pair<Mark, Mark> hold(const Sites& sites, const sigset_t& set, const Args& args, bool& ok) {
  const auto start = Clock::now();
  std::vector<Mark> marks{mark(sites)};
  bool marked = false;
  int trials = 0;
  auto nextTrial = start + 1s;
  while (args.seconds <= 0 || secondsSince(start) < args.seconds) {
    if (const Site* bad = firstFailed(sites)) {
      std::fprintf(stderr, "mcu-loadgen: %s failed during the hold: %s\n",
                   bad->peer().name().c_str(), bad->problem().c_str());
      ok = false;
      break;
    }
    if (trials < args.latencyTrials && Clock::now() >= nextTrial) {
      sites[0]->peer().flash();
      sites[0]->peer().click();
      ++trials;
      nextTrial += std::chrono::duration_cast<Clock::duration>(
          std::chrono::duration<double>(args.trialInterval));
    }
    const bool trialsDone = trials >= args.latencyTrials && Clock::now() > nextTrial;
    if (args.untilMarked && marked && marks.size() >= 2 && trialsDone) break;
    const int sig = waitSignal(set, 20ms);
    if (sig == SIGINT || sig == SIGTERM) break;
    if (sig == SIGUSR1) {
      if (!marked) marks.clear();
      marked = true;
      marks.push_back(mark(sites));
      std::printf("mcu-loadgen: mark %zu\n", marks.size());
      std::fflush(stdout);
    }
  }
  if (marks.size() < 2) marks.push_back(mark(sites));
  return {marks[0], marks[1]};
}

// Nearest-rank percentile in whole milliseconds; "-" when nothing was measured.
std::string percentile(std::vector<double> v, double p) {
  if (v.empty()) return "-";
  std::sort(v.begin(), v.end());
  const std::size_t rank = std::size_t(std::ceil(p * v.size()));
  return std::to_string(std::lround(v[std::clamp<std::size_t>(rank, 1, v.size()) - 1]));
}

// Pairs each sent event with the first detection within kMatchWindow after it.
std::vector<double> latencies(const std::vector<Clock::time_point>& sent,
                              const std::vector<Clock::time_point>& seen) {
  std::vector<double> out;
  for (const auto s : sent) {
    const auto it = std::find_if(seen.begin(), seen.end(),
                                 [&](const auto d) { return d >= s && d < s + kMatchWindow; });
    if (it != seen.end()) out.push_back(ms(*it - s));
  }
  return out;
}

void reportLatency(const Sites& sites, const Args& args) {
  if (args.latencyTrials == 0) return;
  const SitePeer& probe = sites[0]->peer();
  const SitePeer& detector = sites[1]->peer();
  const auto video = latencies(probe.flashesSent().snapshot(), detector.flashesSeen().snapshot());
  const auto audio = latencies(probe.clicksSent().snapshot(), detector.clicksHeard().snapshot());
  std::printf(
      "mcu-loadgen: latency video n=%zu/%zu p50_ms=%s p95_ms=%s max_ms=%s"
      " audio n=%zu/%zu p50_ms=%s p95_ms=%s max_ms=%s audio_level_ext=%s\n",
      video.size(), probe.flashesSent().snapshot().size(), percentile(video, 0.5).c_str(),
      percentile(video, 0.95).c_str(), percentile(video, 1).c_str(), audio.size(),
      probe.clicksSent().snapshot().size(), percentile(audio, 0.5).c_str(),
      percentile(audio, 0.95).c_str(), percentile(audio, 1).c_str(),
      probe.sendsAudioLevel() ? "sent" : "not-offered");
  // The same trials from the probe's encoder output to the detector's RTP (after its
  // jitterbuffer, which holds nothing while packets come in order): what the server adds, plus
  // both ends' SRTP and loopback.
  const auto mixerVideo =
      latencies(probe.flashesEncoded().snapshot(), detector.flashesArrived().snapshot());
  const auto mixerAudio =
      latencies(probe.clicksEncoded().snapshot(), detector.clicksArrived().snapshot());
  std::printf(
      "mcu-loadgen: mixer-latency video n=%zu/%zu p50_ms=%s p95_ms=%s max_ms=%s"
      " audio n=%zu/%zu p50_ms=%s p95_ms=%s max_ms=%s\n",
      mixerVideo.size(), probe.flashesEncoded().snapshot().size(),
      percentile(mixerVideo, 0.5).c_str(), percentile(mixerVideo, 0.95).c_str(),
      percentile(mixerVideo, 1).c_str(), mixerAudio.size(), probe.clicksEncoded().snapshot().size(),
      percentile(mixerAudio, 0.5).c_str(), percentile(mixerAudio, 0.95).c_str(),
      percentile(mixerAudio, 1).c_str());
}

// A decoding site joins the meeting as it is, times `join` to its first decoded composite frame
// and leaves; repeated with a pause so the server has let the last one go.
void joinTrials(SharedMedia& shared, const Args& args, const sigset_t& set) {
  if (args.joinTrials == 0) return;
  std::vector<double> times;
  int failures = 0;
  for (int i = 0; i < args.joinTrials; ++i) {
    SitePeer::Options o;
    o.name = "joiner-" + std::to_string(i + 1);
    o.decode = true;
    Site site(shared, o, args);
    site.join();
    const auto deadline = Clock::now() + 15s;
    while (!site.failed() && !site.peer().firstFrameAt() && Clock::now() < deadline) {
      site.service(2ms);
    }
    if (const auto first = site.peer().firstFrameAt(); first && site.joinedAt()) {
      times.push_back(ms(*first - *site.joinedAt()));
    } else {
      ++failures;
    }
    site.leave();
    const int sig = waitSignal(set, 2s);
    if (sig == SIGINT || sig == SIGTERM) break;
  }
  std::printf("mcu-loadgen: join-to-first-frame n=%zu failed=%d p50_ms=%s max_ms=%s\n",
              times.size(), failures, percentile(times, 0.5).c_str(), percentile(times, 1).c_str());
}

void report(const Sites& sites, const Mark& from, const Mark& to) {
  const double span = std::chrono::duration<double>(to.at - from.at).count();
  const bool table = sites.size() <= 25;
  if (table) {
    std::printf("%-9s %8s %10s %10s %10s %-12s\n", "site", "frames", "fps(window)", "video_kbps",
                "audio_kbps", "media-state");
  }
  double minFps = 1e9, sumFps = 0, sumVideo = 0, minVideo = 1e18, maxVideo = 0, sumAudio = 0;
  int maxKeyframes = 0;  // over the decoding sites: the others do not look into the frames
  for (std::size_t i = 0; i < sites.size(); ++i) {
    const Site& s = *sites[i];
    const double fps = span > 0 ? (to.frames[i] - from.frames[i]) / span : 0;
    const double video = span > 0 ? (to.videoBytes[i] - from.videoBytes[i]) * 8 / span / 1000 : 0;
    const double audio = span > 0 ? (to.audioBytes[i] - from.audioBytes[i]) * 8 / span / 1000 : 0;
    minFps = std::min(minFps, fps);
    maxKeyframes = std::max(maxKeyframes, to.keyframes[i] - from.keyframes[i]);
    sumFps += fps;
    sumVideo += video;
    minVideo = std::min(minVideo, video);
    maxVideo = std::max(maxVideo, video);
    sumAudio += audio;
    if (table) {
      std::printf("%-9s %8d %10.1f %10.0f %10.1f %-12s\n", s.peer().name().c_str(),
                  s.peer().framesReceived(), fps, video, audio, s.mediaState().c_str());
    }
  }
  const double n = double(sites.size());
  std::printf(
      "mcu-loadgen: summary rooms=%zu window_s=%.1f min_fps=%.1f mean_fps=%.1f no_audio=%d"
      " video_kbps_mean=%.0f video_kbps_min=%.0f video_kbps_max=%.0f audio_kbps_mean=%.1f"
      " keyframes_decoded=%d\n",
      sites.size(), span, minFps, sumFps / n, sitesWithoutAudio(sites), sumVideo / n, minVideo,
      maxVideo, sumAudio / n, maxKeyframes);
}

}  // namespace

int main(int argc, char** argv) {
  Args args;
  if (!parseArgs(argc, argv, args)) {
    usage();
    return 2;
  }
  // Blocked before any thread exists (GStreamer's included), so only sigtimedwait sees them.
  sigset_t set;
  sigemptyset(&set);
  for (int s : {SIGINT, SIGTERM, SIGUSR1}) sigaddset(&set, s);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  gst_init(&argc, &argv);

  SharedMedia shared({.width = args.width,
                      .height = args.height,
                      .fps = args.fps,
                      .videoKbps = args.videoKbps,
                      .scene = args.scene,
                      .dtx = args.dtx});
  shared.start();
  Sites sites;
  for (int i = 0; i < args.rooms; ++i) {
    sites.push_back(std::make_unique<Site>(shared, siteOptions(i, args), args));
  }
  bool ok = true;
  std::pair<Mark, Mark> window{mark(sites), mark(sites)};
  {
    SignalingPool pool(sites, args);
    ok = waitReady(sites, set, args);
    if (ok) window = hold(sites, set, args, ok);
    if (ok) joinTrials(shared, args, set);
    pool.stop();
  }
  report(sites, window.first, window.second);
  reportLatency(sites, args);
  for (auto& s : sites) s->leave();
  sites.clear();
  return ok ? 0 : 1;
}
