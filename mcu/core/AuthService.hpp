#pragma once
// Accounts, roles, logins and session tokens. Pure logic over the Store, Crypto and Clock ports;
// thread-safe (one internal mutex), called from the HTTP threads.
//
// Token: "v1.<session id>.<expiry unix seconds>.<signature>" where the signature is
// Crypto::sign over everything before the last dot. A token is valid while its signature checks,
// it has not expired, its session exists and is not revoked, and its account is not disabled.
// Sessions live in the store, so tokens survive a restart and logout really ends them.
//
// Login failures are rate-limited per (username, client address) and per client address:
// after `maxFailures` failures within `failureWindowSeconds`, further attempts get rate_limited
// (429, retryAfter) until the window has passed; a success clears the username's count (and takes
// those failures off the address's count).
#include <initializer_list>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mcu/core/Security.hpp"
#include "mcu/core/ServiceError.hpp"
#include "mcu/core/Store.hpp"

namespace mcu::core {

struct AuthSettings {
  int sessionTtlSeconds = 12 * 3600;
  int maxFailures = 5;
  int failureWindowSeconds = 300;
  int minPasswordLength = 10;
};

// Who is calling, as established from a valid token.
struct Caller {
  AccountId id = 0;
  std::string username;
  Role role = Role::kHost;
  std::string sessionId;
  // The account still has its one-time password: until it is changed the REST layer allows only
  // GET /me, POST /me/password and logout (password_change_required).
  bool mustChangePassword = false;
};

struct LoginResult {
  std::string token;
  UnixTime expiresAt = 0;
  Account account;  // passwordHash cleared
};

struct NewAccount {
  std::string username;
  std::string displayName;
  Role role = Role::kHost;
  std::string password;  // empty: a random one is generated and returned once
};

struct AccountPatch {
  std::optional<std::string> displayName;
  std::optional<Role> role;
  std::optional<bool> disabled;
  std::optional<std::string> password;  // reset by an admin: mustChangePassword is set
};

struct CreatedAccount {
  Account account;              // passwordHash cleared
  std::string initialPassword;  // the generated password, or empty when one was given
};

class AuthService {
 public:
  AuthService(Store& store, Crypto& crypto, const Clock& clock, AuthSettings settings = {});

  // On first start (no account at all): creates the account "admin" with a random password,
  // flagged mustChangePassword, and returns the password so the server can print it once.
  // Otherwise nullopt.
  std::optional<std::string> bootstrapAdmin();

  // bad_credentials (401) for an unknown user, a wrong password or a disabled account (the same
  // message for all three); rate_limited (429) as described above. Failures are audited.
  LoginResult login(const std::string& username, const std::string& password,
                    const std::string& clientAddress);
  void logout(const Caller& caller);
  // unauthorized (401) for a missing, malformed, forged or revoked token; token_expired (401).
  Caller authenticate(std::string_view token);

  // forbidden (403) unless the caller has one of the roles.
  static void require(const Caller& caller, std::initializer_list<Role> roles);

  // ---- the caller's own account ----
  Account me(const Caller& caller);
  // bad_credentials when `oldPassword` is wrong (rate_limited after `maxFailures` of those, as a
  // stolen token must not make an unlimited guessing oracle); bad_field when the new one is too
  // short or the same as the old one.
  // Clears mustChangePassword; other sessions of the account are revoked. (Store can only revoke
  // all of an account's sessions, so for now the caller's ends too: the client logs in again.)
  void changePassword(const Caller& caller, const std::string& oldPassword,
                      const std::string& newPassword);

  // ---- administration (admin only) ----
  std::vector<Account> accounts(const Caller& caller);
  // bad_field for a malformed username or short password; duplicate_username (409). The new
  // account is flagged mustChangePassword: the admin knows its password, generated or not.
  CreatedAccount createAccount(const Caller& caller, const NewAccount& request);
  // not_found; an admin cannot disable or demote themself (bad_state). Disabling, or resetting
  // the password, revokes the account's sessions.
  Account updateAccount(const Caller& caller, AccountId id, const AccountPatch& patch);

 private:
  // Rate limiting. An attempt is charged as a failure against all its keys before the password
  // is checked, so concurrent guesses cannot slip past the limit together; a success then clears
  // the first key (the username's) and takes the same failures off the others (the address's):
  // a user's own typos, once they get in, do not count against their colleagues behind the same
  // address, while failures against other usernames still do.
  //
  // rate_limited when any key is at its limit; otherwise charges the attempt.
  void beginAttempt(const std::vector<std::string>& keys, UnixTime now);
  void attemptSucceeded(const std::vector<std::string>& keys);
  // Drops failures that have left the window. Caller holds mutex_.
  void prune(std::vector<UnixTime>& times, UnixTime now) const;

  // The caller's account; unauthorized when it is gone.
  Account ownAccount(const Caller& caller);
  // A hash no password matches, verified for unknown usernames so they take as long as known ones.
  std::string dummyHash();
  std::string generatePassword();
  void checkPassword(const std::string& password) const;
  AuditEntry auditOf(const Caller& caller, std::string action, std::string target,
                     std::string detail = {}) const;

  Store& store_;
  Crypto& crypto_;
  const Clock& clock_;
  AuthSettings settings_;
  // Guards the rate-limit table and the dummy hash only: Store and Crypto are thread-safe, and
  // holding a lock across scrypt would stall every request behind a login.
  std::mutex mutex_;
  std::map<std::string, std::vector<UnixTime>> failures_;  // sorted failure times per key
  std::string dummyHash_;
};

}  // namespace mcu::core
