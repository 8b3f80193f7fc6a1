// MeetingService: scheduling, invitations from the organisation tree, the lifecycle, room links,
// admission of rooms and the roll — over the in-memory store, a fake clock and fake crypto.
#include "mcu/core/MeetingService.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "mcu/core/MemoryStore.hpp"
#include "tests/unit/core/FakeSecurity.hpp"

namespace mcu::core {
namespace {

constexpr UnixTime kNow = 1800000000;  // 2027-01-15T08:00:00Z
constexpr UnixTime kHour = 3600;

using testing::FakeClock;
using testing::FakeCrypto;

class RecordingListener : public MeetingListener {
 public:
  void onMeetingChanged(const Meeting& m) override { changes.push_back(m); }
  std::vector<Meeting> changes;
};

std::vector<Unit> sampleTree() {
  return {
      {"p", "UBND tỉnh", UnitKind::kProvince, "", 0, {}, true},
      {"p.so.yt", "Sở Y tế", UnitKind::kDepartment, "p", 1, {}, true},
      {"p.so.xd", "Sở Xây dựng", UnitKind::kDepartment, "p", 2, {}, true},
      {"p.h1", "Huyện Một", UnitKind::kDistrict, "p", 3, {}, true},
      {"p.h1.xa-a", "xã A", UnitKind::kCommune, "p.h1", 1, {}, true},
      {"p.h1.xa-b", "xã B", UnitKind::kCommune, "p.h1", 2, {}, true},
      {"p.h1.xa-old", "xã Cũ", UnitKind::kCommune, "p.h1", 3, {}, false},
      {"p.xa-c", "xã C", UnitKind::kCommune, "p", 4, {}, true},
  };
}

class MeetingServiceTest : public ::testing::Test {
 protected:
  MeetingServiceTest() : service_(store_, crypto_, clock_) {
    service_.setListener(&listener_);
    service_.loadTree(sampleTree());
    admin_ = caller(Role::kAdmin, "admin");
    host_ = caller(Role::kHost, "chu-tri");
    tech_ = caller(Role::kTechnician, "ky-thuat");
  }

  Caller caller(Role role, const std::string& name) {
    Account a;
    a.username = name;
    a.role = role;
    a.createdAt = kNow;
    const AccountId id = store_.createAccount(a, AuditEntry{0, kNow, 0, "test", "x", "", ""});
    return Caller{id, name, role, "s-" + name};
  }

  MeetingDraft draft(std::vector<std::string> units = {"p.so.yt", "p.h1.xa-a"}) {
    MeetingDraft d;
    d.title = "Giao ban tuần";
    d.startsAt = kNow + kHour;
    d.endsAt = kNow + 2 * kHour;
    d.invite.units = std::move(units);
    return d;
  }

  // The ServiceError code `fn` throws, or "" when it does not throw.
  template <typename Fn>
  std::string codeOf(Fn&& fn) {
    try {
      fn();
    } catch (const ServiceError& e) {
      return e.code();
    }
    return "";
  }

  std::size_t auditCount(const std::string& action) {
    const auto entries = store_.audit(0, 1000);
    return static_cast<std::size_t>(std::count_if(
        entries.begin(), entries.end(), [&](const AuditEntry& e) { return e.action == action; }));
  }

