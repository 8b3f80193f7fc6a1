// The host console (/host): log in (and change a first password), then meetings, create meeting,
// a meeting's live roll call, chairing a live meeting, room links and (admins) accounts.
// REST API: docs/openapi.yaml; the live view also speaks docs/protocol.md over /ws.
// Views are chosen by the URL hash (#/meetings, #/create, #/meeting/ID, #/live/ID, #/links,
// #/accounts).
// Test hook: window.mcuHost.
import { t, applyI18n, bindLangSwitch, onLangChange } from './i18n.js';
import { api, session, onSessionEnd } from './api.js';
import { $, announce, showError } from './host-util.js';
import { MeetingsView } from './host-meetings.js';
import { CreateView } from './host-create.js';
import { RollView } from './host-roll.js';
import { LinksView } from './host-links.js';
import { AccountsView } from './host-accounts.js';
import { LiveView } from './host-live.js';

const MANAGE = ['admin', 'host'];
// view name → its section, the tab it lights up, and who may see it (null: every role)
const ROUTES = {
  meetings: { section: 'view-meetings', tab: 'meetings', roles: null, title: 'host.tab.meetings' },
  create: { section: 'view-create', tab: 'create', roles: MANAGE, title: 'host.tab.create' },
  meeting: { section: 'view-meeting', tab: 'meetings', roles: null, title: 'host.roll.heading' },
  live: { section: 'view-live', tab: 'meetings', roles: null, title: 'host.live.heading' },
  links: { section: 'view-links', tab: 'links', roles: MANAGE, title: 'host.tab.links' },
  accounts: {
    section: 'view-accounts', tab: 'accounts', roles: ['admin'], title: 'host.tab.accounts',
  },
};
const SCREENS = ['login-screen', 'password-screen', 'console-screen'];

const state = {
  screen: null,
  account: null,
  current: null, // {name, id} of the view shown
  loginPassword: null, // kept between login and a forced password change only
  expiryTimer: null,
};

const ctx = {
  account: () => state.account,
  canManage: () => MANAGE.includes(state.account?.role),
  navigate(hash) {
    if (location.hash === hash) route();
    else location.hash = hash; // hashchange routes
  },
  meetingCreated(meeting) {
    views.meetings.highlightId = meeting.id;
    ctx.navigate('#/meetings');
  },
};

const views = {
  meetings: new MeetingsView(ctx),
  create: new CreateView(ctx),
  meeting: new RollView(ctx),
  links: new LinksView(ctx),
  accounts: new AccountsView(ctx),
  live: new LiveView(ctx),
};

window.mcuHost = {
  get screen() { return state.screen; },
  get view() { return state.current?.name ?? null; },
  get account() { return state.account; },
  get rollPolling() { return views.meeting.polling; },
  get live() { return views.live.state; }, // the last meeting-state of the live view
};

// ---- screens --------------------------------------------------------------------------------

function showScreen(id) {
  state.screen = id;
  for (const s of SCREENS) $(s).hidden = s !== id;
  const loggedIn = id !== 'login-screen' && state.account != null;
  $('logout').hidden = !loggedIn;
  renderUser();
}

function renderUser() {
  const label = $('user-label');
  const a = state.account;
  label.hidden = !a || state.screen === 'login-screen';
  label.textContent = a ? `${a.displayName || a.username} · ${t(`host.role.${a.role}`)}` : '';
}

function leaveView() {
  if (state.current) views[state.current.name].hide();
  state.current = null;
}

// infoKey: a message above the form (session ended, logged out, password changed).
function showLogin(infoKey = null) {
  leaveView();
  clearTimeout(state.expiryTimer);
  state.account = null;
  state.loginPassword = null;
  showScreen('login-screen');
  document.title = `${t('host.login.heading')} — ${t('app.title')}`;
  const info = $('login-info');
  info.hidden = !infoKey;
  info.dataset.key = infoKey ?? '';
  info.textContent = infoKey ? t(infoKey) : '';
  showError($('login-error'), null);
  const user = $('login-username');
  if (!user.value) user.value = session.username;
  $('login-password').value = '';
  (user.value ? $('login-password') : user).focus();
}

function showPasswordForm() {
  leaveView();
  showScreen('password-screen');
  document.title = `${t('host.password.heading')} — ${t('app.title')}`;
  // Right after login the current password is known: ask only for the new one.
  $('pw-old-field').hidden = state.loginPassword != null;
  for (const id of ['pw-old', 'pw-new', 'pw-confirm']) $(id).value = '';
  showError($('pw-error'), null);
  (state.loginPassword != null ? $('pw-new') : $('pw-old')).focus();
}

function showConsole() {
  showScreen('console-screen');
  for (const tab of document.querySelectorAll('.tab')) {
    const roles = ROUTES[tab.dataset.view].roles;
    tab.hidden = roles != null && !roles.includes(state.account.role);
  }
  route(false);
}

// ---- routing --------------------------------------------------------------------------------

