// Monitor page: the board — every live meeting of the last `monitor-state` as a section, every
// site a tile coloured by its state (green, amber, red; grey when not in the meeting) with its
// reasons and figures. Tiles are keyed by site key and updated in place (focus survives the
// 2-second pushes); the filter hides tiles, the sort moves only the ones out of place.
import { t } from './i18n.js';
import { h } from './host-util.js';
import { levelFraction } from './host-live-tiles.js';
import {
  ORDERS, displayState, reasonsOf, num, withUnit, rungLabel, latest,
} from './monitor-format.js';

export const FILTERS = ['all', 'red', 'amber', 'green'];

// The figures of a tile: [testid, label key, value of a site, title key].
const STATS = [
  ['tile-kbps-in', 'monitor.m.kbpsIn', (s) => latest(s, 'kbpsIn'), 'monitor.m.kbpsInTitle', 'kbps'],
  ['tile-kbps-out', 'monitor.m.kbpsOut', (s) => latest(s, 'kbpsOut'), 'monitor.m.kbpsOutTitle', 'kbps'],
  ['tile-loss', 'monitor.m.loss', (s) => latest(s, 'lossPercent'), null, 'percent'],
  ['tile-jitter', 'monitor.m.jitter', (s) => latest(s, 'jitterMs'), null, 'ms'],
  ['tile-delay', 'monitor.m.delay', (s) => latest(s, 'oneWayDelayMs'), 'monitor.m.delayTitle', 'ms'],
  ['tile-fps', 'monitor.m.fps', (s) => latest(s, 'fpsIn'), 'monitor.m.fpsTitle', 'fps'],
  ['tile-rung', 'monitor.m.rung', (s) => s.rung || null, 'monitor.m.rungTitle', 'rung'],
  ['tile-candidate', 'monitor.m.candidate', (s) => s.candidateType || null, 'monitor.m.candidateTitle', 'candidate'],
];

function statText(kind, v, site) {
  switch (kind) {
    case 'kbps': return withUnit(v, 'kb/s');
    case 'percent': return withUnit(v, '%', 1);
    case 'ms': return withUnit(v, 'ms');
    case 'fps': return `${num(v)} / ${num(latest(site, 'fpsOut'))}`;
    case 'rung': return rungLabel(v);
    default: return v ?? '–'; // host, srflx, relay: short enough for a tile
  }
}

export class Board {
  // container: the element holding the meeting sections; onSelect(siteKey) on a tile's click.
  constructor(container, { onSelect }) {
    this.container = container;
    this.onSelect = onSelect;
    this.meetings = new Map(); // code → {section, update(meeting)}
    this.filter = 'all';
    this.sort = 'severity';
    this.selected = null;
    this.state = null;
  }

  // Everything again (a language change): sections are rebuilt from the last state.
  render() {
    for (const m of this.meetings.values()) m.section.remove();
    this.meetings.clear();
    this.update(this.state);
  }

  update(state) {
    this.state = state;
    const meetings = Array.isArray(state?.meetings) ? state.meetings : [];
    const codes = new Set(meetings.map((m) => m.code));
    for (const [code, m] of this.meetings) {
      if (!codes.has(code)) {
        m.section.remove();
        this.meetings.delete(code);
      }
    }
    this.container.querySelector('.monitor-empty')?.remove();
    let shown = 0;
    meetings.forEach((meeting, i) => {
      let m = this.meetings.get(meeting.code);
      if (!m) {
        m = this.makeMeeting(meeting.code);
        this.meetings.set(meeting.code, m);
      }
      shown += m.update(meeting);
      if (this.container.children[i] !== m.section) {
        this.container.insertBefore(m.section, this.container.children[i] ?? null);
      }
    });
    if (!shown) this.container.append(this.emptyNote(state, meetings.length));
  }

  emptyNote(state, meetingCount) {
    let key = 'host.loading';
    if (state) key = meetingCount ? 'monitor.emptyFilter' : 'monitor.empty';
    return h('p', { class: 'empty monitor-empty', 'data-testid': 'monitor-empty', text: t(key) });
  }

  // How many sites of each display state, over every meeting: for the filter buttons.
  counts() {
    const n = { all: 0, red: 0, amber: 0, green: 0, absent: 0 };
    for (const meeting of this.state?.meetings ?? []) {
      for (const site of meeting.sites ?? []) {
        n.all++;
        n[displayState(site)]++;
      }
    }
    return n;
  }

  site(key) {
    for (const meeting of this.state?.meetings ?? []) {
      const site = (meeting.sites ?? []).find((s) => s.key === key);
      if (site) return { site, meeting };
    }
    return null;
  }

  select(key) {
    this.selected = key;
    for (const tile of this.container.querySelectorAll('.monitor-tile')) {
      tile.setAttribute('aria-pressed', String(tile.dataset.site === key));
    }
  }

  matches(site) {
    return this.filter === 'all' || displayState(site) === this.filter;
  }

  // ---- one meeting --------------------------------------------------------------------------

