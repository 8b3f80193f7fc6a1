#include "mcu/store/SqliteStore.hpp"

#include <sqlite3.h>

#include <algorithm>
#include <array>
#include <filesystem>
#include <limits>
#include <stdexcept>
#include <string_view>
#include <type_traits>
#include <unordered_map>
#include <utility>

namespace mcu::store {

using core::Account;
using core::AccountId;
using core::AuditEntry;
using core::Meeting;
using core::MeetingId;
using core::MeetingQuery;
using core::MeetingState;
using core::OrgTreeVersion;
using core::RoomLink;
using core::Session;
using core::StoreConflict;
using core::StoreError;
using core::Unit;
using core::UnixTime;

namespace {

// ---- the schema ----

// Step i takes the schema from version i to i + 1 and runs in its own transaction. Append only:
// a released step is never edited, because databases in the field have already run it.
// Accounts are never deleted, and ids that history refers to ("meeting:12") must never be reused,
// hence AUTOINCREMENT. Account references outside sessions (created_by, chair_id, actor_id) are
// not foreign keys: 0 means "none" there, and the audit log must outlive what it names.
constexpr std::array<std::string_view, 1> kMigrations = {
    R"sql(
CREATE TABLE schema_version (version INTEGER NOT NULL);
INSERT INTO schema_version (version) VALUES (0);

CREATE TABLE accounts (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  username TEXT NOT NULL UNIQUE,
  display_name TEXT NOT NULL,
  role TEXT NOT NULL,
  password_hash TEXT NOT NULL,
  disabled INTEGER NOT NULL,
  must_change_password INTEGER NOT NULL,
  created_at INTEGER NOT NULL
);

CREATE TABLE sessions (
  id TEXT PRIMARY KEY NOT NULL,
  account_id INTEGER NOT NULL REFERENCES accounts (id),
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  revoked INTEGER NOT NULL
);
CREATE INDEX sessions_by_account ON sessions (account_id);
CREATE INDEX sessions_by_expiry ON sessions (expires_at);

CREATE TABLE org_tree_versions (
  version INTEGER PRIMARY KEY,
  imported_at INTEGER NOT NULL,
  imported_by INTEGER NOT NULL
);
CREATE TABLE org_units (
  version INTEGER NOT NULL REFERENCES org_tree_versions (version),
  position INTEGER NOT NULL,
  id TEXT NOT NULL,
  name TEXT NOT NULL,
  kind TEXT NOT NULL,
  parent_id TEXT NOT NULL,
  sort_order INTEGER NOT NULL,
  active INTEGER NOT NULL,
  PRIMARY KEY (version, position)
) WITHOUT ROWID;
CREATE TABLE org_former_ids (
  version INTEGER NOT NULL,
  unit_position INTEGER NOT NULL,
  position INTEGER NOT NULL,
  former_id TEXT NOT NULL,
  PRIMARY KEY (version, unit_position, position),
  FOREIGN KEY (version, unit_position) REFERENCES org_units (version, position)
) WITHOUT ROWID;

CREATE TABLE room_links (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  unit_id TEXT NOT NULL,
  secret_digest TEXT NOT NULL UNIQUE,
  created_at INTEGER NOT NULL,
  created_by INTEGER NOT NULL,
  revoked_at INTEGER NOT NULL
);
-- At most one active link per unit, enforced by the file itself.
CREATE UNIQUE INDEX room_links_one_active ON room_links (unit_id) WHERE revoked_at = 0;

CREATE TABLE meetings (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  code TEXT NOT NULL UNIQUE,
  title TEXT NOT NULL,
  starts_at INTEGER NOT NULL,
  ends_at INTEGER NOT NULL,
  chair_id INTEGER NOT NULL,
  state TEXT NOT NULL,
  access TEXT NOT NULL,
  locked INTEGER NOT NULL,
  created_by INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
-- By start: the index order (starts_at, then rowid) is the order meetings() returns.
CREATE INDEX meetings_by_time ON meetings (starts_at);
CREATE TABLE invitations (
  meeting_id INTEGER NOT NULL REFERENCES meetings (id) ON DELETE CASCADE,
  unit_id TEXT NOT NULL,
  PRIMARY KEY (meeting_id, unit_id)
) WITHOUT ROWID;
CREATE INDEX invitations_by_unit ON invitations (unit_id, meeting_id);

CREATE TABLE audit (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  at INTEGER NOT NULL,
  actor_id INTEGER NOT NULL,
  actor TEXT NOT NULL,
  action TEXT NOT NULL,
  target TEXT NOT NULL,
  detail TEXT NOT NULL
);
)sql",
};
static_assert(kMigrations.size() == SqliteStore::kSchemaVersion);

constexpr int kBusyTimeoutMs = 10'000;  // another process (a backup, the CLI) holding the file

// ---- RAII handles ----

struct ConnectionCloser {
  void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};
struct StatementFinalizer {
  void operator()(sqlite3_stmt* stmt) const { sqlite3_finalize(stmt); }
};
using ConnectionHandle = std::unique_ptr<sqlite3, ConnectionCloser>;
using StatementHandle = std::unique_ptr<sqlite3_stmt, StatementFinalizer>;

// The one place SQLite result codes become exceptions: a taken unique key is a conflict the
// caller can act on, anything else is a failure of the medium.
[[noreturn]] void fail(sqlite3* db, int rc, std::string_view context) {
  std::string message =
      "sqlite: " + std::string(sqlite3_errmsg(db)) + " (" + std::string(context) + ")";
  if (rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY)
    throw StoreConflict(message);
  throw StoreError(message);
}

// One use of a cached prepared statement: binds parameters (1-based), steps, reads columns (0-
// based), and resets the statement when it goes out of scope so the cache can hand it out again.
class Query {
 public:
  Query(sqlite3* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}
  ~Query() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }
  Query(const Query&) = delete;
  Query& operator=(const Query&) = delete;

