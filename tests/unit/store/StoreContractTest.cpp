// The Store contract (mcu/core/Store.hpp), held against every implementation: core::MemoryStore
// and store::SqliteStore (a fresh file in its own temporary directory per test). Whatever the
// services see from one they must see from the other.
#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "mcu/core/MemoryStore.hpp"
#include "mcu/core/Store.hpp"
#include "mcu/store/SqliteStore.hpp"
#include "tests/unit/store/StoreTestSupport.hpp"

namespace mcu::store {
namespace {

using core::Account;
using core::AuditEntry;
using core::Meeting;
using core::MeetingQuery;
using core::MeetingState;
using core::Role;
using core::RoomLink;
using core::Session;
using core::Store;
using core::StoreConflict;
using core::Unit;
using core::UnitKind;
using test::auditEntry;
using test::sampleAccount;
using test::sampleMeeting;

struct MemoryBackend {
  static constexpr const char* kName = "Memory";
  std::unique_ptr<Store> open() { return std::make_unique<core::MemoryStore>(); }
};

struct SqliteBackend {
  static constexpr const char* kName = "Sqlite";
  test::TempDir dir;
  std::unique_ptr<Store> open() { return std::make_unique<SqliteStore>(dir.file("mcu.db")); }
};

struct BackendName {
  template <typename Backend>
  static std::string GetName(int) {
    return Backend::kName;
  }
};

template <typename Backend>
class StoreContractTest : public ::testing::Test {
 protected:
  Store& store() { return *store_; }

  // Everything a conflict or a refused update must leave as it was. Sessions cannot be listed:
  // the tests that touch them look them up by id.
  struct Snapshot {
    std::vector<Account> accounts;
    std::vector<RoomLink> links;
    std::vector<Meeting> meetings;
    std::vector<AuditEntry> audit;
    std::int64_t treeVersion = 0;
    bool operator==(const Snapshot&) const = default;
  };
  Snapshot snapshot() {
    const auto tree = store().latestOrgTree();
    return Snapshot{store().accounts(), store().activeRoomLinks(), store().meetings({}),
                    store().audit(0, 1000), tree ? tree->version : 0};
  }

  RoomLink link(std::string unit, std::string digest, core::UnixTime at) {
    return RoomLink{0, std::move(unit), std::move(digest), at, 1, 0};
  }

