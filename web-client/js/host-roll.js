// Host console: one meeting's detail and live roll call (GET /meetings/{id}/roll every 2 s while
// the view is shown and the tab is visible).
import { t } from './i18n.js';
import { api } from './api.js';
import {
  $, h, announce, showError, formatRange, formatTime, byName, copyAndAnnounce,
} from './host-util.js';
import { meetingButtons, stateBadge, extraBadges } from './host-meetings.js';

const POLL_MS = 2000;
const GROUPS = ['connected', 'left', 'never_joined']; // the order the host reads them in
const COUNTS = ['invited', 'connected', 'left', 'neverJoined', 'guests'];

export class RollView {
  constructor(ctx) {
    this.ctx = ctx; // {canManage(), navigate(hash)}
    this.id = null;
    this.meeting = null;
    this.roll = null;
    this.rollKey = '';
    this.active = false;
    this.timer = null;
    this.generation = 0; // per roll request
    this.visit = 0; // per showing of the view
    this.lastOk = null;
    this.headEl = $('meeting-head');
    this.errorEl = $('meeting-error');
    this.pollStateEl = $('roll-poll-state');
    this.summaryEl = $('roll-summary');
    $('meeting-back').addEventListener('click', () => this.ctx.navigate('#/meetings'));
    $('roll-copy').addEventListener('click', () => {
      if (this.roll) copyAndAnnounce(this.summaryText());
    });
    document.addEventListener('visibilitychange', () => {
      if (!this.active) return;
      if (document.hidden) this.stopPolling();
      else this.poll();
    });
  }

  get polling() {
    return this.timer != null || this.inFlight === true;
  }

  show({ id }) {
    if (this.id !== id) {
      this.meeting = null;
      this.roll = null;
      this.rollKey = '';
      this.lastOk = null;
    }
    this.id = id;
    this.active = true;
    this.visit++;
    showError(this.errorEl, null);
    this.render();
    this.loadMeeting();
    this.poll();
  }

  hide() {
    this.active = false;
    this.visit++;
    this.stopPolling();
  }

  stopPolling() {
    clearTimeout(this.timer);
    this.timer = null;
    this.generation++; // replies still in flight are dropped
    this.inFlight = false;
  }

  async loadMeeting() {
    const visit = this.visit;
    try {
      const m = await api.meeting(this.id);
      if (!this.active || visit !== this.visit) return;
      this.meeting = m;
      this.renderHead();
    } catch (err) {
      if (err.sessionEnded || !this.active || visit !== this.visit) return;
      showError(this.errorEl, err);
    }
  }

  // One request at a time; the next one 2 s after the last answer.
  async poll() {
    clearTimeout(this.timer);
    this.timer = null;
    if (!this.active || document.hidden) return;
    const gen = ++this.generation;
    this.inFlight = true;
    try {
      const roll = await api.roll(this.id);
      if (gen !== this.generation) return;
      this.lastOk = new Date();
      this.setPollState(false);
      // The state moved (e.g. open → live): the meeting's buttons change with it.
      if (this.meeting && roll?.state && roll.state !== this.meeting.state) this.loadMeeting();
      this.applyRoll(roll);
    } catch (err) {
      if (gen !== this.generation || err.sessionEnded) return;
      if (err.code === 'not_found' || err.code === 'forbidden') {
        showError(this.errorEl, err);
        this.inFlight = false;
        return; // retrying cannot help
      }
      this.setPollState(true, err);
    }
    this.inFlight = false;
    if (this.active && gen === this.generation && !document.hidden) {
      this.timer = setTimeout(() => this.poll(), POLL_MS);
    }
  }

  setPollState(failing, err) {
    const el = this.pollStateEl;
    el.classList.toggle('is-failing', failing);
    el.dataset.state = failing ? 'failing' : 'ok';
    el.textContent = failing
      ? t('host.roll.retrying', { code: err?.code ?? '' })
      : t('host.roll.updated', { time: formatTime(this.lastOk, true) });
  }

  applyRoll(roll) {
    const key = JSON.stringify(roll);
    if (key === this.rollKey) return; // nothing changed: keep the DOM (and focus) as it is
    const before = this.roll?.counts;
    this.roll = roll;
    this.rollKey = key;
    this.renderRoll();
    const c = roll?.counts ?? {};
    if (before && (before.connected !== c.connected || before.left !== c.left)) {
      announce(this.countsText());
    }
  }