  MemoryStore store_;
  FakeCrypto crypto_;
  FakeClock clock_;
  RecordingListener listener_;
  MeetingService service_;
  Caller admin_, host_, tech_;
};

// ---------------------------------------------------------------- scheduling

TEST_F(MeetingServiceTest, AHostSchedulesAMeetingWithAGeneratedCode) {
  const Meeting m = service_.create(host_, draft());
  EXPECT_GT(m.id, 0);
  EXPECT_EQ(m.state, MeetingState::kScheduled);
  EXPECT_EQ(m.chairId, host_.id);
  EXPECT_EQ(m.createdBy, host_.id);
  EXPECT_EQ(m.invited, (std::vector<std::string>{"p.h1.xa-a", "p.so.yt"}));
  EXPECT_EQ(m.code.size(), 9u);
  EXPECT_EQ(m.code[4], '-');
  EXPECT_EQ(service_.get(tech_, m.id), m);
  EXPECT_EQ(auditCount("meeting.create"), 1u);
}

TEST_F(MeetingServiceTest, ATechnicianCannotScheduleOrRunAMeeting) {
  EXPECT_EQ(codeOf([&] { service_.create(tech_, draft()); }), "forbidden");
  const Meeting m = service_.create(host_, draft());
  EXPECT_EQ(codeOf([&] { service_.open(tech_, m.id); }), "forbidden");
  EXPECT_EQ(codeOf([&] { service_.cancel(tech_, m.id); }), "forbidden");
  EXPECT_EQ(codeOf([&] { service_.update(tech_, m.id, MeetingPatch{}); }), "forbidden");
  EXPECT_EQ(codeOf([&] { service_.issueRoomLink(tech_, "p.so.yt"); }), "forbidden");
  EXPECT_EQ(codeOf([&] { service_.importTree(host_, sampleTree()); }), "forbidden");
  // Reading is fine.
  EXPECT_EQ(service_.list(tech_, {}).size(), 1u);
  EXPECT_EQ(service_.roll(tech_, m.id).size(), 2u);
}

TEST_F(MeetingServiceTest, InvitationsExpandSubtreesAndKindsSkippingInactiveUnits) {
  MeetingDraft d = draft({});
  d.invite.subtrees = {"p.h1"};
  EXPECT_EQ(service_.create(host_, d).invited,
            (std::vector<std::string>{"p.h1", "p.h1.xa-a", "p.h1.xa-b"}));
  MeetingDraft all = draft({});
  all.invite.kinds = {"commune"};
  EXPECT_EQ(service_.create(host_, all).invited,
            (std::vector<std::string>{"p.h1.xa-a", "p.h1.xa-b", "p.xa-c"}));
}

TEST_F(MeetingServiceTest, BadDraftsAreRefusedAndNothingIsStored) {
  const auto refused = [&](MeetingDraft d) { return codeOf([&] { service_.create(host_, d); }); };
  MeetingDraft d = draft();
  d.endsAt = d.startsAt;
  EXPECT_EQ(refused(d), "bad_time");
  d = draft();
  d.startsAt = kNow - 2 * kHour;
  d.endsAt = kNow + kHour;
  EXPECT_EQ(refused(d), "bad_time");  // starts in the past
  d = draft();
  d.endsAt = d.startsAt + 25 * kHour;
  EXPECT_EQ(refused(d), "bad_time");
  d = draft();
  d.title = "   ";
  EXPECT_EQ(refused(d), "bad_field");
  d = draft();
  d.title = std::string(201, 'a');
  EXPECT_EQ(refused(d), "bad_field");
  d = draft();
  d.title = "a\nb";
  EXPECT_EQ(refused(d), "bad_field");
  EXPECT_EQ(refused(draft({"no.such.unit"})), "bad_field");
  EXPECT_EQ(refused(draft({"p.h1.xa-old"})), "bad_field");  // inactive
  d = draft();
  d.invite.kinds = {"galaxy"};
  EXPECT_EQ(refused(d), "bad_field");
  d = draft();
  d.code = "UPPER";
  EXPECT_EQ(refused(d), "bad_field");
  d = draft();
  d.code = "ab";
  EXPECT_EQ(refused(d), "bad_field");
  d = draft();
  d.chairId = tech_.id;
  EXPECT_EQ(refused(d), "bad_field");
  d = draft();
  d.chairId = 999;
  EXPECT_EQ(refused(d), "bad_field");
  EXPECT_TRUE(service_.list(admin_, {}).empty());
  EXPECT_EQ(auditCount("meeting.create"), 0u);
}

TEST_F(MeetingServiceTest, JoinCodesAreUniqueIncludingStandingMeetings) {
  service_.addStandingMeeting("demo", "Demo");
  MeetingDraft d = draft();
  d.code = "giao-ban";
  service_.create(host_, d);
  EXPECT_EQ(codeOf([&] { service_.create(host_, d); }), "duplicate_code");
  d.code = "demo";
  EXPECT_EQ(codeOf([&] { service_.create(host_, d); }), "duplicate_code");
  EXPECT_EQ(service_.list(admin_, {}).size(), 1u);
}

TEST_F(MeetingServiceTest, EditingReplacesFieldsAndInvitationsUntilTheMeetingIsOver) {
  const Meeting m = service_.create(host_, draft());
  MeetingPatch patch;
  patch.title = "Giao ban tháng";
  patch.invite = InviteSelection{{"p.xa-c"}, {}, {}};
  clock_.t += 60;
  const Meeting edited = service_.update(host_, m.id, patch);
  EXPECT_EQ(edited.title, "Giao ban tháng");
  EXPECT_EQ(edited.invited, std::vector<std::string>{"p.xa-c"});
  EXPECT_EQ(edited.updatedAt, kNow + 60);
  EXPECT_EQ(service_.get(host_, m.id), edited);

  MeetingPatch bad;
  bad.endsAt = m.startsAt - 1;
  EXPECT_EQ(codeOf([&] { service_.update(host_, m.id, bad); }), "bad_time");
  EXPECT_EQ(service_.get(host_, m.id), edited);

  service_.open(host_, m.id);
  service_.close(host_, m.id);
  EXPECT_EQ(codeOf([&] { service_.update(host_, m.id, patch); }), "bad_state");
  EXPECT_EQ(codeOf([&] { service_.update(host_, 4242, patch); }), "not_found");
}

TEST_F(MeetingServiceTest, AnOpenMeetingKeepsItsCodeAndALiveOneItsStartButInvitationsMayChange) {
  const Meeting m = service_.open(host_, service_.create(host_, draft()).id);
  MeetingPatch recode;
  recode.code = "ma-moi";
  EXPECT_EQ(codeOf([&] { service_.update(host_, m.id, recode); }), "bad_state");
  recode.code = m.code;  // the same code is no change
  EXPECT_EQ(service_.update(host_, m.id, recode), m);

  service_.roomJoined(service_.admit("", service_.issueRoomLink(host_, "p.so.yt"), ""));
  ASSERT_EQ(service_.get(host_, m.id).state, MeetingState::kLive);
  MeetingPatch restart;
  restart.startsAt = m.startsAt + kHour;
  EXPECT_EQ(codeOf([&] { service_.update(host_, m.id, restart); }), "bad_state");
  EXPECT_EQ(service_.get(host_, m.id).startsAt, m.startsAt);

  // The host drops one unit, adds another and runs over time: the listener hears every edit.
  listener_.changes.clear();
  MeetingPatch patch;
  patch.invite = InviteSelection{{"p.so.yt", "p.xa-c"}, {}, {}};
  patch.endsAt = m.endsAt + kHour;
  const Meeting edited = service_.update(host_, m.id, patch);
  EXPECT_EQ(edited.invited, (std::vector<std::string>{"p.so.yt", "p.xa-c"}));
  EXPECT_EQ(edited.endsAt, m.endsAt + kHour);
  ASSERT_EQ(listener_.changes.size(), 1u);
  EXPECT_EQ(listener_.changes[0], edited);
  EXPECT_TRUE(service_.admits(edited, "p.so.yt"));
  EXPECT_TRUE(service_.admits(edited, "p.xa-c"));
  EXPECT_FALSE(service_.admits(edited, "p.h1.xa-a"));  // dropped
  EXPECT_FALSE(service_.admits(edited, ""));           // guests: access is "invited"
  MeetingPatch anyone;
  anyone.access = MeetingAccess::kAnyone;
  const Meeting open = service_.update(host_, m.id, anyone);
  EXPECT_TRUE(service_.admits(open, "p.h1.xa-a"));
  EXPECT_TRUE(service_.admits(open, ""));
  EXPECT_EQ(auditCount("meeting.update"), 2u);
}

TEST_F(MeetingServiceTest, AScheduledMeetingMayChangeItsCode) {
  const Meeting m = service_.create(host_, draft());
  MeetingPatch recode;
  recode.code = "ma-moi";
  EXPECT_EQ(service_.update(host_, m.id, recode).code, "ma-moi");
  EXPECT_EQ(service_.meetingByCode("ma-moi").id, m.id);
}

TEST_F(MeetingServiceTest, TheLifecycleAllowsOnlyItsTransitions) {
  const Meeting m = service_.create(host_, draft());
  EXPECT_EQ(codeOf([&] { service_.close(host_, m.id); }), "bad_state");
  EXPECT_EQ(service_.open(host_, m.id).state, MeetingState::kOpen);
  EXPECT_EQ(service_.open(host_, m.id).state, MeetingState::kOpen);  // idempotent
  EXPECT_EQ(service_.setLocked(host_, m.id, true).locked, true);
  EXPECT_EQ(service_.setLocked(host_, m.id, false).locked, false);
  EXPECT_EQ(service_.close(host_, m.id).state, MeetingState::kEnded);
  EXPECT_EQ(codeOf([&] { service_.open(host_, m.id); }), "bad_state");
  EXPECT_EQ(codeOf([&] { service_.cancel(host_, m.id); }), "bad_state");
  EXPECT_EQ(codeOf([&] { service_.setLocked(host_, m.id, true); }), "bad_state");

  const Meeting other = service_.create(host_, draft());
  EXPECT_EQ(service_.cancel(admin_, other.id).state, MeetingState::kCancelled);
  EXPECT_EQ(codeOf([&] { service_.open(host_, other.id); }), "bad_state");
  EXPECT_EQ(codeOf([&] { service_.open(host_, 999); }), "not_found");

  // Every state change reached the listener, in order.
  std::vector<MeetingState> states;
  for (const auto& c : listener_.changes) states.push_back(c.state);
  EXPECT_EQ(states, (std::vector<MeetingState>{MeetingState::kOpen, MeetingState::kOpen,
                                               MeetingState::kOpen, MeetingState::kEnded,
                                               MeetingState::kCancelled}));
  EXPECT_EQ(auditCount("meeting.open"), 1u);
  EXPECT_EQ(auditCount("meeting.close"), 1u);
  EXPECT_EQ(auditCount("meeting.lock"), 1u);
}

TEST_F(MeetingServiceTest, TheSweepEndsMeetingsTheClockHasLeftBehind) {
  constexpr UnixTime kGrace = 30 * 60;
  const Meeting forgotten = service_.create(host_, draft());  // never opened
  const Meeting open = service_.open(host_, service_.create(host_, draft()).id);
  const Meeting live = service_.open(host_, service_.create(host_, draft({"p.xa-c"})).id);
  service_.roomJoined(service_.admit("", service_.issueRoomLink(host_, "p.xa-c"), ""));
  const Meeting cancelled = service_.cancel(host_, service_.create(host_, draft()).id);
  MeetingDraft tomorrow = draft();
  tomorrow.startsAt += 24 * kHour;
  tomorrow.endsAt += 24 * kHour;
  const Meeting next = service_.create(host_, tomorrow);
  listener_.changes.clear();
  const auto stateOf = [&](const Meeting& m) { return service_.get(host_, m.id).state; };
  const auto idsOf = [](const std::vector<Meeting>& ms) {
    std::vector<MeetingId> ids;
    for (const auto& m : ms) ids.push_back(m.id);
    return ids;
  };

  EXPECT_TRUE(service_.sweep(kGrace).empty());  // all still ahead
  clock_.t = forgotten.endsAt - 1;
  EXPECT_TRUE(service_.sweep(kGrace).empty());

  // At the end time the meeting nobody opened is over; the running ones get the grace period.
  clock_.t = forgotten.endsAt;
  EXPECT_EQ(idsOf(service_.sweep(kGrace)), std::vector<MeetingId>{forgotten.id});
  EXPECT_EQ(stateOf(forgotten), MeetingState::kEnded);
  clock_.t = open.endsAt + kGrace - 1;
  EXPECT_TRUE(service_.sweep(kGrace).empty());
  EXPECT_EQ(stateOf(live), MeetingState::kLive);

  // The live meeting's host runs over and extends it; the open one is ended after the grace.
  MeetingPatch extend;
  extend.endsAt = live.endsAt + kHour;
  service_.update(host_, live.id, extend);
  clock_.t = open.endsAt + kGrace;
  EXPECT_EQ(idsOf(service_.sweep(kGrace)), std::vector<MeetingId>{open.id});
  EXPECT_EQ(stateOf(live), MeetingState::kLive);
  const std::string link = service_.issueRoomLink(host_, "p.so.yt");
  EXPECT_EQ(codeOf([&] { service_.admit(open.code, link, ""); }), "meeting_closed");
  clock_.t = live.endsAt + kHour + kGrace;
  EXPECT_EQ(idsOf(service_.sweep(kGrace)), std::vector<MeetingId>{live.id});

  EXPECT_EQ(stateOf(cancelled), MeetingState::kCancelled);
  EXPECT_EQ(stateOf(next), MeetingState::kScheduled);
  EXPECT_TRUE(service_.sweep(kGrace).empty());  // nothing twice
  // The listener heard each end (and the extension), so rooms are sent away; each is audited.
  std::vector<std::pair<MeetingId, MeetingState>> heard;
  for (const auto& c : listener_.changes) heard.emplace_back(c.id, c.state);
  EXPECT_EQ(heard,
            (std::vector<std::pair<MeetingId, MeetingState>>{{forgotten.id, MeetingState::kEnded},
                                                             {live.id, MeetingState::kLive},
                                                             {open.id, MeetingState::kEnded},
                                                             {live.id, MeetingState::kEnded}}));
  EXPECT_EQ(auditCount("meeting.expire"), 3u);
  const auto newest = store_.audit(0, 1).at(0);
  EXPECT_EQ(newest.actor, "server");
  EXPECT_EQ(newest.target, "meeting:" + std::to_string(live.id));
}

TEST_F(MeetingServiceTest, ListingFiltersByTimeAndState) {
  const Meeting today = service_.create(host_, draft());
  MeetingDraft later = draft();
  later.startsAt = kNow + 48 * kHour;
  later.endsAt = kNow + 49 * kHour;
  const Meeting tomorrowPlus = service_.create(host_, later);
  MeetingQuery q;
  q.from = kNow;
  q.to = kNow + 24 * kHour;
  auto found = service_.list(tech_, q);
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].id, today.id);
  service_.cancel(host_, tomorrowPlus.id);
  MeetingQuery cancelled;
  cancelled.states = {MeetingState::kCancelled};
  found = service_.list(tech_, cancelled);
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].id, tomorrowPlus.id);
}