  Query& bind(int index, std::int64_t value) {
    check(sqlite3_bind_int64(stmt_, index, value));
    return *this;
  }
  Query& bind(int index, std::string_view value) {
    // A default string_view has no data pointer, which SQLite would store as NULL.
    check(sqlite3_bind_text64(stmt_, index, value.data() ? value.data() : "", value.size(),
                              SQLITE_TRANSIENT, SQLITE_UTF8));
    return *this;
  }
  Query& bind(int index, const std::string& value) { return bind(index, std::string_view(value)); }
  Query& bind(int index, bool value) { return bind(index, std::int64_t{value ? 1 : 0}); }
  Query& bind(int index, const char* value) = delete;  // would silently bind as a bool

  // True when a row is ready, false when the statement is done.
  bool step() {
    const int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    fail(db_, rc, sqlite3_sql(stmt_));
  }
  // For statements that return no rows (or whose rows do not matter).
  void run() {
    while (step()) {
    }
  }

  std::int64_t integer(int column) const { return sqlite3_column_int64(stmt_, column); }
  bool flag(int column) const { return integer(column) != 0; }
  std::string text(int column) const {
    const auto* data = sqlite3_column_text(stmt_, column);
    const int size = sqlite3_column_bytes(stmt_, column);  // after column_text, as documented
    return data ? std::string(reinterpret_cast<const char*>(data), size) : std::string();
  }

 private:
  void check(int rc) {
    if (rc != SQLITE_OK) fail(db_, rc, sqlite3_sql(stmt_));
  }

  sqlite3* db_;
  sqlite3_stmt* stmt_;
};

}  // namespace

// ---- the connection ----

// The sqlite3 handle and a cache of its prepared statements, keyed by their SQL text. Not
// thread-safe: SqliteStore's mutex guards it.
class SqliteConnection {
 public:
  explicit SqliteConnection(const std::string& path) {
    sqlite3* raw = nullptr;
    const int rc = sqlite3_open_v2(path.c_str(), &raw,
                                   SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
                                       SQLITE_OPEN_NOMUTEX,  // SqliteStore serialises calls
                                   nullptr);
    db_.reset(raw);  // owned even on failure, which still allocates a handle
    if (rc != SQLITE_OK) {
      throw StoreError("cannot open database '" + path +
                       "': " + (raw ? sqlite3_errmsg(raw) : sqlite3_errstr(rc)));
    }
    sqlite3_extended_result_codes(raw, 1);  // tells a UNIQUE violation from other constraints
  }

  sqlite3* handle() const { return db_.get(); }

