// REST client for /api/v1 (docs/openapi.yaml): adds the bearer token, turns error replies into
// ApiError {status, code, message, retryAfter}, and reports a dead session (401 unauthorized or
// token_expired on a request that carried a token) so the page can go back to its login form.

const BASE = '/api/v1';
const TOKEN_KEY = 'mcu.host.token';
const EXPIRES_KEY = 'mcu.host.expiresAt';
const USER_KEY = 'mcu.host.username';
const TIMEOUT_MS = 15000;
// 401 codes that mean "this token is no good"; bad_credentials (a wrong password) does not.
const SESSION_ENDING = new Set(['unauthorized', 'token_expired']);

export class ApiError extends Error {
  constructor(status, code, message, retryAfter = 0) {
    super(message || code);
    this.name = 'ApiError';
    this.status = status; // 0 when the server was not reached
    this.code = code; // the server's error code, or network / timeout / http_<status>
    this.serverMessage = message || '';
    this.retryAfter = retryAfter; // seconds, from Retry-After on 429
    this.sessionEnded = false; // true once the page has been sent back to the login form
  }
}

// The token lives in sessionStorage: it ends with the tab, and other tabs log in on their own.
function read(key) {
  try {
    return sessionStorage.getItem(key);
  } catch {
    return null;
  }
}

function write(key, value) {
  try {
    if (value == null) sessionStorage.removeItem(key);
    else sessionStorage.setItem(key, value);
  } catch {
    /* storage disabled: the session lasts as long as the page */
  }
}

let memoryToken = null;
let sessionEndHandler = () => {};

export const session = {
  get token() {
    return read(TOKEN_KEY) ?? memoryToken;
  },
  get expiresAt() {
    return read(EXPIRES_KEY);
  },
  // The last username that logged in, to prefill the form after a session ends.
  get username() {
    return read(USER_KEY) || '';
  },
  start(token, expiresAt, username) {
    memoryToken = token;
    write(TOKEN_KEY, token);
    write(EXPIRES_KEY, expiresAt ?? null);
    if (username) write(USER_KEY, username);
  },
  clear() {
    memoryToken = null;
    write(TOKEN_KEY, null);
    write(EXPIRES_KEY, null);
  },
};

// fn(err) runs once per request that found the session dead (after the token is cleared).
export function onSessionEnd(fn) {
  sessionEndHandler = fn;
}

async function readJson(res) {
  if (res.status === 204) return null;
  const text = await res.text();
  if (!text) return null;
  try {
    return JSON.parse(text);
  } catch {
    return null; // e.g. an HTML error page from a proxy
  }
}

function toError(res, data) {
  const e = data && typeof data === 'object' ? data.error : null;
  const code = typeof e?.code === 'string' ? e.code : `http_${res.status}`;
  const message = typeof e?.message === 'string' ? e.message : '';
  const retryAfter = Number.parseInt(res.headers.get('Retry-After') ?? '', 10);
  return new ApiError(res.status, code, message, Number.isFinite(retryAfter) ? retryAfter : 0);
}

// request('GET', '/meetings', {query: {from}}) → parsed JSON (null for 204). `quiet`: a dead
// token is just an error (for logging out, where the page already knows what comes next).
export async function request(method, path, { body, query, auth = true, quiet = false } = {}) {
  const url = new URL(BASE + path, location.origin);
  for (const [k, v] of Object.entries(query ?? {})) {
    if (v != null && v !== '') url.searchParams.set(k, String(v));
  }
  const headers = { Accept: 'application/json' };
  const token = auth ? session.token : null;
  if (token) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers['Content-Type'] = 'application/json';

  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), TIMEOUT_MS);
  let res;
  let data;
  try {
    res = await fetch(url, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      cache: 'no-store',
      credentials: 'same-origin',
      signal: abort.signal,
    });
    data = await readJson(res);
  } catch (err) {
    throw new ApiError(0, err.name === 'AbortError' ? 'timeout' : 'network', '');
  } finally {
    clearTimeout(timer);
  }
  if (res.ok) return data;

  const err = toError(res, data);
  if (res.status === 401 && token && !quiet && SESSION_ENDING.has(err.code)) {
    // Only the first failure of a dead token ends the session; later ones are just errors.
    if (session.token === token) {
      session.clear();
      err.sessionEnded = true;
      sessionEndHandler(err);
    } else {
      err.sessionEnded = true;
    }
  }
  throw err;
}

const enc = encodeURIComponent;

// One function per endpoint the host console uses.
export const api = {
  login: (username, password) =>
    request('POST', '/auth/login', { body: { username, password }, auth: false }),
  logout: () => request('POST', '/auth/logout', { quiet: true }),
  me: () => request('GET', '/me'),
  changePassword: (oldPassword, newPassword) =>
    request('POST', '/me/password', { body: { oldPassword, newPassword } }),

  accounts: () => request('GET', '/accounts'),
  createAccount: (body) => request('POST', '/accounts', { body }),
  updateAccount: (id, body) => request('PATCH', `/accounts/${enc(id)}`, { body }),

  units: () => request('GET', '/units'),
  roomLinks: () => request('GET', '/room-links'),
  issueRoomLink: (unitId) => request('POST', `/units/${enc(unitId)}/room-link`),
  revokeRoomLink: (unitId) => request('DELETE', `/units/${enc(unitId)}/room-link`),

  meetings: (query) => request('GET', '/meetings', { query }),
  meeting: (id) => request('GET', `/meetings/${enc(id)}`),
  createMeeting: (body) => request('POST', '/meetings', { body }),
  // action: open, close, cancel, lock or unlock
  meetingAction: (id, action) => request('POST', `/meetings/${enc(id)}/${action}`),
  roll: (id) => request('GET', `/meetings/${enc(id)}/roll`),
};
