// Small helpers shared by the host console's views: DOM building, announcements, error text,
// local date/time formatting and RFC 3339 conversion, clipboard, two-step confirmation.
import { t, errorText, getLang } from './i18n.js';

export const $ = (id) => document.getElementById(id);

// h('button', {class: 'btn', type: 'button', onclick: fn, 'data-testid': 'x'}, 'text', child)
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v == null || v === false) continue;
    if (k === 'class') el.className = v;
    else if (k === 'text') el.textContent = v;
    else if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'hidden' || k === 'disabled' || k === 'checked') el[k] = Boolean(v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) {
    if (c == null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

// ---- announcements (screen readers) and errors ----------------------------------------------

let announceTimer = null;

// Reads `text` out through the page's polite live region (#announcer).
export function announce(text) {
  const region = $('announcer');
  if (!region) return;
  clearTimeout(announceTimer);
  region.textContent = '';
  // A fresh text node after a tick, so the same message twice is read twice.
  announceTimer = setTimeout(() => { region.textContent = text; }, 50);
}

// A friendly text for an ApiError, in the page's language.
export function errorLabel(err) {
  const code = err?.code || 'unknown';
  if (code === 'rate_limited' && !err.retryAfter) return errorText(code);
  const key = `herr.${code}`;
  const text = t(key, { s: err?.retryAfter });
  return text === key ? errorText(code) : text;
}

// The friendly text plus the server's own message, which names the field or the problem.
export function errorMessage(err) {
  const label = errorLabel(err);
  const detail = err?.serverMessage;
  return detail && detail !== err.code ? `${label} (${detail})` : label;
}

// Shows err (an ApiError or a client-side i18n key) in a role="alert" element; null hides it.
export function showError(el, err) {
  if (!el) return;
  delete el.dataset.code;
  delete el.dataset.key;
  if (!err) {
    el.hidden = true;
    el.textContent = '';
    return;
  }
  el.hidden = false;
  if (typeof err === 'string') { // a client-side check: re-translated when the language changes
    el.dataset.key = err;
    el.textContent = t(err);
  } else {
    el.dataset.code = err.code;
    el.textContent = errorMessage(err);
  }
}

// ---- dates and times (local time zone of the browser) ---------------------------------------

export const pad2 = (n) => String(n).padStart(2, '0');

function toDate(v) {
  return v instanceof Date ? v : new Date(v);
}

// "Thứ Sáu, 28/11/2026" / "Fri, 28/11/2026"
export function formatDate(v) {
  const d = toDate(v);
  if (Number.isNaN(d.getTime())) return '';
  const weekday = t('host.weekdays').split(',')[d.getDay()] ?? '';
  return `${weekday}, ${pad2(d.getDate())}/${pad2(d.getMonth() + 1)}/${d.getFullYear()}`;
}

// "08:05" (24-hour, as written in Vietnam)
export function formatTime(v, seconds = false) {
  const d = toDate(v);
  if (Number.isNaN(d.getTime())) return '';
  const hm = `${pad2(d.getHours())}:${pad2(d.getMinutes())}`;
  return seconds ? `${hm}:${pad2(d.getSeconds())}` : hm;
}

export function formatDateTime(v) {
  const d = toDate(v);
  return Number.isNaN(d.getTime()) ? '' : `${formatTime(d)} ${formatDate(d)}`;
}

export function sameLocalDay(a, b) {
  return a.getFullYear() === b.getFullYear() && a.getMonth() === b.getMonth() &&
    a.getDate() === b.getDate();
}

// "Thứ Sáu, 28/11/2026, 08:00 – 10:00"; an end on another day carries its own date.
export function formatRange(startIso, endIso) {
  const s = toDate(startIso);
  const e = toDate(endIso);
  if (Number.isNaN(s.getTime())) return '';
  if (Number.isNaN(e.getTime())) return `${formatDate(s)}, ${formatTime(s)}`;
  const end = sameLocalDay(s, e) ? formatTime(e) : `${formatDate(e)}, ${formatTime(e)}`;
  return `${formatDate(s)}, ${formatTime(s)} – ${end}`;
}

// A local Date as RFC 3339 with the browser's offset: "2026-11-28T08:00:00+07:00".
export function toRfc3339(d) {
  const off = -d.getTimezoneOffset(); // minutes east of UTC
  const sign = off >= 0 ? '+' : '-';
  const abs = Math.abs(off);
  return `${d.getFullYear()}-${pad2(d.getMonth() + 1)}-${pad2(d.getDate())}` +
    `T${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}` +
    `${sign}${pad2(Math.floor(abs / 60))}:${pad2(abs % 60)}`;
}

export function startOfToday() {
  const d = new Date();
  d.setHours(0, 0, 0, 0);
  return d;
}

// Value for <input type="date">: "2026-11-28"
export function dateInputValue(d) {
  return `${d.getFullYear()}-${pad2(d.getMonth() + 1)}-${pad2(d.getDate())}`;
}

// <input type="date"> and <input type="time"> values → a local Date, or null if incomplete.
export function fromInputs(dateStr, timeStr) {
  const dm = /^(\d{4})-(\d{2})-(\d{2})$/.exec(dateStr || '');
  const tm = /^(\d{2}):(\d{2})/.exec(timeStr || '');
  if (!dm || !tm) return null;
  const d = new Date(+dm[1], +dm[2] - 1, +dm[3], +tm[1], +tm[2], 0, 0);
  return Number.isNaN(d.getTime()) ? null : d;
}

// ---- misc -----------------------------------------------------------------------------------

// Vietnamese-aware sorting of names.
export function byName(a, b) {
  return String(a).localeCompare(String(b), getLang() === 'vi' ? 'vi' : 'en');
}

// Lower case without diacritics, for filtering ("ban lau" finds "xã Bản Lầu").
export function fold(s) {
  return String(s).normalize('NFD').replace(/[\u0300-\u036f]/g, '').replace(/đ/gi, 'd')
    .toLowerCase();
}

// Copies text; true on success. The async clipboard API needs a secure context and focus;
// the hidden-textarea fallback covers the rest.
export async function copyText(text) {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    const area = h('textarea', { class: 'visually-hidden', readonly: true, 'aria-hidden': 'true' });
    area.value = text;
    document.body.append(area);
    area.select();
    let ok = false;
    try {
      ok = document.execCommand('copy');
    } catch {
      ok = false;
    }
    area.remove();
    return ok;
  }
}

// Copies and says so (or says to copy by hand).
export async function copyAndAnnounce(text) {
  const ok = await copyText(text);
  announce(ok ? t('host.copied') : t('host.copyFailed'));
  return ok;
}

// A destructive button asks once more in place: the click swaps it for "confirm" (data-testid
// <button's testid>-confirm) and "back". No window.confirm(): it blocks and hides context.
export function confirmable(button, { question, confirmLabel, onConfirm }) {
  button.addEventListener('click', () => {
    const testid = button.dataset.testid;
    const back = h('button',
      { type: 'button', class: 'btn btn-secondary btn-small', text: t('host.back') });
    const yes = h('button', {
      type: 'button',
      class: 'btn btn-danger btn-small',
      'data-testid': testid ? `${testid}-confirm` : null,
      text: confirmLabel,
    });
    const box = h('span', { class: 'confirm-box', role: 'group' },
      h('span', { class: 'confirm-question', text: question }), yes, back);
    const restore = () => {
      box.replaceWith(button);
      button.focus();
    };
    back.addEventListener('click', restore);
    yes.addEventListener('click', () => {
      yes.disabled = true;
      back.disabled = true;
      Promise.resolve(onConfirm()).finally(() => { if (box.isConnected) restore(); });
    });
    button.replaceWith(box);
    yes.focus();
  });
  return button;
}