function parseHash() {
  const m = /^#\/([a-z]+)(?:\/(\d+))?$/.exec(location.hash);
  let name = m?.[1] ?? 'meetings';
  const id = m?.[2] != null ? Number(m[2]) : null;
  const spec = ROUTES[name];
  if (!spec || ((name === 'meeting' || name === 'live') && id == null)) name = 'meetings';
  const roles = ROUTES[name].roles;
  if (roles != null && !roles.includes(state.account?.role)) name = 'meetings';
  return { name, id };
}

function route(moveFocus = true) {
  if (state.screen !== 'console-screen') return;
  const next = parseHash();
  const same = state.current?.name === next.name && state.current?.id === next.id;
  if (!same) leaveView();
  const spec = ROUTES[next.name];
  for (const r of Object.values(ROUTES)) $(r.section).hidden = r.section !== spec.section;
  for (const tab of document.querySelectorAll('.tab')) {
    if (tab.dataset.view === spec.tab) tab.setAttribute('aria-current', 'page');
    else tab.removeAttribute('aria-current');
  }
  document.title = `${t(spec.title)} — ${t('app.title')}`;
  state.current = next;
  views[next.name].show({ id: next.id });
  if (moveFocus && !same) $(spec.section).querySelector('h1')?.focus();
}

// ---- login, password, logout -----------------------------------------------------------------

function scheduleExpiry() {
  clearTimeout(state.expiryTimer);
  const at = Date.parse(session.expiresAt ?? '');
  if (!Number.isFinite(at)) return;
  const ms = at - Date.now();
  if (ms < 2 ** 31 - 1) {
    state.expiryTimer = setTimeout(() => {
      session.clear();
      showLogin('host.login.expired');
    }, Math.max(0, ms));
  }
}

function enter(account) {
  state.account = account;
  scheduleExpiry();
  if (account.mustChangePassword) {
    showPasswordForm();
    return;
  }
  state.loginPassword = null;
  showConsole();
}

async function logIn(username, password) {
  const reply = await api.login(username, password);
  session.start(reply.token, reply.expiresAt, username);
  return reply.account;
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
    const account = await logIn(username, password);
    state.loginPassword = password;
    $('login-info').hidden = true;
    $('login-password').value = '';
    enter(account);
  } catch (err) {
    showError(error, err);
    $('login-password').select();
  } finally {
    submit.disabled = false;
  }
}

function checkPasswords(oldPassword, newPassword, confirm) {
  if (!oldPassword) return ['host.password.oldRequired', 'pw-old'];
  if (!newPassword) return ['host.password.newRequired', 'pw-new'];
  if (newPassword !== confirm) return ['host.password.mismatch', 'pw-confirm'];
  if (newPassword === oldPassword) return ['host.password.same', 'pw-new'];
  return null;
}

async function onChangePassword(e) {
  e.preventDefault();
  const oldPassword = state.loginPassword ?? $('pw-old').value;
  const newPassword = $('pw-new').value;
  const error = $('pw-error');
  const problem = checkPasswords(oldPassword, newPassword, $('pw-confirm').value);
  if (problem) {
    showError(error, problem[0]);
    $(problem[1]).focus();
    return;
  }
  showError(error, null);
  const submit = $('pw-submit');
  submit.disabled = true;
  try {
    await api.changePassword(oldPassword, newPassword);
  } catch (err) {
    submit.disabled = false;
    if (err.sessionEnded) return;
    if (err.code === 'bad_credentials') { // the remembered password is stale: ask for it
      state.loginPassword = null;
      $('pw-old-field').hidden = false;
    }
    showError(error, err);
    return;
  }
  // Then log in again with the new password: a fresh session for the changed account.
  const username = state.account.username;
  try {
    await api.logout();
  } catch {
    /* the old token may already be revoked */
  }
  session.clear();
  try {
    const account = await logIn(username, newPassword);
    announce(t('host.password.changed'));
    state.loginPassword = null;
    enter(account);
  } catch (err) {
    showLogin('host.password.changedLogin');
    if (!err.sessionEnded) showError($('login-error'), err);
  } finally {
    submit.disabled = false;
  }
}

async function onLogout() {
  try {
    await api.logout();
  } catch {
    /* logged out locally either way */
  }
  session.clear();
  showLogin('host.login.loggedOut');
  announce(t('host.login.loggedOut'));
}

// ---- language -------------------------------------------------------------------------------

function onLang() {
  renderUser();
  // Client-side messages (i18n keys) follow the language; server errors keep their text.
  for (const el of document.querySelectorAll('.field-error[data-key], #login-info[data-key]')) {
    if (!el.hidden && el.dataset.key) el.textContent = t(el.dataset.key);
  }
  if (state.current) {
    document.title = `${t(ROUTES[state.current.name].title)} — ${t('app.title')}`;
    views[state.current.name].render();
  }
}

// ---- start ----------------------------------------------------------------------------------

onSessionEnd((err) => {
  showLogin(err.code === 'token_expired' ? 'host.login.expired' : 'host.login.ended');
});
$('login-form').addEventListener('submit', onLogin);
$('password-form').addEventListener('submit', onChangePassword);
$('logout').addEventListener('click', onLogout);
for (const tab of document.querySelectorAll('.tab')) {
  tab.addEventListener('click', () => ctx.navigate(`#/${tab.dataset.view}`));
}
window.addEventListener('hashchange', () => route());
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
