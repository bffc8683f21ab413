// The online positive-feedback rate over time as an inline SVG line chart, built with DOM APIs
// (no markup strings, no inline script or style: the CSP allows neither). Screen readers get a
// summary in the SVG's title and the same numbers in a table next to it.
import {h} from './dom.js';

const SVG = 'http://www.w3.org/2000/svg';
const WIDTH = 640;
const HEIGHT = 220;
const PAD = {left: 48, right: 16, top: 14, bottom: 34};
const SERIES_CLASSES = 4;

function s(tag, attrs = {}, ...children) {
  const el = document.createElementNS(SVG, tag);
  for (const [key, value] of Object.entries(attrs)) el.setAttribute(key, String(value));
  for (const child of children.flat(Infinity)) {
    if (child !== null) el.append(child instanceof Node ? child : document.createTextNode(child));
  }
  return el;
}

const percent = (rate) => `${(rate * 100).toFixed(1)}%`;

/** One series per arm and model version: [{key, points: [{day, rate, impressions}]}]. */
function seriesOf(byDay) {
  const series = new Map();
  for (const row of byDay) {
    const key = `${row.arm} · ${row.model_version}`;
    if (!series.has(key)) series.set(key, []);
    series.get(key).push(row);
  }
  return [...series].map(([key, points]) => ({key, points}));
}

function svgChart(byDay, series, label) {
  const days = [...new Set(byDay.map((r) => r.day))].sort();
  const top = Math.max(0.05, ...byDay.map((r) => r.rate)) * 1.1;
  const x = (day) => PAD.left + (days.length === 1 ? (WIDTH - PAD.left - PAD.right) / 2
    : days.indexOf(day) * (WIDTH - PAD.left - PAD.right) / (days.length - 1));
  const y = (rate) => HEIGHT - PAD.bottom - rate / top * (HEIGHT - PAD.top - PAD.bottom);
  const ticks = [0, top / 2, top].map((rate) => [
    s('line', {class: 'chart-grid', x1: PAD.left, x2: WIDTH - PAD.right, y1: y(rate),
      y2: y(rate)}),
    s('text', {class: 'chart-axis', x: PAD.left - 6, y: y(rate) + 4, 'text-anchor': 'end'},
      percent(rate))]);
  const dayLabels = [days[0], days[days.length - 1]].filter((d, i, all) => all.indexOf(d) === i)
    .map((day) => s('text', {class: 'chart-axis', x: x(day), y: HEIGHT - 10,
      'text-anchor': 'middle'}, day));
  const lines = series.map((one, index) => s('g', {class: `chart-series series-${
    index % SERIES_CLASSES}`},
  s('polyline', {fill: 'none', points: one.points.map((p) => `${x(p.day)},${y(p.rate)}`)
    .join(' ')}),
  one.points.map((p) => s('circle', {cx: x(p.day), cy: y(p.rate), r: 3.5},
    s('title', {}, `${one.key}, ${p.day}: ${percent(p.rate)} of ${p.impressions}`)))));
  return s('svg', {class: 'chart', viewBox: `0 0 ${WIDTH} ${HEIGHT}`, role: 'img',
    'aria-label': label}, s('title', {}, label), ticks, dayLabels, lines);
}

/** The chart, its legend, and the data as a table (the accessible fallback). */
export function rateChart(online) {
  const byDay = online.by_day;
  if (!byDay.length) {
    return h('p', {class: 'section-note online-empty'},
      'No impressions of signed-in listeners yet in the last ' +
      `${online.days} days: the rate appears once recommendations are shown.`);
  }
  const series = seriesOf(byDay);
  const label = 'Positive-feedback rate per day: ' + series.map((one) => {
    const last = one.points[one.points.length - 1];
    return `${one.key} ${percent(last.rate)} on ${last.day}`;
  }).join('; ');
  return h('div', {class: 'online-chart'},
    svgChart(byDay, series, label),
    h('ul', {class: 'chart-legend'}, series.map((one, index) =>
      h('li', {class: `series-${index % SERIES_CLASSES}`}, one.key))),
    h('table', {class: 'online-table', 'aria-label': 'Positive-feedback rate per day'},
      h('thead', {}, h('tr', {}, ['day', 'arm', 'model', 'shown', 'liked', 'rate']
        .map((name) => h('th', {scope: 'col'}, name)))),
      h('tbody', {}, byDay.map((row) => h('tr', {},
        h('td', {}, row.day), h('td', {}, row.arm), h('td', {}, h('code', {}, row.model_version)),
        h('td', {}, String(row.impressions)), h('td', {}, String(row.liked)),
        h('td', {}, percent(row.rate)))))));
}

/** Each arm over the window, with its 95% interval. */
export function armTable(arms) {
  if (!arms.length) return null;
  return h('table', {class: 'online-arms', 'aria-label': 'Rate per arm with 95% interval'},
    h('thead', {}, h('tr', {}, ['arm', 'model', 'shown', 'liked', 'rate', '95% interval']
      .map((name) => h('th', {scope: 'col'}, name)))),
    h('tbody', {}, arms.map((arm) => h('tr', {'data-arm': arm.arm},
      h('td', {}, arm.arm), h('td', {}, h('code', {}, arm.model_version)),
      h('td', {}, String(arm.impressions)), h('td', {}, String(arm.liked)),
      h('td', {}, percent(arm.rate)),
      h('td', {}, `${percent(arm.ci_low)} – ${percent(arm.ci_high)}`)))));
}