  // `sql` must have static storage (a literal): the cache keys on the text it points to.
  Query query(std::string_view sql) {
    auto it = statements_.find(sql);
    if (it == statements_.end()) {
      sqlite3_stmt* raw = nullptr;
      const int rc = sqlite3_prepare_v3(db_.get(), sql.data(), static_cast<int>(sql.size()),
                                        SQLITE_PREPARE_PERSISTENT, &raw, nullptr);
      StatementHandle stmt(raw);
      if (rc != SQLITE_OK) fail(db_.get(), rc, sql);
      it = statements_.emplace(sql, std::move(stmt)).first;
    }
    // Two live uses of one statement would trample each other's bindings and rows.
    if (sqlite3_stmt_busy(it->second.get()))
      throw std::logic_error("SqliteStore: statement used re-entrantly: " + std::string(sql));
    return Query(db_.get(), it->second.get());
  }

  // Runs semicolon-separated statements without parameters (migration scripts).
  void execScript(std::string_view script) {
    const std::string text(script);  // sqlite3_exec wants a terminated string
    const int rc = sqlite3_exec(db_.get(), text.c_str(), nullptr, nullptr, nullptr);
    if (rc != SQLITE_OK) fail(db_.get(), rc, "migration script");
  }

  std::int64_t lastInsertId() const { return sqlite3_last_insert_rowid(db_.get()); }
  std::int64_t changes() const { return sqlite3_changes64(db_.get()); }
  bool inTransaction() const { return sqlite3_get_autocommit(db_.get()) == 0; }

 private:
  ConnectionHandle db_;  // declared first: closed after the statements are finalised
  std::unordered_map<std::string_view, StatementHandle> statements_;
};

namespace {

// ---- transactions ----

// A write transaction takes the write lock up front (BEGIN IMMEDIATE), so it cannot fail half-way
// on a lock upgrade; a read transaction gives several SELECTs one consistent snapshot. Rolled back
// unless committed, so an exception anywhere in the body undoes everything.
class Transaction {
 public:
  enum class Kind { kRead, kWrite };
  Transaction(SqliteConnection& db, Kind kind) : db_(db) {
    db_.query(kind == Kind::kWrite ? "BEGIN IMMEDIATE" : "BEGIN DEFERRED").run();
  }
  ~Transaction() {
    // Some errors (SQLITE_FULL, SQLITE_IOERR, ...) have already rolled back by themselves.
    if (!committed_ && db_.inTransaction()) {
      try {
        db_.query("ROLLBACK").run();
      } catch (const StoreError&) {
        // Nothing more to do: the caller is already unwinding with the first error.
      }
    }
  }
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;

  void commit() {
    db_.query("COMMIT").run();
    committed_ = true;
  }

