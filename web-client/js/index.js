// Landing page: meeting code + room name → /join/CODE?name=NAME
import { t, applyI18n, bindLangSwitch, onLangChange } from './i18n.js';

const NAME_KEY = 'mcu.roomName';
const CODE_KEY = 'mcu.meetingCode';

const form = document.getElementById('join-form');
const codeInput = document.getElementById('code-input');
const nameInput = document.getElementById('name-input');
const errorEl = document.getElementById('form-error');

function load(key) {
  try { return localStorage.getItem(key) || ''; } catch { return ''; }
}

function save(key, value) {
  try { localStorage.setItem(key, value); } catch { /* no storage: nothing to remember */ }
}

function validate(code, name) {
  if (!code) return ['form.codeRequired', codeInput];
  if (!name) return ['form.nameRequired', nameInput];
  if ([...name].length > 64) return ['form.nameTooLong', nameInput];
  return null;
}

form.addEventListener('submit', (e) => {
  e.preventDefault();
  const code = codeInput.value.trim();
  const name = nameInput.value.trim();
  const problem = validate(code, name);
  errorEl.hidden = !problem;
  if (problem) {
    errorEl.dataset.key = problem[0];
    errorEl.textContent = t(problem[0]);
    problem[1].focus();
    return;
  }
  save(CODE_KEY, code);
  save(NAME_KEY, name);
  location.href = `/join/${encodeURIComponent(code)}?name=${encodeURIComponent(name)}`;
});

bindLangSwitch(document.getElementById('lang-switch'));
applyI18n();
codeInput.value = load(CODE_KEY);
nameInput.value = load(NAME_KEY);
(codeInput.value ? nameInput : codeInput).focus();
// Re-translate a visible validation message when the language changes.
onLangChange(() => {
  if (!errorEl.hidden) errorEl.textContent = t(errorEl.dataset.key);
});
