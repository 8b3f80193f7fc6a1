#include "mcu/core/AuthService.hpp"

#include <algorithm>
#include <charconv>
#include <utility>

namespace mcu::core {

namespace {

constexpr std::string_view kTokenVersion = "v1";
constexpr std::size_t kSessionIdBytes = 18;  // 144 bits, 24 base64url characters
constexpr std::size_t kMaxSessionIdLength = 128;
constexpr std::size_t kMaxTokenLength = 512;
constexpr std::size_t kMaxUsernameLength = 64;
constexpr std::size_t kMaxDisplayNameLength = 200;   // characters
constexpr std::size_t kGeneratedPasswordBytes = 15;  // 120 bits, 20 characters
// The rate-limit table is swept whole when it grows past this (a spray of usernames would
// otherwise leave one dead entry per guess).
constexpr std::size_t kFailureSweepThreshold = 4096;
// Same text for an unknown user, a wrong password and a disabled account: which one it was is
// for the audit log, not for whoever is guessing.
constexpr const char* kBadCredentials = "wrong username or password";

ServiceError unauthorized(const std::string& message) {
  return ServiceError(Status::kUnauthorized, "unauthorized", message);
}
ServiceError badField(const std::string& message) {
  return ServiceError(Status::kBadRequest, "bad_field", message);
}
ServiceError badState(const std::string& message) {
  return ServiceError(Status::kConflict, "bad_state", message);
}
[[noreturn]] void notFound(AccountId id) {
  throw ServiceError(Status::kNotFound, "not_found", "no account with id " + std::to_string(id));
}

bool isUsernameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
}

bool validUsername(std::string_view name) {
  return !name.empty() && name.size() <= kMaxUsernameLength &&
         std::all_of(name.begin(), name.end(), isUsernameChar);
}

bool isBase64UrlChar(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_';
}

// UTF-8 code points: every byte but continuation bytes (10xxxxxx) starts one.
std::size_t characters(std::string_view text) {
  return static_cast<std::size_t>(std::count_if(text.begin(), text.end(), [](char c) {
    return (static_cast<unsigned char>(c) & 0xc0) != 0x80;
  }));
}

void checkDisplayName(const std::string& name) {
  if (name.empty() || characters(name) > kMaxDisplayNameLength) {
    throw badField("displayName must be 1 to " + std::to_string(kMaxDisplayNameLength) +
                   " characters");
  }
}

std::string accountTarget(const Account& account) {
  // Before the store assigns an id (account.create) the username names the account.
  return "account:" + (account.id ? std::to_string(account.id) : account.username);
}

Account withoutHash(Account account) {
  account.passwordHash.clear();
  return account;
}

// What a token carries, once its shape has been checked (not yet its signature).
struct TokenParts {
  std::string_view signedPart;  // everything before the last dot
  std::string_view sessionId;
  UnixTime expiresAt = 0;
  std::string_view signature;
};

std::optional<TokenParts> parseToken(std::string_view token) {
  if (token.size() > kMaxTokenLength) return std::nullopt;
  const auto lastDot = token.rfind('.');
  if (lastDot == std::string_view::npos) return std::nullopt;
  TokenParts parts;
  parts.signedPart = token.substr(0, lastDot);
  parts.signature = token.substr(lastDot + 1);
  // signedPart is "v1.<session id>.<expiry>".
  std::string_view rest = parts.signedPart;
  if (!rest.starts_with(kTokenVersion) || rest.substr(kTokenVersion.size(), 1) != ".") {
    return std::nullopt;
  }
  rest.remove_prefix(kTokenVersion.size() + 1);
  const auto dot = rest.find('.');
  if (dot == std::string_view::npos) return std::nullopt;
  parts.sessionId = rest.substr(0, dot);
  const std::string_view expiry = rest.substr(dot + 1);
  if (parts.sessionId.empty() || parts.sessionId.size() > kMaxSessionIdLength ||
      !std::all_of(parts.sessionId.begin(), parts.sessionId.end(), isBase64UrlChar)) {
    return std::nullopt;
  }
  // Digits only: from_chars alone would accept a sign.
  if (expiry.empty() || expiry.size() > 18 ||
      !std::all_of(expiry.begin(), expiry.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return std::nullopt;
  }
  std::from_chars(expiry.data(), expiry.data() + expiry.size(), parts.expiresAt);
  if (parts.signature.empty()) return std::nullopt;
  return parts;
}

}  // namespace

AuthService::AuthService(Store& store, Crypto& crypto, const Clock& clock, AuthSettings settings)
    : store_(store), crypto_(crypto), clock_(clock), settings_(settings) {}

std::optional<std::string> AuthService::bootstrapAdmin() {
  if (!store_.accounts().empty()) return std::nullopt;
  const std::string password = generatePassword();
  Account admin;
  admin.username = "admin";
  admin.displayName = "Administrator";
  admin.role = Role::kAdmin;
  admin.passwordHash = crypto_.hashPassword(password);
  admin.mustChangePassword = true;
  admin.createdAt = clock_.now();
  const Caller server{0, "server", Role::kAdmin, ""};
  try {
    store_.createAccount(
        admin, auditOf(server, "account.create", accountTarget(admin), "first start: role=admin"));
  } catch (const StoreConflict&) {
    return std::nullopt;  // another process sharing the store got there first
  }
  return password;
}

// ---------------------------------------------------------------- logins and tokens

LoginResult AuthService::login(const std::string& username, const std::string& password,
                               const std::string& clientAddress) {
  const UnixTime now = clock_.now();
  // The username's key first: a success clears it and takes its failures off the address's.
  const std::vector<std::string> rateKeys = {
      "user:" + clientAddress + "|" + username.substr(0, kMaxUsernameLength + 1),
      "address:" + clientAddress};
  beginAttempt(rateKeys, now);

  std::optional<Account> account;
  if (validUsername(username)) account = store_.accountByUsername(username);
  // Verify even without an account, so an unknown username takes as long as a known one.
  const bool passwordOk =
      crypto_.verifyPassword(password, account ? account->passwordHash : dummyHash());
  if (!account || !passwordOk || account->disabled) {
    const std::string reason = !account      ? "unknown_user"
                               : !passwordOk ? "bad_password"
                                             : "disabled";
    store_.appendAudit(AuditEntry{0, now, account ? account->id : 0,
                                  validUsername(username) ? username : "", "account.login-failed",
                                  account ? accountTarget(*account) : "",
                                  "address=" + clientAddress + " reason=" + reason});
    throw ServiceError(Status::kUnauthorized, "bad_credentials", kBadCredentials);
  }
  attemptSucceeded(rateKeys);

  Session session;
  session.id = crypto_.randomToken(kSessionIdBytes);
  session.accountId = account->id;
  session.createdAt = now;
  session.expiresAt = now + settings_.sessionTtlSeconds;
  store_.purgeSessions(now);  // logins are rare enough to carry the housekeeping
  store_.createSession(session);
  store_.appendAudit(AuditEntry{0, now, account->id, account->username, "account.login",
                                accountTarget(*account), "address=" + clientAddress});

  const std::string signedPart =
      std::string(kTokenVersion) + "." + session.id + "." + std::to_string(session.expiresAt);
  return LoginResult{signedPart + "." + crypto_.sign(signedPart), session.expiresAt,
                     withoutHash(std::move(*account))};
}

void AuthService::logout(const Caller& caller) {
  store_.revokeSession(caller.sessionId);
}

Caller AuthService::authenticate(std::string_view token) {
  if (token.empty()) throw unauthorized("a bearer token is required");
  const auto parts = parseToken(token);
  // The signature is checked before anything else is believed, the expiry included.
  if (!parts || !crypto_.verifySignature(parts->signedPart, parts->signature)) {
    throw unauthorized("the token is not valid");
  }
  const UnixTime now = clock_.now();
  if (now >= parts->expiresAt) {
    throw ServiceError(Status::kUnauthorized, "token_expired", "the token has expired");
  }
  const auto session = store_.session(std::string(parts->sessionId));
  if (!session || session->revoked || session->expiresAt != parts->expiresAt) {
    throw unauthorized("the session has ended");
  }
  const auto account = store_.account(session->accountId);
  if (!account || account->disabled) throw unauthorized("the session has ended");
  return Caller{account->id, account->username, account->role, session->id,
                account->mustChangePassword};
}

void AuthService::require(const Caller& caller, std::initializer_list<Role> roles) {
  if (std::find(roles.begin(), roles.end(), caller.role) != roles.end()) return;
  std::string names;
  for (Role role : roles) names += (names.empty() ? "" : " or ") + std::string(roleName(role));
  throw ServiceError(Status::kForbidden, "forbidden", "this needs the role " + names);
}

// ---------------------------------------------------------------- the caller's own account

Account AuthService::me(const Caller& caller) {
  return withoutHash(ownAccount(caller));
}

void AuthService::changePassword(const Caller& caller, const std::string& oldPassword,
                                 const std::string& newPassword) {
  checkPassword(newPassword);
  if (newPassword == oldPassword) {
    throw badField("the new password must differ from the current one");
  }
  // A stolen token must not become an unlimited password oracle: same limit as logins.
  const std::vector<std::string> rateKeys = {"password:" + std::to_string(caller.id)};
  beginAttempt(rateKeys, clock_.now());
  Account account = ownAccount(caller);
  if (!crypto_.verifyPassword(oldPassword, account.passwordHash)) {
    throw ServiceError(Status::kUnauthorized, "bad_credentials", "the current password is wrong");
  }
  attemptSucceeded(rateKeys);
  account.passwordHash = crypto_.hashPassword(newPassword);
  account.mustChangePassword = false;
  if (!store_.updateAccount(account,
                            auditOf(caller, "account.password-change", accountTarget(account)))) {
    throw unauthorized("the account no longer exists");
  }
  // Store can only revoke all of an account's sessions, so the caller's goes too and the client
  // logs in again with the new password. A Store call sparing one session would keep it.
  store_.revokeSessionsOf(account.id);
}

// ---------------------------------------------------------------- administration

std::vector<Account> AuthService::accounts(const Caller& caller) {
  require(caller, {Role::kAdmin});
  std::vector<Account> list = store_.accounts();
  for (auto& account : list) account.passwordHash.clear();
  return list;
}

CreatedAccount AuthService::createAccount(const Caller& caller, const NewAccount& request) {
  require(caller, {Role::kAdmin});
  if (!validUsername(request.username)) {
    throw badField("username must be 1 to 64 characters of a-z, 0-9, '.', '_' and '-'");
  }
  Account account;
  account.username = request.username;
  account.displayName = request.displayName.empty() ? request.username : request.displayName;
  checkDisplayName(account.displayName);
  account.role = request.role;
  CreatedAccount created;
  if (request.password.empty()) {
    created.initialPassword = generatePassword();
  } else {
    checkPassword(request.password);
  }
  account.passwordHash =
      crypto_.hashPassword(request.password.empty() ? created.initialPassword : request.password);
  // Whoever made the account knows its password, generated or not.
  account.mustChangePassword = true;
  account.createdAt = clock_.now();
  try {
    account.id =
        store_.createAccount(account, auditOf(caller, "account.create", accountTarget(account),
                                              "role=" + std::string(roleName(account.role))));
  } catch (const StoreConflict&) {
    throw ServiceError(Status::kConflict, "duplicate_username",
                       "the username '" + account.username + "' is taken");
  }
  created.account = withoutHash(std::move(account));
  return created;
}

Account AuthService::updateAccount(const Caller& caller, AccountId id, const AccountPatch& patch) {
  require(caller, {Role::kAdmin});
  auto found = store_.account(id);
  if (!found) notFound(id);
  Account account = std::move(*found);
  // The last admin standing cannot lock everyone out: nobody can disable or demote themself.
  if (id == caller.id && patch.disabled.value_or(false)) {
    throw badState("you cannot disable your own account");
  }
  if (id == caller.id && patch.role && *patch.role != Role::kAdmin) {
    throw badState("you cannot give up your own admin role");
  }
  if (patch.displayName) checkDisplayName(*patch.displayName);
  if (patch.password) checkPassword(*patch.password);

  std::string changes;
  auto note = [&changes](const std::string& change) {
    changes += (changes.empty() ? "" : " ") + change;
  };
  if (patch.displayName && *patch.displayName != account.displayName) {
    account.displayName = *patch.displayName;
    note("displayName");
  }
  if (patch.role && *patch.role != account.role) {
    account.role = *patch.role;
    note("role=" + std::string(roleName(account.role)));
  }
  const bool disabling = patch.disabled && *patch.disabled && !account.disabled;
  if (patch.disabled && *patch.disabled != account.disabled) {
    account.disabled = *patch.disabled;
    note(account.disabled ? "disabled=true" : "disabled=false");
  }
  if (patch.password) {
    // Reset by an admin, who now knows it: the owner must choose a new one.
    account.passwordHash = crypto_.hashPassword(*patch.password);
    account.mustChangePassword = true;
    note("password reset");
  }
  if (changes.empty()) return withoutHash(std::move(account));

  if (!store_.updateAccount(account,
                            auditOf(caller, "account.update", accountTarget(account), changes))) {
    notFound(id);
  }
  // authenticate() refuses a disabled account anyway; revoking makes it stick if re-enabled.
  if (disabling || patch.password) store_.revokeSessionsOf(id);
  return withoutHash(std::move(account));
}

// ---------------------------------------------------------------- internals

void AuthService::beginAttempt(const std::vector<std::string>& keys, UnixTime now) {
  std::lock_guard lock(mutex_);
  if (failures_.size() > kFailureSweepThreshold) {
    for (auto it = failures_.begin(); it != failures_.end();) {
      prune(it->second, now);
      it = it->second.empty() ? failures_.erase(it) : std::next(it);
    }
  }
  UnixTime retryAfter = 0;
  for (const auto& key : keys) {
    auto it = failures_.find(key);
    if (it == failures_.end()) continue;
    auto& times = it->second;
    prune(times, now);
    const auto max = static_cast<std::size_t>(std::max(settings_.maxFailures, 1));
    if (times.size() >= max) {
      // Allowed again once enough of the oldest failures have left the window.
      retryAfter =
          std::max(retryAfter, times[times.size() - max] + settings_.failureWindowSeconds - now);
    }
  }
  if (retryAfter > 0) {
    throw ServiceError(
        Status::kRateLimited, "rate_limited",
        "too many failed attempts; try again in " + std::to_string(retryAfter) + " seconds")
        .withRetryAfter(static_cast<int>(retryAfter));
  }
  for (const auto& key : keys) {
    auto& times = failures_[key];
    times.insert(std::upper_bound(times.begin(), times.end(), now), now);
  }
}

void AuthService::attemptSucceeded(const std::vector<std::string>& keys) {
  std::lock_guard lock(mutex_);
  auto first = failures_.find(keys.front());
  if (first == failures_.end()) return;
  const std::vector<UnixTime> forgiven = std::move(first->second);
  failures_.erase(first);
  // Every attempt charged all its keys at the same time, so equal times are the same failures.
  for (std::size_t i = 1; i < keys.size(); ++i) {
    auto it = failures_.find(keys[i]);
    if (it == failures_.end()) continue;
    auto& times = it->second;
    for (UnixTime t : forgiven) {
      auto match = std::lower_bound(times.begin(), times.end(), t);
      if (match != times.end() && *match == t) times.erase(match);
    }
    if (times.empty()) failures_.erase(it);
  }
}

void AuthService::prune(std::vector<UnixTime>& times, UnixTime now) const {
  // A failure at t counts while now < t + window. Times are sorted, so the expired ones lead.
  const UnixTime cutoff = now - settings_.failureWindowSeconds;
  times.erase(times.begin(), std::upper_bound(times.begin(), times.end(), cutoff));
}

Account AuthService::ownAccount(const Caller& caller) {
  auto account = store_.account(caller.id);
  if (!account) throw unauthorized("the account no longer exists");
  return std::move(*account);
}

std::string AuthService::dummyHash() {
  {
    std::lock_guard lock(mutex_);
    if (!dummyHash_.empty()) return dummyHash_;
  }
  // Hashed outside the lock: scrypt is slow. Two racing threads both hash; one result is kept.
  std::string hash = crypto_.hashPassword(crypto_.randomToken(kSessionIdBytes));
  std::lock_guard lock(mutex_);
  if (dummyHash_.empty()) dummyHash_ = std::move(hash);
  return dummyHash_;
}

std::string AuthService::generatePassword() {
  // base64url of n bytes has ceil(4n/3) characters; stay above the configured minimum.
  const auto minimum = static_cast<std::size_t>(std::max(settings_.minPasswordLength, 0));
  return crypto_.randomToken(std::max(kGeneratedPasswordBytes, (minimum * 3 + 3) / 4));
}

void AuthService::checkPassword(const std::string& password) const {
  if (characters(password) < static_cast<std::size_t>(settings_.minPasswordLength)) {
    throw badField("password must be at least " + std::to_string(settings_.minPasswordLength) +
                   " characters");
  }
}

AuditEntry AuthService::auditOf(const Caller& caller, std::string action, std::string target,
                                std::string detail) const {
  return AuditEntry{0,
                    clock_.now(),
                    caller.id,
                    caller.username,
                    std::move(action),
                    std::move(target),
                    std::move(detail)};
}

}  // namespace mcu::core