 private:
  SqliteConnection& db_;
  bool committed_ = false;
};

// Runs `body` in one transaction and returns what it returns.
template <typename Body>
auto inTransaction(SqliteConnection& db, Transaction::Kind kind, Body&& body) {
  Transaction tx(db, kind);
  if constexpr (std::is_void_v<decltype(body())>) {
    body();
    tx.commit();
  } else {
    auto result = body();
    tx.commit();
    return result;
  }
}

template <typename Body>
auto writing(SqliteConnection& db, Body&& body) {
  return inTransaction(db, Transaction::Kind::kWrite, std::forward<Body>(body));
}

template <typename Body>
auto reading(SqliteConnection& db, Body&& body) {
  return inTransaction(db, Transaction::Kind::kRead, std::forward<Body>(body));
}

// ---- setup ----

std::int64_t storedSchemaVersion(SqliteConnection& db) {
  auto exists = db.query(
      "SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = 'schema_version'");
  if (!exists.step() || exists.integer(0) == 0) return 0;  // a new, empty file
  auto version = db.query("SELECT version FROM schema_version");
  if (!version.step()) throw StoreError("database is damaged: schema_version has no row");
  return version.integer(0);
}

// Applies the missing migration steps, each in its own transaction, re-reading the version under
// the write lock so two processes opening a new file at once do not both migrate it.
void migrate(SqliteConnection& db) {
  for (;;) {
    Transaction tx(db, Transaction::Kind::kWrite);
    const std::int64_t version = storedSchemaVersion(db);
    if (version > SqliteStore::kSchemaVersion) {
      throw StoreError("database schema version " + std::to_string(version) +
                       " is newer than this build supports (" +
                       std::to_string(SqliteStore::kSchemaVersion) +
                       "): it was written by a newer server; upgrade the server");
    }
    if (version == SqliteStore::kSchemaVersion) return;  // the read-only check rolls back
    db.execScript(kMigrations[static_cast<std::size_t>(version)]);
    db.query("UPDATE schema_version SET version = ?1").bind(1, version + 1).run();
    tx.commit();
  }
}

std::string pragmaText(SqliteConnection& db, std::string_view sql) {
  auto q = db.query(sql);
  return q.step() ? q.text(0) : std::string();
}

void configure(SqliteConnection& db, bool inMemory) {
  // Set first, so switching the journal mode waits for another process instead of failing.
  sqlite3_busy_timeout(db.handle(), kBusyTimeoutMs);
  const std::string mode = pragmaText(db, "PRAGMA journal_mode = WAL");
  if (!inMemory && mode != "wal")
    throw StoreError("database cannot use WAL journaling (journal_mode is '" + mode + "')");
  db.query("PRAGMA synchronous = FULL").run();  // a commit survives power loss, not just a crash
  db.query("PRAGMA foreign_keys = ON").run();
  if (pragmaText(db, "PRAGMA foreign_keys") != "1")
    throw StoreError("this SQLite library does not enforce foreign keys");
}

// ---- rows ----

template <typename T>
T parsed(std::optional<T> value, const char* what, const std::string& text) {
  if (!value)
    throw StoreError("database is damaged: unknown " + std::string(what) + " '" + text + "'");
  return *value;
}

void bindAccountFields(Query& q, const Account& a) {
  q.bind(2, a.username)
      .bind(3, core::roleName(a.role))
      .bind(4, a.displayName)
      .bind(5, a.passwordHash)
      .bind(6, a.disabled)
      .bind(7, a.mustChangePassword);
}

// Columns of every account SELECT below, in this order.
Account readAccount(const Query& q) {
  Account a;
  a.id = q.integer(0);
  a.username = q.text(1);
  a.displayName = q.text(2);
  const std::string role = q.text(3);
  a.role = parsed(core::parseRole(role), "role", role);
  a.passwordHash = q.text(4);
  a.disabled = q.flag(5);
  a.mustChangePassword = q.flag(6);
  a.createdAt = q.integer(7);
  return a;
}

Session readSession(const Query& q) {
  return Session{q.text(0), q.integer(1), q.integer(2), q.integer(3), q.flag(4)};
}

RoomLink readRoomLink(const Query& q) {
  return RoomLink{q.integer(0), q.text(1), q.text(2), q.integer(3), q.integer(4), q.integer(5)};
}

// Columns of every meeting SELECT below, in this order.
Meeting readMeeting(const Query& q) {
  Meeting m;
  m.id = q.integer(0);
  m.code = q.text(1);
  m.title = q.text(2);
  m.startsAt = q.integer(3);
  m.endsAt = q.integer(4);
  m.chairId = q.integer(5);
  const std::string state = q.text(6);
  m.state = parsed(core::parseMeetingState(state), "meeting state", state);
  const std::string access = q.text(7);
  m.access = parsed(core::parseMeetingAccess(access), "meeting access", access);
  m.locked = q.flag(8);
  m.createdBy = q.integer(9);
  m.createdAt = q.integer(10);
  m.updatedAt = q.integer(11);
  return m;
}

AuditEntry readAudit(const Query& q) {
  return AuditEntry{q.integer(0), q.integer(1), q.integer(2), q.text(3),
                    q.text(4),    q.text(5),    q.text(6)};
}

void insertAudit(SqliteConnection& db, const AuditEntry& e) {
  db.query(
        "INSERT INTO audit (at, actor_id, actor, action, target, detail) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6)")
      .bind(1, e.at)
      .bind(2, e.actorId)
      .bind(3, e.actor)
      .bind(4, e.action)
      .bind(5, e.target)
      .bind(6, e.detail)
      .run();
}

// revokedAt 0 means "active", so revoking at time 0 would silently keep the link active.
void requireRevocationTime(UnixTime at) {
  if (at <= 0) throw std::invalid_argument("room link revocation time must be positive");
}

// A meeting's invitations are a set: stored sorted and without duplicates, as Meeting promises.
std::vector<std::string> normalisedInvitations(std::vector<std::string> units) {
  std::sort(units.begin(), units.end());
  units.erase(std::unique(units.begin(), units.end()), units.end());
  return units;
}

void insertInvitations(SqliteConnection& db, MeetingId id, const std::vector<std::string>& units) {
  for (const auto& unit : normalisedInvitations(units)) {
    db.query("INSERT INTO invitations (meeting_id, unit_id) VALUES (?1, ?2)")
        .bind(1, id)
        .bind(2, unit)
        .run();
  }
}

// BINARY collation orders like std::string, so the list comes back sorted as Meeting promises.
void loadInvitations(SqliteConnection& db, Meeting& m) {
  auto q = db.query("SELECT unit_id FROM invitations WHERE meeting_id = ?1 ORDER BY unit_id");
  q.bind(1, m.id);
  while (q.step()) m.invited.push_back(q.text(0));
}

std::vector<Meeting> collectMeetings(Query& q) {
  std::vector<Meeting> out;
  while (q.step()) out.push_back(readMeeting(q));
  return out;
}

// Binds the filters shared by both meeting queries: ?1 from, ?2 to, ?3 how many states, ?4..?8
// the states (a fixed list, so the SQL stays a literal; unused slots stay NULL and match nothing).
void bindMeetingQuery(Query& q, const MeetingQuery& query) {
  std::vector<MeetingState> states = query.states;
  std::sort(states.begin(), states.end());
  states.erase(std::unique(states.begin(), states.end()), states.end());
  q.bind(1, query.from).bind(2, query.to).bind(3, static_cast<std::int64_t>(states.size()));
  for (std::size_t i = 0; i < states.size() && i < 5; ++i)
    q.bind(4 + static_cast<int>(i), core::meetingStateName(states[i]));
}

// A unit's position in the list is its key within the version: the tree comes back in the order
// it was given, and former ids hang off that position in their own order.
void insertUnits(SqliteConnection& db, std::int64_t version, const std::vector<Unit>& units) {
  for (std::size_t i = 0; i < units.size(); ++i) {
    const Unit& u = units[i];
    const auto position = static_cast<std::int64_t>(i);
    db.query(
          "INSERT INTO org_units (version, position, id, name, kind, parent_id, sort_order, "
          "active) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)")
        .bind(1, version)
        .bind(2, position)
        .bind(3, u.id)
        .bind(4, u.name)
        .bind(5, core::unitKindName(u.kind))
        .bind(6, u.parentId)
        .bind(7, std::int64_t{u.order})
        .bind(8, u.active)
        .run();
    for (std::size_t f = 0; f < u.formerIds.size(); ++f) {
      db.query(
            "INSERT INTO org_former_ids (version, unit_position, position, former_id) "
            "VALUES (?1, ?2, ?3, ?4)")
          .bind(1, version)
          .bind(2, position)
          .bind(3, static_cast<std::int64_t>(f))
          .bind(4, u.formerIds[f])
          .run();
    }
  }
}

void loadUnits(SqliteConnection& db, OrgTreeVersion& tree) {
  auto units = db.query(
      "SELECT id, name, kind, parent_id, sort_order, active FROM org_units "
      "WHERE version = ?1 ORDER BY position");
  units.bind(1, tree.version);
  while (units.step()) {
    Unit u;
    u.id = units.text(0);
    u.name = units.text(1);
    const std::string kind = units.text(2);
    u.kind = parsed(core::parseUnitKind(kind), "unit kind", kind);
    u.parentId = units.text(3);
    u.order = static_cast<int>(units.integer(4));
    u.active = units.flag(5);
    tree.units.push_back(std::move(u));
  }
  auto former = db.query(
      "SELECT unit_position, former_id FROM org_former_ids "
      "WHERE version = ?1 ORDER BY unit_position, position");
  former.bind(1, tree.version);
  while (former.step()) {
    const auto position = static_cast<std::size_t>(former.integer(0));
    if (position >= tree.units.size()) throw StoreError("database is damaged: orphan former id");
    tree.units[position].formerIds.push_back(former.text(1));
  }
}

}  // namespace

