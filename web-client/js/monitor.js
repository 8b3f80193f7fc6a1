// The technicians' dashboard (/monitor): log in (a technician or an admin; the REST token is the
// host console's, so a tab logged in there is logged in here), then one WebSocket to /ws attached
// with `monitor` and the token. Every `monitor-state` (each 2 s) repaints the board of live
// meetings and their sites; a tile opens the site's detail (charts, events, actions).
// Protocol: docs/protocol.md, "Monitoring stream health (issue 6)". The socket reconnects with
// backoff and closes on logout. Test hook: window.mcuMonitor.
import { t, applyI18n, bindLangSwitch, onLangChange } from './i18n.js';
import { api, session, onSessionEnd } from './api.js';
import { Signaling, SignalingError } from './signaling.js';
import { $, announce, showError, formatTime } from './host-util.js';
import { Board, FILTERS } from './monitor-board.js';
import { SiteDetail } from './monitor-detail.js';
import { displayState } from './monitor-format.js';

const ROLES = ['technician', 'admin'];
const BACKOFF_FIRST_MS = 1000;
const BACKOFF_MAX_MS = 10000;
const PING_MS = 20000; // finds half-open connections
// `monitor` errors after which trying again cannot help.
const FATAL = new Set(['forbidden', 'already_joined', 'bad_field', 'missing_field', 'unknown_type']);
// The login token is no good: back to the login form (if the REST API agrees).
const SESSION_ERRORS = new Set(['unauthorized', 'token_expired']);
const SCREENS = ['login-screen', 'monitor-screen'];

const state = {
  screen: null,
  account: null,
  conn: 'connecting', // connecting, connected, reconnecting, failed
  joined: null, // monitor-joined: role, intervalMs, thresholds
  last: null, // the last monitor-state
  shown: new Map(), // site key → display state last painted (to announce sites going red)
  sig: null,
  gen: 0, // bumped on every (re)connect and stop: stale callbacks check it
  attempt: 0,
  retryTimer: null,
  pingTimer: null,
  expiryTimer: null,
};

const asError = (err) => ({
  code: err?.code || 'internal',
  serverMessage: err?.message && err.message !== err.code ? err.message : '',
});

const board = new Board($('monitor-meetings'), { onSelect: openSite });
const detail = new SiteDetail({
  request: (msg) => (state.sig
    ? state.sig.request(msg) : Promise.reject(new SignalingError('network', 'not connected'))),
  thresholds: () => state.joined?.thresholds ?? null,
  connected: () => state.conn === 'connected',
  onClose: closeSite,
});

window.mcuMonitor = {
  get screen() { return state.screen; },
  get account() { return state.account; },
  get conn() { return state.conn; },
  get joined() { return state.joined; },
  get state() { return state.last; }, // the last monitor-state
  get selected() { return detail.key; },
  get site() { return detail.reply; }, // the last monitor-site reply's site
  get filter() { return board.filter; },
  get sort() { return board.sort; },
};

// ---- screens --------------------------------------------------------------------------------

function showScreen(id) {
  state.screen = id;
  for (const s of SCREENS) $(s).hidden = s !== id;
  $('logout').hidden = !session.token || state.account == null;
  renderUser();
}

function renderUser() {
  const label = $('user-label');
  const a = state.account;
  label.hidden = !a;
  label.textContent = a ? `${a.displayName || a.username} · ${t(`host.role.${a.role}`)}` : '';
}

// infoKey: a message above the form; errorKey: one in the form's error line.
function showLogin(infoKey = null, errorKey = null) {
  stop();
  clearTimeout(state.expiryTimer);
  showScreen('login-screen');
  document.title = `${t('monitor.login.heading')} — ${t('app.title')}`;
  const info = $('login-info');
  info.hidden = !infoKey;
  info.dataset.key = infoKey ?? '';
  info.textContent = infoKey ? t(infoKey) : '';
  showError($('login-error'), errorKey);
  const user = $('login-username');
  if (!user.value) user.value = session.username;
  $('login-password').value = '';
  (user.value ? $('login-password') : user).focus();
}

function showMonitor() {
  showScreen('monitor-screen');
  document.title = `${t('monitor.heading')} — ${t('app.title')}`;
  paintBar();
  board.update(state.last);
  $('monitor-heading').focus();
  state.attempt = 0;
  connect();
}