  Backend backend_;  // declared first: outlives the store (the SQLite file lives in its dir)
  std::unique_ptr<Store> store_ = backend_.open();
};

using Backends = ::testing::Types<MemoryBackend, SqliteBackend>;
TYPED_TEST_SUITE(StoreContractTest, Backends, BackendName);

// ---- accounts ----

TYPED_TEST(StoreContractTest, CreatedAccountRoundTripsWithIdsFromOne) {
  Store& s = this->store();
  Account alice = sampleAccount("alice", Role::kAdmin);
  Account bob = sampleAccount("bob", Role::kTechnician);
  bob.disabled = true;
  bob.mustChangePassword = false;
  alice.id = 42;  // ignored: the store assigns ids
  EXPECT_EQ(s.createAccount(alice, auditEntry("account.create")), 1);
  EXPECT_EQ(s.createAccount(bob, auditEntry("account.create")), 2);

  alice.id = 1;
  bob.id = 2;
  EXPECT_EQ(s.account(1), alice);
  EXPECT_EQ(s.account(2), bob);
  EXPECT_EQ(s.accountByUsername("bob"), bob);
  EXPECT_EQ(s.accounts(), (std::vector<Account>{alice, bob}));
  EXPECT_EQ(s.account(3), std::nullopt);
  EXPECT_EQ(s.accountByUsername("Alice"), std::nullopt);  // case-sensitive
}

TYPED_TEST(StoreContractTest, UpdateAccountReplacesAllButIdAndCreatedAt) {
  Store& s = this->store();
  const auto id = s.createAccount(sampleAccount("alice"), auditEntry("account.create"));
  Account changed = sampleAccount("alicia", Role::kAdmin);
  changed.id = id;
  changed.displayName = "Alicia";
  changed.passwordHash = "new-hash";
  changed.disabled = true;
  changed.mustChangePassword = false;
  changed.createdAt = 5;  // ignored

  EXPECT_TRUE(s.updateAccount(changed, auditEntry("account.update", "account:1")));
  changed.createdAt = sampleAccount("x").createdAt;
  EXPECT_EQ(s.account(id), changed);
  EXPECT_EQ(s.accountByUsername("alice"), std::nullopt);
  ASSERT_EQ(s.audit(0, 10).size(), 2u);
  EXPECT_EQ(s.audit(0, 10).front().action, "account.update");
}

TYPED_TEST(StoreContractTest, UpdateOfMissingAccountIsFalseWithoutAudit) {
  Store& s = this->store();
  s.createAccount(sampleAccount("alice"), auditEntry("account.create"));
  const auto before = this->snapshot();
  Account ghost = sampleAccount("ghost");
  ghost.id = 7;
  EXPECT_FALSE(s.updateAccount(ghost, auditEntry("account.update")));
  EXPECT_EQ(this->snapshot(), before);
}

TYPED_TEST(StoreContractTest, TakenUsernameConflictsAndChangesNothing) {
  Store& s = this->store();
  s.createAccount(sampleAccount("alice"), auditEntry("account.create"));
  const auto bobId = s.createAccount(sampleAccount("bob"), auditEntry("account.create"));
  const auto before = this->snapshot();

  EXPECT_THROW(s.createAccount(sampleAccount("alice"), auditEntry("account.create")),
               StoreConflict);
  Account renamed = *s.account(bobId);
  renamed.username = "alice";
  renamed.displayName = "changed";
  EXPECT_THROW(s.updateAccount(renamed, auditEntry("account.update")), StoreConflict);
  EXPECT_EQ(this->snapshot(), before);

  // A failed create does not use up an id.
  EXPECT_EQ(s.createAccount(sampleAccount("carol"), auditEntry("account.create")), 3);
}

// ---- sessions ----

TYPED_TEST(StoreContractTest, SessionsRoundTripAndRevoke) {
  Store& s = this->store();
  const auto alice = s.createAccount(sampleAccount("alice"), auditEntry("account.create"));
  const auto bob = s.createAccount(sampleAccount("bob"), auditEntry("account.create"));
  const Session a1{"a1", alice, 100, 200, false};
  const Session a2{"a2", alice, 100, 300, false};
  const Session b1{"b1", bob, 100, 300, false};
  for (const auto& session : {a1, a2, b1}) s.createSession(session);
  const auto auditBefore = s.audit(0, 100);

  EXPECT_EQ(s.session("a1"), a1);
  EXPECT_EQ(s.session("zz"), std::nullopt);

  s.revokeSession("a1");
  s.revokeSession("unknown");  // no-op
  EXPECT_TRUE(s.session("a1")->revoked);
  EXPECT_FALSE(s.session("a2")->revoked);

  s.revokeSessionsOf(alice);
  EXPECT_TRUE(s.session("a2")->revoked);
  EXPECT_EQ(s.session("b1"), b1);
  EXPECT_EQ(s.audit(0, 100), auditBefore);  // sessions are not audited
}

TYPED_TEST(StoreContractTest, TakenSessionIdConflictsAndKeepsTheFirst) {
  Store& s = this->store();
  const auto alice = s.createAccount(sampleAccount("alice"), auditEntry("account.create"));
  const auto bob = s.createAccount(sampleAccount("bob"), auditEntry("account.create"));
  const Session first{"same", alice, 100, 200, false};
  s.createSession(first);
  const auto before = this->snapshot();
  EXPECT_THROW(s.createSession(Session{"same", bob, 150, 900, true}), StoreConflict);
  EXPECT_EQ(s.session("same"), first);
  EXPECT_EQ(this->snapshot(), before);
}

TYPED_TEST(StoreContractTest, SessionOfMissingAccountIsAnErrorNotAConflict) {
  Store& s = this->store();
  try {
    s.createSession(Session{"s1", 42, 100, 200, false});
    FAIL() << "a session of a missing account was stored";
  } catch (const StoreConflict& e) {
    FAIL() << "reported as a conflict: " << e.what();
  } catch (const core::StoreError&) {
  }
  EXPECT_EQ(s.session("s1"), std::nullopt);
}

TYPED_TEST(StoreContractTest, PurgeDeletesSessionsExpiredBeforeNow) {
  Store& s = this->store();
  const auto alice = s.createAccount(sampleAccount("alice"), auditEntry("account.create"));
  s.createSession(Session{"old", alice, 0, 99, false});
  s.createSession(Session{"old-revoked", alice, 0, 50, true});
  s.createSession(Session{"edge", alice, 0, 100, false});  // expires at now: not before it
  s.createSession(Session{"new", alice, 0, 500, true});

  EXPECT_EQ(s.purgeSessions(100), 2u);
  EXPECT_EQ(s.session("old"), std::nullopt);
  EXPECT_EQ(s.session("old-revoked"), std::nullopt);
  EXPECT_TRUE(s.session("edge"));
  EXPECT_TRUE(s.session("new"));
  EXPECT_EQ(s.purgeSessions(100), 0u);
}

// ---- organisation tree ----

std::vector<Unit> treeUnits() {
  // Deliberately not in id or name order: the store keeps the order it is given.
  return {
      Unit{"lc", "UBND tỉnh Lào Cai", UnitKind::kProvince, "", 0, {}, true},
      Unit{"lc.xa.b", "xã Bản Lầu", UnitKind::kCommune, "lc", 20, {"lc.xa.c", "lc.xa.a"}, true},
      Unit{"lc.yt", "Sở Y tế", UnitKind::kDepartment, "lc", -3, {}, false},
      Unit{"lc.ph", "phường Cốc Lếu", UnitKind::kWard, "lc", 7, {"old.ward"}, true},
      Unit{"lc.o", "Văn phòng", UnitKind::kOther, "lc.ph", 0, {}, true},
  };
}

TYPED_TEST(StoreContractTest, OrgTreeVersionsIncrementAndRoundTripEveryField) {
  Store& s = this->store();
  EXPECT_EQ(s.latestOrgTree(), std::nullopt);

  EXPECT_EQ(s.saveOrgTree(treeUnits(), 1000, 0, auditEntry("tree.seed")), 1);
  auto v1 = s.latestOrgTree();
  ASSERT_TRUE(v1);
  EXPECT_EQ(v1->version, 1);
  EXPECT_EQ(v1->units, treeUnits());
  EXPECT_EQ(v1->importedAt, 1000);
  EXPECT_EQ(v1->importedBy, 0);

  std::vector<Unit> second = treeUnits();
  second.pop_back();
  second[1].name = "xã Bản Lầu mới";
  EXPECT_EQ(s.saveOrgTree(second, 2000, 3, auditEntry("tree.import")), 2);
  auto v2 = s.latestOrgTree();
  ASSERT_TRUE(v2);
  EXPECT_EQ(v2->version, 2);
  EXPECT_EQ(v2->units, second);
  EXPECT_EQ(v2->importedAt, 2000);
  EXPECT_EQ(v2->importedBy, 3);

  EXPECT_EQ(s.saveOrgTree({}, 3000, 3, auditEntry("tree.import")), 3);
  EXPECT_TRUE(s.latestOrgTree()->units.empty());
  const auto log = s.audit(0, 10);
  ASSERT_EQ(log.size(), 3u);
  EXPECT_EQ(log[2].action, "tree.seed");
}

// ---- room links ----

TYPED_TEST(StoreContractTest, NewRoomLinkRevokesThePreviousOne) {
  Store& s = this->store();
  EXPECT_EQ(s.createRoomLink(this->link("u1", "d1", 100), auditEntry("link.create")), 1);
  EXPECT_EQ(s.createRoomLink(this->link("u2", "d2", 110), auditEntry("link.create")), 2);
  EXPECT_EQ(s.createRoomLink(this->link("u1", "d3", 120), auditEntry("link.create")), 3);

  RoomLink first = this->link("u1", "d1", 100);
  first.id = 1;
  first.revokedAt = 120;
  EXPECT_EQ(s.roomLinkByDigest("d1"), first);  // revoked links are still found
  RoomLink u2 = this->link("u2", "d2", 110);
  u2.id = 2;
  RoomLink u1 = this->link("u1", "d3", 120);
  u1.id = 3;
  EXPECT_EQ(s.activeRoomLinks(), (std::vector<RoomLink>{u1, u2}));  // by unit id
  EXPECT_EQ(s.roomLinkByDigest("nope"), std::nullopt);
  EXPECT_EQ(s.audit(0, 10).size(), 3u);
}

TYPED_TEST(StoreContractTest, RevokeRoomLink) {
  Store& s = this->store();
  s.createRoomLink(this->link("u1", "d1", 100), auditEntry("link.create"));
  EXPECT_TRUE(s.revokeRoomLink("u1", 150, auditEntry("link.revoke", "unit:u1")));
  EXPECT_EQ(s.roomLinkByDigest("d1")->revokedAt, 150);
  EXPECT_TRUE(s.activeRoomLinks().empty());
  ASSERT_EQ(s.audit(0, 10).size(), 2u);
  EXPECT_EQ(s.audit(0, 1).front().target, "unit:u1");

  const auto before = this->snapshot();
  EXPECT_FALSE(s.revokeRoomLink("u1", 160, auditEntry("link.revoke")));  // none active
  EXPECT_FALSE(s.revokeRoomLink("u9", 160, auditEntry("link.revoke")));  // never had one
  EXPECT_EQ(this->snapshot(), before);
  EXPECT_EQ(s.roomLinkByDigest("d1")->revokedAt, 150);
}

TYPED_TEST(StoreContractTest, TakenDigestConflictsAndKeepsTheActiveLink) {
  Store& s = this->store();
  s.createRoomLink(this->link("u1", "d1", 100), auditEntry("link.create"));
  s.createRoomLink(this->link("u2", "d2", 100), auditEntry("link.create"));
  const auto before = this->snapshot();
  // Same unit (would revoke u1's link) and another unit: neither may change anything.
  EXPECT_THROW(s.createRoomLink(this->link("u1", "d2", 200), auditEntry("link.create")),
               StoreConflict);
  EXPECT_THROW(s.createRoomLink(this->link("u3", "d1", 200), auditEntry("link.create")),
               StoreConflict);
  EXPECT_EQ(this->snapshot(), before);
  EXPECT_EQ(s.roomLinkByDigest("d1")->revokedAt, 0);
}

// ---- meetings ----

std::vector<std::string> codes(const std::vector<Meeting>& meetings) {
  std::vector<std::string> out;
  for (const auto& m : meetings) out.push_back(m.code);
  return out;
}

// Field by field: designated initialisers of MeetingQuery trip -Wmissing-field-initializers.
MeetingQuery query(core::UnixTime from, core::UnixTime to, std::vector<MeetingState> states = {},
                   std::string invitedUnit = {}) {
  MeetingQuery q;
  q.from = from;
  q.to = to;
  q.states = std::move(states);
  q.invitedUnit = std::move(invitedUnit);
  return q;
}
MeetingQuery inStates(std::vector<MeetingState> states) {
  MeetingQuery q;
  q.states = std::move(states);
  return q;
}
MeetingQuery inviting(std::string unit) {
  MeetingQuery q;
  q.invitedUnit = std::move(unit);
  return q;
}

TYPED_TEST(StoreContractTest, MeetingRoundTripsWithSortedUniqueInvitations) {
  Store& s = this->store();
  Meeting m = sampleMeeting("weekly-1", 1000, 2000, {"u3", "u1", "u2", "u1"});
  m.state = MeetingState::kLive;
  m.locked = true;
  m.id = 99;  // ignored
  EXPECT_EQ(s.createMeeting(m, auditEntry("meeting.create")), 1);
  EXPECT_EQ(s.createMeeting(sampleMeeting("other", 0, 10), auditEntry("meeting.create")), 2);

  m.id = 1;
  m.invited = {"u1", "u2", "u3"};
  EXPECT_EQ(s.meeting(1), m);
  EXPECT_EQ(s.meetingByCode("weekly-1"), m);
  EXPECT_EQ(s.meeting(3), std::nullopt);
  EXPECT_EQ(s.meetingByCode("nope"), std::nullopt);
  EXPECT_TRUE(s.meeting(2)->invited.empty());
}

TYPED_TEST(StoreContractTest, UpdateMeetingReplacesAllButIdCreatorAndCreationTime) {
  Store& s = this->store();
  const auto id =
      s.createMeeting(sampleMeeting("m-1", 1000, 2000, {"u1", "u2"}), auditEntry("meeting.create"));
  Meeting changed = sampleMeeting("m-renamed", 3000, 4000, {"u9", "u2"});
  changed.id = id;
  changed.title = "Changed";
  changed.chairId = 0;
  changed.state = MeetingState::kCancelled;
  changed.access = core::MeetingAccess::kInvited;
  changed.locked = true;
  changed.createdBy = 77;  // ignored
  changed.createdAt = 5;   // ignored
  changed.updatedAt = 1'800'000'000;

  EXPECT_TRUE(s.updateMeeting(changed, auditEntry("meeting.update", "meeting:1")));
  changed.createdBy = 1;
  changed.createdAt = 1'700'000'000;
  changed.invited = {"u2", "u9"};
  EXPECT_EQ(s.meeting(id), changed);
  EXPECT_EQ(s.meetingByCode("m-1"), std::nullopt);
  EXPECT_EQ(s.audit(0, 1).front().target, "meeting:1");
  EXPECT_EQ(s.meetings(inviting("u1")), std::vector<Meeting>{});
}

TYPED_TEST(StoreContractTest, UpdateOfMissingMeetingIsFalseWithoutAudit) {
  Store& s = this->store();
  s.createMeeting(sampleMeeting("m-1", 1000, 2000, {"u1"}), auditEntry("meeting.create"));
  const auto before = this->snapshot();
  Meeting ghost = sampleMeeting("ghost", 1000, 2000, {"u1"});
  ghost.id = 5;
  EXPECT_FALSE(s.updateMeeting(ghost, auditEntry("meeting.update")));
  EXPECT_EQ(this->snapshot(), before);
}

TYPED_TEST(StoreContractTest, TakenCodeConflictsAndChangesNothing) {
  Store& s = this->store();
  s.createMeeting(sampleMeeting("aaa", 1000, 2000, {"u1"}), auditEntry("meeting.create"));
  const auto second =
      s.createMeeting(sampleMeeting("bbb", 1000, 2000, {"u2"}), auditEntry("meeting.create"));
  const auto before = this->snapshot();

  EXPECT_THROW(s.createMeeting(sampleMeeting("aaa", 5, 6, {"u3"}), auditEntry("meeting.create")),
               StoreConflict);
  Meeting renamed = *s.meeting(second);
  renamed.code = "aaa";
  renamed.invited = {"u7", "u8"};
  renamed.title = "changed";
  EXPECT_THROW(s.updateMeeting(renamed, auditEntry("meeting.update")), StoreConflict);
  EXPECT_EQ(this->snapshot(), before);  // invitations included
  EXPECT_EQ(s.createMeeting(sampleMeeting("ccc", 1, 2), auditEntry("meeting.create")), 3);
}

TYPED_TEST(StoreContractTest, MeetingsQueryFiltersAndOrders) {
  Store& s = this->store();
  auto add = [&](std::string code, core::UnixTime from, core::UnixTime to, MeetingState state,
                 std::vector<std::string> invited) {
    Meeting m = sampleMeeting(std::move(code), from, to, std::move(invited));
    m.state = state;
    s.createMeeting(m, auditEntry("meeting.create"));
  };
  // Created out of time order; "late-b" before "late-a" so the id breaks their tie.
  add("late-b", 300, 400, MeetingState::kScheduled, {"u1"});
  add("early", 100, 200, MeetingState::kEnded, {"u1", "u2"});
  add("late-a", 300, 350, MeetingState::kOpen, {"u2"});
  add("middle", 200, 300, MeetingState::kLive, {});
  add("gone", 150, 250, MeetingState::kCancelled, {"u2", "u3"});

  EXPECT_EQ(codes(s.meetings({})),
            (std::vector<std::string>{"early", "gone", "middle", "late-b", "late-a"}));
  // [from, to) overlaps [startsAt, endsAt): touching ends do not count.
  EXPECT_EQ(codes(s.meetings(query(200, 300))), (std::vector<std::string>{"gone", "middle"}));
  EXPECT_EQ(codes(s.meetings(query(0, 100))), std::vector<std::string>{});
  EXPECT_EQ(codes(s.meetings(query(399, 10'000))), std::vector<std::string>{"late-b"});
  EXPECT_EQ(codes(s.meetings(
                inStates({MeetingState::kOpen, MeetingState::kScheduled, MeetingState::kOpen}))),
            (std::vector<std::string>{"late-b", "late-a"}));
  EXPECT_EQ(codes(s.meetings(inviting("u2"))),
            (std::vector<std::string>{"early", "gone", "late-a"}));
  EXPECT_EQ(
      codes(s.meetings(query(120, 1000, {MeetingState::kCancelled, MeetingState::kOpen}, "u2"))),
      (std::vector<std::string>{"gone", "late-a"}));
  EXPECT_EQ(codes(s.meetings(inviting("u9"))), std::vector<std::string>{});
  // Every state listed is the same as none.
  EXPECT_EQ(s.meetings(inStates({MeetingState::kScheduled, MeetingState::kOpen, MeetingState::kLive,
                                 MeetingState::kEnded, MeetingState::kCancelled})),
            s.meetings({}));
  // Listed meetings carry their invitations.
  EXPECT_EQ(s.meetings(inviting("u3")).front().invited, (std::vector<std::string>{"u2", "u3"}));
}

// ---- audit log ----

TYPED_TEST(StoreContractTest, AuditPagesNewestFirst) {
  Store& s = this->store();
  EXPECT_TRUE(s.audit(0, 10).empty());
  for (int i = 1; i <= 7; ++i) {
    AuditEntry e{999,
                 1000 + i,
                 i,
                 "room:u" + std::to_string(i),
                 "room.join",
                 "meeting:" + std::to_string(i),
                 "{\"n\":" + std::to_string(i) + "}"};
    s.appendAudit(e);
  }
  const auto page1 = s.audit(0, 3);
  ASSERT_EQ(page1.size(), 3u);
  EXPECT_EQ(page1[0], (AuditEntry{7, 1007, 7, "room:u7", "room.join", "meeting:7", "{\"n\":7}"}));
  EXPECT_EQ(page1[2].id, 5);
  const auto page2 = s.audit(page1.back().id, 3);
  ASSERT_EQ(page2.size(), 3u);
  EXPECT_EQ(page2[0].id, 4);
  EXPECT_EQ(page2[2].id, 2);
  const auto page3 = s.audit(page2.back().id, 3);
  ASSERT_EQ(page3.size(), 1u);
  EXPECT_EQ(page3[0].id, 1);
  EXPECT_TRUE(s.audit(1, 3).empty());
  EXPECT_TRUE(s.audit(0, 0).empty());
  EXPECT_EQ(s.audit(100, 100).size(), 7u);
}

TYPED_TEST(StoreContractTest, EveryMutationWritesItsOwnAuditEntry) {
  Store& s = this->store();
  s.createAccount(sampleAccount("alice"), auditEntry("account.create", "account:1", 1));
  s.saveOrgTree(treeUnits(), 2, 1, auditEntry("tree.import", "", 2));
  s.createRoomLink(this->link("u1", "d1", 3), auditEntry("link.create", "unit:u1", 3));
  s.createMeeting(sampleMeeting("m-1", 10, 20), auditEntry("meeting.create", "meeting:1", 4));
  std::vector<std::string> actions;
  for (const auto& e : s.audit(0, 100)) actions.push_back(e.action + "@" + std::to_string(e.at));
  EXPECT_EQ(actions, (std::vector<std::string>{"meeting.create@4", "link.create@3", "tree.import@2",
                                               "account.create@1"}));
}

// ---- threads ----

TYPED_TEST(StoreContractTest, ConcurrentWritersGetDistinctIds) {
  Store& s = this->store();
  constexpr int kThreads = 4;
  constexpr int kEach = 10;
  std::vector<std::vector<core::MeetingId>> ids(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        const auto code = "t" + std::to_string(t) + "-" + std::to_string(i);
        ids[t].push_back(s.createMeeting(sampleMeeting(code, i, i + 1, {code}),
                                         auditEntry("meeting.create", code)));
      }
    });
  }
  for (auto& thread : threads) thread.join();

  std::set<core::MeetingId> all;
  for (const auto& list : ids) all.insert(list.begin(), list.end());
  EXPECT_EQ(all.size(), std::size_t{kThreads * kEach});
  EXPECT_EQ(*all.begin(), 1);
  EXPECT_EQ(*all.rbegin(), kThreads * kEach);
  EXPECT_EQ(s.meetings({}).size(), std::size_t{kThreads * kEach});
  EXPECT_EQ(s.audit(0, 1000).size(), std::size_t{kThreads * kEach});
  for (const auto& list : ids) {
    for (auto id : list)
      EXPECT_EQ(s.meeting(id)->invited, std::vector<std::string>{s.meeting(id)->code});
  }
}

}  // namespace
}  // namespace mcu::store