// ---- SqliteStore ----

SqliteStore::SqliteStore(const std::string& path) {
  const bool inMemory = path == ":memory:";
  if (!inMemory) {
    const auto parent = std::filesystem::path(path).parent_path();
    std::error_code ec;
    if (!parent.empty()) std::filesystem::create_directories(parent, ec);
    if (ec) throw StoreError("cannot create directory '" + parent.string() + "': " + ec.message());
  }
  db_ = std::make_unique<SqliteConnection>(path);
  configure(*db_, inMemory);
  migrate(*db_);
}

SqliteStore::~SqliteStore() = default;

// ---- accounts ----

AccountId SqliteStore::createAccount(const Account& account, const AuditEntry& audit) {
  std::lock_guard lock(mutex_);
  return writing(*db_, [&] {
    auto q = db_->query(
        "INSERT INTO accounts (created_at, username, role, display_name, password_hash, disabled, "
        "must_change_password) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");
    q.bind(1, account.createdAt);
    bindAccountFields(q, account);
    q.run();
    const AccountId id = db_->lastInsertId();
    insertAudit(*db_, audit);
    return id;
  });
}

bool SqliteStore::updateAccount(const Account& account, const AuditEntry& audit) {
  std::lock_guard lock(mutex_);
  return writing(*db_, [&] {
    auto q = db_->query(
        "UPDATE accounts SET username = ?2, role = ?3, display_name = ?4, password_hash = ?5, "
        "disabled = ?6, must_change_password = ?7 WHERE id = ?1");
    q.bind(1, account.id);
    bindAccountFields(q, account);
    q.run();
    if (db_->changes() == 0) return false;
    insertAudit(*db_, audit);
    return true;
  });
}

