// The model panel: what algorithm serves recommendations, how well it scored, and when it trained.
import {api} from '../api.js';
import {append, h, replace} from '../dom.js';
import {errorState, loading} from '../components.js';

function formatNumber(value) {
  if (typeof value !== 'number') return String(value);
  if (Number.isInteger(value)) return value.toLocaleString('en');
  return String(Number(value.toPrecision(4)));
}

function whenTrained(trainedAt) {
  const date = new Date(trainedAt);
  if (Number.isNaN(date.getTime())) return String(trainedAt ?? 'unknown');
  const minutes = Math.round((Date.now() - date.getTime()) / 60000);
  let ago = `${Math.round(minutes / 1440)} days ago`;
  if (minutes < 1) ago = 'just now';
  else if (minutes < 60) ago = `${minutes} min ago`;
  else if (minutes < 48 * 60) ago = `${Math.round(minutes / 60)} h ago`;
  return `${date.toLocaleString('en-GB', {dateStyle: 'medium', timeStyle: 'short'})} (${ago})`;
}

/** A flat definition list of `object`; nested values are shown as compact JSON text. */
function facts(object, label) {
  const entries = Object.entries(object || {});
  if (!entries.length) return h('p', {class: 'section-note'}, 'None reported.');
  return h('dl', {class: 'facts', 'aria-label': label}, entries.map(([key, value]) => [
    h('dt', {}, key),
    h('dd', {}, typeof value === 'object' && value !== null ? JSON.stringify(value)
      : formatNumber(value))]));
}

/** One tile per metric, with the popularity baseline beside it when the trainer reported one. */
function metricTiles(metrics, baseline) {
  const entries = Object.entries(metrics || {}).filter(([, v]) => typeof v === 'number');
  if (!entries.length) return facts(metrics, 'Metrics');
  const tiles = h('ul', {class: 'tiles', 'aria-label': 'Evaluation metrics'});
  return append(tiles, entries.map(([name, value]) => {
    const base = (baseline || {})[name];
    const lift = typeof base === 'number' && base > 0 && base !== value && !Number.isInteger(value)
      ? h('span', {class: `tile-lift ${value >= base ? 'up' : 'down'}`},
        `${value >= base ? '+' : ''}${Math.round((value / base - 1) * 100)}% vs baseline ` +
        formatNumber(base))
      : null;
    return h('li', {class: 'tile'}, h('span', {class: 'tile-value'}, formatNumber(value)),
      h('span', {class: 'tile-label'}, name), lift);
  }));
}

export function render(main) {
  replace(main, h('h1', {tabindex: '-1'}, 'The model'), loading('Asking the recommender…'));
  api.model().then((info) => {
    replace(main,
      h('div', {class: 'page-head'},
        h('h1', {tabindex: '-1'}, 'The model'),
        h('p', {class: 'lead'}, 'What serves your recommendations right now.')),
      h('section', {class: 'panel model-summary', 'aria-label': 'Summary'},
        h('dl', {class: 'facts facts-wide'},
          h('dt', {}, 'Algorithm'), h('dd', {class: 'model-algorithm'}, info.algorithm),
          h('dt', {}, 'Model tag'), h('dd', {}, h('code', {}, info.tag)),
          h('dt', {}, 'Trained'), h('dd', {class: 'model-trained'}, whenTrained(info.trained_at)))),
      h('section', {class: 'panel'}, h('h2', {}, 'Evaluation'),
        h('p', {class: 'section-note'}, 'Measured on held-out likes before the model shipped; ' +
          'the baseline recommends the most popular playlists to everyone.'),
        metricTiles(info.metrics, info.baseline_metrics)),
      h('div', {class: 'two-col'},
        h('section', {class: 'panel'}, h('h2', {}, 'Data'), facts(info.counts, 'Counts')),
        h('section', {class: 'panel'}, h('h2', {}, 'Parameters'),
          facts(info.parameters, 'Parameters'))),
      info.versions ? h('section', {class: 'panel'}, h('h2', {}, 'Versions'),
        facts(info.versions, 'Versions')) : null);
  }).catch((error) => {
    replace(main, h('h1', {tabindex: '-1'}, 'The model'),
      errorState(error, () => render(main), 'the model'));
  });
  return null;
}
