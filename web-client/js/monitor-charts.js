// Monitor page: one site's live charts with uPlot (vendored by scripts/setup.sh into
// /vendor/uplot/, so nothing comes from the network). Five small time series over the site's
// rolling history: bitrate in and out, loss, jitter and one-way delay, frame rates, audio level;
// the alarm lines of `monitor-joined` drawn dashed. The library is imported on first use: without
// it (setup not run) the board still works and the detail panel says why there are no charts.
import { t } from './i18n.js';
import { h, formatTime } from './host-util.js';

const UPLOT_URL = '/vendor/uplot/uPlot.esm.js';
const HEIGHT = 150;
const MAX_SAMPLES = 90; // what the server keeps: 3 minutes at 2 s
const C = {
  blue: '#1f6fb2', green: '#2e8540', red: '#b3261e', amber: '#c77c02', violet: '#6a3fb5',
  line: '#8a98a8',
};

let lib = null;

// The uPlot constructor; rejects when the vendored file is missing.
export function loadChartLibrary() {
  lib ??= import(UPLOT_URL).then((m) => m.default, (err) => {
    lib = null; // the next site opened tries again
    throw err;
  });
  return lib;
}

// RFC 6464 level (0 loud … 127 silent) → dBov, the way sound engineers read it.
const dbov = (v) => (Number.isFinite(v) ? -v : null);
const value = (v) => (Number.isFinite(v) ? v : null);

// id, title key, series [field, label key, colour, map], y range, alarm line (thresholds → value)
const CHARTS = [
  {
    id: 'bitrate', title: 'monitor.chart.bitrate', digits: 0, min: 0,
    series: [['kbpsIn', 'monitor.series.kbpsIn', C.blue], ['kbpsOut', 'monitor.series.kbpsOut', C.green]],
  },
  {
    id: 'loss', title: 'monitor.chart.loss', digits: 1, min: 0, floorTop: 2,
    series: [['lossPercent', 'monitor.series.loss', C.red]],
    alarms: [['monitor.series.lossLine', (th) => th.lossPercent]],
  },
  {
    id: 'delay', title: 'monitor.chart.delay', digits: 0, min: 0, floorTop: 50,
    series: [['jitterMs', 'monitor.series.jitter', C.amber],
      ['oneWayDelayMs', 'monitor.series.delay', C.violet]],
    alarms: [['monitor.series.jitterLine', (th) => th.jitterMs],
      ['monitor.series.delayLine', (th) => th.oneWayDelayMs]],
  },
  {
    id: 'fps', title: 'monitor.chart.fps', digits: 0, min: 0, floorTop: 30,
    series: [['fpsIn', 'monitor.series.fpsIn', C.blue], ['fpsOut', 'monitor.series.fpsOut', C.green]],
  },
  {
    id: 'level', title: 'monitor.chart.level', digits: 0, fixed: [-100, 0],
    series: [['audioLevel', 'monitor.series.level', C.green, dbov]],
  },
];

export class SiteCharts {
  // container: where the chart figures go; errorEl: says when the library cannot be loaded.
  constructor(container, errorEl) {
    this.container = container;
    this.errorEl = errorEl;
    this.samples = [];
    this.thresholds = null;
    this.plots = []; // {spec, plot}
    this.building = null;
    this.gen = 0;
    this.resizer = new ResizeObserver(() => this.fit());
    this.width = 0;
    this.resizer.observe(container);
  }

  // Replaces the history (oldest first) and draws the charts (building them the first time).
  async show(samples, thresholds) {
    this.samples = samples.filter((s) => Number.isFinite(s?.at)).slice(-MAX_SAMPLES);
    this.thresholds = thresholds ?? null;
    if (!this.plots.length) await this.build();
    this.draw();
  }

  // One new sample (from a monitor-state push); ignored unless newer than the last one.
  push(sample) {
    if (!Number.isFinite(sample?.at)) return;
    const last = this.samples[this.samples.length - 1];
    if (last && sample.at <= last.at) return;
    this.samples.push(sample);
    if (this.samples.length > MAX_SAMPLES) this.samples.splice(0, this.samples.length - MAX_SAMPLES);
    this.draw();
  }

