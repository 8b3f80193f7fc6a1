// Monitor page: the detail panel of one site — its current figures, live charts (seeded from
// `monitor-site`'s history, extended by each `monitor-state` push), its event log, and the two
// actions of `monitor-action` (ask the room to reconnect; rebuild its media leg, the server's ICE
// restart) with the server's ack or error shown under them.
import { t } from './i18n.js';
import { $, h, announce, showError, confirmable, formatTime } from './host-util.js';
import { SiteCharts } from './monitor-charts.js';
import {
  displayState, reasonsOf, withUnit, candidateLabel, rungLabel, sizeLabel, latest,
} from './monitor-format.js';

// A fresh `monitor-site` (events, and history to heal gaps) every this many pushes.
const REFRESH_EVERY = 5;
const EVENTS_SHOWN = 100;

export class SiteDetail {
  // ctx: {request(msg) → Promise of the reply, thresholds() → monitor-joined's,
  //       connected() → the socket is attached, onClose() → the page closes the panel}
  constructor(ctx) {
    this.ctx = ctx;
    this.key = null;
    this.site = null; // the site as the last monitor-state shows it
    this.meeting = null;
    this.reply = null; // the last monitor-site reply's site
    this.lastResult = null; // see setResult()
    this.pushes = 0;
    this.lastShape = '';
    this.loading = null;
    this.panel = $('monitor-detail');
    this.result = $('detail-action-result');
    this.charts = new SiteCharts($('detail-charts'), $('detail-charts-error'));
    $('detail-close').addEventListener('click', () => this.ctx.onClose());
    this.panel.addEventListener('keydown', (e) => {
      if (e.key === 'Escape' && !e.defaultPrevented) this.ctx.onClose();
    });
    this.wireAction('detail-reconnect', 'reconnect', 'monitor.action.reconnectQuestion');
    this.wireAction('detail-restart', 'restart-media', 'monitor.action.restartQuestion');
  }

  get open() {
    return this.key != null;
  }

  // Shows `key` (its tile's current site and meeting) and asks the server for its history.
  show(key, found) {
    const same = this.key === key;
    this.key = key;
    this.panel.hidden = false;
    this.panel.dataset.site = key;
    if (!same) {
      this.reply = null;
      this.pushes = 0;
      this.charts.clear();
      this.setResult(null);
      $('detail-events').replaceChildren();
    }
    this.update(found);
    this.load();
    $('detail-name').focus();
  }

  hide() {
    this.key = null;
    this.site = null;
    this.reply = null;
    this.panel.hidden = true;
    delete this.panel.dataset.site;
    this.charts.clear();
  }

  // monitor-site: history (the charts start from it) and events.
  async load() {
    const key = this.key;
    if (key == null || this.loading === key) return;
    this.loading = key;
    try {
      const reply = await this.ctx.request({ type: 'monitor-site', site: key });
      if (key !== this.key) return;
      this.reply = reply.site ?? null;
      const history = Array.isArray(this.reply?.history) ? this.reply.history : [];
      await this.charts.show(history, this.ctx.thresholds());
      if (key !== this.key) return;
      if (this.site?.latest) this.charts.push(this.site.latest);
      this.paintEvents();
    } catch (err) {
      if (key !== this.key || err.code === 'network') return;
      this.setResult({ kind: 'error', err, notAllowedKey: 'monitor.detail.unknown' });
    } finally {
      if (this.loading === key) this.loading = null;
    }
  }

  // A monitor-state push: the site as it is now ({site, meeting}, or null when it is gone).
  update(found) {
    if (!this.open) return;
    this.site = found?.site ?? null;
    this.meeting = found?.meeting ?? null;
    this.paintHead();
    if (this.site?.latest && this.reply) this.charts.push(this.site.latest);
    // Its events are not in the push: fetch again when its state moved, and now and then.
    const shape = JSON.stringify([this.site?.state, this.site?.present, this.site?.participant]);
    const moved = shape !== this.lastShape;
    this.lastShape = shape;
    if (this.reply && (moved || ++this.pushes % REFRESH_EVERY === 0)) this.load();
  }

  // After a reconnect of the page: history again, the socket's old replies are gone.
  reload() {
    this.reply = null;
    this.load();
  }

  render() {
    if (!this.open) return;
    this.paintHead();
    this.paintEvents();
    this.paintResult();
    this.charts.rebuild();
  }

  paintHead() {
    const s = this.site;
    const shown = s ? displayState(s) : 'absent';
    this.panel.dataset.state = shown;
    $('detail-name').textContent = s?.name || this.reply?.name || this.key;
    const meta = $('detail-meta');
    const reasons = s ? reasonsOf(s) : [];
    meta.replaceChildren(
      h('span', { class: `badge monitor-badge badge-${shown}`, 'data-testid': 'detail-state',
        text: s ? t(`monitor.state.${shown}`) : t('monitor.detail.gone') }),
      this.meeting ? h('span', { class: 'meta-item',
        text: t('monitor.detail.meeting', { title: this.meeting.title || this.meeting.code }) }) : '',
      ...reasons.map((r) => h('span', { class: `tile-reason reason-${r.level}`, text: r.text })),
    );
    this.paintFacts();
    const present = s?.present !== false && s != null;
    for (const id of ['detail-reconnect', 'detail-restart']) {
      $(id).disabled = !present || !this.ctx.connected();
    }
  }