// ---------------------------------------------------------------- rooms

TEST_F(MeetingServiceTest, ARoomLinkLandsInTheRoomsCurrentOrNextMeeting) {
  const std::string secret = service_.issueRoomLink(host_, "p.h1.xa-a");
  Landing l = service_.landing(secret);
  EXPECT_EQ(l.unitId, "p.h1.xa-a");
  EXPECT_EQ(l.unitName, "xã A");
  EXPECT_FALSE(l.meeting);

  MeetingDraft later = draft();
  later.startsAt = kNow + 5 * kHour;
  later.endsAt = kNow + 6 * kHour;
  service_.create(host_, later);
  const Meeting sooner = service_.create(host_, draft());
  l = service_.landing(secret);
  ASSERT_TRUE(l.meeting);
  EXPECT_EQ(l.meeting->id, sooner.id);

  // An open meeting wins over a sooner scheduled one.
  MeetingDraft running = draft();
  running.startsAt = kNow + 3 * kHour;
  running.endsAt = kNow + 4 * kHour;
  const Meeting opened = service_.open(host_, service_.create(host_, running).id);
  EXPECT_EQ(service_.landing(secret).meeting->id, opened.id);
}

TEST_F(MeetingServiceTest, OnlyInvitedRoomsJoinAndOnlyWhileTheMeetingIsOpen) {
  const Meeting m = service_.create(host_, draft({"p.so.yt", "p.h1.xa-a"}));
  const std::string yt = service_.issueRoomLink(host_, "p.so.yt");
  const std::string xaA = service_.issueRoomLink(host_, "p.h1.xa-a");
  const std::string xaC = service_.issueRoomLink(host_, "p.xa-c");

  EXPECT_EQ(codeOf([&] { service_.admit("", yt, ""); }), "meeting_closed");  // not open yet
  service_.open(host_, m.id);
  const Admission a = service_.admit("", yt, "ignored");
  EXPECT_EQ(a.meetingId, m.id);
  EXPECT_EQ(a.code, m.code);
  EXPECT_EQ(a.unitId, "p.so.yt");
  EXPECT_EQ(a.displayName, "Sở Y tế");
  EXPECT_EQ(service_.admit(m.code, xaA, "").unitId, "p.h1.xa-a");

  EXPECT_EQ(codeOf([&] { service_.admit(m.code, xaC, ""); }), "not_invited");
  EXPECT_EQ(codeOf([&] { service_.admit("", xaC, ""); }), "meeting_closed");  // nothing planned
  EXPECT_EQ(codeOf([&] { service_.admit(m.code, "", "Khách"); }), "not_invited");  // guest
  EXPECT_EQ(codeOf([&] { service_.admit("nope", yt, ""); }), "not_found");
  EXPECT_EQ(codeOf([&] { service_.admit("", "forged", ""); }), "unauthorized");

  service_.setLocked(host_, m.id, true);
  EXPECT_EQ(codeOf([&] { service_.admit("", yt, ""); }), "meeting_locked");
  service_.setLocked(host_, m.id, false);
  service_.close(host_, m.id);
  EXPECT_EQ(codeOf([&] { service_.admit(m.code, yt, ""); }), "meeting_closed");
}

