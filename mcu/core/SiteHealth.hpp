#pragma once
// Stream health of every site (a room in a live meeting), for technicians: what the media layer
// reads from each room's RTP session (LegStats, cumulative counters) and what the room page reads
// from getStats (ClientStats), turned into one sample per tick and kept as a short rolling
// history; a state (green / amber / red) from configurable alarm lines; and a log of events per
// site (joined, left, dropped, reconnected, went amber or red, recovered, test-call report).
//
// Pure: time is passed in, nothing here touches media, sockets or JSON. A site is keyed by what
// stays the same across reconnects (the bridge point's unit, or a guest's meeting and name), so
// its history and events survive a reconnect.
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mcu/core/Ids.hpp"

namespace mcu::core {

// The alarm lines (Config::Monitor). A value at or beyond a line is red; from `warnFraction` of
// it, amber.
struct HealthThresholds {
  double lossPercent = 1.0;
  double jitterMs = 30;
  double oneWayDelayMs = 150;
  int noMediaSeconds = 5;
  double warnFraction = 0.5;
};

enum class Health { kGreen, kAmber, kRed };
std::string_view healthName(Health health);

// Cumulative counters of one room's leg, as its RTP session reports them. Rates are computed
// from two readings; fields the session does not (yet) know are empty.
struct LegStats {
  std::uint64_t audioBytesIn = 0;  // what the room sends us
  std::uint64_t videoBytesIn = 0;  // camera and shared screen
  std::uint64_t packetsIn = 0;
  std::int64_t packetsLostIn = 0;
  std::uint64_t bytesOut = 0;            // what we send the room
  std::optional<double> jitterInMs;      // of its audio, as we measure it
  std::optional<double> roundTripMs;     // from its receiver reports
  std::optional<double> lossOutPercent;  // what it reports losing of what we send
  std::uint64_t keyframeRequests = 0;    // PLI and FIR it sent us
  std::string candidateType;             // the room's side of the selected pair
  std::string rung;                      // "640x360": the picture it receives; empty: none
  std::optional<double> estimateKbps;    // what its browser estimates its downlink carries (REMB)
};

// What the room page measures (protocol message `stats`), already as rates and current values.
struct ClientStats {
  std::optional<double> roundTripMs;
  std::optional<double> lossInPercent;  // of what it receives
  std::optional<double> jitterInMs;
  std::optional<double> fpsIn;  // the composite as it is decoded
  int widthIn = 0;
  int heightIn = 0;
  std::optional<std::uint64_t> freezes;  // of the composite, since its page joined
  std::optional<double> fpsOut;          // its camera as sent
  int widthOut = 0;
  int heightOut = 0;
  std::optional<double> micLevel;  // 0..1, what its microphone picks up
  std::string candidateType;       // its own side of the selected pair
};

// One point of a site's history: what a tick saw.
struct SiteSample {
  std::int64_t atMs = 0;
  double kbpsIn = 0;
  double kbpsOut = 0;
  std::optional<double> lossPercent;  // the worst of its uplink, its downlink and its page's view
  std::optional<double> jitterMs;
  std::optional<double> oneWayDelayMs;  // half the round trip
  std::optional<double> fpsIn;          // client side: the composite it decodes
  std::optional<double> fpsOut;         // client side: its camera
  int audioLevel = 127;                 // RFC 6464 scale: 0 loudest, 127 silence
  std::uint64_t freezes = 0;
  std::uint64_t keyframeRequests = 0;
  std::optional<double> estimateKbps;  // its downlink as its browser estimates it (REMB)
  bool operator==(const SiteSample&) const = default;
};

struct HealthReason {
  std::string metric;  // loss | jitter | delay | no-audio | no-video | no-picture | media | dropped
  Health level = Health::kGreen;
  double value = 0;  // in the metric's unit (%, ms, s); 0 for media and dropped
  bool operator==(const HealthReason&) const = default;
};

struct SiteEvent {
  std::int64_t atMs = 0;
  std::string kind;  // joined | left | dropped | reconnected | amber | red | recovered | test-call
  std::string detail;  // e.g. "loss 5.0 %, delay 80 ms"
  bool operator==(const SiteEvent&) const = default;
};

// A site as the dashboard shows it.
struct SiteView {
  std::string key;
  ParticipantId participant;  // the current (or last) room id
  std::string meeting;
  std::string name;
  std::string unitId;
  bool present = false;  // in the meeting now
  LegState media = LegState::kNew;
  Health state = Health::kGreen;
  std::vector<HealthReason> reasons;
  std::optional<SiteSample> latest;
  std::string rung;
  std::string candidateType;
  int widthIn = 0, heightIn = 0, widthOut = 0, heightOut = 0;
  std::optional<double> micLevel;
  bool audioMuted = false;  // by the room itself
  bool videoMuted = false;
  std::vector<SiteSample> history;  // oldest first; only when asked for
  std::vector<SiteEvent> events;    // oldest first; only when asked for
};

class SiteMonitor {
 public:
  explicit SiteMonitor(HealthThresholds thresholds, std::size_t historyLength = 90,
                       std::size_t eventLength = 100);

