// AuthService: the first admin, logins and their rate limits, session tokens, roles, a user's own
// password and the administration of accounts — over the in-memory store, a fake clock and a fast
// deterministic fake of the crypto port.
#include "mcu/core/AuthService.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "mcu/core/MemoryStore.hpp"
#include "tests/unit/core/FakeSecurity.hpp"

namespace mcu::core {
namespace {

constexpr UnixTime kNow = 1800000000;  // 2027-01-15T08:00:00Z
constexpr int kTtl = 3600;
constexpr int kMaxFailures = 3;
constexpr int kWindow = 300;
constexpr const char* kHostPassword = "host-password-1";

using testing::FakeClock;
using testing::FakeCrypto;

// The ServiceError `f` throws; a failed expectation when it throws none.
template <typename F>
ServiceError errorOf(F&& f) {
  try {
    f();
  } catch (const ServiceError& e) {
    return e;
  }
  ADD_FAILURE() << "no ServiceError thrown";
  return ServiceError(Status::kInternal, "(none)", "(none)");
}

#define EXPECT_SERVICE_ERROR(statement, expectedStatus, expectedCode)                         \
  do {                                                                                        \
    const ServiceError e_ = errorOf([&] { statement; });                                      \
    EXPECT_EQ(e_.code(), expectedCode) << #statement << ": " << e_.what();                    \
    EXPECT_EQ(static_cast<int>(e_.status()), static_cast<int>(expectedStatus)) << #statement; \
  } while (false)

// An AccountPatch with only the named fields set (designated initializers warn under -Wextra).
struct Patch {
  Patch& displayName(std::string v) {
    patch.displayName = std::move(v);
    return *this;
  }
  Patch& role(Role v) {
    patch.role = v;
    return *this;
  }
  Patch& disabled(bool v) {
    patch.disabled = v;
    return *this;
  }
  Patch& password(std::string v) {
    patch.password = std::move(v);
    return *this;
  }
  operator AccountPatch() const { return patch; }
  AccountPatch patch;
};

// "v1.<session>.<expiry>.<signature>" split at its dots.
std::vector<std::string> tokenParts(const std::string& token) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  for (std::size_t dot; (dot = token.find('.', start)) != std::string::npos; start = dot + 1) {
    parts.push_back(token.substr(start, dot - start));
  }
  parts.push_back(token.substr(start));
  return parts;
}

class AuthServiceTest : public ::testing::Test {
 protected:
  AuthServiceTest() {
    adminPassword_ = auth_.bootstrapAdmin().value();
    admin_ = loginAs("admin", adminPassword_);
    NewAccount host{"chu-tri", "Chủ trì", Role::kHost, kHostPassword};
    hostId_ = auth_.createAccount(admin_, host).account.id;
  }

  static AuthSettings settings() {
    AuthSettings s;
    s.sessionTtlSeconds = kTtl;
    s.maxFailures = kMaxFailures;
    s.failureWindowSeconds = kWindow;
    s.minPasswordLength = 10;
    return s;
  }

  Caller loginAs(const std::string& username, const std::string& password,
                 const std::string& address = "10.0.0.1") {
    return auth_.authenticate(auth_.login(username, password, address).token);
  }

  std::string tokenFor(const std::string& username, const std::string& password,
                       const std::string& address = "10.0.0.1") {
    return auth_.login(username, password, address).token;
  }

  // A token signed with the server's key (the fake's), as only the server could make one.
  std::string signedToken(const std::string& signedPart) {
    return signedPart + "." + crypto_.sign(signedPart);
  }

  std::vector<AuditEntry> auditOf(const std::string& action) {
    std::vector<AuditEntry> found;
    for (auto& e : store_.audit(0, 1000)) {
      if (e.action == action) found.push_back(e);
    }
    return found;
  }

