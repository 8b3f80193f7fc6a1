// Host console: today's and upcoming meetings, and the per-meeting buttons shared with the
// meeting's detail view (open, close, cancel, lock/unlock, copy join link, roll call).
import { t } from './i18n.js';
import { api } from './api.js';
import {
  $, h, announce, showError, formatDate, formatRange, sameLocalDay, startOfToday, toRfc3339,
  copyAndAnnounce, confirmable,
} from './host-util.js';

// What a host may do in each state (MeetingState in docs/openapi.yaml); lock covers unlock.
const STATE_ACTIONS = {
  scheduled: ['open', 'lock', 'cancel'],
  open: ['close', 'lock', 'cancel'],
  live: ['close', 'lock'],
  ended: [],
  cancelled: [],
};

export function joinUrl(meeting) {
  return location.origin + (meeting.joinUrl || `/join/${encodeURIComponent(meeting.code)}`);
}

export function stateBadge(meeting) {
  return h('span', {
    class: `badge badge-state state-${meeting.state}`,
    'data-testid': 'meeting-state',
    'data-state': meeting.state,
    text: t(`host.state.${meeting.state}`),
  });
}

// Badges after the state: locked, open to anyone.
export function extraBadges(meeting) {
  return [
    meeting.locked ? h('span', {
      class: 'badge badge-locked', 'data-testid': 'meeting-locked', text: t('host.meeting.locked'),
    }) : null,
    meeting.access === 'anyone'
      ? h('span', { class: 'badge badge-anyone', text: t('host.access.anyone') }) : null,
  ];
}

async function runAction(meeting, action, { errorEl, onUpdated }) {
  showError(errorEl, null);
  try {
    const updated = await api.meetingAction(meeting.id, action);
    announce(t(`host.done.${action}`, { title: updated?.title ?? meeting.title }));
    onUpdated(updated ?? meeting);
  } catch (err) {
    if (err.sessionEnded) return;
    showError(errorEl, err);
    announce(errorEl?.textContent ?? '');
  }
}

function actionButton(meeting, action, opts) {
  const styles = { open: 'btn-primary', close: 'btn-danger', cancel: 'btn-secondary' };
  const button = h('button', {
    type: 'button',
    class: `btn btn-small ${styles[action] ?? 'btn-secondary'}`,
    'data-testid': `meeting-${action}`,
    text: t(`host.action.${action}`),
  });
  if (action === 'close' || action === 'cancel') {
    return confirmable(button, {
      question: t(`host.confirm.${action}`),
      confirmLabel: t(`host.action.${action}Confirm`),
      onConfirm: () => runAction(meeting, action, opts),
    });
  }
  button.addEventListener('click', async () => {
    button.disabled = true;
    await runAction(meeting, action, opts);
    button.disabled = false;
  });
  return button;
}

// The buttons for one meeting: state changes when `canManage`, then copy link, roll call and
// (open or live) the chair's live view.
export function meetingButtons(meeting, { canManage, errorEl, onUpdated, onDetail, onLive }) {
  const buttons = [];
  if (canManage) {
    for (const a of STATE_ACTIONS[meeting.state] ?? []) {
      const action = a === 'lock' && meeting.locked ? 'unlock' : a;
      buttons.push(actionButton(meeting, action, { errorEl, onUpdated }));
    }
  }
  const url = joinUrl(meeting);
  buttons.push(h('button', {
    type: 'button',
    class: 'btn btn-secondary btn-small',
    'data-testid': 'meeting-copy-link',
    'data-url': url,
    title: url,
    text: t('host.action.copyLink'),
    onclick: () => copyAndAnnounce(url),
  }));
  if (onDetail) {
    buttons.push(h('button', {
      type: 'button',
      class: 'btn btn-secondary btn-small',
      'data-testid': 'meeting-detail',
      text: t('host.action.detail'),
      onclick: onDetail,
    }));
  }
  if (onLive && (meeting.state === 'open' || meeting.state === 'live')) {
    buttons.push(h('button', {
      type: 'button',
      class: 'btn btn-primary btn-small',
      'data-testid': 'live-open',
      text: t('host.action.live'),
      onclick: onLive,
    }));
  }
  return buttons;
}