  clear() {
    this.gen++;
    for (const p of this.plots) p.plot.destroy();
    this.plots = [];
    this.samples = [];
    this.width = 0;
    this.container.replaceChildren();
  }

  // Again with the labels of the current language.
  async rebuild() {
    const samples = this.samples;
    const thresholds = this.thresholds;
    this.clear();
    if (samples.length || thresholds) await this.show(samples, thresholds);
  }

  async build() {
    const gen = this.gen;
    let UPlot;
    try {
      UPlot = await loadChartLibrary();
    } catch {
      this.errorEl.hidden = false;
      this.errorEl.textContent = t('monitor.chartsUnavailable');
      return;
    }
    if (gen !== this.gen || this.plots.length) return;
    this.errorEl.hidden = true;
    this.width = Math.max(200, Math.floor(this.container.clientWidth) || 320);
    for (const spec of CHARTS) {
      const box = h('div', { class: 'chart-box' });
      const figure = h('figure', {
        class: 'detail-chart', 'data-testid': 'detail-chart', 'data-chart': spec.id,
      }, h('figcaption', { text: t(spec.title) }), box);
      this.container.append(figure);
      const plot = new UPlot(this.options(spec), this.data(spec), box);
      this.plots.push({ spec, plot });
    }
  }

  options(spec) {
    const fmt = (u, v) => (v == null ? '–' : v.toFixed(spec.digits));
    const clock = (v) => (v == null ? '–' : formatTime(v * 1000, true));
    const series = [
      { label: t('monitor.chart.time'), value: (u, v) => clock(v) },
      ...spec.series.map(([, label, stroke]) => ({
        label: t(label), stroke, width: 2, spanGaps: false, value: fmt,
      })),
      ...(spec.alarms ?? []).map(([label]) => ({
        label: t(label), stroke: C.line, width: 1, dash: [6, 4], points: { show: false }, value: fmt,
      })),
    ];
    // Always a finite, non-empty span (all-null series give none): from 0 (or the data's low)
    // to a little above the highest value or the chart's least top.
    const range = spec.fixed
      ? () => spec.fixed
      : (u, lo, hi) => {
        const bottom = spec.min ?? (Number.isFinite(lo) ? lo : 0);
        const top = Math.max(Number.isFinite(hi) ? hi : 0, spec.floorTop ?? 1, bottom + 1);
        return [bottom, top * 1.1];
      };
    return {
      width: this.width || Math.max(200, Math.floor(this.container.clientWidth) || 320),
      height: HEIGHT,
      series,
      scales: { x: { time: true }, y: { range } },
      // The clock as the board shows it (24-hour, local), not uPlot's US date format.
      axes: [{ space: 70, values: (u, splits) => splits.map(clock) }, { size: 48 }],
      cursor: { drag: { x: false, y: false } },
      legend: { show: true },
    };
  }

  // uPlot's columns: seconds, then one array per series (null where unknown: a gap).
  data(spec) {
    const xs = this.samples.map((s) => s.at / 1000);
    const cols = spec.series.map(([field, , , map]) =>
      this.samples.map((s) => (map ?? value)(s[field])));
    const th = this.thresholds ?? {};
    const alarms = (spec.alarms ?? []).map(([, pick]) => {
      const v = value(pick(th));
      return xs.map(() => v);
    });
    return [xs, ...cols, ...alarms];
  }

  draw() {
    for (const { spec, plot } of this.plots) plot.setData(this.data(spec));
  }

  // Follows the panel's width. Small changes are ignored so a scroll bar coming and going
  // (legends wrap at other widths) cannot make the charts resize each other forever.
  fit() {
    const width = Math.max(200, Math.floor(this.container.clientWidth));
    if (!this.plots.length || Math.abs(width - this.width) < 12) return;
    this.width = width;
    for (const { plot } of this.plots) plot.setSize({ width, height: HEIGHT });
  }
}