  paintFacts() {
    const s = this.site ?? {};
    const facts = [
      ['monitor.m.kbpsIn', withUnit(latest(s, 'kbpsIn'), 'kb/s')],
      ['monitor.m.kbpsOut', withUnit(latest(s, 'kbpsOut'), 'kb/s')],
      ['monitor.m.loss', withUnit(latest(s, 'lossPercent'), '%', 1)],
      ['monitor.m.jitter', withUnit(latest(s, 'jitterMs'), 'ms')],
      ['monitor.m.delay', withUnit(latest(s, 'oneWayDelayMs'), 'ms')],
      ['monitor.m.fpsIn', withUnit(latest(s, 'fpsIn'), 'fps')],
      ['monitor.m.fpsOut', withUnit(latest(s, 'fpsOut'), 'fps')],
      ['monitor.m.resIn', sizeLabel(s.widthIn, s.heightIn)],
      ['monitor.m.resOut', sizeLabel(s.widthOut, s.heightOut)],
      ['monitor.m.rung', rungLabel(s.rung)],
      ['monitor.m.candidate', candidateLabel(s.candidateType)],
      ['monitor.m.freezes', String(latest(s, 'freezes') ?? '–')],
      ['monitor.m.keyframes', String(latest(s, 'keyframeRequests') ?? '–')],
      ['monitor.m.media', s.media ? t(`monitor.media.${s.media}`) : '–'],
    ];
    $('detail-facts').replaceChildren(...facts.map(([k, v]) =>
      h('div', { class: 'detail-fact' }, h('dt', { text: t(k) }), h('dd', { text: v }))));
  }

  paintEvents() {
    const events = (Array.isArray(this.reply?.events) ? this.reply.events : []).slice(-EVENTS_SHOWN);
    const body = $('detail-events');
    if (!events.length) {
      body.replaceChildren(h('tr', {}, h('td', { colspan: '3', class: 'muted',
        text: this.reply ? t('monitor.eventsEmpty') : t('host.loading') })));
      return;
    }
    // Newest first: what just happened is what the technician looks for.
    body.replaceChildren(...events.slice().reverse().map((e) => {
      const label = t(`monitor.event.${e.kind}`);
      return h('tr', {
        class: `detail-event event-${e.kind}`, 'data-testid': 'detail-event', 'data-kind': e.kind,
      },
      h('td', { class: 'event-time', text: Number.isFinite(e.at) ? formatTime(e.at, true) : '' }),
      h('td', { class: 'event-kind', text: label.startsWith('monitor.') ? e.kind : label }),
      h('td', { class: 'event-detail', text: e.detail ?? '' }));
    }));
  }

  // ---- actions ------------------------------------------------------------------------------

  wireAction(testid, action, questionKey) {
    const button = $(testid);
    confirmable(button, {
      question: '',
      confirmLabel: '',
      onConfirm: () => this.act(action),
    });
    // confirmable() takes its texts once, when wired; this listener runs after its own and puts
    // in the current ones (the language, the site's name).
    button.addEventListener('click', () => {
      const yes = this.panel.querySelector(`[data-testid="${testid}-confirm"]`);
      if (!yes) return;
      yes.textContent = t('monitor.action.confirm');
      yes.closest('.confirm-box').querySelector('.confirm-question').textContent =
        t(questionKey, { name: this.site?.name || this.key });
    });
  }

  // What the server said to the last request of this panel, under the actions:
  // {kind: 'ack', action, name} or {kind: 'error', err, notAllowedKey}; null clears it.
  // Kept as data so a language change can say it again.
  setResult(result) {
    this.lastResult = result;
    this.paintResult();
    if (result) announce(this.result.textContent);
  }

  paintResult() {
    const r = this.lastResult;
    const el = this.result;
    delete el.dataset.result;
    if (!r) {
      showError(el, null);
      return;
    }
    if (r.kind === 'ack') {
      showError(el, null);
      el.hidden = false;
      el.textContent = t(`monitor.action.sent.${r.action}`, { name: r.name });
    } else {
      const { err } = r;
      showError(el, {
        code: err.code, serverMessage: err.message && err.message !== err.code ? err.message : '',
      });
      // `not_allowed`: an unknown site (monitor-site) or a room not in a meeting (monitor-action).
      if (err.code === 'not_allowed') el.textContent = t(r.notAllowedKey);
    }
    el.dataset.result = r.kind;
    el.classList.toggle('form-info', r.kind === 'ack');
    el.classList.toggle('field-error', r.kind === 'error');
  }

  async act(action) {
    const key = this.key;
    const name = this.site?.name || key;
    this.setResult(null);
    try {
      await this.ctx.request({ type: 'monitor-action', site: key, action });
      if (key === this.key) this.setResult({ kind: 'ack', action, name });
    } catch (err) {
      if (key === this.key) this.setResult({ kind: 'error', err, notAllowedKey: 'monitor.action.notPresent' });
    }
  }
}