std::optional<Account> SqliteStore::account(AccountId id) {
  std::lock_guard lock(mutex_);
  auto q = db_->query(
      "SELECT id, username, display_name, role, password_hash, disabled, must_change_password, "
      "created_at FROM accounts WHERE id = ?1");
  q.bind(1, id);
  if (!q.step()) return std::nullopt;
  return readAccount(q);
}

std::optional<Account> SqliteStore::accountByUsername(const std::string& username) {
  std::lock_guard lock(mutex_);
  auto q = db_->query(
      "SELECT id, username, display_name, role, password_hash, disabled, must_change_password, "
      "created_at FROM accounts WHERE username = ?1");
  q.bind(1, username);
  if (!q.step()) return std::nullopt;
  return readAccount(q);
}

std::vector<Account> SqliteStore::accounts() {
  std::lock_guard lock(mutex_);
  auto q = db_->query(
      "SELECT id, username, display_name, role, password_hash, disabled, must_change_password, "
      "created_at FROM accounts ORDER BY id");
  std::vector<Account> out;
  while (q.step()) out.push_back(readAccount(q));
  return out;
}

// ---- sessions ----

void SqliteStore::createSession(const Session& session) {
  std::lock_guard lock(mutex_);
  writing(*db_, [&] {
    db_->query(
           "INSERT INTO sessions (id, account_id, created_at, expires_at, revoked) "
           "VALUES (?1, ?2, ?3, ?4, ?5)")
        .bind(1, session.id)
        .bind(2, session.accountId)
        .bind(3, session.createdAt)
        .bind(4, session.expiresAt)
        .bind(5, session.revoked)
        .run();
  });
}

std::optional<Session> SqliteStore::session(const std::string& id) {
  std::lock_guard lock(mutex_);
  auto q = db_->query(
      "SELECT id, account_id, created_at, expires_at, revoked FROM sessions WHERE id = ?1");
  q.bind(1, id);
  if (!q.step()) return std::nullopt;
  return readSession(q);
}

void SqliteStore::revokeSession(const std::string& id) {
  std::lock_guard lock(mutex_);
  writing(*db_,
          [&] { db_->query("UPDATE sessions SET revoked = 1 WHERE id = ?1").bind(1, id).run(); });
}

void SqliteStore::revokeSessionsOf(AccountId account) {
  std::lock_guard lock(mutex_);
  writing(*db_, [&] {
    db_->query("UPDATE sessions SET revoked = 1 WHERE account_id = ?1").bind(1, account).run();
  });
}

std::size_t SqliteStore::purgeSessions(UnixTime now) {
  std::lock_guard lock(mutex_);
  return writing(*db_, [&] {
    db_->query("DELETE FROM sessions WHERE expires_at < ?1").bind(1, now).run();
    return static_cast<std::size_t>(db_->changes());
  });
}

// ---- organisation tree ----

std::optional<OrgTreeVersion> SqliteStore::latestOrgTree() {
  std::lock_guard lock(mutex_);
  return reading(*db_, [&]() -> std::optional<OrgTreeVersion> {
    OrgTreeVersion tree;
    {
      auto q = db_->query(
          "SELECT version, imported_at, imported_by FROM org_tree_versions "
          "ORDER BY version DESC LIMIT 1");
      if (!q.step()) return std::nullopt;
      tree.version = q.integer(0);
      tree.importedAt = q.integer(1);
      tree.importedBy = q.integer(2);
    }
    loadUnits(*db_, tree);
    return tree;
  });
}