function dayLabel(d) {
  const today = startOfToday();
  const tomorrow = new Date(today);
  tomorrow.setDate(today.getDate() + 1);
  if (sameLocalDay(d, today)) return `${t('host.today')} · ${formatDate(d)}`;
  if (sameLocalDay(d, tomorrow)) return `${t('host.tomorrow')} · ${formatDate(d)}`;
  return formatDate(d);
}

export class MeetingsView {
  constructor(ctx) {
    this.ctx = ctx; // {canManage(), navigate(hash)}
    this.meetings = [];
    this.loaded = false;
    this.generation = 0; // bumped on hide: a late reply must not paint a hidden view
    this.highlightId = null;
    this.listEl = $('meetings-list');
    this.errorEl = $('meetings-error');
    $('meetings-refresh').addEventListener('click', () => this.load());
  }

  show({ highlight } = {}) {
    if (highlight) this.highlightId = highlight;
    this.render();
    this.load();
  }

  hide() {
    this.generation++;
  }

  async load() {
    const gen = ++this.generation;
    this.listEl.setAttribute('aria-busy', 'true');
    try {
      const reply = await api.meetings({ from: toRfc3339(startOfToday()) });
      if (gen !== this.generation) return;
      this.meetings = Array.isArray(reply?.meetings) ? reply.meetings : [];
      this.loaded = true;
      showError(this.errorEl, null);
      this.render();
    } catch (err) {
      if (gen !== this.generation || err.sessionEnded) return;
      showError(this.errorEl, err);
    } finally {
      if (gen === this.generation) this.listEl.removeAttribute('aria-busy');
    }
  }

  replace(updated) {
    const i = this.meetings.findIndex((m) => m.id === updated.id);
    if (i < 0) return;
    this.meetings[i] = updated;
    const old = this.listEl.querySelector(`[data-meeting-id="${CSS.escape(String(updated.id))}"]`);
    const row = this.row(updated);
    if (old) old.replaceWith(row);
    row.querySelector('.meeting-actions button')?.focus();
  }

  render() {
    if (!this.loaded) {
      this.listEl.replaceChildren(h('p', { class: 'muted', text: t('host.loading') }));
      return;
    }
    if (!this.meetings.length) {
      this.listEl.replaceChildren(
        h('p', { class: 'empty', 'data-testid': 'meetings-empty', text: t('host.meetings.empty') }),
      );
      return;
    }
    const groups = [];
    for (const m of this.meetings) {
      const d = new Date(m.startsAt);
      const last = groups[groups.length - 1];
      if (last && sameLocalDay(last.day, d)) last.items.push(m);
      else groups.push({ day: d, items: [m] });
    }
    this.listEl.replaceChildren(...groups.map((g) => h('section', { class: 'day-group' },
      h('h2', { class: 'day-heading', text: dayLabel(g.day) }),
      h('ol', { class: 'meeting-list' }, g.items.map((m) => this.row(m))))));
    if (this.highlightId != null) {
      const row = this.listEl.querySelector(
        `[data-meeting-id="${CSS.escape(String(this.highlightId))}"]`);
      if (row) {
        row.classList.add('is-new');
        row.scrollIntoView({ block: 'nearest' });
        this.highlightId = null;
      }
    }
  }

  row(m) {
    const errorEl = h('p', { class: 'field-error row-error', role: 'alert', hidden: true });
    const invited = Array.isArray(m.invited) ? m.invited.length : 0;
    return h('li', {
      class: 'meeting-row',
      'data-testid': 'meeting-row',
      'data-meeting-id': m.id,
      'data-state': m.state,
    },
    h('div', { class: 'meeting-main' },
      h('h3', { class: 'meeting-title', text: m.title }),
      h('p', { class: 'meeting-time', text: formatRange(m.startsAt, m.endsAt) }),
      h('p', { class: 'meeting-meta' },
        stateBadge(m), ...extraBadges(m),
        h('span', {
          class: 'meta-item',
          'data-testid': 'meeting-invited',
          'data-count': invited,
          text: t('host.meeting.invited', { n: invited }),
        }),
        h('span', { class: 'meta-item', text: t('host.meeting.code', { code: m.code }) }))),
    h('div', { class: 'meeting-actions' },
      meetingButtons(m, {
        canManage: this.ctx.canManage(),
        errorEl,
        onUpdated: (u) => this.replace(u),
        onDetail: () => this.ctx.navigate(`#/meeting/${m.id}`),
        onLive: () => this.ctx.navigate(`#/live/${m.id}`),
      })),
    errorEl);
  }
}