// The account decides: a technician or an admin watches; anyone else is told why not (the
// session stays: the same tab may still use the host console).
function enter(account) {
  state.account = account;
  scheduleExpiry();
  if (account.mustChangePassword) {
    showLogin('monitor.login.mustChange');
    return;
  }
  if (!ROLES.includes(account.role)) {
    showLogin(null, 'monitor.login.forbidden');
    return;
  }
  showMonitor();
}

function scheduleExpiry() {
  clearTimeout(state.expiryTimer);
  const at = Date.parse(session.expiresAt ?? '');
  if (!Number.isFinite(at)) return;
  const ms = at - Date.now();
  if (ms < 2 ** 31 - 1) {
    state.expiryTimer = setTimeout(() => {
      session.clear();
      state.account = null;
      showLogin('host.login.expired');
    }, Math.max(0, ms));
  }
}

async function onLogin(e) {
  e.preventDefault();
  const username = $('login-username').value.trim();
  const password = $('login-password').value;
  const error = $('login-error');
  if (!username || !password) {
    showError(error, username ? 'host.login.passwordRequired' : 'host.login.usernameRequired');
    $(username ? 'login-password' : 'login-username').focus();
    return;
  }
  showError(error, null);
  const submit = $('login-submit');
  submit.disabled = true;
  try {
    const reply = await api.login(username, password);
    session.start(reply.token, reply.expiresAt, username);
    $('login-info').hidden = true;
    $('login-password').value = '';
    enter(reply.account);
  } catch (err) {
    showError(error, err);
    $('login-password').select();
  } finally {
    submit.disabled = false;
  }
}

async function onLogout() {
  stop();
  try {
    await api.logout();
  } catch {
    /* logged out locally either way */
  }
  session.clear();
  state.account = null;
  showLogin('host.login.loggedOut');
  announce(t('host.login.loggedOut'));
}

// ---- the WebSocket --------------------------------------------------------------------------

function wsUrl() {
  return `${location.protocol === 'http:' ? 'ws' : 'wss'}://${location.host}/ws`;
}

async function connect() {
  clearTimeout(state.retryTimer);
  closeSocket();
  const gen = ++state.gen;
  setConn(state.attempt ? 'reconnecting' : 'connecting');
  const token = session.token;
  if (!token) return;
  const sig = new Signaling(wsUrl());
  state.sig = sig;
  sig.addEventListener('message', (e) => gen === state.gen && onMessage(e.detail));
  sig.addEventListener('close', (e) => !e.detail.expected && lost(gen));
  try {
    await sig.open();
    const joined = await sig.request({ type: 'monitor', token });
    if (gen !== state.gen) return;
    state.joined = joined;
    state.attempt = 0;
    showError($('monitor-error'), null);
    setConn('connected');
    paintBar();
    state.pingTimer = setInterval(() => {
      sig.request({ type: 'ping' }).catch((err) => err.code === 'timeout' && lost(gen));
    }, PING_MS);
    if (detail.open) detail.reload();
  } catch (err) {
    if (gen !== state.gen) return;
    if (SESSION_ERRORS.has(err.code)) sessionProblem(err);
    else if (FATAL.has(err.code)) fail(err);
    else lost(gen);
  }
}

function closeSocket() {
  clearInterval(state.pingTimer);
  state.pingTimer = null;
  state.sig?.close();
  state.sig = null;
}

// Stops watching (logout, login form): no socket, no retries, nothing shown.
function stop() {
  state.gen++;
  clearTimeout(state.retryTimer);
  closeSocket();
  state.joined = null;
  state.last = null;
  state.shown.clear();
  closeSite();
  board.update(null);
}

// The connection dropped (or could not be made): try again, waiting longer each time.
function lost(gen) {
  if (gen !== state.gen || state.screen !== 'monitor-screen') return;
  state.gen++;
  closeSocket();
  const delay = Math.min(BACKOFF_FIRST_MS * 2 ** state.attempt, BACKOFF_MAX_MS);
  state.attempt++;
  setConn('reconnecting');
  state.retryTimer = setTimeout(connect, delay);
}

// The server refused this page for good (a host account, a bad request).
function fail(err) {
  state.gen++;
  clearTimeout(state.retryTimer);
  closeSocket();
  setConn('failed');
  showError($('monitor-error'), asError(err));
}