std::int64_t SqliteStore::saveOrgTree(const std::vector<Unit>& units, UnixTime at, AccountId by,
                                      const AuditEntry& audit) {
  std::lock_guard lock(mutex_);
  return writing(*db_, [&] {
    std::int64_t version = 0;
    {
      auto q = db_->query("SELECT coalesce(max(version), 0) + 1 FROM org_tree_versions");
      q.step();
      version = q.integer(0);
    }
    db_->query(
           "INSERT INTO org_tree_versions (version, imported_at, imported_by) "
           "VALUES (?1, ?2, ?3)")
        .bind(1, version)
        .bind(2, at)
        .bind(3, by)
        .run();
    insertUnits(*db_, version, units);
    insertAudit(*db_, audit);
    return version;
  });
}

// ---- room links ----

std::int64_t SqliteStore::createRoomLink(const RoomLink& link, const AuditEntry& audit) {
  requireRevocationTime(link.createdAt);
  std::lock_guard lock(mutex_);
  return writing(*db_, [&] {
    // Revoke first: the partial unique index allows one active link per unit.
    db_->query("UPDATE room_links SET revoked_at = ?2 WHERE unit_id = ?1 AND revoked_at = 0")
        .bind(1, link.unitId)
        .bind(2, link.createdAt)
        .run();
    db_->query(
           "INSERT INTO room_links (unit_id, secret_digest, created_at, created_by, revoked_at) "
           "VALUES (?1, ?2, ?3, ?4, 0)")
        .bind(1, link.unitId)
        .bind(2, link.secretDigest)
        .bind(3, link.createdAt)
        .bind(4, link.createdBy)
        .run();
    const std::int64_t id = db_->lastInsertId();
    insertAudit(*db_, audit);
    return id;
  });
}

bool SqliteStore::revokeRoomLink(const std::string& unitId, UnixTime at, const AuditEntry& audit) {
  requireRevocationTime(at);
  std::lock_guard lock(mutex_);
  return writing(*db_, [&] {
    db_->query("UPDATE room_links SET revoked_at = ?2 WHERE unit_id = ?1 AND revoked_at = 0")
        .bind(1, unitId)
        .bind(2, at)
        .run();
    if (db_->changes() == 0) return false;
    insertAudit(*db_, audit);
    return true;
  });
}

std::optional<RoomLink> SqliteStore::roomLinkByDigest(const std::string& digest) {
  std::lock_guard lock(mutex_);
  auto q = db_->query(
      "SELECT id, unit_id, secret_digest, created_at, created_by, revoked_at FROM room_links "
      "WHERE secret_digest = ?1");
  q.bind(1, digest);
  if (!q.step()) return std::nullopt;
  return readRoomLink(q);
}

std::vector<RoomLink> SqliteStore::activeRoomLinks() {
  std::lock_guard lock(mutex_);
  auto q = db_->query(
      "SELECT id, unit_id, secret_digest, created_at, created_by, revoked_at FROM room_links "
      "WHERE revoked_at = 0 ORDER BY unit_id");
  std::vector<RoomLink> out;
  while (q.step()) out.push_back(readRoomLink(q));
  return out;
}

// ---- meetings ----

MeetingId SqliteStore::createMeeting(const Meeting& meeting, const AuditEntry& audit) {
  std::lock_guard lock(mutex_);
  return writing(*db_, [&] {
    db_->query(
           "INSERT INTO meetings (code, title, starts_at, ends_at, chair_id, state, access, "
           "locked, created_by, created_at, updated_at) "
           "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)")
        .bind(1, meeting.code)
        .bind(2, meeting.title)
        .bind(3, meeting.startsAt)
        .bind(4, meeting.endsAt)
        .bind(5, meeting.chairId)
        .bind(6, core::meetingStateName(meeting.state))
        .bind(7, core::meetingAccessName(meeting.access))
        .bind(8, meeting.locked)
        .bind(9, meeting.createdBy)
        .bind(10, meeting.createdAt)
        .bind(11, meeting.updatedAt)
        .run();
    const MeetingId id = db_->lastInsertId();
    insertInvitations(*db_, id, meeting.invited);
    insertAudit(*db_, audit);
    return id;
  });
}

