// Host console: the create-meeting form (title, day, start and end, access, invited units).
import { t } from './i18n.js';
import { api } from './api.js';
import {
  $, announce, showError, dateInputValue, fromInputs, pad2, toRfc3339,
} from './host-util.js';
import { OrgTree, UnitPicker, KIND_GROUPS } from './host-orgtree.js';

const TITLE_MAX = 200;

export class CreateView {
  constructor(ctx) {
    this.ctx = ctx; // {meetingCreated(meeting)}
    this.form = $('create-form');
    this.errorEl = $('create-error');
    this.treeErrorEl = $('unit-tree-error');
    this.countEl = $('invite-count');
    this.submitEl = $('create-submit');
    this.version = null;
    this.defaultsSet = false;
    this.picker = new UnitPicker($('unit-tree'), { onChange: () => this.renderSelection() });
    this.quick = [
      [$('invite-all-communes'), KIND_GROUPS.communes],
      [$('invite-all-departments'), KIND_GROUPS.departments],
    ];
    for (const [button, kinds] of this.quick) {
      button.addEventListener('click',
        () => this.picker.setKinds(kinds, !this.picker.kindsOn(kinds)));
    }
    $('invite-clear').addEventListener('click', () => this.picker.clear());
    $('unit-filter').addEventListener('input', (e) => this.picker.setFilter(e.target.value));
    // A client-side message goes once the host edits the form; a server's stays until resent.
    this.form.addEventListener('input', () => {
      if (this.errorEl.dataset.key) showError(this.errorEl, null);
    });
    this.form.addEventListener('submit', (e) => {
      e.preventDefault();
      this.submit();
    });
  }

  show() {
    if (!this.defaultsSet) this.setDefaults();
    this.renderSelection();
    this.loadUnits();
  }

  hide() {}

  render() {
    if (this.picker.tree) this.picker.sync();
    this.renderSelection();
  }

  // Today, from the next half hour, for an hour (kept within the day).
  setDefaults() {
    const now = new Date();
    const start = new Date(now);
    start.setSeconds(0, 0);
    start.setMinutes(now.getMinutes() < 30 ? 30 : 60);
    let end = new Date(start.getTime() + 3600e3);
    if (end.getDate() !== start.getDate()) {
      end = new Date(start.getFullYear(), start.getMonth(), start.getDate(), 23, 59);
    }
    $('create-date').value = dateInputValue(start);
    $('create-start').value = `${pad2(start.getHours())}:${pad2(start.getMinutes())}`;
    $('create-end').value = `${pad2(end.getHours())}:${pad2(end.getMinutes())}`;
    this.defaultsSet = true;
  }

  async loadUnits() {
    try {
      const reply = await api.units();
      showError(this.treeErrorEl, null);
      if (reply?.version != null && reply.version === this.version) return;
      this.version = reply?.version ?? null;
      this.picker.setTree(new OrgTree(Array.isArray(reply?.units) ? reply.units : []));
      this.renderSelection();
    } catch (err) {
      if (!err.sessionEnded) showError(this.treeErrorEl, err);
    }
  }

  renderSelection() {
    const n = this.picker.count();
    this.countEl.textContent = t('host.invite.count', { n });
    this.countEl.dataset.count = String(n);
    for (const [button, kinds] of this.quick) {
      button.setAttribute('aria-pressed', String(this.picker.kindsOn(kinds)));
    }
  }

  // Client-side checks: the first problem as [i18n key, element to focus], or null.
  check(title, start, end, access) {
    if (!title) return ['host.create.titleRequired', $('create-title')];
    if ([...title].length > TITLE_MAX) return ['host.create.titleTooLong', $('create-title')];
    if (!start) return ['host.create.timeRequired', $('create-date')];
    if (!end) return ['host.create.timeRequired', $('create-end')];
    if (end <= start) return ['host.create.endBeforeStart', $('create-end')];
    if (access === 'invited' && this.picker.count() === 0) {
      return ['host.create.inviteRequired', $('invite-all-communes')];
    }
    return null;
  }

  body() {
    const date = $('create-date').value;
    const start = fromInputs(date, $('create-start').value);
    const end = fromInputs(date, $('create-end').value);
    const access = this.form.querySelector('input[name="access"]:checked')?.value ?? 'invited';
    const title = $('create-title').value.trim();
    const problem = this.check(title, start, end, access);
    if (problem) return { problem };
    const sel = this.picker.selection();
    const invite = {};
    for (const key of ['units', 'subtrees', 'kinds']) if (sel[key].length) invite[key] = sel[key];
    const body = { title, startsAt: toRfc3339(start), endsAt: toRfc3339(end), access, invite };
    const code = $('create-code').value.trim();
    if (code) body.code = code;
    return { body };
  }

  async submit() {
    const { problem, body } = this.body();
    if (problem) {
      showError(this.errorEl, problem[0]);
      problem[1].focus();
      return;
    }
    showError(this.errorEl, null);
    this.submitEl.disabled = true;
    this.form.setAttribute('aria-busy', 'true');
    try {
      const meeting = await api.createMeeting(body);
      announce(t('host.create.done', { title: meeting.title, code: meeting.code }));
      this.reset();
      this.ctx.meetingCreated(meeting);
    } catch (err) {
      if (!err.sessionEnded) showError(this.errorEl, err);
    } finally {
      this.submitEl.disabled = false;
      this.form.removeAttribute('aria-busy');
    }
  }

  reset() {
    $('create-title').value = '';
    $('create-code').value = '';
    $('unit-filter').value = '';
    this.picker.setFilter('');
    this.picker.clear();
    this.setDefaults();
  }
}
