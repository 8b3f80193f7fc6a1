#pragma once
// The server's one typed configuration. Defaults here are the embedded defaults; every key is
// documented in configs/mcu.json, which mcu/server/ConfigLoader reads (JSON with comments).
#include <cstdint>
#include <string>
#include <vector>

namespace mcu::core {

struct MeetingConfig {
  std::string code;
  std::string title;
  bool open = true;
};

struct Config {
  struct Server {
    std::string bind = "0.0.0.0";
    std::uint16_t port = 8443;
    std::string publicHost = "localhost";  // host name printed in the join URL
    std::string stateDir = "state";        // certificate, database; git-ignored
    std::string webRoot = "web-client";
    std::string certFile;  // empty: self-signed certificate generated into stateDir
    std::string keyFile;
    std::size_t maxMessageBytes = 64 * 1024;
    std::size_t writeQueueLimit = 256;  // messages queued to one slow client before dropping it
    int ioThreads = 1;
  } server;
  struct Video {
    int width = 1280;
    int height = 720;
    int fps = 25;
    int bitrateKbps = 1000;
    int keyframeIntervalMs = 3000;
    int keyframeMinIntervalMs = 500;  // rate limit for keyframe requests from viewers
    int vp8CpuUsed = 8;
    std::string labelFont = "DejaVu Sans Bold";
    // The composite is encoded once per rung; each viewer gets the rung its link carries. The
    // composite's own size and bitrate (above) is the top rung; these come below it, best first.
    // A rung not smaller than the composite is ignored.
    struct Rung {
      int width = 0;
      int height = 0;
      int bitrateKbps = 0;
      bool operator==(const Rung&) const = default;
    };
    std::vector<Rung> rungs = {{640, 360, 450}, {320, 180, 150}};
    // How long the composite waits for a room's late video, in milliseconds, beyond the time its
    // packets are expected: the room's jitter, which the mixer turns into delay for everyone.
    int jitterBufferMs = 40;
    // A viewer whose loss reports show a window (~0.9 s) losing at least this percent of its
    // video gets it protected with RED/ULPFEC until five windows in a row are clean; 0: always.
    int fecOnLossPercent = 2;
  } video;
  struct Audio {
    int bitrateKbps = 32;
    // K: the loudest rooms that are mixed (each hears the others; everyone else shares one mix
    // of the K, encoded once).
    int talkers = 3;
    // As video.jitterBufferMs, for the audio mixes: a packet later than this (plus 20 ms for
    // decoding) is left out of the mix.
    int jitterBufferMs = 30;
  } audio;
  struct Ice {
    // Addresses libnice gathers on; empty means every up interface (loopback included).
    std::vector<std::string> addresses;
    std::string stunServer;  // e.g. "stun://stun.example.org:3478"; empty: none
    int minPort = 0;
    int maxPort = 0;
  } ice;
  struct Limits {
    int maxRoomsPerMeeting = 200;
    int answerTimeoutMs = 15000;
    int maxNameLength = 64;
    int maxTestCalls = 4;      // test calls at the same time (each is a small meeting)
    int testCallSeconds = 60;  // a test call ends by itself after this long
  } limits;
  struct Org {
    // The organisation tree seeded into the store on first start (JSON or CSV).
    std::string file = "configs/org/lao-cai.json";
  } org;
  struct Store {
    std::string path;  // SQLite database file; empty: mcu.db in server.stateDir
  } store;
  struct Auth {
    int sessionTtlMinutes = 720;
    int maxLoginFailures = 5;
    int loginWindowSeconds = 300;
    int minPasswordLength = 10;
    int scryptCost = 15;  // log2 of scrypt's N: 15 = 32 MiB and ~0.1 s per hash
  } auth;
  struct Schedule {
    // An open or live meeting is ended this long after its end time (the host may extend it);
    // a scheduled one that was never opened is ended once its end time has passed.
    int endGraceMinutes = 30;
    int sweepSeconds = 60;  // how often the server looks for such meetings
  } schedule;
  struct Metrics {
    bool enabled = true;  // GET /metrics (Prometheus text format) on the HTTPS port
    std::string token;    // non-empty: scrapes must send `Authorization: Bearer <token>`
  } metrics;
  // Stream health of every site for technicians (/monitor): sampled every intervalMs; the alarm
  // lines turn a site red, warnFraction of them amber.
  struct Monitor {
    int intervalMs = 2000;
    double lossPercent = 1.0;
    double jitterMs = 30;
    double oneWayDelayMs = 150;
    int noMediaSeconds = 5;
    double warnFraction = 0.5;
    int historySamples = 90;
  } monitor;
  // Standing meetings: always open to anyone with the code (demonstrations, test calls).
  std::vector<MeetingConfig> meetings = {{"demo", "Phòng họp thử nghiệm", true}};
  std::string logLevel = "info";  // error | warn | info | debug
};

}  // namespace mcu::core
