// What only the SQLite store promises: the data is on disk (it survives a reopen and a killed
// writer), the file is set up as documented (WAL, foreign keys, schema version), a file of the
// first schema version opens with everything in it, and a file from a newer build is refused. The
// file is inspected through a second, raw SQLite connection.
#include "mcu/store/SqliteStore.hpp"

#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <memory>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "tests/unit/store/StoreTestSupport.hpp"

namespace mcu::store {
namespace {

using core::AuditEntry;
using core::Meeting;
using core::MeetingId;
using core::StoreConflict;
using core::StoreError;
using test::auditEntry;
using test::sampleAccount;
using test::sampleMeeting;
using test::TempDir;

// A second connection to the file, for looking at it from outside the store.
class RawDb {
 public:
  explicit RawDb(const std::string& path, bool create = false) {
    sqlite3* raw = nullptr;
    const int flags = SQLITE_OPEN_READWRITE | (create ? SQLITE_OPEN_CREATE : 0);
    const int rc = sqlite3_open_v2(path.c_str(), &raw, flags, nullptr);
    db_.reset(raw);
    if (rc != SQLITE_OK) throw std::runtime_error("cannot open " + path);
    sqlite3_busy_timeout(raw, 10'000);
  }
  // Runs a statement (no parameters) and returns its first column, one string per row.
  std::vector<std::string> rows(const std::string& sql) {
    sqlite3_stmt* raw = nullptr;
    if (sqlite3_prepare_v2(db_.get(), sql.c_str(), -1, &raw, nullptr) != SQLITE_OK)
      throw std::runtime_error(sqlite3_errmsg(db_.get()));
    std::unique_ptr<sqlite3_stmt, decltype(&sqlite3_finalize)> stmt(raw, &sqlite3_finalize);
    std::vector<std::string> out;
    int rc;
    while ((rc = sqlite3_step(raw)) == SQLITE_ROW) {
      const auto* text = sqlite3_column_text(raw, 0);
      out.emplace_back(text ? reinterpret_cast<const char*>(text) : "");
    }
    if (rc != SQLITE_DONE) throw std::runtime_error(sqlite3_errmsg(db_.get()));
    return out;
  }
  // Runs semicolon-separated statements without parameters.
  void exec(const std::string& sql) {
    char* error = nullptr;
    if (sqlite3_exec(db_.get(), sql.c_str(), nullptr, nullptr, &error) != SQLITE_OK) {
      const std::string message = error ? error : "unknown error";
      sqlite3_free(error);
      throw std::runtime_error(message);
    }
  }
  std::string value(const std::string& sql) {
    const auto all = rows(sql);
    return all.empty() ? std::string() : all.front();
  }

 private:
  struct Closer {
    void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
  };
  std::unique_ptr<sqlite3, Closer> db_;
};

class SqliteStoreTest : public ::testing::Test {
 protected:
  TempDir dir_;
  const std::string path_ = dir_.file("mcu.db");
};

TEST_F(SqliteStoreTest, DataSurvivesCloseAndReopen) {
  Meeting meeting = sampleMeeting("weekly", 1000, 2000, {"u2", "u1"});
  std::vector<AuditEntry> audit;
  {
    SqliteStore store(path_);
    store.createAccount(sampleAccount("alice"), auditEntry("account.create"));
    store.createSession(core::Session{"s1", 1, 10, 20, false});
    store.saveOrgTree({core::Unit{"p", "Tỉnh", core::UnitKind::kProvince, "", 0, {"old"}, true}}, 5,
                      1, auditEntry("tree.import"));
    store.createRoomLink(core::RoomLink{0, "u1", "digest", 100, 1, 0}, auditEntry("link.create"));
    meeting.id = store.createMeeting(meeting, auditEntry("meeting.create"));
    audit = store.audit(0, 100);
  }
  SqliteStore store(path_);
  auto alice = sampleAccount("alice");
  alice.id = 1;
  EXPECT_EQ(store.account(1), alice);
  EXPECT_EQ(store.session("s1"), (core::Session{"s1", 1, 10, 20, false}));
  ASSERT_TRUE(store.latestOrgTree());
  EXPECT_EQ(store.latestOrgTree()->units.front().formerIds, std::vector<std::string>{"old"});
  EXPECT_EQ(store.activeRoomLinks().size(), 1u);
  meeting.invited = {"u1", "u2"};
  EXPECT_EQ(store.meeting(meeting.id), meeting);
  EXPECT_EQ(store.audit(0, 100), audit);
  // Ids go on from where they were.
  EXPECT_EQ(store.createMeeting(sampleMeeting("next", 1, 2), auditEntry("meeting.create")), 2);
}

TEST_F(SqliteStoreTest, CreatesMissingParentDirectories) {
  const auto nested = dir_.path() / "a" / "b" / "mcu.db";
  SqliteStore store(nested.string());
  EXPECT_TRUE(std::filesystem::exists(nested));
}

TEST_F(SqliteStoreTest, InMemoryDatabaseWorks) {
  SqliteStore store(":memory:");
  EXPECT_EQ(store.createAccount(sampleAccount("alice"), auditEntry("account.create")), 1);
  EXPECT_EQ(store.accountByUsername("alice")->id, 1);
}

TEST_F(SqliteStoreTest, UnopenablePathIsAStoreError) {
  std::filesystem::create_directories(dir_.path() / "a-directory");
  EXPECT_THROW(SqliteStore((dir_.path() / "a-directory").string()), StoreError);
}

TEST_F(SqliteStoreTest, FileIsInWalModeWithTheCurrentSchemaVersion) {
  { SqliteStore store(path_); }
  RawDb raw(path_);
  EXPECT_EQ(raw.value("PRAGMA journal_mode"), "wal");
  EXPECT_EQ(raw.value("SELECT version FROM schema_version"),
            std::to_string(SqliteStore::kSchemaVersion));
  EXPECT_EQ(raw.value("SELECT count(*) FROM schema_version"), "1");
}

// A file as the first release wrote it: schema version 1, written here statement by statement
// (not with the store's own migration script, which is what is under test), with a row in every
// table. Frozen: when the schema moves on, this stays as it is and tests the upgrade path.
constexpr const char* kVersion1File = R"sql(
PRAGMA journal_mode = WAL;
BEGIN;
CREATE TABLE schema_version (version INTEGER NOT NULL);
INSERT INTO schema_version (version) VALUES (1);
CREATE TABLE accounts (id INTEGER PRIMARY KEY AUTOINCREMENT, username TEXT NOT NULL UNIQUE,
  display_name TEXT NOT NULL, role TEXT NOT NULL, password_hash TEXT NOT NULL,
  disabled INTEGER NOT NULL, must_change_password INTEGER NOT NULL, created_at INTEGER NOT NULL);
CREATE TABLE sessions (id TEXT PRIMARY KEY NOT NULL,
  account_id INTEGER NOT NULL REFERENCES accounts (id), created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL, revoked INTEGER NOT NULL);
CREATE INDEX sessions_by_account ON sessions (account_id);
CREATE INDEX sessions_by_expiry ON sessions (expires_at);
CREATE TABLE org_tree_versions (version INTEGER PRIMARY KEY, imported_at INTEGER NOT NULL,
  imported_by INTEGER NOT NULL);
CREATE TABLE org_units (version INTEGER NOT NULL REFERENCES org_tree_versions (version),
  position INTEGER NOT NULL, id TEXT NOT NULL, name TEXT NOT NULL, kind TEXT NOT NULL,
  parent_id TEXT NOT NULL, sort_order INTEGER NOT NULL, active INTEGER NOT NULL,
  PRIMARY KEY (version, position)) WITHOUT ROWID;
CREATE TABLE org_former_ids (version INTEGER NOT NULL, unit_position INTEGER NOT NULL,
  position INTEGER NOT NULL, former_id TEXT NOT NULL,
  PRIMARY KEY (version, unit_position, position),
  FOREIGN KEY (version, unit_position) REFERENCES org_units (version, position)) WITHOUT ROWID;
CREATE TABLE room_links (id INTEGER PRIMARY KEY AUTOINCREMENT, unit_id TEXT NOT NULL,
  secret_digest TEXT NOT NULL UNIQUE, created_at INTEGER NOT NULL, created_by INTEGER NOT NULL,
  revoked_at INTEGER NOT NULL);
CREATE UNIQUE INDEX room_links_one_active ON room_links (unit_id) WHERE revoked_at = 0;
CREATE TABLE meetings (id INTEGER PRIMARY KEY AUTOINCREMENT, code TEXT NOT NULL UNIQUE,
  title TEXT NOT NULL, starts_at INTEGER NOT NULL, ends_at INTEGER NOT NULL,
  chair_id INTEGER NOT NULL, state TEXT NOT NULL, access TEXT NOT NULL, locked INTEGER NOT NULL,
  created_by INTEGER NOT NULL, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL);
CREATE INDEX meetings_by_time ON meetings (starts_at);
CREATE TABLE invitations (meeting_id INTEGER NOT NULL REFERENCES meetings (id) ON DELETE CASCADE,
  unit_id TEXT NOT NULL, PRIMARY KEY (meeting_id, unit_id)) WITHOUT ROWID;
CREATE INDEX invitations_by_unit ON invitations (unit_id, meeting_id);
CREATE TABLE audit (id INTEGER PRIMARY KEY AUTOINCREMENT, at INTEGER NOT NULL,
  actor_id INTEGER NOT NULL, actor TEXT NOT NULL, action TEXT NOT NULL, target TEXT NOT NULL,
  detail TEXT NOT NULL);

INSERT INTO accounts VALUES (1, 'admin', 'Quản trị', 'admin', 'h:pw', 0, 0, 100);
INSERT INTO accounts VALUES (2, 'chu-tri', 'Chủ trì', 'host', 'h:pw2', 1, 1, 110);
INSERT INTO sessions VALUES ('s1', 1, 200, 900, 0);
INSERT INTO org_tree_versions VALUES (1, 100, 0);
INSERT INTO org_units VALUES (1, 0, 'lc', 'UBND tỉnh Lào Cai', 'province', '', 0, 1);
INSERT INTO org_units VALUES (1, 1, 'lc.xa.ban-lau', 'xã Bản Lầu', 'commune', 'lc', 40, 1);
INSERT INTO org_units VALUES (1, 2, 'lc.xa.cu', 'xã Cũ', 'commune', 'lc', 41, 0);
INSERT INTO org_former_ids VALUES (1, 1, 0, 'lc.bx.xa.ban-lau');
INSERT INTO room_links VALUES (1, 'lc.xa.ban-lau', 'd:old', 150, 1, 160);
INSERT INTO room_links VALUES (2, 'lc.xa.ban-lau', 'd:new', 160, 1, 0);
INSERT INTO meetings VALUES (7, 'giao-ban', 'Giao ban tuần', 1000, 2000, 2, 'live', 'anyone', 1,
  1, 300, 400);
INSERT INTO invitations VALUES (7, 'lc.xa.ban-lau');
INSERT INTO invitations VALUES (7, 'lc.xa.cu');
INSERT INTO audit VALUES (1, 100, 0, 'server', 'units.import', 'units', '3 units');
INSERT INTO audit VALUES (2, 300, 1, 'admin', 'meeting.create', 'meeting:7', '');
COMMIT;
)sql";

TEST_F(SqliteStoreTest, AVersion1FileOpensWithEverythingInIt) {
  RawDb(path_, /*create=*/true).exec(kVersion1File);
  {
    SqliteStore store(path_);
    const auto admin = store.accountByUsername("admin");
    ASSERT_TRUE(admin);
    EXPECT_EQ(*admin, (core::Account{1, "admin", "Quản trị", core::Role::kAdmin, "h:pw", false,
                                     false, 100}));
    EXPECT_EQ(store.account(2)->role, core::Role::kHost);
    EXPECT_TRUE(store.account(2)->disabled);
    EXPECT_TRUE(store.account(2)->mustChangePassword);
    EXPECT_EQ(store.session("s1"), (core::Session{"s1", 1, 200, 900, false}));

    const auto tree = store.latestOrgTree();
    ASSERT_TRUE(tree);
    EXPECT_EQ(tree->version, 1);
    ASSERT_EQ(tree->units.size(), 3u);
    EXPECT_EQ(tree->units[1], (core::Unit{"lc.xa.ban-lau",
                                          "xã Bản Lầu",
                                          core::UnitKind::kCommune,
                                          "lc",
                                          40,
                                          {"lc.bx.xa.ban-lau"},
                                          true}));
    EXPECT_FALSE(tree->units[2].active);
    EXPECT_EQ(core::OrgTree(tree->units).find("lc.bx.xa.ban-lau")->id, "lc.xa.ban-lau");

    EXPECT_EQ(store.roomLinkByDigest("d:old")->revokedAt, 160);
    ASSERT_EQ(store.activeRoomLinks().size(), 1u);
    EXPECT_EQ(store.activeRoomLinks()[0].secretDigest, "d:new");

    const auto meeting = store.meetingByCode("giao-ban");
    ASSERT_TRUE(meeting);
    EXPECT_EQ(*meeting,
              (Meeting{7, "giao-ban", "Giao ban tuần", 1000, 2000, 2, core::MeetingState::kLive,
                       core::MeetingAccess::kAnyone, true,
                       std::vector<std::string>{"lc.xa.ban-lau", "lc.xa.cu"}, 1, 300, 400}));
    core::MeetingQuery invitedCu;
    invitedCu.invitedUnit = "lc.xa.cu";
    EXPECT_EQ(store.meetings(invitedCu).size(), 1u);
    const auto audit = store.audit(0, 10);
    ASSERT_EQ(audit.size(), 2u);
    EXPECT_EQ(audit[0].action, "meeting.create");

    // It is writable, and ids go on from where the old file left them.
    EXPECT_EQ(store.createMeeting(sampleMeeting("next", 3000, 4000, {"lc.xa.ban-lau"}),
                                  auditEntry("meeting.create")),
              8);
    EXPECT_EQ(store.createAccount(sampleAccount("ky-thuat"), auditEntry("account.create")), 3);
    EXPECT_EQ(store.saveOrgTree(tree->units, 500, 1, auditEntry("units.import")), 2);
  }
  // Upgraded in place, once: the file now says the current version and keeps its rows.
  RawDb raw(path_);
  EXPECT_EQ(raw.value("SELECT version FROM schema_version"),
            std::to_string(SqliteStore::kSchemaVersion));
  EXPECT_EQ(raw.value("SELECT count(*) FROM schema_version"), "1");
  EXPECT_EQ(raw.value("SELECT count(*) FROM meetings"), "2");
  EXPECT_EQ(raw.value("PRAGMA foreign_key_check"), "");
  EXPECT_EQ(raw.value("PRAGMA integrity_check"), "ok");
}

TEST_F(SqliteStoreTest, NewerSchemaIsRefusedWithAClearMessage) {
  { SqliteStore store(path_); }
  RawDb(path_).rows("UPDATE schema_version SET version = " +
                    std::to_string(SqliteStore::kSchemaVersion + 1));
  try {
    SqliteStore store(path_);
    FAIL() << "a newer schema was accepted";
  } catch (const StoreError& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("schema version " + std::to_string(SqliteStore::kSchemaVersion + 1)),
              std::string::npos)
        << message;
    EXPECT_NE(message.find("newer"), std::string::npos) << message;
  }
  // Refused without touching it.
  EXPECT_EQ(RawDb(path_).value("SELECT version FROM schema_version"),
            std::to_string(SqliteStore::kSchemaVersion + 1));
}

TEST_F(SqliteStoreTest, ForeignKeysAreEnforced) {
  SqliteStore store(path_);
  // A session of an account that does not exist: a failure, not a conflict.
  try {
    store.createSession(core::Session{"s1", 42, 10, 20, false});
    FAIL() << "a session of a missing account was stored";
  } catch (const StoreConflict& e) {
    FAIL() << "reported as a conflict: " << e.what();
  } catch (const StoreError& e) {
    EXPECT_NE(std::string(e.what()).find("FOREIGN KEY"), std::string::npos) << e.what();
  }
  EXPECT_EQ(store.session("s1"), std::nullopt);

  // The schema cascades a meeting's invitations (checked on a raw connection with FKs on).
  const auto id =
      store.createMeeting(sampleMeeting("m", 1, 2, {"u1", "u2"}), auditEntry("meeting.create"));
  RawDb raw(path_);
  raw.rows("PRAGMA foreign_keys = ON");
  raw.rows("DELETE FROM meetings WHERE id = " + std::to_string(id));
  EXPECT_EQ(raw.value("SELECT count(*) FROM invitations"), "0");
  EXPECT_TRUE(raw.rows("PRAGMA foreign_key_check").empty());
}

// ---- crash safety ----

constexpr int kInvitationsPerMeeting = 50;
constexpr int kAcknowledgementsPerRound = 20;
constexpr int kRounds = 3;         // each kill is another chance to land inside a transaction
constexpr int kWriterThreads = 2;  // while one acknowledges, the other is usually mid-transaction
constexpr int kPipeTimeoutMs = 120'000;  // generous: the machine may be busy; only a bound

// Derived from the code, so a reader can tell a complete set from a partial one.
std::vector<std::string> invitationsOf(const std::string& code) {
  std::vector<std::string> units;
  for (int u = 0; u < kInvitationsPerMeeting; ++u)
    units.push_back(code + ".u" + std::to_string(100 + u));  // same width: already sorted
  return units;
}

// The child: writer threads create meetings until the process is killed, each reporting an id on
// the pipe once createMeeting has returned. Never returns into the test runner; a write to a pipe
// nobody reads (the parent gone) ends it too.
[[noreturn]] void writeMeetingsUntilKilled(const std::string& path, int round, int out) {
  try {
    SqliteStore store(path);
    std::vector<std::thread> writers;
    for (int t = 0; t < kWriterThreads; ++t) {
      writers.emplace_back([&store, round, out, t] {
        try {
          for (int i = 0; i < 1'000'000; ++i) {
            const std::string code =
                "r" + std::to_string(round) + "-t" + std::to_string(t) + "-" + std::to_string(i);
            const MeetingId id = store.createMeeting(
                sampleMeeting(code, i, i + 1, invitationsOf(code)), auditEntry("meeting.create"));
            // 8 bytes: below PIPE_BUF, so the two threads' writes never interleave.
            if (write(out, &id, sizeof id) != static_cast<ssize_t>(sizeof id)) _exit(3);
          }
        } catch (...) {
          _exit(2);
        }
        _exit(0);
      });
    }
    for (auto& w : writers) w.join();
  } catch (...) {
    _exit(2);
  }
  _exit(0);
}

// Reads one id; nullopt at end of file (the child is gone). Throws on a timeout.
std::optional<MeetingId> readId(int in) {
  MeetingId id = 0;
  std::size_t got = 0;
  while (got < sizeof id) {
    pollfd pfd{in, POLLIN, 0};
    const int ready = poll(&pfd, 1, kPipeTimeoutMs);
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) throw std::runtime_error("no word from the writer process in time");
    const ssize_t n = read(in, reinterpret_cast<char*>(&id) + got, sizeof id - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw std::runtime_error(std::string("read: ") + std::strerror(errno));
    if (n == 0) {
      if (got != 0) throw std::runtime_error("truncated id on the pipe");
      return std::nullopt;
    }
    got += static_cast<std::size_t>(n);
  }
  return id;
}

// Kills and reaps the child however the test ends.
class ChildProcess {
 public:
  explicit ChildProcess(pid_t pid) : pid_(pid) {}
  ~ChildProcess() {
    if (pid_ > 0) killAndWait();
  }
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;
  // Returns the wait status.
  int killAndWait() {
    kill(pid_, SIGKILL);
    int status = 0;
    while (waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
    pid_ = -1;
    return status;
  }

 private:
  pid_t pid_;
};

struct Fd {
  int fd = -1;
  ~Fd() { reset(); }
  void reset() {
    if (fd >= 0) close(fd);
    fd = -1;
  }
};

// Forks a writer, SIGKILLs it once it has acknowledged kAcknowledgementsPerRound meetings, and
// adds every id it acknowledged (also those sent just before the kill) to `acknowledged`.
void runWriterUntilKilled(const std::string& path, int round, std::set<MeetingId>& acknowledged) {
  int fds[2];
  ASSERT_EQ(pipe(fds), 0) << std::strerror(errno);
  Fd readEnd{fds[0]};
  Fd writeEnd{fds[1]};
  const pid_t pid = fork();
  ASSERT_GE(pid, 0) << std::strerror(errno);
  if (pid == 0) {
    readEnd.reset();
    writeMeetingsUntilKilled(path, round, writeEnd.fd);
  }
  ChildProcess child(pid);
  writeEnd.reset();  // so the pipe reports end of file once the child is gone

  for (int n = 0; n < kAcknowledgementsPerRound; ++n) {
    const auto id = readId(readEnd.fd);
    ASSERT_TRUE(id) << "the writer died by itself after " << n << " meetings";
    acknowledged.insert(*id);
  }
  const int status = child.killAndWait();
  ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << "wait status " << status;
  while (const auto id = readId(readEnd.fd)) acknowledged.insert(*id);
}

// The file is sound, every acknowledged meeting is there, and no meeting (acknowledged or caught
// by the kill between commit and acknowledgement) lacks any of its invitations or its audit row.
void expectOnlyWholeMeetings(const std::string& path, const std::set<MeetingId>& acknowledged) {
  ASSERT_EQ(RawDb(path).value("PRAGMA integrity_check"), "ok");
  SqliteStore store(path);
  const auto all = store.meetings({});
  for (const auto& m : all)
    EXPECT_EQ(m.invited, invitationsOf(m.code)) << "meeting " << m.id << " is partial";
  for (const MeetingId id : acknowledged)
    EXPECT_TRUE(store.meeting(id)) << "acknowledged meeting " << id << " is missing";
  EXPECT_EQ(store.audit(0, 1'000'000).size(), all.size());
  EXPECT_TRUE(RawDb(path).rows("PRAGMA foreign_key_check").empty());
}

TEST_F(SqliteStoreTest, KilledWriterLeavesOnlyWholeCommittedMeetings) {
  { SqliteStore store(path_); }  // create the file before forking: the children only write
  std::set<MeetingId> acknowledged;
  for (int round = 0; round < kRounds; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    ASSERT_NO_FATAL_FAILURE(runWriterUntilKilled(path_, round, acknowledged));
    ASSERT_NO_FATAL_FAILURE(expectOnlyWholeMeetings(path_, acknowledged));
  }
  EXPECT_GE(acknowledged.size(), std::size_t{kRounds * kAcknowledgementsPerRound});
}

}  // namespace
}  // namespace mcu::store