  // The key that stays the same for a site across reconnects.
  static std::string siteKey(const std::string& meeting, const std::string& unitId,
                             const std::string& name);

  // A room entered its meeting; a key seen before continues its history ("reconnected").
  void joined(const std::string& key, const ParticipantId& participant, const std::string& meeting,
              const std::string& name, const std::string& unitId, std::int64_t nowMs);
  // The room left (`dropped`: it vanished without leaving; kept as red for `dropKeepMs`).
  void left(const ParticipantId& participant, bool dropped, std::int64_t nowMs);
  void legState(const ParticipantId& participant, LegState state, std::int64_t nowMs);
  // What the room is expected to send: nothing is missing while it muted itself (or, for video,
  // while its camera is off the composite and it was told not to send it).
  void expect(const ParticipantId& participant, bool audioMuted, bool videoMuted, bool videoWanted,
              std::int64_t nowMs);
  void legStats(const ParticipantId& participant, const LegStats& stats, std::int64_t nowMs);
  void clientStats(const ParticipantId& participant, const ClientStats& stats, std::int64_t nowMs);
  void audioLevel(const ParticipantId& participant, int level);
  // A test call's result, in the site's event log.
  void note(const ParticipantId& participant, const std::string& kind, const std::string& detail,
            std::int64_t nowMs);
  // A meeting ended: its sites are forgotten.
  void meetingEnded(const std::string& meeting);

  // Closes one sample per site, re-evaluates every state and returns every event since the last
  // tick (site key, event), these included; drops sites that left long enough ago.
  std::vector<std::pair<std::string, SiteEvent>> tick(std::int64_t nowMs);

  // Every site known (present or recently gone), in meeting then join order; histories only with
  // `withHistory`.
  std::vector<SiteView> sites(bool withHistory = false) const;
  std::optional<SiteView> site(const std::string& key) const;
  std::optional<std::string> keyOf(const ParticipantId& participant) const;
  bool empty() const { return sites_.empty(); }
  const HealthThresholds& thresholds() const { return thresholds_; }

  static constexpr std::int64_t kDropKeepMs = 120'000;  // a dropped site stays visible this long
  static constexpr std::int64_t kLeftKeepMs = 10'000;   // one that left on purpose

 private:
  struct Reading {
    std::int64_t atMs = 0;
    LegStats stats;
  };
  struct Site {
    std::string key;
    ParticipantId participant;
    std::string meeting;
    std::string name;
    std::string unitId;
    std::uint64_t order = 0;
    bool present = false;
    bool dropped = false;
    std::int64_t goneAtMs = 0;
    std::int64_t joinedAtMs = 0;
    LegState media = LegState::kNew;
    std::int64_t connectedAtMs = -1;
    bool audioMuted = false;
    bool videoMuted = false;
    bool videoWanted = true;
    std::optional<Reading> previous;  // the reading the last sample's rates started from
    std::optional<Reading> current;
    std::int64_t audioFlowAtMs = 0;  // when its audio bytes last grew
    std::int64_t videoFlowAtMs = 0;
    std::optional<ClientStats> client;
    std::int64_t clientAtMs = 0;
    std::int64_t pictureAtMs = 0;  // when its page last decoded the composite (fps > 0)
    int level = 127;
    Health state = Health::kGreen;
    std::vector<HealthReason> reasons;
    std::deque<SiteSample> history;
    std::deque<SiteEvent> events;
  };

  Site* byParticipant(const ParticipantId& participant);
  // The newest statistics the media layer gave for the site, if any.
  static const LegStats* lastReading(const Site& site);
  void addEvent(Site& site, std::int64_t atMs, std::string kind, std::string detail);
  SiteSample sample(Site& site, std::int64_t nowMs) const;
  std::vector<HealthReason> evaluate(const Site& site, const SiteSample& sample,
                                     std::int64_t nowMs) const;
  SiteView view(const Site& site, bool withHistory) const;

  HealthThresholds thresholds_;
  std::size_t historyLength_;
  std::size_t eventLength_;
  std::map<std::string, Site> sites_;  // by key
  std::map<ParticipantId, std::string> keys_;
  std::uint64_t nextOrder_ = 0;
  std::vector<std::pair<std::string, SiteEvent>> outbox_;  // events since the last tick
};

// "loss 5.0 %, delay 80 ms": the reasons as the event log and the dashboard print them.
std::string describeReasons(const std::vector<HealthReason>& reasons);

}  // namespace mcu::core
