// The model panel: what serves recommendations (registry version, algorithm), how well it
// scored, when it trained and was promoted, and how the last retrain's candidate compared.
import {api} from '../api.js';
import {append, h, replace} from '../dom.js';
import {errorState, loading} from '../components.js';
import {armTable, rateChart} from '../chart.js';

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

/** Which registered version serves, and since when (prod pulls it from MLflow at start). */
function servingFacts(info) {
  const version = info.registry_version;
  return [
    h('dt', {}, 'Serving version'),
    h('dd', {class: 'model-version'}, version ? `playlist_recommender v${version}`
      : 'local model store (no registry)'),
    version ? [h('dt', {}, 'Promoted'),
      h('dd', {class: 'model-promoted'}, info.promoted_at ? whenTrained(info.promoted_at)
        : 'unknown')] : null];
}

const COMPARED = ['recall@10', 'ndcg@10'];

const VERDICTS = {promoted: 'Promoted', rejected: 'Rejected'};

/** The last retrain's candidate against the model that served then, on one holdout (the
 * retrain job's row in the gateway's database; a failed night says why). */
function lastRetrain(report) {
  if (!report) {
    return h('p', {class: 'section-note'},
      'No retrain has been recorded yet (or the database did not answer).');
  }
  const champion = report.champion;
  const rows = COMPARED.map((metric) => h('tr', {},
    h('th', {scope: 'row'}, metric),
    h('td', {}, formatNumber(report.candidate?.[metric] ?? '–')),
    h('td', {}, champion ? formatNumber(champion[metric] ?? '–') : 'none')));
  const verdict = VERDICTS[report.decision] || 'Failed';
  return [
    h('p', {class: `retrain-verdict ${report.decision === 'promoted' ? 'up' : 'down'}`},
      verdict + (report.version ? `: version ${report.version}` : '') +
      (report.finished_at ? `, ${whenTrained(report.finished_at)}` : '')),
    report.candidate ? h('table', {class: 'retrain-table',
      'aria-label': 'Last retrain against the serving model'},
    h('thead', {}, h('tr', {}, h('th', {scope: 'col'}, 'metric'),
      h('th', {scope: 'col'}, report.version ? `candidate v${report.version}` : 'candidate'),
      h('th', {scope: 'col'}, champion?.registry_version
        ? `serving v${champion.registry_version}` : 'serving model'))),
    h('tbody', {}, rows)) : null,
    h('ul', {class: 'retrain-reasons'},
      [...(report.error ? [report.error] : []), ...(report.reasons || []),
        ...(report.notes || [])].map((line) => h('li', {}, line)))];
}

export function render(main) {
  const onlineBody = h('div', {}, loading('Counting likes after recommendations…'));
  const onlinePanel = h('section', {class: 'panel model-online', 'aria-labelledby': 'online-title'},
    h('h2', {id: 'online-title'}, 'Live feedback'),
    h('p', {class: 'section-note'}, 'Share of recommendations a listener liked within 24 ' +
      'hours, per day and model; with a challenger, per arm.'),
    onlineBody);
  function loadOnline() {
    api.online().then((online) => replace(onlineBody, rateChart(online), armTable(online.arms)))
      .catch((error) => replace(onlineBody, errorState(error, loadOnline, 'live feedback')));
  }
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
          h('dt', {}, 'Trained'), h('dd', {class: 'model-trained'}, whenTrained(info.trained_at)),
          servingFacts(info))),
      h('section', {class: 'panel model-retrain'}, h('h2', {}, 'Last retrain'),
        h('p', {class: 'section-note'}, 'The newest candidate and the model serving then, ' +
          'scored on the same held-out likes; only a candidate no worse is promoted.'),
        lastRetrain(info.last_retrain)),
      h('section', {class: 'panel'}, h('h2', {}, 'Evaluation'),
        h('p', {class: 'section-note'}, 'Measured on held-out likes before the model shipped; ' +
          'the baseline recommends the most popular playlists to everyone.'),
        metricTiles(info.metrics, info.baseline_metrics)),
      h('div', {class: 'two-col'},
        h('section', {class: 'panel'}, h('h2', {}, 'Data'), facts(info.counts, 'Counts')),
        h('section', {class: 'panel'}, h('h2', {}, 'Parameters'),
          facts(info.parameters, 'Parameters'))),
      onlinePanel,
      info.versions ? h('section', {class: 'panel'}, h('h2', {}, 'Versions'),
        facts(info.versions, 'Versions')) : null);
    loadOnline();
  }).catch((error) => {
    replace(main, h('h1', {tabindex: '-1'}, 'The model'),
      errorState(error, () => render(main), 'the model'));
  });
  return null;
}