bool SqliteStore::updateMeeting(const Meeting& meeting, const AuditEntry& audit) {
  std::lock_guard lock(mutex_);
  return writing(*db_, [&] {
    db_->query(
           "UPDATE meetings SET code = ?2, title = ?3, starts_at = ?4, ends_at = ?5, "
           "chair_id = ?6, state = ?7, access = ?8, locked = ?9, updated_at = ?10 WHERE id = ?1")
        .bind(1, meeting.id)
        .bind(2, meeting.code)
        .bind(3, meeting.title)
        .bind(4, meeting.startsAt)
        .bind(5, meeting.endsAt)
        .bind(6, meeting.chairId)
        .bind(7, core::meetingStateName(meeting.state))
        .bind(8, core::meetingAccessName(meeting.access))
        .bind(9, meeting.locked)
        .bind(10, meeting.updatedAt)
        .run();
    if (db_->changes() == 0) return false;
    db_->query("DELETE FROM invitations WHERE meeting_id = ?1").bind(1, meeting.id).run();
    insertInvitations(*db_, meeting.id, meeting.invited);
    insertAudit(*db_, audit);
    return true;
  });
}

std::optional<Meeting> SqliteStore::meeting(MeetingId id) {
  std::lock_guard lock(mutex_);
  return reading(*db_, [&]() -> std::optional<Meeting> {
    std::vector<Meeting> found;
    {
      auto q = db_->query(
          "SELECT id, code, title, starts_at, ends_at, chair_id, state, access, locked, "
          "created_by, created_at, updated_at FROM meetings WHERE id = ?1");
      q.bind(1, id);
      found = collectMeetings(q);
    }
    if (found.empty()) return std::nullopt;
    loadInvitations(*db_, found.front());
    return found.front();
  });
}

std::optional<Meeting> SqliteStore::meetingByCode(const std::string& code) {
  std::lock_guard lock(mutex_);
  return reading(*db_, [&]() -> std::optional<Meeting> {
    std::vector<Meeting> found;
    {
      auto q = db_->query(
          "SELECT id, code, title, starts_at, ends_at, chair_id, state, access, locked, "
          "created_by, created_at, updated_at FROM meetings WHERE code = ?1");
      q.bind(1, code);
      found = collectMeetings(q);
    }
    if (found.empty()) return std::nullopt;
    loadInvitations(*db_, found.front());
    return found.front();
  });
}

std::vector<Meeting> SqliteStore::meetings(const MeetingQuery& query) {
  std::lock_guard lock(mutex_);
  return reading(*db_, [&] {
    std::vector<Meeting> found;
    if (query.invitedUnit.empty()) {
      auto q = db_->query(
          "SELECT id, code, title, starts_at, ends_at, chair_id, state, access, locked, "
          "created_by, created_at, updated_at FROM meetings "
          "WHERE starts_at < ?2 AND ends_at > ?1 AND (?3 = 0 OR state IN (?4, ?5, ?6, ?7, ?8)) "
          "ORDER BY starts_at, id");
      bindMeetingQuery(q, query);
      found = collectMeetings(q);
    } else {
      // Driven by invitations_by_unit: a bridge point's meetings are few among all.
      auto q = db_->query(
          "SELECT m.id, m.code, m.title, m.starts_at, m.ends_at, m.chair_id, m.state, m.access, "
          "m.locked, m.created_by, m.created_at, m.updated_at "
          "FROM invitations i JOIN meetings m ON m.id = i.meeting_id "
          "WHERE i.unit_id = ?9 AND m.starts_at < ?2 AND m.ends_at > ?1 "
          "AND (?3 = 0 OR m.state IN (?4, ?5, ?6, ?7, ?8)) "
          "ORDER BY m.starts_at, m.id");
      bindMeetingQuery(q, query);
      q.bind(9, query.invitedUnit);
      found = collectMeetings(q);
    }
    for (auto& m : found) loadInvitations(*db_, m);
    return found;
  });
}

// ---- audit log ----

void SqliteStore::appendAudit(const AuditEntry& entry) {
  std::lock_guard lock(mutex_);
  writing(*db_, [&] { insertAudit(*db_, entry); });
}

std::vector<AuditEntry> SqliteStore::audit(std::int64_t beforeId, std::size_t limit) {
  std::lock_guard lock(mutex_);
  constexpr auto kMax = std::numeric_limits<std::int64_t>::max();
  auto q = db_->query(
      "SELECT id, at, actor_id, actor, action, target, detail FROM audit "
      "WHERE id < ?1 ORDER BY id DESC LIMIT ?2");
  q.bind(1, beforeId == 0 ? kMax : beforeId)
      .bind(2, static_cast<std::int64_t>(std::min<std::size_t>(limit, kMax)));
  std::vector<AuditEntry> out;
  while (q.step()) out.push_back(readAudit(q));
  return out;
}

}  // namespace mcu::store