TEST_F(MeetingServiceTest, AGuestJoinsWithTheCodeOnlyWhenTheMeetingAdmitsAnyone) {
  MeetingDraft d = draft({});
  d.access = MeetingAccess::kAnyone;
  const Meeting m = service_.open(host_, service_.create(host_, d).id);
  const Admission a = service_.admit(m.code, "", "Khách mời");
  EXPECT_EQ(a.unitId, "");
  EXPECT_EQ(a.displayName, "Khách mời");
  // A room link also gets in (as its unit) although the unit is not invited.
  const std::string xaC = service_.issueRoomLink(host_, "p.xa-c");
  EXPECT_EQ(service_.admit(m.code, xaC, "").unitId, "p.xa-c");

  service_.addStandingMeeting("demo", "Phòng thử");
  const Admission demo = service_.admit("demo", "", "Ai đó");
  EXPECT_EQ(demo.meetingId, 0);
  EXPECT_EQ(demo.title, "Phòng thử");
}

TEST_F(MeetingServiceTest, ANewLinkRevokesTheOldOne) {
  const Meeting m = service_.open(host_, service_.create(host_, draft()).id);
  const std::string first = service_.issueRoomLink(host_, "p.so.yt");
  const std::string second = service_.issueRoomLink(admin_, "p.so.yt");
  EXPECT_NE(first, second);
  EXPECT_EQ(codeOf([&] { service_.admit("", first, ""); }), "link_revoked");
  EXPECT_EQ(service_.admit("", second, "").meetingId, m.id);
  ASSERT_EQ(service_.roomLinks(host_).size(), 1u);
  service_.revokeRoomLink(host_, "p.so.yt");
  EXPECT_EQ(codeOf([&] { service_.admit("", second, ""); }), "link_revoked");
  EXPECT_TRUE(service_.roomLinks(host_).empty());
  EXPECT_EQ(codeOf([&] { service_.revokeRoomLink(host_, "p.so.yt"); }), "not_found");
  EXPECT_EQ(codeOf([&] { service_.issueRoomLink(host_, "no.such"); }), "not_found");
  EXPECT_EQ(auditCount("room-link.issue"), 2u);
  EXPECT_EQ(auditCount("room-link.revoke"), 1u);
}

