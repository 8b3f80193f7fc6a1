#include "mcu/core/SiteHealth.hpp"

#include <algorithm>
#include <cstdio>
#include <utility>

namespace mcu::core {

namespace {

// Client readings older than this are not used (the page reports every 2 s).
constexpr std::int64_t kClientFreshMs = 6'000;

std::optional<double> worst(std::optional<double> a, std::optional<double> b) {
  if (!a) return b;
  if (!b) return a;
  return std::max(*a, *b);
}

std::string format(double value, const char* unit) {
  char text[48];
  std::snprintf(text, sizeof text, value < 10 ? "%.1f %s" : "%.0f %s", value, unit);
  return text;
}

}  // namespace

std::string_view healthName(Health health) {
  switch (health) {
    case Health::kGreen:
      return "green";
    case Health::kAmber:
      return "amber";
    case Health::kRed:
      return "red";
  }
  return "green";
}

std::string describeReasons(const std::vector<HealthReason>& reasons) {
  std::string out;
  for (const auto& r : reasons) {
    if (!out.empty()) out += ", ";
    out += r.metric;
    if (r.metric == "loss") {
      out += " " + format(r.value, "%");
    } else if (r.metric == "jitter" || r.metric == "delay") {
      out += " " + format(r.value, "ms");
    } else if (r.metric.rfind("no-", 0) == 0) {
      out += " " + format(r.value, "s");
    }
  }
  return out;
}

SiteMonitor::SiteMonitor(HealthThresholds thresholds, std::size_t historyLength,
                         std::size_t eventLength)
    : thresholds_(thresholds),
      historyLength_(std::max<std::size_t>(historyLength, 1)),
      eventLength_(std::max<std::size_t>(eventLength, 1)) {}

std::string SiteMonitor::siteKey(const std::string& meeting, const std::string& unitId,
                                 const std::string& name) {
  return unitId.empty() ? meeting + "/guest:" + name : meeting + "/unit:" + unitId;
}

SiteMonitor::Site* SiteMonitor::byParticipant(const ParticipantId& participant) {
  auto key = keys_.find(participant);
  if (key == keys_.end()) return nullptr;
  auto site = sites_.find(key->second);
  return site == sites_.end() ? nullptr : &site->second;
}

std::optional<std::string> SiteMonitor::keyOf(const ParticipantId& participant) const {
  auto key = keys_.find(participant);
  if (key == keys_.end()) return std::nullopt;
  return key->second;
}

void SiteMonitor::addEvent(Site& site, std::int64_t atMs, std::string kind, std::string detail) {
  SiteEvent event{atMs, std::move(kind), std::move(detail)};
  outbox_.emplace_back(site.key, event);
  site.events.push_back(std::move(event));
  while (site.events.size() > eventLength_) site.events.pop_front();
}

void SiteMonitor::joined(const std::string& key, const ParticipantId& participant,
                         const std::string& meeting, const std::string& name,
                         const std::string& unitId, std::int64_t nowMs) {
  auto [it, fresh] = sites_.try_emplace(key);
  Site& site = it->second;
  if (!fresh && site.participant != participant) keys_.erase(site.participant);
  const bool seenBefore = !fresh;
  site.key = key;
  site.participant = participant;
  site.meeting = meeting;
  site.name = name;
  site.unitId = unitId;
  if (fresh) site.order = nextOrder_++;
  site.present = true;
  site.dropped = false;
  site.joinedAtMs = nowMs;
  site.media = LegState::kNew;
  site.connectedAtMs = -1;
  site.previous.reset();
  site.current.reset();
  site.client.reset();
  site.audioFlowAtMs = site.videoFlowAtMs = site.pictureAtMs = nowMs;
  site.level = 127;
  keys_[participant] = key;
  addEvent(site, nowMs, seenBefore ? "reconnected" : "joined", {});
}

void SiteMonitor::left(const ParticipantId& participant, bool dropped, std::int64_t nowMs) {
  Site* site = byParticipant(participant);
  keys_.erase(participant);
  if (!site || site->participant != participant || !site->present) return;
  site->present = false;
  site->dropped = dropped;
  site->goneAtMs = nowMs;
  addEvent(*site, nowMs, dropped ? "dropped" : "left", {});
}

void SiteMonitor::legState(const ParticipantId& participant, LegState state, std::int64_t nowMs) {
  Site* site = byParticipant(participant);
  if (!site) return;
  if (state == LegState::kConnected && site->media != LegState::kConnected) {
    site->connectedAtMs = nowMs;
    site->audioFlowAtMs = site->videoFlowAtMs = site->pictureAtMs = nowMs;
  }
  site->media = state;
}

void SiteMonitor::expect(const ParticipantId& participant, bool audioMuted, bool videoMuted,
                         bool videoWanted, std::int64_t nowMs) {
  Site* site = byParticipant(participant);
  if (!site) return;
  const std::int64_t lastAt = nowMs;
  // Whatever was missing before it was expected again does not count against it.
  if (site->audioMuted && !audioMuted) site->audioFlowAtMs = std::max(site->audioFlowAtMs, lastAt);
  if ((site->videoMuted || !site->videoWanted) && !videoMuted && videoWanted) {
    site->videoFlowAtMs = std::max(site->videoFlowAtMs, lastAt);
  }
  site->audioMuted = audioMuted;
  site->videoMuted = videoMuted;
  site->videoWanted = videoWanted;
}

const LegStats* SiteMonitor::lastReading(const Site& site) {
  if (site.current) return &site.current->stats;
  return site.previous ? &site.previous->stats : nullptr;
}

void SiteMonitor::legStats(const ParticipantId& participant, const LegStats& stats,
                           std::int64_t nowMs) {
  Site* site = byParticipant(participant);
  if (!site) return;
  // Its media flows while its byte counts move. They may also start again from zero: the RTP
  // session forgets a source that went quiet for a while (a room that stopped its mic) and
  // counts it afresh when it comes back, so a count below the last one is new flow too.
  const LegStats* last = lastReading(*site);
  auto moved = [](std::uint64_t to, std::uint64_t from) { return to > 0 && to != from; };
  if (moved(stats.audioBytesIn, last ? last->audioBytesIn : 0)) site->audioFlowAtMs = nowMs;
  if (moved(stats.videoBytesIn, last ? last->videoBytesIn : 0)) site->videoFlowAtMs = nowMs;
  if (!site->previous) {
    site->previous = Reading{nowMs, stats};
  } else {
    site->current = Reading{nowMs, stats};
  }
}

void SiteMonitor::clientStats(const ParticipantId& participant, const ClientStats& stats,
                              std::int64_t nowMs) {
  Site* site = byParticipant(participant);
  if (!site) return;
  site->client = stats;
  site->clientAtMs = nowMs;
  if (stats.fpsIn && *stats.fpsIn > 0) site->pictureAtMs = nowMs;
}

void SiteMonitor::audioLevel(const ParticipantId& participant, int level) {
  if (Site* site = byParticipant(participant)) site->level = std::clamp(level, 0, 127);
}

void SiteMonitor::note(const ParticipantId& participant, const std::string& kind,
                       const std::string& detail, std::int64_t nowMs) {
  if (Site* site = byParticipant(participant)) addEvent(*site, nowMs, kind, detail);
}

void SiteMonitor::meetingEnded(const std::string& meeting) {
  for (auto it = sites_.begin(); it != sites_.end();) {
    if (it->second.meeting == meeting) {
      keys_.erase(it->second.participant);
      it = sites_.erase(it);
    } else {
      ++it;
    }
  }
}

SiteSample SiteMonitor::sample(Site& site, std::int64_t nowMs) const {
  SiteSample s;
  s.atMs = nowMs;
  s.audioLevel = site.level;
  const ClientStats* client =
      site.client && nowMs - site.clientAtMs <= kClientFreshMs ? &*site.client : nullptr;
  if (site.present && site.previous && site.current && site.current->atMs > site.previous->atMs) {
    const LegStats& a = site.previous->stats;
    const LegStats& b = site.current->stats;
    const double ms = double(site.current->atMs - site.previous->atMs);
    // A count that started again from zero (a source the session forgot and met again) grew
    // by all it holds now.
    auto grew = [](std::uint64_t from, std::uint64_t to) { return to >= from ? to - from : to; };
    s.kbpsIn = double(grew(a.audioBytesIn, b.audioBytesIn) + grew(a.videoBytesIn, b.videoBytesIn)) *
               8.0 / ms;
    s.kbpsOut = double(grew(a.bytesOut, b.bytesOut)) * 8.0 / ms;
    const double received = double(grew(a.packetsIn, b.packetsIn));
    const double lost = std::max(0.0, double(b.packetsLostIn - a.packetsLostIn));
    if (received + lost > 0) s.lossPercent = 100.0 * lost / (received + lost);
    s.lossPercent = worst(s.lossPercent, b.lossOutPercent);
    s.jitterMs = b.jitterInMs;
    if (b.roundTripMs) s.oneWayDelayMs = *b.roundTripMs / 2;
    s.keyframeRequests = b.keyframeRequests;
    s.estimateKbps = b.estimateKbps;
    site.previous = site.current;
    site.current.reset();
  } else if (site.present && site.previous) {
    s.keyframeRequests = site.previous->stats.keyframeRequests;
  }
  if (client) {
    s.lossPercent = worst(s.lossPercent, client->lossInPercent);
    s.jitterMs = worst(s.jitterMs, client->jitterInMs);
    if (client->roundTripMs) s.oneWayDelayMs = worst(s.oneWayDelayMs, *client->roundTripMs / 2);
    s.fpsIn = client->fpsIn;
    s.fpsOut = client->fpsOut;
    s.freezes = client->freezes.value_or(0);
  }
  return s;
}

std::vector<HealthReason> SiteMonitor::evaluate(const Site& site, const SiteSample& s,
                                                std::int64_t nowMs) const {
  std::vector<HealthReason> reasons;
  if (!site.present) {
    if (site.dropped) reasons.push_back({"dropped", Health::kRed, 0});
    return reasons;
  }
  if (site.media == LegState::kFailed || site.media == LegState::kDisconnected) {
    reasons.push_back({"media", Health::kRed, 0});
    return reasons;
  }
  const std::int64_t noMediaMs = std::int64_t(thresholds_.noMediaSeconds) * 1000;
  if (site.media != LegState::kConnected) {
    if (nowMs - site.joinedAtMs >= noMediaMs) reasons.push_back({"media", Health::kAmber, 0});
    return reasons;
  }
  auto line = [&](const char* metric, std::optional<double> value, double red) {
    if (!value) return;
    if (*value >= red) {
      reasons.push_back({metric, Health::kRed, *value});
    } else if (*value >= red * thresholds_.warnFraction) {
      reasons.push_back({metric, Health::kAmber, *value});
    }
  };
  line("loss", s.lossPercent, thresholds_.lossPercent);
  line("jitter", s.jitterMs, thresholds_.jitterMs);
  line("delay", s.oneWayDelayMs, thresholds_.oneWayDelayMs);
  auto missing = [&](const char* metric, std::int64_t sinceMs) {
    const std::int64_t gone = nowMs - std::max(sinceMs, site.connectedAtMs);
    if (gone >= noMediaMs) reasons.push_back({metric, Health::kRed, double(gone) / 1000.0});
  };
  if (!site.audioMuted) missing("no-audio", site.audioFlowAtMs);
  if (!site.videoMuted && site.videoWanted) missing("no-video", site.videoFlowAtMs);
  if (site.client && nowMs - site.clientAtMs <= kClientFreshMs) {
    missing("no-picture", site.pictureAtMs);
  }
  return reasons;
}

std::vector<std::pair<std::string, SiteEvent>> SiteMonitor::tick(std::int64_t nowMs) {
  for (auto it = sites_.begin(); it != sites_.end();) {
    Site& site = it->second;
    const std::int64_t keep = site.dropped ? kDropKeepMs : kLeftKeepMs;
    if (!site.present && nowMs - site.goneAtMs >= keep) {
      if (auto k = keys_.find(site.participant); k != keys_.end() && k->second == site.key) {
        keys_.erase(k);
      }
      it = sites_.erase(it);
      continue;
    }
    if (site.present) {
      site.history.push_back(sample(site, nowMs));
      while (site.history.size() > historyLength_) site.history.pop_front();
    }
    const SiteSample empty{};
    site.reasons = evaluate(site, site.history.empty() ? empty : site.history.back(), nowMs);
    Health state = Health::kGreen;
    for (const auto& r : site.reasons) state = std::max(state, r.level);
    if (state != site.state) {
      const char* kind = state == Health::kRed     ? "red"
                         : state == Health::kAmber ? "amber"
                                                   : "recovered";
      addEvent(site, nowMs, kind, describeReasons(site.reasons));
      site.state = state;
    }
    ++it;
  }
  return std::exchange(outbox_, {});
}

SiteView SiteMonitor::view(const Site& site, bool withHistory) const {
  SiteView v;
  v.key = site.key;
  v.participant = site.participant;
  v.meeting = site.meeting;
  v.name = site.name;
  v.unitId = site.unitId;
  v.present = site.present;
  v.media = site.media;
  v.state = site.state;
  v.reasons = site.reasons;
  if (!site.history.empty()) v.latest = site.history.back();
  const LegStats* last = lastReading(site);
  if (last) {
    v.rung = last->rung;
    v.candidateType = last->candidateType;
  }
  if (site.client) {
    if (v.candidateType.empty()) v.candidateType = site.client->candidateType;
    v.widthIn = site.client->widthIn;
    v.heightIn = site.client->heightIn;
    v.widthOut = site.client->widthOut;
    v.heightOut = site.client->heightOut;
    v.micLevel = site.client->micLevel;
  }
  v.audioMuted = site.audioMuted;
  v.videoMuted = site.videoMuted;
  if (withHistory) {
    v.history.assign(site.history.begin(), site.history.end());
    v.events.assign(site.events.begin(), site.events.end());
  }
  return v;
}

std::vector<SiteView> SiteMonitor::sites(bool withHistory) const {
  std::vector<const Site*> ordered;
  for (const auto& [key, site] : sites_) ordered.push_back(&site);
  std::sort(ordered.begin(), ordered.end(), [](const Site* a, const Site* b) {
    return a->meeting != b->meeting ? a->meeting < b->meeting : a->order < b->order;
  });
  std::vector<SiteView> out;
  out.reserve(ordered.size());
  for (const Site* site : ordered) out.push_back(view(*site, withHistory));
  return out;
}

std::optional<SiteView> SiteMonitor::site(const std::string& key) const {
  auto it = sites_.find(key);
  if (it == sites_.end()) return std::nullopt;
  return view(it->second, true);
}

}  // namespace mcu::core
