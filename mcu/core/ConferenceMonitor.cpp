// Conference: stream health for technicians (docs/protocol.md, "Monitoring stream health").
// Every monitor interval the sites are sampled (SiteMonitor), the media layer is asked for fresh
// leg statistics (they arrive as onLegStats before the next tick), and one monitor-state message
// goes to every attached monitor console, built and serialised once for all of them.
#include <algorithm>
#include <chrono>

#include "mcu/core/Conference.hpp"
#include "mcu/core/ServiceError.hpp"

namespace mcu::core {

void Conference::monitorJoined(const Participant& p) {
  // A room's test calls share one site, whatever each call's meeting code.
  const bool test = meetings_.count(p.meeting) && meetings_.at(p.meeting).test;
  const std::string key =
      SiteMonitor::siteKey(test ? "test" : p.meeting, p.admission.unitId, p.admission.displayName);
  monitor_.joined(key, p.id, p.meeting, p.admission.displayName, p.admission.unitId,
                  timers_.now().count());
  monitorExpect(p);
  ensureMonitorTick();
}

void Conference::monitorExpect(const Participant& p) {
  monitor_.expect(p.id, p.entry.audioMuted, p.entry.videoMuted, p.videoWanted,
                  timers_.now().count());
}

void Conference::onLegStats(const ParticipantId& participant, const LegStats& stats) {
  if (find(participant)) monitor_.legStats(participant, stats, timers_.now().count());
}

void Conference::clientStats(ConnectionId conn, RequestId req, const ClientStats& stats) {
  Participant* p = participantOf(conn);
  if (!p) return replyError(conn, req, ErrorCode::kNotJoined, "join a meeting first");
  const std::int64_t now = timers_.now().count();
  if (now - p->clientStatsAtMs < 1000) return;  // more than one a second: ignored
  p->clientStatsAtMs = now;
  monitor_.clientStats(p->id, stats, now);
}

void Conference::attachMonitor(ConnectionId conn, RequestId req, const std::string& token) {
  if (byConnection_.count(conn) || waiting_.count(conn) || chairs_.count(conn) ||
      monitors_.count(conn)) {
    return replyError(conn, req, ErrorCode::kAlreadyJoined, "this connection is already in use");
  }
  if (!rooms_) return replyError(conn, req, ErrorCode::kNotAllowed, "no monitoring on this server");
  Caller caller;
  try {
    caller = rooms_->authenticate(token);
  } catch (const ServiceError& e) {
    return replyError(conn, req, ErrorCode::kUnauthorized, e.what());
  } catch (const std::exception&) {
    return replyError(conn, req, ErrorCode::kInternal, "the token could not be checked");
  }
  if (caller.mustChangePassword) {
    return replyError(conn, req, ErrorCode::kUnauthorized, "change the one-time password first");
  }
  if (caller.role != Role::kTechnician && caller.role != Role::kAdmin) {
    return replyError(conn, req, ErrorCode::kForbidden,
                      "monitoring is for technicians and administrators");
  }
  monitors_[conn] = caller;
  const auto& m = config_.monitor;
  signal_.send(conn, MonitorJoinedMsg{req, std::string(roleName(caller.role)), m.intervalMs,
                                      monitor_.thresholds()});
  signal_.send(conn, monitorState());
  ensureMonitorTick();
}

void Conference::monitorSite(ConnectionId conn, RequestId req, const std::string& site) {
  if (!monitors_.count(conn)) {
    return replyError(conn, req, ErrorCode::kNotAllowed, "attach as a monitor first");
  }
  auto view = monitor_.site(site);
  if (!view) return replyError(conn, req, ErrorCode::kNotAllowed, "no such site");
  signal_.send(conn, MonitorSiteMsg{req, clockOffsetMs(), std::move(*view)});
}

void Conference::monitorAction(ConnectionId conn, RequestId req, const std::string& site,
                               MonitorAction action) {
  auto monitor = monitors_.find(conn);
  if (monitor == monitors_.end()) {
    return replyError(conn, req, ErrorCode::kNotAllowed, "attach as a monitor first");
  }
  auto view = monitor_.site(site);
  Participant* p = view && view->present ? find(view->participant) : nullptr;
  if (!p) return replyError(conn, req, ErrorCode::kNotAllowed, "the site is not in a meeting now");
  const char* name = action == MonitorAction::kReconnect ? "reconnect" : "restart-media";
  if (action == MonitorAction::kReconnect) {
    signal_.send(p->conn, ReconnectMsg{});
  } else {
    // A fresh leg: the room drops its peer connection, then answers the new offer.
    signal_.send(p->conn, RestartMediaMsg{});
    p->negotiation = Negotiation::kAwaitingOffer;
    p->legState = LegState::kNew;
    monitor_.legState(p->id, LegState::kNew, timers_.now().count());
    LiveMeeting& meeting = meetings_.at(p->meeting);
    media_.restartLeg(p->meeting, p->id, p->admission.displayName);
    if (p->entry.chairMuted) media_.setAudioMuted(p->id, true);
    meeting.shownTiles.clear();  // the new leg has no tile yet: place every source again
    applyLayout(meeting);
    armAnswerTimer(*p);
  }
  monitor_.note(p->id, std::string("monitor.") + name, monitor->second.username,
                timers_.now().count());
  if (rooms_) {
    try {
      rooms_->audit(AuditEntry{0, 0, monitor->second.id, monitor->second.username,
                               std::string("monitor.") + name, "site:" + site, p->id});
    } catch (const std::exception&) {
      // The action happened; a failed audit write is the store's problem, logged there.
    }
  }
  signal_.send(conn, AckMsg{req});
}

// ---------------------------------------------------------------- test calls

// A test call needs no meeting: a bridge point proves itself with its room link (it may test
// whether or not a meeting is open), a guest with its name. Each call is a private meeting of
// its own, so at most limits.maxTestCalls run at once.
bool Conference::admitTest(ConnectionId conn, RequestId req, const JoinRequest& request,
                           const std::string& guestName, Admission& admission) {
  int running = 0;
  for (const auto& [code, m] : meetings_) running += m.test ? 1 : 0;
  if (running >= config_.limits.maxTestCalls) {
    replyError(conn, req, ErrorCode::kMeetingFull, "too many test calls at once; try again soon");
    return false;
  }
  std::string unitId;
  std::string name = guestName;
  if (!request.room.empty()) {
    if (!rooms_) {
      throw ServiceError(Status::kUnauthorized, "unauthorized", "room links are not enabled");
    }
    const Landing landing = rooms_->landing(request.room);  // throws for a bad or revoked link
    unitId = landing.unitId;
    name = landing.unitName;
  }
  const std::string code = "test-" + std::to_string(nextTestCall_++);
  admission = Admission{0, code, "Gọi thử: " + name, unitId, name};
  return true;
}

void Conference::armTestEnd(LiveMeeting& meeting) {
  if (meeting.testTimer) return;
  std::weak_ptr<bool> alive = alive_;
  const std::string code = meeting.code;
  meeting.testTimer =
      timers_.schedule(std::chrono::seconds(config_.limits.testCallSeconds), [this, alive, code] {
        if (alive.expired() || !*alive.lock()) return;
        auto it = meetings_.find(code);
        if (it == meetings_.end()) return;
        it->second.testTimer.reset();
        const std::vector<ParticipantId> rooms = it->second.order;
        for (const auto& id : rooms) {
          Participant* p = find(id);
          if (!p) continue;
          const ConnectionId conn = p->conn;
          removeParticipant(id);
          signal_.send(conn, MeetingEndedMsg{code, "test-over"});
        }
      });
}

void Conference::testReport(ConnectionId conn, RequestId req, const TestReport& report) {
  Participant* p = participantOf(conn);
  if (!p) return replyError(conn, req, ErrorCode::kNotJoined, "join a test call first");
  if (!meetings_.at(p->meeting).test) {
    return replyError(conn, req, ErrorCode::kNotAllowed, "this is not a test call");
  }
  monitor_.note(p->id, "test-call", describeTestReport(report), timers_.now().count());
  signal_.send(conn, AckMsg{req});
}

void Conference::ensureMonitorTick() {
  if (monitorTimer_) return;
  std::weak_ptr<bool> alive = alive_;
  monitorTimer_ =
      timers_.schedule(std::chrono::milliseconds(config_.monitor.intervalMs), [this, alive] {
        if (alive.expired() || !*alive.lock()) return;
        monitorTimer_.reset();
        monitorTick();
      });
}

void Conference::monitorTick() {
  const auto events = monitor_.tick(timers_.now().count());
  if (siteEvents_) {
    for (const auto& [key, event] : events) {
      auto view = monitor_.site(key);
      siteEvents_(view ? view->meeting : std::string(), key, view ? view->name : std::string(),
                  event);
    }
  }
  if (!participants_.empty()) media_.collectStats();
  if (!monitors_.empty()) {
    std::vector<ConnectionId> to;
    for (const auto& [conn, caller] : monitors_) to.push_back(conn);
    signal_.broadcast(to, monitorState());
  }
  // Sites that dropped are watched until they are forgotten, even with nobody left in a meeting.
  if (!participants_.empty() || !monitors_.empty() || !monitor_.empty()) {
    ensureMonitorTick();
  }
}

MonitorStateMsg Conference::monitorState() const {
  MonitorStateMsg msg;
  msg.atMs = timers_.now().count();
  msg.clockOffsetMs = clockOffsetMs();
  for (auto& site : monitor_.sites()) {
    if (msg.meetings.empty() || msg.meetings.back().code != site.meeting) {
      auto live = meetings_.find(site.meeting);
      msg.meetings.push_back(
          {site.meeting, live == meetings_.end() ? std::string() : live->second.title, {}});
    }
    msg.meetings.back().sites.push_back(std::move(site));
  }
  return msg;
}

std::int64_t Conference::clockOffsetMs() const {
  const auto wall = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::system_clock::now().time_since_epoch());
  return (wall - timers_.now()).count();
}

}  // namespace mcu::core
