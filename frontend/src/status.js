// The status bar: is the gateway up, is the recommender up, which model tag is serving.
import {api} from './api.js';
import {h, replace} from './dom.js';

const POLL_MS = 10000;

function pill(name, level, value) {
  return h('li', {class: `pill pill-${level}`, 'data-service': name, title: `${name}: ${value}`},
    h('span', {class: 'dot', 'aria-hidden': 'true'}), `${name} `, h('strong', {}, value));
}

async function check() {
  try {
    const ready = await api.readyChecks();
    // nginx answers 502 itself when the gateway is gone
    if (ready.status === 502 || ready.status === 504) throw new Error(ready.detail);
    const bentoUp = ready.checks.bento === 'ok';
    const databaseUp = ready.checks.database === 'ok';
    let tag = '—';
    if (bentoUp) tag = await api.model().then((info) => info.tag).catch(() => 'unknown');
    return {gateway: databaseUp ? 'up' : 'degraded', bento: bentoUp ? 'up' : 'down', tag};
  } catch {
    return {gateway: 'down', bento: 'unknown', tag: '—'};
  }
}

/** Draw the bar now and every few seconds. */
export function startStatus(list, banner) {
  async function refresh() {
    const status = await check();
    const level = (value) => (value === 'up' ? 'ok' : value === 'degraded' ? 'warn' : 'bad');
    replace(list,
      pill('Gateway', level(status.gateway), status.gateway),
      pill('Recommender', level(status.bento), status.bento),
      status.tag === '—' ? pill('Model', 'bad', 'none') : pill('Model', 'ok', status.tag));
    const recommenderDown = status.gateway !== 'down' && status.bento !== 'up';
    banner.hidden = !(recommenderDown || status.gateway === 'down');
    banner.textContent = status.gateway === 'down'
      ? 'Cannot reach the gateway. Retrying every few seconds…'
      : 'The recommender is offline: recommendations are paused, browsing and likes still work.';
  }
  refresh();
  const timer = setInterval(refresh, POLL_MS);
  return {refresh, stop: () => clearInterval(timer)};
}
