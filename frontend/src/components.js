// Building blocks shared by the views: playlist cards, chips, score bars and the three states.
import {h} from './dom.js';
import {state} from './state.js';

const COVER_COUNT = 8;

/** A stable small number from a string, to pick a cover colour per playlist. */
function hashOf(text) {
  let hash = 0;
  for (const char of text) hash = (hash * 31 + char.codePointAt(0)) >>> 0;
  return hash;
}

function plural(count, word) {
  return `${count} ${word}${count === 1 ? '' : 's'}`;
}

/** Two-letter monogram from the words of a name that start with a letter ("80s Jazz Calm": JC). */
function monogram(name) {
  const words = (name || '').split(/\s+/).filter((w) => /^\p{L}/u.test(w));
  const letters = words.slice(0, 2).map((w) => [...w][0].toUpperCase()).join('');
  return letters || [...(name || '?').trim()][0] || '?';
}

export function cover(playlist, size = '') {
  return h('div', {class: `cover cover-${hashOf(playlist.id) % COVER_COUNT} ${size}`,
    'aria-hidden': 'true'}, monogram(playlist.name));
}

export function tagChips(tags, label = 'Tags') {
  if (!tags || !tags.length) return null;
  return h('ul', {class: 'chips', 'aria-label': label},
    tags.map((tag) => h('li', {}, h('a', {class: 'chip', 'data-link': true,
      href: `/browse?tag=${encodeURIComponent(tag)}`}, `#${tag}`))));
}

export function likeButton(playlist) {
  const button = h('button', {type: 'button', class: 'like', 'data-like-id': playlist.id});
  syncLikeButton(button, playlist.name);
  return button;
}

/** Show the liked state of one like button (they all follow the store). */
export function syncLikeButton(button, name = button.dataset.name) {
  const liked = state.likedIds.has(button.dataset.likeId);
  button.dataset.name = name;
  button.setAttribute('aria-pressed', String(liked));
  button.setAttribute('aria-label', `${liked ? 'Unlike' : 'Like'} ${name}`);
  button.replaceChildren(
    h('span', {class: 'like-icon', 'aria-hidden': 'true'}, liked ? '♥' : '♡'),
    h('span', {class: 'like-text'}, liked ? 'Liked' : 'Like'));
}

export function syncAllLikeButtons() {
  for (const button of document.querySelectorAll('button[data-like-id]')) syncLikeButton(button);
}

function scoreBar(score, maxScore) {
  const share = maxScore > 0 ? Math.max(0.04, Math.min(1, score / maxScore)) : 0;
  const bar = h('span', {class: 'score-fill'});
  bar.style.setProperty('--share', share.toFixed(3));
  return h('div', {class: 'score', title: `score ${score}`},
    h('span', {class: 'score-label'}, 'Match'),
    h('span', {class: 'score-track', role: 'meter', 'aria-label': 'Match score',
      'aria-valuemin': '0', 'aria-valuemax': '100',
      'aria-valuenow': String(Math.round(share * 100))}, bar),
    h('span', {class: 'score-value'}, Number(score).toPrecision(2)));
}

function becauseLine(because) {
  if (!because || !because.length) return null;
  const links = [];
  because.forEach((item, index) => {
    if (index > 0) links.push(index === because.length - 1 ? ' and ' : ', ');
    links.push(h('a', {'data-link': true,
      href: `/playlist/${encodeURIComponent(item.playlist_id)}`}, item.name || item.playlist_id));
  });
  return h('p', {class: 'because'}, 'Because you liked ', links);
}

/**
 * One playlist as a card. `item` is a playlist or a recommendation item (playlist_id, score,
 * because); `maxScore` scales the score bar within its list.
 */
export function playlistCard(item, {maxScore, fresh = false, reasons = true,
  onDislike = null} = {}) {
  const playlist = {...item, id: item.id || item.playlist_id};
  const href = `/playlist/${encodeURIComponent(playlist.id)}`;
  // The API sends a track count, or null when the catalogue does not know it.
  const meta = typeof playlist.tracks === 'number' ? [plural(playlist.tracks, 'track')] : [];
  if (typeof playlist.like_count === 'number') meta.push(plural(playlist.like_count, 'like'));
  return h('article', {class: `card${fresh ? ' is-fresh' : ''}`, 'data-playlist-id': playlist.id},
    h('a', {class: 'card-cover-link', href, 'data-link': true, tabindex: '-1',
      'aria-hidden': 'true'}, cover(playlist)),
    h('div', {class: 'card-body'},
      fresh ? h('span', {class: 'badge-new'}, 'New') : null,
      h('h3', {class: 'card-title'}, h('a', {href, 'data-link': true}, playlist.name)),
      playlist.description ? h('p', {class: 'card-desc'}, playlist.description) : null,
      tagChips(playlist.tags),
      h('p', {class: 'card-meta'}, meta.join(' · ')),
      typeof item.score === 'number' ? scoreBar(item.score, maxScore) : null,
      reasons ? becauseLine(item.because) : null),
    h('div', {class: 'card-actions'}, likeButton(playlist),
      onDislike ? h('button', {type: 'button', class: 'btn btn-light not-for-me',
        'aria-label': `Not for me: hide ${playlist.name}`,
        onClick: () => onDislike(playlist)}, 'Not for me') : null));
}

export function cardGrid(items, options = {}) {
  const maxScore = Math.max(0, ...items.map((item) => item.score || 0));
  return h('div', {class: 'grid'}, items.map((item) => playlistCard(item, {
    maxScore, reasons: options.reasons !== false, onDislike: options.onDislike,
    fresh: options.freshIds ? options.freshIds.has(item.playlist_id) : false})));
}

export function loading(label = 'Loading…') {
  return h('div', {class: 'state state-loading', role: 'status'},
    h('span', {class: 'spinner', 'aria-hidden': 'true'}), label);
}

export function empty(title, text, action = null) {
  return h('div', {class: 'state state-empty'},
    h('p', {class: 'state-title'}, title), text ? h('p', {}, text) : null, action);
}

/** An error box; the recommender being down gets its own reassuring wording. */
export function errorState(error, retry = null, what = 'this') {
  const down = error && error.recommenderDown;
  const title = down ? 'The recommender is offline' : `Could not load ${what}`;
  const text = down
    ? 'Recommendations are paused for now. Browsing, search and likes still work.'
    : (error && error.detail) || String(error);
  return h('div', {class: `state state-error${down ? ' is-offline' : ''}`, role: 'alert'},
    h('p', {class: 'state-title'}, title),
    h('p', {}, text),
    down && error.detail ? h('p', {class: 'state-detail'}, `Gateway said: ${error.detail}`) : null,
    retry ? h('button', {type: 'button', class: 'btn', onClick: retry}, 'Try again') : null);
}

export function section(title, ...children) {
  return h('section', {class: 'panel'}, h('h2', {}, title), children);
}