TEST_F(MeetingServiceTest, TheRollTellsConnectedLeftAndNeverJoinedAndTheFirstJoinMakesItLive) {
  const Meeting m = service_.open(host_, service_.create(host_, draft()).id);
  const std::string yt = service_.issueRoomLink(host_, "p.so.yt");
  const Admission a = service_.admit("", yt, "");
  listener_.changes.clear();
  clock_.t += 10;
  service_.roomJoined(a);
  EXPECT_EQ(service_.get(host_, m.id).state, MeetingState::kLive);
  ASSERT_EQ(listener_.changes.size(), 1u);
  EXPECT_EQ(listener_.changes[0].state, MeetingState::kLive);

  auto roll = service_.roll(tech_, m.id);
  ASSERT_EQ(roll.size(), 2u);
  const auto entry = [&](const std::string& unit) {
    return *std::find_if(roll.begin(), roll.end(),
                         [&](const RollEntry& e) { return e.unitId == unit; });
  };
  EXPECT_EQ(entry("p.so.yt").status, RollEntry::Status::kConnected);
  EXPECT_EQ(entry("p.so.yt").firstJoinedAt, kNow + 10);
  EXPECT_EQ(entry("p.so.yt").name, "Sở Y tế");
  EXPECT_EQ(entry("p.h1.xa-a").status, RollEntry::Status::kNeverJoined);

  service_.roomLeft(a);
  roll = service_.roll(tech_, m.id);
  EXPECT_EQ(entry("p.so.yt").status, RollEntry::Status::kLeft);
  EXPECT_EQ(std::string(rollStatusName(RollEntry::Status::kLeft)), "left");
  // Leaving again (a duplicate report) does not go below zero.
  service_.roomLeft(a);
  service_.roomJoined(a);
  roll = service_.roll(tech_, m.id);
  EXPECT_EQ(entry("p.so.yt").connections, 1);
}