  MemoryStore store_;
  FakeCrypto crypto_;
  FakeClock clock_;
  AuthService auth_{store_, crypto_, clock_, settings()};
  std::string adminPassword_;
  Caller admin_;
  AccountId hostId_ = 0;
};

// ---------------------------------------------------------------- the first admin

TEST(AuthServiceBootstrap, CreatesTheAdminOnceAndNeverAgain) {
  MemoryStore store;
  FakeCrypto crypto;
  FakeClock clock;
  AuthService auth(store, crypto, clock);
  const auto password = auth.bootstrapAdmin();
  ASSERT_TRUE(password.has_value());
  EXPECT_GE(password->size(), 10u);

  const auto accounts = store.accounts();
  ASSERT_EQ(accounts.size(), 1u);
  EXPECT_EQ(accounts[0].username, "admin");
  EXPECT_EQ(accounts[0].role, Role::kAdmin);
  EXPECT_TRUE(accounts[0].mustChangePassword);
  EXPECT_FALSE(accounts[0].disabled);
  EXPECT_EQ(accounts[0].createdAt, kNow);
  EXPECT_TRUE(crypto.verifyPassword(*password, accounts[0].passwordHash));

  EXPECT_EQ(auth.bootstrapAdmin(), std::nullopt);
  AuthService restarted(store, crypto, clock);
  EXPECT_EQ(restarted.bootstrapAdmin(), std::nullopt);
  EXPECT_EQ(store.accounts().size(), 1u);

  const auto audit = store.audit(0, 10);
  ASSERT_EQ(audit.size(), 1u);
  EXPECT_EQ(audit[0].action, "account.create");
  EXPECT_EQ(audit[0].actor, "server");
  EXPECT_EQ(audit[0].detail.find(*password), std::string::npos);
}

TEST(AuthServiceBootstrap, LeavesAStoreWithAccountsAlone) {
  MemoryStore store;
  FakeCrypto crypto;
  FakeClock clock;
  Account someone;
  someone.username = "someone";
  store.createAccount(someone, AuditEntry{});
  AuthService auth(store, crypto, clock);
  EXPECT_EQ(auth.bootstrapAdmin(), std::nullopt);
  EXPECT_FALSE(store.accountByUsername("admin"));
}

TEST(AuthServiceBootstrap, GeneratedPasswordMeetsALongMinimum) {
  MemoryStore store;
  FakeCrypto crypto;
  FakeClock clock;
  AuthSettings s;
  s.minPasswordLength = 40;
  AuthService auth(store, crypto, clock, s);
  EXPECT_GE(auth.bootstrapAdmin().value().size(), 40u);
}

// ---------------------------------------------------------------- logins

TEST_F(AuthServiceTest, LoginReturnsATokenThatAuthenticates) {
  const LoginResult result = auth_.login("chu-tri", kHostPassword, "10.0.0.2");
  EXPECT_EQ(result.expiresAt, kNow + kTtl);
  EXPECT_EQ(result.account.id, hostId_);
  EXPECT_EQ(result.account.username, "chu-tri");
  EXPECT_TRUE(result.account.passwordHash.empty());

  const auto parts = tokenParts(result.token);
  ASSERT_EQ(parts.size(), 4u) << result.token;
  EXPECT_EQ(parts[0], "v1");
  EXPECT_EQ(parts[2], std::to_string(kNow + kTtl));

  const Caller caller = auth_.authenticate(result.token);
  EXPECT_EQ(caller.id, hostId_);
  EXPECT_EQ(caller.username, "chu-tri");
  EXPECT_EQ(caller.role, Role::kHost);
  EXPECT_EQ(caller.sessionId, parts[1]);

  const auto session = store_.session(parts[1]);
  ASSERT_TRUE(session);
  EXPECT_EQ(session->accountId, hostId_);
  EXPECT_EQ(session->expiresAt, kNow + kTtl);
  EXPECT_FALSE(session->revoked);
}

TEST_F(AuthServiceTest, TokensSurviveARestart) {
  const std::string token = tokenFor("chu-tri", kHostPassword);
  AuthService restarted(store_, crypto_, clock_, settings());
  EXPECT_EQ(restarted.authenticate(token).id, hostId_);
}

TEST_F(AuthServiceTest, WrongPasswordUnknownUserAndDisabledAccountLookAlike) {
  auth_.updateAccount(admin_, hostId_, Patch().disabled(true));
  const ServiceError wrong = errorOf([&] { auth_.login("admin", "not-the-password", "a1"); });
  const ServiceError unknown = errorOf([&] { auth_.login("nobody", adminPassword_, "a2"); });
  const ServiceError disabled = errorOf([&] { auth_.login("chu-tri", kHostPassword, "a3"); });
  const ServiceError malformed = errorOf([&] { auth_.login("Chu Tri", kHostPassword, "a4"); });
  for (const ServiceError* e : {&wrong, &unknown, &disabled, &malformed}) {
    EXPECT_EQ(e->code(), "bad_credentials");
    EXPECT_EQ(e->status(), Status::kUnauthorized);
    EXPECT_STREQ(e->what(), wrong.what());
  }
}

TEST_F(AuthServiceTest, AnUnknownUserCostsAPasswordCheckToo) {
  const int before = crypto_.verifications;
  EXPECT_SERVICE_ERROR(auth_.login("nobody", "whatever-pass", "a1"), Status::kUnauthorized,
                       "bad_credentials");
  // Against a real hash: a malformed one would fail fast and give the game away.
  EXPECT_EQ(crypto_.verifications, before + 1);
  EXPECT_TRUE(crypto_.lastVerified.starts_with("h:")) << crypto_.lastVerified;
}

TEST_F(AuthServiceTest, LoginsAreAudited) {
  auth_.login("chu-tri", kHostPassword, "192.0.2.7");
  EXPECT_SERVICE_ERROR(auth_.login("chu-tri", "wrong-password", "192.0.2.8"), Status::kUnauthorized,
                       "bad_credentials");
  EXPECT_SERVICE_ERROR(auth_.login("nobody", "wrong-password", "192.0.2.9"), Status::kUnauthorized,
                       "bad_credentials");

  const auto ok = auditOf("account.login");
  ASSERT_FALSE(ok.empty());
  EXPECT_EQ(ok.front().actorId, hostId_);  // newest first
  EXPECT_EQ(ok.front().actor, "chu-tri");
  EXPECT_EQ(ok.front().target, "account:" + std::to_string(hostId_));
  EXPECT_NE(ok.front().detail.find("192.0.2.7"), std::string::npos);

  const auto failed = auditOf("account.login-failed");
  ASSERT_EQ(failed.size(), 2u);
  EXPECT_EQ(failed[1].target, "account:" + std::to_string(hostId_));
  EXPECT_NE(failed[1].detail.find("192.0.2.8"), std::string::npos);
  EXPECT_NE(failed[1].detail.find("bad_password"), std::string::npos);
  EXPECT_EQ(failed[0].actorId, 0);
  EXPECT_NE(failed[0].detail.find("unknown_user"), std::string::npos);
  for (const auto& e : store_.audit(0, 1000)) {
    EXPECT_EQ(e.detail.find("wrong-password"), std::string::npos) << e.detail;
  }
}

// ---------------------------------------------------------------- rate limits

TEST_F(AuthServiceTest, RateLimitedAfterMaxFailuresUntilTheWindowPasses) {
  for (int i = 0; i < kMaxFailures; ++i) {
    EXPECT_SERVICE_ERROR(auth_.login("chu-tri", "wrong-password", "10.0.0.5"),
                         Status::kUnauthorized, "bad_credentials");
    clock_.t += 10;
  }
  // Even the right password: otherwise guessing would simply go on.
  const ServiceError limited = errorOf([&] { auth_.login("chu-tri", kHostPassword, "10.0.0.5"); });
  EXPECT_EQ(limited.code(), "rate_limited");
  EXPECT_EQ(limited.status(), Status::kRateLimited);
  EXPECT_EQ(limited.retryAfter(), kWindow - 30);  // the first failure leaves the window then

  // Attempts while limited do not extend the limit.
  clock_.t = kNow + kWindow - 1;
  const ServiceError stillLimited =
      errorOf([&] { auth_.login("chu-tri", kHostPassword, "10.0.0.5"); });
  EXPECT_EQ(stillLimited.code(), "rate_limited");
  EXPECT_EQ(stillLimited.retryAfter(), 1);
  clock_.t = kNow + kWindow;
  EXPECT_EQ(loginAs("chu-tri", kHostPassword, "10.0.0.5").id, hostId_);
}

TEST_F(AuthServiceTest, RateLimitIsPerAddress) {
  for (int i = 0; i < kMaxFailures; ++i) {
    EXPECT_SERVICE_ERROR(auth_.login("chu-tri", "wrong-password", "10.0.0.5"),
                         Status::kUnauthorized, "bad_credentials");
  }
  EXPECT_SERVICE_ERROR(auth_.login("chu-tri", kHostPassword, "10.0.0.5"), Status::kRateLimited,
                       "rate_limited");
  EXPECT_EQ(loginAs("chu-tri", kHostPassword, "10.0.0.6").id, hostId_);
}

TEST_F(AuthServiceTest, RateLimitCountsAnAddressAcrossUsernames) {
  for (const char* user : {"ghost-1", "ghost-2", "ghost-3"}) {
    EXPECT_SERVICE_ERROR(auth_.login(user, "wrong-password", "10.0.0.5"), Status::kUnauthorized,
                         "bad_credentials");
  }
  const ServiceError limited = errorOf([&] { auth_.login("admin", adminPassword_, "10.0.0.5"); });
  EXPECT_EQ(limited.code(), "rate_limited");
  EXPECT_GT(limited.retryAfter(), 0);
  EXPECT_EQ(loginAs("admin", adminPassword_, "10.0.0.6").id, admin_.id);
}

TEST_F(AuthServiceTest, SuccessClearsTheUsernamesFailures) {
  for (int round = 0; round < 3; ++round) {
    for (int i = 0; i < kMaxFailures - 1; ++i) {
      EXPECT_SERVICE_ERROR(auth_.login("chu-tri", "wrong-password", "10.0.0.5"),
                           Status::kUnauthorized, "bad_credentials");
    }
    EXPECT_EQ(loginAs("chu-tri", kHostPassword, "10.0.0.5").id, hostId_) << "round " << round;
  }
  // The count restarted from zero: the limit needs kMaxFailures new failures.
  for (int i = 0; i < kMaxFailures; ++i) {
    EXPECT_SERVICE_ERROR(auth_.login("chu-tri", "wrong-password", "10.0.0.5"),
                         Status::kUnauthorized, "bad_credentials");
  }
  EXPECT_SERVICE_ERROR(auth_.login("chu-tri", kHostPassword, "10.0.0.5"), Status::kRateLimited,
                       "rate_limited");
}

TEST_F(AuthServiceTest, SuccessDoesNotForgiveFailuresAgainstOtherUsernames) {
  for (int i = 0; i < kMaxFailures - 1; ++i) {
    EXPECT_SERVICE_ERROR(auth_.login("admin", "wrong-password", "10.0.0.5"), Status::kUnauthorized,
                         "bad_credentials");
  }
  loginAs("chu-tri", kHostPassword, "10.0.0.5");
  EXPECT_SERVICE_ERROR(auth_.login("ghost", "wrong-password", "10.0.0.5"), Status::kUnauthorized,
                       "bad_credentials");
  EXPECT_SERVICE_ERROR(auth_.login("chu-tri", kHostPassword, "10.0.0.5"), Status::kRateLimited,
                       "rate_limited");
}

// ---------------------------------------------------------------- tokens

TEST_F(AuthServiceTest, ForgedTamperedAndMalformedTokensAreUnauthorized) {
  const std::string token = tokenFor("chu-tri", kHostPassword);
  const auto p = tokenParts(token);
  const std::string other = tokenParts(tokenFor("admin", adminPassword_))[1];
  const std::string later = std::to_string(kNow + 10 * kTtl);
  const std::vector<std::string> bad = {
      "",
      "garbage",
      "v1",
      "v1...",
      "v1." + p[1] + "." + p[2] + ".",          // no signature
      "v1." + p[1] + "." + p[2] + ".Sforged",   // forged signature
      "v1." + p[1] + "." + later + "." + p[3],  // expiry pushed out, old signature
      "v1." + other + "." + p[2] + "." + p[3],  // another session, old signature
      token + ".extra",
      " " + token,
      token + std::string(600, 'x'),
      signedToken("v2." + p[1] + "." + p[2]),     // unknown version
      signedToken("v1." + p[1] + "." + later),    // expiry not the session's
      signedToken("v1.no-such-session." + p[2]),  // no such session
      signedToken("v1." + p[1] + ".-5"),
      signedToken("v1." + p[1] + ".+" + p[2]),
      signedToken("v1." + p[1] + "." + p[2] + "x"),
      signedToken("v1." + p[1] + "/x." + p[2]),  // not a session id's alphabet
      signedToken("v1.." + p[2]),
      signedToken("v1." + p[1]),
  };
  for (const auto& t : bad) {
    EXPECT_SERVICE_ERROR(auth_.authenticate(t), Status::kUnauthorized, "unauthorized");
  }
  EXPECT_EQ(auth_.authenticate(token).id, hostId_);
}

TEST_F(AuthServiceTest, ExpiredTokenIsTokenExpired) {
  const std::string token = tokenFor("chu-tri", kHostPassword);
  clock_.t = kNow + kTtl - 1;
  EXPECT_EQ(auth_.authenticate(token).id, hostId_);
  clock_.t = kNow + kTtl;
  EXPECT_SERVICE_ERROR(auth_.authenticate(token), Status::kUnauthorized, "token_expired");
  // Once purged, the expired session's token still says so rather than "unauthorized".
  clock_.t = kNow + kTtl + 1;
  loginAs("admin", adminPassword_);
  EXPECT_FALSE(store_.session(tokenParts(token)[1]));
  EXPECT_SERVICE_ERROR(auth_.authenticate(token), Status::kUnauthorized, "token_expired");
}

TEST_F(AuthServiceTest, LogoutRevokesOnlyThatSession) {
  const std::string first = tokenFor("chu-tri", kHostPassword);
  const std::string second = tokenFor("chu-tri", kHostPassword);
  auth_.logout(auth_.authenticate(first));
  EXPECT_SERVICE_ERROR(auth_.authenticate(first), Status::kUnauthorized, "unauthorized");
  EXPECT_EQ(auth_.authenticate(second).id, hostId_);
  AuthService restarted(store_, crypto_, clock_, settings());
  EXPECT_SERVICE_ERROR(restarted.authenticate(first), Status::kUnauthorized, "unauthorized");
}

TEST_F(AuthServiceTest, DisablingAnAccountEndsItsSessionsForGood) {
  const std::string first = tokenFor("chu-tri", kHostPassword);
  const std::string second = tokenFor("chu-tri", kHostPassword, "10.0.0.9");
  auth_.updateAccount(admin_, hostId_, Patch().disabled(true));
  for (const auto& t : {first, second}) {
    EXPECT_SERVICE_ERROR(auth_.authenticate(t), Status::kUnauthorized, "unauthorized");
    EXPECT_TRUE(store_.session(tokenParts(t)[1])->revoked);
  }
  // Enabling the account again does not bring the old sessions back.
  auth_.updateAccount(admin_, hostId_, Patch().disabled(false));
  EXPECT_SERVICE_ERROR(auth_.authenticate(first), Status::kUnauthorized, "unauthorized");
  EXPECT_EQ(loginAs("chu-tri", kHostPassword).id, hostId_);
}

TEST_F(AuthServiceTest, RoleChangesApplyToExistingSessions) {
  const std::string token = tokenFor("chu-tri", kHostPassword);
  auth_.updateAccount(admin_, hostId_, Patch().role(Role::kTechnician));
  EXPECT_EQ(auth_.authenticate(token).role, Role::kTechnician);
}

// ---------------------------------------------------------------- roles

TEST(AuthServiceRequire, ChecksTheRoleMatrix) {
  const Caller admin{1, "a", Role::kAdmin, "s1"};
  const Caller host{2, "h", Role::kHost, "s2"};
  const Caller tech{3, "t", Role::kTechnician, "s3"};
  EXPECT_NO_THROW(AuthService::require(admin, {Role::kAdmin}));
  EXPECT_NO_THROW(AuthService::require(admin, {Role::kAdmin, Role::kHost}));
  EXPECT_NO_THROW(AuthService::require(host, {Role::kAdmin, Role::kHost}));
  EXPECT_NO_THROW(AuthService::require(tech, {Role::kHost, Role::kTechnician}));
  EXPECT_SERVICE_ERROR(AuthService::require(host, {Role::kAdmin}), Status::kForbidden, "forbidden");
  EXPECT_SERVICE_ERROR(AuthService::require(tech, {Role::kAdmin}), Status::kForbidden, "forbidden");
  EXPECT_SERVICE_ERROR(AuthService::require(tech, {Role::kAdmin, Role::kHost}), Status::kForbidden,
                       "forbidden");
  EXPECT_SERVICE_ERROR(AuthService::require(admin, {Role::kHost, Role::kTechnician}),
                       Status::kForbidden, "forbidden");
  EXPECT_SERVICE_ERROR(AuthService::require(admin, {}), Status::kForbidden, "forbidden");
}

TEST_F(AuthServiceTest, OnlyAdminsManageAccounts) {
  const Caller host = loginAs("chu-tri", kHostPassword);
  NewAccount tech{"ky-thuat", "", Role::kTechnician, "tech-password"};
  auth_.createAccount(admin_, tech);
  const Caller technician = loginAs("ky-thuat", "tech-password");
  for (const Caller* c : {&host, &technician}) {
    EXPECT_SERVICE_ERROR(auth_.accounts(*c), Status::kForbidden, "forbidden");
    EXPECT_SERVICE_ERROR(auth_.createAccount(*c, NewAccount{"x", "", Role::kAdmin, ""}),
                         Status::kForbidden, "forbidden");
    EXPECT_SERVICE_ERROR(auth_.updateAccount(*c, c->id, Patch().role(Role::kAdmin)),
                         Status::kForbidden, "forbidden");
  }
  EXPECT_EQ(store_.account(host.id)->role, Role::kHost);
  EXPECT_FALSE(store_.accountByUsername("x"));
}

// ---------------------------------------------------------------- the caller's own account

TEST_F(AuthServiceTest, MeReturnsTheAccountWithoutItsHash) {
  const Account me = auth_.me(loginAs("chu-tri", kHostPassword));
  EXPECT_EQ(me.id, hostId_);
  EXPECT_EQ(me.displayName, "Chủ trì");
  EXPECT_EQ(me.role, Role::kHost);
  EXPECT_TRUE(me.mustChangePassword);
  EXPECT_TRUE(me.passwordHash.empty());
}

TEST_F(AuthServiceTest, ChangePasswordNeedsTheOldOne) {
  const Caller host = loginAs("chu-tri", kHostPassword);
  EXPECT_SERVICE_ERROR(auth_.changePassword(host, "not-the-old-one", "new-password-2"),
                       Status::kUnauthorized, "bad_credentials");
  EXPECT_EQ(loginAs("chu-tri", kHostPassword).id, hostId_);
  EXPECT_TRUE(auditOf("account.password-change").empty());
}

TEST_F(AuthServiceTest, ChangePasswordRefusesAShortOrUnchangedOne) {
  const Caller host = loginAs("chu-tri", kHostPassword);
  EXPECT_SERVICE_ERROR(auth_.changePassword(host, kHostPassword, "short"), Status::kBadRequest,
                       "bad_field");
  EXPECT_SERVICE_ERROR(auth_.changePassword(host, kHostPassword, "123456789"), Status::kBadRequest,
                       "bad_field");
  // Nine characters in 27 bytes: the minimum counts characters.
  EXPECT_SERVICE_ERROR(auth_.changePassword(host, kHostPassword, "ậậậậậậậậậ"), Status::kBadRequest,
                       "bad_field");
  EXPECT_SERVICE_ERROR(auth_.changePassword(host, kHostPassword, kHostPassword),
                       Status::kBadRequest, "bad_field");
  EXPECT_TRUE(store_.account(hostId_)->mustChangePassword);
}

TEST_F(AuthServiceTest, ChangePasswordRevokesSessionsAndClearsTheFlag) {
  const std::string mine = tokenFor("chu-tri", kHostPassword);
  const std::string elsewhere = tokenFor("chu-tri", kHostPassword, "10.0.0.9");
  const std::string adminToken = tokenFor("admin", adminPassword_);
  auth_.changePassword(auth_.authenticate(mine), kHostPassword, "mật khẩu mới");

  EXPECT_SERVICE_ERROR(auth_.authenticate(elsewhere), Status::kUnauthorized, "unauthorized");
  // Store cannot spare one session yet, so the caller's ends too (AuthService.hpp).
  EXPECT_SERVICE_ERROR(auth_.authenticate(mine), Status::kUnauthorized, "unauthorized");
  EXPECT_EQ(auth_.authenticate(adminToken).id, admin_.id);  // other accounts untouched

  EXPECT_FALSE(store_.account(hostId_)->mustChangePassword);
  EXPECT_SERVICE_ERROR(auth_.login("chu-tri", kHostPassword, "10.0.0.1"), Status::kUnauthorized,
                       "bad_credentials");
  const LoginResult again = auth_.login("chu-tri", "mật khẩu mới", "10.0.0.1");
  EXPECT_FALSE(again.account.mustChangePassword);

  const auto audit = auditOf("account.password-change");
  ASSERT_EQ(audit.size(), 1u);
  EXPECT_EQ(audit[0].actorId, hostId_);
  EXPECT_EQ(audit[0].target, "account:" + std::to_string(hostId_));
  EXPECT_EQ(audit[0].detail.find("mật khẩu"), std::string::npos);
}

TEST_F(AuthServiceTest, WrongOldPasswordsAreRateLimited) {
  const Caller host = loginAs("chu-tri", kHostPassword);
  for (int i = 0; i < kMaxFailures; ++i) {
    EXPECT_SERVICE_ERROR(auth_.changePassword(host, "guess-" + std::to_string(i), "new-password-2"),
                         Status::kUnauthorized, "bad_credentials");
  }
  const ServiceError limited =
      errorOf([&] { auth_.changePassword(host, kHostPassword, "new-password-2"); });
  EXPECT_EQ(limited.code(), "rate_limited");
  EXPECT_GT(limited.retryAfter(), 0);
  clock_.t += kWindow;
  EXPECT_NO_THROW(auth_.changePassword(host, kHostPassword, "new-password-2"));
}

// ---------------------------------------------------------------- administration

TEST_F(AuthServiceTest, CreateAccountChecksTheUsername) {
  const std::vector<std::string> bad = {"",    "Admin", "has space", "ü",
                                        "a/b", "a@b",   "tab\t",     std::string(65, 'a')};
  for (const auto& name : bad) {
    SCOPED_TRACE("'" + name + "'");
    EXPECT_SERVICE_ERROR(auth_.createAccount(admin_, NewAccount{name, "", Role::kHost, ""}),
                         Status::kBadRequest, "bad_field");
  }
  const std::vector<std::string> good = {"a", "7", "nguyen.van-a_1", std::string(64, 'z')};
  for (const auto& name : good) {
    EXPECT_NO_THROW(auth_.createAccount(admin_, NewAccount{name, "", Role::kHost, ""})) << name;
  }
}

TEST_F(AuthServiceTest, CreateAccountChecksPasswordAndDisplayName) {
  EXPECT_SERVICE_ERROR(auth_.createAccount(admin_, NewAccount{"u1", "", Role::kHost, "short"}),
                       Status::kBadRequest, "bad_field");
  EXPECT_SERVICE_ERROR(
      auth_.createAccount(admin_, NewAccount{"u2", std::string(201, 'n'), Role::kHost, ""}),
      Status::kBadRequest, "bad_field");
  EXPECT_FALSE(store_.accountByUsername("u1"));
  EXPECT_FALSE(store_.accountByUsername("u2"));
  // 200 characters of two bytes each fit.
  std::string name;
  for (int i = 0; i < 200; ++i) name += "ư";
  EXPECT_EQ(
      auth_.createAccount(admin_, NewAccount{"u3", name, Role::kHost, ""}).account.displayName,
      name);
}

TEST_F(AuthServiceTest, CreateAccountWithAGivenPassword) {
  const CreatedAccount created =
      auth_.createAccount(admin_, NewAccount{"ky-thuat", "", Role::kTechnician, "tech-password"});
  EXPECT_TRUE(created.initialPassword.empty());
  EXPECT_GT(created.account.id, 0);
  EXPECT_EQ(created.account.username, "ky-thuat");
  EXPECT_EQ(created.account.displayName, "ky-thuat");  // defaults to the username
  EXPECT_EQ(created.account.role, Role::kTechnician);
  EXPECT_TRUE(created.account.mustChangePassword);
  EXPECT_EQ(created.account.createdAt, kNow);
  EXPECT_TRUE(created.account.passwordHash.empty());
  Account stored = *store_.account(created.account.id);
  EXPECT_EQ(stored.passwordHash, crypto_.hashPassword("tech-password"));
  stored.passwordHash.clear();
  EXPECT_EQ(stored, created.account);
  EXPECT_EQ(loginAs("ky-thuat", "tech-password").role, Role::kTechnician);
}

TEST_F(AuthServiceTest, CreateAccountGeneratesAPasswordWhenNoneIsGiven) {
  const CreatedAccount created =
      auth_.createAccount(admin_, NewAccount{"ky-thuat", "Kỹ thuật", Role::kTechnician, ""});
  EXPECT_GE(created.initialPassword.size(), 10u);
  EXPECT_EQ(loginAs("ky-thuat", created.initialPassword).id, created.account.id);
  const CreatedAccount another =
      auth_.createAccount(admin_, NewAccount{"ky-thuat-2", "", Role::kTechnician, ""});
  EXPECT_NE(another.initialPassword, created.initialPassword);
}

TEST_F(AuthServiceTest, DuplicateUsernameIsAConflict) {
  EXPECT_SERVICE_ERROR(
      auth_.createAccount(admin_, NewAccount{"chu-tri", "", Role::kHost, "other-password"}),
      Status::kConflict, "duplicate_username");
  EXPECT_SERVICE_ERROR(auth_.createAccount(admin_, NewAccount{"admin", "", Role::kAdmin, ""}),
                       Status::kConflict, "duplicate_username");
  EXPECT_EQ(store_.accounts().size(), 2u);
}

TEST_F(AuthServiceTest, AccountsAreListedWithoutHashes) {
  const auto list = auth_.accounts(admin_);
  ASSERT_EQ(list.size(), 2u);
  EXPECT_EQ(list[0].username, "admin");
  EXPECT_EQ(list[1].username, "chu-tri");
  for (const auto& a : list) EXPECT_TRUE(a.passwordHash.empty()) << a.username;
}

TEST_F(AuthServiceTest, AnAdminCannotDisableOrDemoteThemself) {
  EXPECT_SERVICE_ERROR(auth_.updateAccount(admin_, admin_.id, Patch().disabled(true)),
                       Status::kConflict, "bad_state");
  EXPECT_SERVICE_ERROR(auth_.updateAccount(admin_, admin_.id, Patch().role(Role::kHost)),
                       Status::kConflict, "bad_state");
  EXPECT_SERVICE_ERROR(auth_.updateAccount(admin_, admin_.id,
                                           Patch().displayName("Quản trị").role(Role::kTechnician)),
                       Status::kConflict, "bad_state");
  const Account unchanged = *store_.account(admin_.id);
  EXPECT_EQ(unchanged.role, Role::kAdmin);
  EXPECT_FALSE(unchanged.disabled);
  EXPECT_EQ(unchanged.displayName, "Administrator");

  // Harmless changes to oneself are fine, and another admin may demote this one.
  EXPECT_EQ(auth_
                .updateAccount(admin_, admin_.id,
                               Patch().displayName("Quản trị").role(Role::kAdmin).disabled(false))
                .displayName,
            "Quản trị");
  auth_.updateAccount(admin_, hostId_, Patch().role(Role::kAdmin));
  const Caller second = loginAs("chu-tri", kHostPassword);
  EXPECT_EQ(auth_.updateAccount(second, admin_.id, Patch().role(Role::kHost)).role, Role::kHost);
}

TEST_F(AuthServiceTest, UpdateAccountAppliesThePatchAndAudits) {
  const Account updated = auth_.updateAccount(
      admin_, hostId_, Patch().displayName("Người chủ trì").role(Role::kTechnician));
  EXPECT_EQ(updated.displayName, "Người chủ trì");
  EXPECT_EQ(updated.role, Role::kTechnician);
  EXPECT_TRUE(updated.passwordHash.empty());
  EXPECT_EQ(store_.account(hostId_)->displayName, "Người chủ trì");
  EXPECT_EQ(store_.account(hostId_)->passwordHash, crypto_.hashPassword(kHostPassword));

  const auto audit = auditOf("account.update");
  ASSERT_EQ(audit.size(), 1u);
  EXPECT_EQ(audit[0].actorId, admin_.id);
  EXPECT_EQ(audit[0].actor, "admin");
  EXPECT_EQ(audit[0].target, "account:" + std::to_string(hostId_));
  EXPECT_NE(audit[0].detail.find("role=technician"), std::string::npos) << audit[0].detail;

  const auto created = auditOf("account.create");
  ASSERT_EQ(created.size(), 2u);  // the bootstrap admin and chu-tri
  EXPECT_EQ(created[0].actorId, admin_.id);
  EXPECT_EQ(created[0].target, "account:chu-tri");  // the id is not known before the insert
  EXPECT_EQ(created[0].detail.find(kHostPassword), std::string::npos);

  EXPECT_SERVICE_ERROR(auth_.updateAccount(admin_, hostId_, Patch().displayName("")),
                       Status::kBadRequest, "bad_field");
}

TEST_F(AuthServiceTest, PasswordResetByAnAdminForcesAChange) {
  const std::string token = tokenFor("chu-tri", kHostPassword);
  auth_.changePassword(auth_.authenticate(token), kHostPassword, "chosen-by-me");
  EXPECT_SERVICE_ERROR(auth_.updateAccount(admin_, hostId_, Patch().password("short")),
                       Status::kBadRequest, "bad_field");

  const std::string before = tokenFor("chu-tri", "chosen-by-me");
  auth_.updateAccount(admin_, hostId_, Patch().password("reset-by-admin"));
  EXPECT_TRUE(store_.account(hostId_)->mustChangePassword);
  EXPECT_SERVICE_ERROR(auth_.authenticate(before), Status::kUnauthorized, "unauthorized");
  EXPECT_EQ(loginAs("chu-tri", "reset-by-admin").id, hostId_);
  for (const auto& e : store_.audit(0, 1000)) {
    EXPECT_EQ(e.detail.find("reset-by-admin"), std::string::npos) << e.detail;
  }
}

TEST_F(AuthServiceTest, UpdatingAnUnknownAccountIsNotFound) {
  EXPECT_SERVICE_ERROR(auth_.updateAccount(admin_, 999, Patch().disabled(true)), Status::kNotFound,
                       "not_found");
}

}  // namespace
}  // namespace mcu::core