  countsText() {
    const c = this.roll?.counts ?? {};
    return t('host.roll.summary', {
      connected: c.connected ?? 0, invited: c.invited ?? 0, left: c.left ?? 0,
      never: c.neverJoined ?? 0,
    });
  }

  render() {
    this.renderHead();
    this.renderRoll();
    if (this.lastOk) this.setPollState(false);
    else this.pollStateEl.textContent = '';
  }

  renderHead() {
    const m = this.meeting;
    if (!m) {
      this.headEl.replaceChildren(
        h('h1', { id: 'meeting-heading', tabindex: '-1', text: t('host.loading') }));
      return;
    }
    document.title = `${m.title} — ${t('host.title')}`;
    this.headEl.replaceChildren(
      h('h1', { id: 'meeting-heading', tabindex: '-1', text: m.title }),
      h('p', { class: 'meeting-time', text: formatRange(m.startsAt, m.endsAt) }),
      h('p', { class: 'meeting-meta' }, stateBadge(m), ...extraBadges(m),
        h('span', { class: 'meta-item', text: t('host.meeting.code', { code: m.code }) })),
      h('div', { class: 'meeting-actions' }, meetingButtons(m, {
        canManage: this.ctx.canManage(),
        errorEl: this.errorEl,
        onUpdated: (u) => {
          this.meeting = u;
          this.renderHead();
          this.headEl.querySelector('.meeting-actions button')?.focus();
        },
        onLive: () => this.ctx.navigate(`#/live/${m.id}`),
      })));
  }

  renderRoll() {
    const roll = this.roll;
    const counts = roll?.counts ?? {};
    for (const k of COUNTS) {
      const el = $(`roll-count-${k}`);
      el.textContent = roll ? String(counts[k] ?? 0) : '–';
    }
    this.summaryEl.textContent = roll ? this.countsText() : '';
    const entries = Array.isArray(roll?.entries) ? roll.entries : [];
    for (const status of GROUPS) {
      const list = entries.filter((e) => e.status === status)
        .sort((a, b) => byName(a.name, b.name));
      $(`roll-n-${status}`).textContent = roll ? `(${list.length})` : '';
      const ul = $(`roll-${status}`);
      if (!list.length) {
        const text = roll ? t('host.roll.none') : t('host.loading');
        ul.replaceChildren(h('li', { class: 'roll-empty', text }));
      } else {
        ul.replaceChildren(...list.map((e) => this.entry(e)));
      }
    }
  }

  entry(e) {
    const notes = [];
    if (e.unitId == null) notes.push(t('host.roll.guest'));
    else if (!e.invited) notes.push(t('host.roll.notInvited'));
    if (e.status === 'connected' && e.firstJoinedAt) {
      notes.push(t('host.roll.joinedAt', { time: formatTime(e.firstJoinedAt) }));
    }
    if (e.status === 'left' && e.lastChangeAt) {
      notes.push(t('host.roll.leftAt', { time: formatTime(e.lastChangeAt) }));
    }
    if (e.connections > 1) notes.push(t('host.roll.connections', { n: e.connections }));
    return h('li', {
      class: `roll-entry status-${e.status}`,
      'data-testid': 'roll-entry',
      'data-unit-id': e.unitId ?? null,
      'data-guest': e.unitId == null ? 'true' : null,
      'data-status': e.status,
    },
    h('span', { class: 'roll-dot', 'aria-hidden': 'true' }),
    h('span', { class: 'roll-name', text: e.name }),
    notes.length ? h('span', { class: 'roll-note', text: notes.join(' · ') }) : null);
  }

  // Plain text for the clipboard: the roll call as it stands.
  summaryText() {
    const m = this.meeting;
    const entries = this.roll?.entries ?? [];
    const lines = [
      t('host.roll.copyHeading', { title: m?.title ?? '', time: formatTime(new Date()) }),
      this.countsText(),
    ];
    for (const status of GROUPS) {
      const names = entries.filter((e) => e.status === status).map((e) => e.name).sort(byName);
      lines.push('', `${t(`host.roll.group.${status}`)} (${names.length}):`);
      for (const n of names) lines.push(`- ${n}`);
    }
    return lines.join('\n');
  }
}
