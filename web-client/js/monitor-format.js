// Monitor page: how a site of `monitor-state` (docs/protocol.md, "Monitoring stream health") reads
// on screen — its display state, its reasons as short labels, numbers with units, and the orders
// the board sorts by. No DOM here.
import { t } from './i18n.js';
import { byName } from './host-util.js';

export const STATES = ['red', 'amber', 'green', 'absent'];
const SEVERITY = { red: 0, amber: 1, green: 2, absent: 3 };
const SECONDS_METRICS = new Set(['no-audio', 'no-video', 'no-picture']);

const finite = (v) => typeof v === 'number' && Number.isFinite(v);

// The tile's colour: the server's state while the site is in the meeting. A site that is not
// there is grey, unless the server still holds it red (it dropped without leaving).
export function displayState(site) {
  const state = STATES.includes(site?.state) ? site.state : 'green';
  if (site?.present === false && state !== 'red') return 'absent';
  return state;
}

// "812", "5.0", "–": a number with `digits` decimals, or a dash when unknown. Decimals use a
// point, as in the server's own event details ("loss 5.0 %") shown next to them.
export function num(v, digits = 0) {
  return finite(v) ? v.toFixed(digits) : '–';
}

// "5.0 %", "80 ms", "–"
export function withUnit(v, unit, digits = 0) {
  return finite(v) ? `${v.toFixed(digits)} ${unit}` : '–';
}

// One reason ({metric, level, value}) of `site` as a short label: "mất gói 5.0 %", "trễ 80 ms",
// "không có tiếng (6 giây)", "đường truyền: chập chờn" (a `media` reason names the leg's state).
export function reasonLabel(reason, site) {
  const metric = String(reason?.metric ?? '');
  const v = reason?.value;
  const key = `monitor.reason.${metric}`;
  const text = t(key, { v: metric === 'loss' ? num(v, 1) : num(v) });
  const label = text === key ? metric : text;
  if (SECONDS_METRICS.has(metric) && finite(v)) return t('monitor.reason.for', { label, s: num(v) });
  if (metric === 'media') {
    const state = typeof site?.media === 'string' ? site.media : '';
    const media = t(`monitor.media.${state}`);
    return t('monitor.reason.media', { v: media.startsWith('monitor.') ? state || '?' : media });
  }
  return label;
}

// The reasons a tile shows: the server's, or "left the meeting" for a grey tile.
export function reasonsOf(site) {
  const reasons = Array.isArray(site?.reasons) ? site.reasons : [];
  if (reasons.length || site?.present !== false) return reasons.map((r) => ({
    metric: r.metric, level: r.level === 'red' ? 'red' : 'amber', text: reasonLabel(r, site),
  }));
  return [{ metric: 'absent', level: 'absent', text: t('monitor.reason.absent') }];
}

export function candidateLabel(type) {
  if (!type) return '–';
  const key = `monitor.candidate.${type}`;
  const text = t(key);
  return text === key ? type : text;
}

// "1280×720" from a rung or a width and height; "–" when none.
export function sizeLabel(width, height) {
  return width > 0 && height > 0 ? `${width}×${height}` : '–';
}

export function rungLabel(rung) {
  return typeof rung === 'string' && rung ? rung.replace('x', '×') : '–';
}

// The last sample's value of a field, or null.
export function latest(site, field) {
  const v = site?.latest?.[field];
  return finite(v) ? v : null;
}

const bySeverity = (a, b) => SEVERITY[displayState(a)] - SEVERITY[displayState(b)];
const byLoss = (a, b) => (latest(b, 'lossPercent') ?? -1) - (latest(a, 'lossPercent') ?? -1);
const bySiteName = (a, b) => byName(a.name ?? '', b.name ?? '') || byName(a.key, b.key);

// Comparators for the sort control: the worst first, by name, or the highest loss first (sites
// with no figure last); ties fall back to the next key.
export const ORDERS = {
  severity: (a, b) => bySeverity(a, b) || bySiteName(a, b),
  name: (a, b) => bySiteName(a, b),
  loss: (a, b) => byLoss(a, b) || bySeverity(a, b) || bySiteName(a, b),
};
