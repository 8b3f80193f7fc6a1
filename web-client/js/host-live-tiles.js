// Host console, live view: the composite's current layout drawn as a picture of tiles (boxes
// scaled from meeting-state's layout.canvas and layout.tiles), and the audio level meter.
import { t } from './i18n.js';
import { h } from './host-util.js';

// RFC 6464 levels are -dBov: 0 loud … 127 silent. Speech sits well above -60 dBov, so the
// meter spans 0…60 and anything quieter reads as silence.
const LEVEL_FLOOR_DB = 60;

// 0 … 1 for a meter's fill.
export function levelFraction(level) {
  const v = Number.isFinite(level) ? level : 127;
  return Math.max(0, Math.min(1, (LEVEL_FLOOR_DB - v) / LEVEL_FLOOR_DB));
}

// The tiles that count as "big": strictly larger than every other tile by half again (a speaker
// or presenter pane), or a single tile covering half the canvas or more.
function bigTiles(tiles, canvasArea) {
  const areas = tiles.map((tile) => tile.width * tile.height);
  if (areas.length === 1) return new Set(areas[0] * 2 >= canvasArea ? [0] : []);
  const max = Math.max(...areas);
  const others = areas.filter((a) => a < max);
  if (!others.length || max < 1.5 * Math.max(...others)) return new Set();
  return new Set(areas.flatMap((a, i) => (a === max ? [i] : [])));
}

const pct = (v, total) => `${((100 * v) / total).toFixed(3)}%`;

export class TilesPicture {
  constructor(container, infoEl) {
    this.el = container;
    this.infoEl = infoEl;
    this.key = '';
  }

  // state: meeting-state; names: Map room id → name. Redraws only when something shown changed.
  update(state, names, force = false) {
    const layout = state?.layout ?? {};
    const canvas = layout.canvas ?? {};
    const tiles = Array.isArray(layout.tiles) ? layout.tiles : [];
    const key = JSON.stringify([layout, state?.speaker, state?.forced, [...names]]);
    if (!force && key === this.key) return;
    this.key = key;
    const w = Number(canvas.width) > 0 ? Number(canvas.width) : 1280;
    const hgt = Number(canvas.height) > 0 ? Number(canvas.height) : 720;
    this.el.style.aspectRatio = `${w} / ${hgt}`;
    this.el.dataset.kind = layout.kind ?? '';
    const big = bigTiles(tiles, w * hgt);
    const boxes = tiles.map((tile, i) => {
      const name = tile.label || names.get(tile.source) || tile.source || '';
      const speaking = tile.source != null && tile.source === state.speaker;
      const forced = tile.source != null && tile.source === state.forced;
      return h('div', {
        class: `live-tile${speaking ? ' is-speaker' : ''}${forced ? ' is-forced' : ''}`,
        'data-testid': 'live-tile',
        'data-source': tile.source ?? '',
        'data-big': big.has(i) ? 'true' : 'false',
        'data-seat': i,
        style: `left:${pct(tile.x, w)};top:${pct(tile.y, hgt)};` +
          `width:${pct(tile.width, w)};height:${pct(tile.height, hgt)}`,
        title: name,
      }, h('span', { class: 'live-tile-label', text: name }));
    });
    if (!boxes.length) boxes.push(h('p', { class: 'live-tiles-empty', text: t('host.live.tilesEmpty') }));
    this.el.replaceChildren(...boxes);
    this.el.setAttribute('aria-label', t('host.live.tilesLabel', { n: tiles.length }) +
      (tiles.length ? `: ${tiles.map((tile) => tile.label || names.get(tile.source) || '').join(', ')}` : ''));
    const lines = [];
    if (state?.forced) lines.push(t('host.live.forcedNow', { name: names.get(state.forced) ?? state.forced }));
    if (state?.speaker) lines.push(t('host.live.speakerNow', { name: names.get(state.speaker) ?? state.speaker }));
    this.infoEl.textContent = lines.join(' · ');
  }
}