TEST_F(MeetingServiceTest, GuestsAppearInTheRollBesideTheInvited) {
  MeetingDraft d = draft({"p.so.yt"});
  d.access = MeetingAccess::kAnyone;
  const Meeting m = service_.open(host_, service_.create(host_, d).id);
  service_.roomJoined(service_.admit(m.code, "", "Khách"));
  const auto roll = service_.roll(host_, m.id);
  ASSERT_EQ(roll.size(), 2u);
  EXPECT_TRUE(roll[0].invited);
  EXPECT_FALSE(roll[1].invited);
  EXPECT_EQ(roll[1].unitId, "");
  EXPECT_EQ(roll[1].name, "Khách");
  EXPECT_EQ(roll[1].status, RollEntry::Status::kConnected);
}

// ---------------------------------------------------------------- the tree

TEST_F(MeetingServiceTest, TheTreeIsSeededOnceAndKeptAcrossRestarts) {
  EXPECT_EQ(service_.treeVersion(), 1);
  EXPECT_EQ(service_.tree()->size(), sampleTree().size());
  MeetingService again(store_, crypto_, clock_);
  again.loadTree([]() -> std::vector<Unit> {
    ADD_FAILURE() << "the seed must not be read when the store has a tree";
    return {};
  });
  EXPECT_EQ(again.treeVersion(), 1);
  EXPECT_EQ(again.tree()->size(), sampleTree().size());
}

