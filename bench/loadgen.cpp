// mcu-loadgen: puts N headless rooms into a meeting of a running mcu-server, over the real WSS
// signaling and WebRTC, and holds them there so the server's cost can be measured from outside
// (bench/rooms.sh). Each room is a WsClient and a TestPeer sending a solid colour and a tone at a
// small size, so the generator stays much cheaper than the server it loads.
//
// Signals: SIGINT/SIGTERM end the hold early; SIGUSR1 marks the start and then the end of a
// measurement window, over which the composite frame rate of every room is reported.
#include <gst/gst.h>
#include <pthread.h>
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "tests/media/TestPeer.hpp"
#include "tests/support/WsClient.hpp"

namespace {

using Clock = std::chrono::steady_clock;
using json = nlohmann::json;
using mcu::testing::TestPeer;
using mcu::testsupport::WsClient;

constexpr int kReadyFrames = 10;     // composite frames every room must have before the hold
constexpr double kAudioGraceS = 10;  // how long audio may lag behind the first composite frames
constexpr std::uint32_t kColours[] = {0xe6194b, 0x3cb44b, 0xffe119, 0x4363d8, 0xf58231,
                                      0x911eb4, 0x46f0f0, 0xf032e6, 0xbcf60c, 0xfabebe,
                                      0x008080, 0xe6beff, 0x9a6324, 0xfffac8, 0x800000,
                                      0xaaffc3, 0x808000, 0xffd8b1, 0x000075, 0x808080};

struct Args {
  int port = 0;
  int rooms = 2;
  std::string meeting = "demo";
  double seconds = 30;  // 0: hold until SIGINT/SIGTERM
  double readyTimeout = 60;
  int staggerMs = 0;  // between two rooms' joins
  bool decode = false;
  int width = 320, height = 180, fps = 15;
};

void usage() {
  std::fprintf(
      stderr,
      "usage: mcu-loadgen --port P [--rooms N] [--meeting CODE] [--seconds S]\n"
      "                   [--ready-timeout S] [--stagger MS] [--decode] [--size WxH] [--fps F]\n"
      "  --seconds 0 holds until SIGINT/SIGTERM; SIGUSR1 marks a measurement window.\n");
}

bool parseArgs(int argc, char** argv, Args& a) {
  for (int i = 1; i < argc; ++i) {
    const std::string k = argv[i];
    const char* v = i + 1 < argc ? argv[i + 1] : nullptr;
    if (k == "--decode") {
      a.decode = true;
      continue;
    }
    if (!v) return false;
    ++i;
    if (k == "--port")
      a.port = std::atoi(v);
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
    else if (k == "--fps")
      a.fps = std::atoi(v);
    else if (k == "--size") {
      if (std::sscanf(v, "%dx%d", &a.width, &a.height) != 2) return false;
    } else
      return false;
  }
  return a.port > 0 && a.port < 65536 && a.rooms >= 1 && a.fps >= 1 && a.width >= 16 &&
         a.height >= 16;
}

double secondsSince(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

// One room: its own thread does all socket I/O (WsClient is single-threaded); the TestPeer's
// callbacks arrive on GStreamer threads and only queue what is to be sent.
class Room {
 public:
  Room(int index, const Args& args)
      : index_(index),
        args_(args),
        name_("bench-" + std::to_string(index + 1)),
        peer_(name_, peerOptions(index, args),
              {[this](const std::string& sdp) { onAnswer(sdp); },
               [this](int mline, const std::string& c) { onCandidate(mline, c); }}) {}
  ~Room() { stop(); }
  Room(const Room&) = delete;
  Room& operator=(const Room&) = delete;

  void start() {
    thread_ = std::thread([this] { run(); });
  }
  void stop() {
    stopping_ = true;
    if (thread_.joinable()) thread_.join();
  }
  const std::string& name() const { return name_; }
  std::uint32_t colour() const { return kColours[index_ % std::size(kColours)]; }
  int frames() const { return peer_.framesReceived(); }
  std::size_t audioSamples() const { return peer_.audioSamplesReceived(); }
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
  static TestPeer::Options peerOptions(int index, const Args& args) {
    TestPeer::Options o;
    o.colour = kColours[index % std::size(kColours)];
    o.toneHz = 300 + 50 * index;
    o.width = args.width;
    o.height = args.height;
    o.fps = args.fps;
    o.decodeVideo = args.decode;
    return o;
  }

  void run() {
    try {
      peer_.start();
      ws_.connect(std::uint16_t(args_.port));
      ws_.sendText(json{
          {"type", "join"}, {"id", 1}, {"meeting", args_.meeting}, {"name", name_}, {"version", 1}}
                       .dump());
      while (!stopping_) {
        if (auto message = ws_.receive(std::chrono::milliseconds(20))) handle(*message);
        flush();
        if (!ws_.isOpen()) throw std::runtime_error("the server closed the connection");
      }
      ws_.close(std::chrono::seconds(2));
    } catch (const std::exception& e) {
      fail(e.what());
    }
    peer_.stop();
  }

  void handle(const std::string& text) {
    const json m = json::parse(text, nullptr, false);
    const std::string type = m.is_object() ? m.value("type", "") : "";
    if (type == "offer") {
      peer_.handleOffer(m.value("sdp", ""));
    } else if (type == "candidate") {
      const std::string c = m.value("candidate", "");
      if (!c.empty()) peer_.addCandidate(m.value("sdpMLineIndex", 0), c);
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
    std::fprintf(stderr, "mcu-loadgen: %s: %s\n", name_.c_str(), why.c_str());
    std::lock_guard lock(mu_);
    if (problem_.empty()) problem_ = why;
    failed_ = true;
  }

  const int index_;
  const Args& args_;
  const std::string name_;
  WsClient ws_;  // used by the room thread only
  TestPeer peer_;
  std::thread thread_;
  std::atomic<bool> stopping_{false};
  std::atomic<bool> failed_{false};
  mutable std::mutex mu_;
  std::vector<std::string> outbox_;
  std::vector<std::string> held_;
  bool answered_ = false;
  std::string problem_;
  std::string mediaState_ = "-";
};

using Rooms = std::vector<std::unique_ptr<Room>>;

struct Mark {
  Clock::time_point at;
  std::vector<int> frames;
};

Mark mark(const Rooms& rooms) {
  Mark m{Clock::now(), {}};
  for (const auto& r : rooms) m.frames.push_back(r->frames());
  return m;
}

// Waits for a signal for up to `timeout`; returns it, or 0 on timeout.
int waitSignal(const sigset_t& set, std::chrono::milliseconds timeout) {
  timespec ts{time_t(timeout.count() / 1000), long(timeout.count() % 1000) * 1000000};
  const int sig = sigtimedwait(&set, nullptr, &ts);
  return sig > 0 ? sig : 0;
}

const Room* firstFailed(const Rooms& rooms) {
  for (const auto& r : rooms) {
    if (r->failed()) return r.get();
  }
  return nullptr;
}

bool allReceiving(const Rooms& rooms, bool audioToo) {
  return std::all_of(rooms.begin(), rooms.end(), [&](const auto& r) {
    return r->frames() >= kReadyFrames && (!audioToo || r->audioSamples() > 0);
  });
}

int roomsWithoutAudio(const Rooms& rooms) {
  return int(std::count_if(rooms.begin(), rooms.end(),
                           [](const auto& r) { return r->audioSamples() == 0; }));
}

// Until every room receives the composite (and, for a few seconds more, audio); false on
// failure, timeout or a signal. A room without audio is reported, not fatal: the load is on.
bool waitReady(const Rooms& rooms, const sigset_t& set, const Args& args) {
  const auto start = Clock::now();
  std::optional<Clock::time_point> videoAt;
  while (!allReceiving(rooms, !videoAt || secondsSince(*videoAt) < kAudioGraceS)) {
    if (!videoAt && allReceiving(rooms, false)) videoAt = Clock::now();
    if (const Room* bad = firstFailed(rooms)) {
      std::fprintf(stderr, "mcu-loadgen: %s failed before receiving: %s\n", bad->name().c_str(),
                   bad->problem().c_str());
      return false;
    }
    if (secondsSince(start) > args.readyTimeout) {
      std::fprintf(stderr, "mcu-loadgen: timed out after %.0f s waiting for the composite:\n",
                   args.readyTimeout);
      for (const auto& r : rooms) {
        std::fprintf(stderr, "  %s: %d frames, %zu audio samples, media-state %s\n",
                     r->name().c_str(), r->frames(), r->audioSamples(), r->mediaState().c_str());
      }
      return false;
    }
    const int sig = waitSignal(set, std::chrono::milliseconds(100));
    if (sig == SIGINT || sig == SIGTERM) return false;
  }
  if (const int silent = roomsWithoutAudio(rooms)) {
    std::printf("mcu-loadgen: WARNING: %d of %zu rooms receive no audio %.0f s after video\n",
                silent, rooms.size(), kAudioGraceS);
  }
  std::printf("mcu-loadgen: all %zu rooms receive the composite after %.1f s\n", rooms.size(),
              secondsSince(start));
  std::fflush(stdout);
  return true;
}

// Holds the load; returns the measurement window (two SIGUSR1 marks, else the whole hold).
std::pair<Mark, Mark> hold(const Rooms& rooms, const sigset_t& set, const Args& args, bool& ok) {
  const auto start = Clock::now();
  std::vector<Mark> marks{mark(rooms)};
  bool marked = false;
  while (args.seconds <= 0 || secondsSince(start) < args.seconds) {
    if (const Room* bad = firstFailed(rooms)) {
      std::fprintf(stderr, "mcu-loadgen: %s failed during the hold: %s\n", bad->name().c_str(),
                   bad->problem().c_str());
      ok = false;
      break;
    }
    const int sig = waitSignal(set, std::chrono::milliseconds(100));
    if (sig == SIGINT || sig == SIGTERM) break;
    if (sig == SIGUSR1) {
      if (!marked) marks.clear();
      marked = true;
      marks.push_back(mark(rooms));
      std::printf("mcu-loadgen: mark %zu\n", marks.size());
      std::fflush(stdout);
    }
  }
  if (marks.size() < 2) marks.push_back(mark(rooms));
  return {marks[0], marks[1]};
}

void report(const Rooms& rooms, const Mark& from, const Mark& to) {
  const double span = std::chrono::duration<double>(to.at - from.at).count();
  std::printf("%-9s %-8s %8s %10s %8s %-12s\n", "room", "colour", "frames", "fps(window)",
              "audio_s", "media-state");
  double minFps = 1e9, sumFps = 0;
  for (std::size_t i = 0; i < rooms.size(); ++i) {
    const Room& r = *rooms[i];
    const double fps = span > 0 ? (to.frames[i] - from.frames[i]) / span : 0;
    minFps = std::min(minFps, fps);
    sumFps += fps;
    std::printf("%-9s #%06x %8d %10.1f %8.1f %-12s\n", r.name().c_str(), r.colour(), r.frames(),
                fps, r.audioSamples() / 48000.0, r.mediaState().c_str());
  }
  std::printf(
      "mcu-loadgen: summary rooms=%zu window_s=%.1f min_fps=%.1f mean_fps=%.1f no_audio=%d\n",
      rooms.size(), span, minFps, sumFps / rooms.size(), roomsWithoutAudio(rooms));
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

  Rooms rooms;
  for (int i = 0; i < args.rooms; ++i) rooms.push_back(std::make_unique<Room>(i, args));
  for (auto& r : rooms) {
    r->start();
    std::this_thread::sleep_for(std::chrono::milliseconds(args.staggerMs));
  }

  bool ok = waitReady(rooms, set, args);
  std::pair<Mark, Mark> window{mark(rooms), mark(rooms)};
  if (ok) window = hold(rooms, set, args, ok);
  for (auto& r : rooms) r->stop();
  report(rooms, window.first, window.second);
  rooms.clear();
  return ok ? 0 : 1;
}