// The server refused the token: if the REST API agrees, the session ended (api.js sends the
// page back to the login form); otherwise say what the server said.
async function sessionProblem(err) {
  try {
    await api.me();
  } catch (e) {
    if (e.sessionEnded) return;
  }
  if (state.screen === 'monitor-screen') fail(err);
}

function onMessage(msg) {
  switch (msg.type) {
    case 'monitor-state': return apply(msg);
    case 'error':
      if (SESSION_ERRORS.has(msg.code)) return sessionProblem(msg);
      return showError($('monitor-error'), asError(msg));
    default: return undefined;
  }
}

function apply(msg) {
  state.last = msg;
  announceRed(msg);
  board.update(msg);
  paintBar();
  if (detail.open) detail.update(board.site(detail.key));
}

// Screen readers hear a site going red (not the first picture: that is what the eyes see).
function announceRed(msg) {
  const first = state.shown.size === 0;
  const next = new Map();
  for (const meeting of msg.meetings ?? []) {
    for (const site of meeting.sites ?? []) {
      const shown = displayState(site);
      next.set(site.key, shown);
      if (!first && shown === 'red' && state.shown.get(site.key) !== 'red') {
        announce(t('monitor.wentRed', { name: site.name || site.key }));
      }
    }
  }
  state.shown = next;
}

// ---- the bar: connection, last update, filter counts, alarm lines ---------------------------

function setConn(conn) {
  state.conn = conn;
  const el = $('monitor-conn');
  el.dataset.state = conn;
  el.querySelector('.live-state-label').textContent = t(`monitor.conn.${conn}`);
  if (detail.open) detail.paintHead(); // its actions need the connection
}

function paintBar() {
  const n = board.counts();
  for (const b of document.querySelectorAll('.monitor-filter [data-filter]')) {
    const f = b.dataset.filter;
    b.textContent = t(`monitor.filter.${f}`, { n: n[f] });
    b.dataset.count = String(n[f]);
    b.setAttribute('aria-pressed', String(board.filter === f));
  }
  const at = state.last?.at;
  $('monitor-updated').textContent = Number.isFinite(at)
    ? t('monitor.updated', { time: formatTime(at, true) }) : '';
  const th = state.joined?.thresholds;
  $('monitor-thresholds').textContent = th ? t('monitor.thresholds', {
    loss: th.lossPercent, jitter: th.jitterMs, delay: th.oneWayDelayMs, s: th.noMediaSeconds,
  }) : '';
}

// ---- the detail panel -----------------------------------------------------------------------

function openSite(key) {
  board.select(key);
  detail.show(key, board.site(key));
}

function closeSite() {
  const key = detail.key;
  detail.hide();
  board.select(null);
  if (key) document.querySelector(`.monitor-tile[data-site="${CSS.escape(key)}"]`)?.focus();
}

// ---- language -------------------------------------------------------------------------------

function onLang() {
  renderUser();
  // Client-side messages (i18n keys) follow the language; server errors keep their text.
  for (const el of document.querySelectorAll('.field-error[data-key], #login-info[data-key]')) {
    if (!el.hidden && el.dataset.key) el.textContent = t(el.dataset.key);
  }
  if (state.screen === 'monitor-screen') {
    document.title = `${t('monitor.heading')} — ${t('app.title')}`;
    setConn(state.conn);
    paintBar();
    board.render();
    detail.render();
  } else {
    document.title = `${t('monitor.login.heading')} — ${t('app.title')}`;
  }
}

// ---- start ----------------------------------------------------------------------------------

onSessionEnd((err) => {
  state.account = null;
  showLogin(err.code === 'token_expired' ? 'host.login.expired' : 'host.login.ended');
});
$('login-form').addEventListener('submit', onLogin);
$('logout').addEventListener('click', onLogout);
for (const b of document.querySelectorAll('.monitor-filter [data-filter]')) {
  b.addEventListener('click', () => {
    if (!FILTERS.includes(b.dataset.filter)) return;
    board.filter = b.dataset.filter;
    board.update(state.last);
    paintBar();
  });
}
$('monitor-sort').addEventListener('change', (e) => {
  board.sort = e.target.value;
  board.update(state.last);
});
bindLangSwitch($('lang-switch'));
onLangChange(onLang);
applyI18n();

async function start() {
  if (!session.token) {
    showLogin();
    return;
  }
  try {
    enter(await api.me());
  } catch (err) {
    if (err.sessionEnded) return; // already back at the login form
    showLogin();
    showError($('login-error'), err);
  }
}

start();