TEST_F(MeetingServiceTest, ImportingAMergeKeepsInvitationsAndRoomLinksResolving) {
  const Meeting m = service_.open(host_, service_.create(host_, draft({"p.h1.xa-a"})).id);
  const std::string link = service_.issueRoomLink(host_, "p.h1.xa-a");

  // xã A and xã B merge into xã B; the district level goes away (2025 reform).
  std::vector<Unit> reformed = {
      {"p", "UBND tỉnh", UnitKind::kProvince, "", 0, {}, true},
      {"p.so.yt", "Sở Y tế", UnitKind::kDepartment, "p", 1, {}, true},
      {"p.so.xd", "Sở Xây dựng", UnitKind::kDepartment, "p", 2, {}, true},
      {"p.h1.xa-b",
       "xã B mới",
       UnitKind::kCommune,
       "p",
       3,
       {"p.h1.xa-a", "p.h1", "p.h1.xa-old"},
       true},
      {"p.xa-c", "xã C", UnitKind::kCommune, "p", 4, {}, true},
  };
  EXPECT_EQ(service_.importTree(admin_, reformed), 2);
  EXPECT_EQ(service_.tree()->find("p.h1.xa-a")->id, "p.h1.xa-b");

  // The old link lands in the merged unit, still admitted to the meeting that invited xã A.
  const Admission a = service_.admit("", link, "");
  EXPECT_EQ(a.meetingId, m.id);
  EXPECT_EQ(a.unitId, "p.h1.xa-b");
  EXPECT_EQ(a.displayName, "xã B mới");
  const auto roll = service_.roll(host_, m.id);
  ASSERT_EQ(roll.size(), 1u);
  EXPECT_EQ(roll[0].unitId, "p.h1.xa-b");
  // A room in the meeting under either id stays admitted after an edit.
  EXPECT_TRUE(service_.admits(service_.get(host_, m.id), "p.h1.xa-b"));
  EXPECT_TRUE(service_.admits(service_.get(host_, m.id), "p.h1.xa-a"));
  EXPECT_FALSE(service_.admits(service_.get(host_, m.id), "p.xa-c"));

  // Dropping a unit that is still invited is refused, naming it, and changes nothing.
  std::vector<Unit> dropped = reformed;
  dropped.erase(dropped.begin() + 3);
  try {
    service_.importTree(admin_, dropped);
    ADD_FAILURE() << "accepted";
  } catch (const ServiceError& e) {
    EXPECT_EQ(e.code(), "bad_field");
    EXPECT_NE(std::string(e.what()).find("p.h1.xa-a"), std::string::npos) << e.what();
  }
  EXPECT_EQ(service_.treeVersion(), 2);

  // An invalid tree names its problems.
  std::vector<Unit> twoRoots = reformed;
  twoRoots.push_back({"q", "Tỉnh khác", UnitKind::kProvince, "", 0, {}, true});
  EXPECT_EQ(codeOf([&] { service_.importTree(admin_, twoRoots); }), "bad_field");
  EXPECT_EQ(store_.latestOrgTree()->version, 2);
}

}  // namespace
}  // namespace mcu::core