  makeMeeting(code) {
    const board = this;
    const title = h('h2', { class: 'monitor-meeting-title' });
    const meta = h('span', { class: 'meta-item monitor-meeting-meta' });
    const list = h('ul', { class: 'monitor-tiles', 'data-testid': 'monitor-tiles' });
    const none = h('p', { class: 'live-empty', text: t('monitor.emptyFilter') });
    const section = h('section', {
      class: 'panel monitor-meeting', 'data-testid': 'monitor-meeting', 'data-code': code,
    }, h('div', { class: 'view-head' }, title, meta), list, none);
    const tiles = new Map(); // site key → tile
    return {
      section,
      // Returns how many of its tiles the filter shows.
      update(meeting) {
        title.textContent = meeting.title || code;
        const sites = (Array.isArray(meeting.sites) ? meeting.sites : [])
          .filter((s) => typeof s?.key === 'string');
        meta.textContent = t('monitor.meetingMeta', { code, n: sites.length });
        const keys = new Set(sites.map((s) => s.key));
        for (const [key, tile] of tiles) {
          if (!keys.has(key)) {
            tile.li.remove();
            tiles.delete(key);
          }
        }
        const order = ORDERS[board.sort] ?? ORDERS.severity;
        const sorted = [...sites].sort(order);
        const visible = sorted.filter((s) => board.matches(s));
        const hidden = sorted.filter((s) => !board.matches(s));
        [...visible, ...hidden].forEach((site, i) => {
          let tile = tiles.get(site.key);
          if (!tile) {
            tile = board.makeTile(site);
            tiles.set(site.key, tile);
          }
          tile.update(site, !board.matches(site));
          if (list.children[i] !== tile.li) list.insertBefore(tile.li, list.children[i] ?? null);
        });
        // Under a filter a meeting with nothing to show folds away; unfiltered, it says so.
        none.hidden = visible.length > 0;
        none.textContent = sites.length ? t('monitor.emptyFilter') : t('monitor.noSites');
        section.hidden = board.filter !== 'all' && visible.length === 0;
        return visible.length;
      },
    };
  }

  // ---- one tile -----------------------------------------------------------------------------

  makeTile(first) {
    const board = this;
    let site = first;
    const name = h('span', { class: 'tile-name', 'data-testid': 'tile-name' });
    const state = h('span', { class: 'tile-state', 'data-testid': 'tile-state' });
    const flags = h('span', { class: 'tile-flags' });
    const reasons = h('span', { class: 'tile-reasons', 'data-testid': 'tile-reasons' });
    const stats = STATS.map(([testid, label, , title]) => {
      const value = h('span', { class: 'tile-stat-value' });
      const el = h('span', {
        class: `tile-stat ${testid}`, 'data-testid': testid, title: title ? t(title) : null,
      }, h('span', { class: 'tile-stat-label', text: t(label) }), value);
      return { el, value };
    });
    const fill = h('span', { class: 'live-level-fill' });
    const level = h('span', {
      class: 'live-level tile-level', 'data-testid': 'tile-level', title: t('monitor.m.level'),
    }, fill);
    const button = h('button', {
      type: 'button', class: 'monitor-tile', 'data-testid': 'monitor-tile', 'data-site': site.key,
      'aria-pressed': String(board.selected === site.key),
    },
    h('span', { class: 'tile-head' }, h('span', { class: 'tile-dot', 'aria-hidden': 'true' }), name,
      state),
    reasons, flags, h('span', { class: 'tile-stats' }, stats.map((s) => s.el)), level);
    button.addEventListener('click', () => board.onSelect(site.key));
    const li = h('li', { class: 'monitor-tile-item' }, button);
    let reasonsKey = '';
    let flagsKey = '';
    return {
      li,
      update(next, filteredOut) {
        site = next;
        li.hidden = filteredOut;
        const shown = displayState(site);
        const ds = button.dataset;
        ds.state = shown;
        ds.health = site.state ?? '';
        ds.present = String(site.present !== false);
        ds.media = site.media ?? '';
        name.textContent = site.name || site.key;
        state.textContent = t(`monitor.state.${shown}`);
        const r = reasonsOf(site);
        const key = JSON.stringify(r);
        if (key !== reasonsKey) {
          reasonsKey = key;
          reasons.replaceChildren(...r.map((x) => h('span', {
            class: `tile-reason reason-${x.level}`, 'data-testid': 'tile-reason',
            'data-metric': x.metric, 'data-level': x.level, text: x.text,
          })));
        }
        const f = [
          site.audioMuted && t('monitor.flag.audioMuted'),
          site.videoMuted && t('monitor.flag.videoMuted'),
        ].filter(Boolean);
        if (JSON.stringify(f) !== flagsKey) { // nodes replaced only on a change: clicks land
          flagsKey = JSON.stringify(f);
          flags.replaceChildren(...f.map((text) => h('span', { class: 'live-flag', text })));
        }
        STATS.forEach(([, , pick, , kind], i) => {
          const v = pick(site);
          stats[i].el.dataset.value = v == null ? '' : String(v);
          const text = statText(kind, v, site);
          if (stats[i].value.textContent !== text) stats[i].value.textContent = text;
        });
        const audio = latest(site, 'audioLevel');
        level.dataset.value = audio == null ? '' : String(audio);
        fill.style.width = `${(100 * levelFraction(audio ?? 127)).toFixed(1)}%`;
      },
    };
  }
}
