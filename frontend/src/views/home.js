// "For you": the listener's recommendations (with reasons) and their liked playlists.
import {api} from '../api.js';
import {h, replace, toast} from '../dom.js';
import {cardGrid, empty, errorState, loading} from '../components.js';
import {state, subscribe} from '../state.js';

const RECOMMENDATION_COUNT = 12;
const FILTER_TAG_COUNT = 12;

function welcome() {
  return h('div', {class: 'hero'},
    h('h1', {tabindex: '-1'}, 'Find playlists you will love'),
    h('p', {class: 'lead'}, 'Pick a listener above, or start fresh as a new listener. Like a few ' +
      'playlists and the recommendations learn from you at once.'),
    h('p', {class: 'hero-actions'},
      h('button', {type: 'button', class: 'btn btn-primary',
        onClick: () => document.dispatchEvent(new Event('new-listener'))},
      'Start as a new listener'),
      h('a', {class: 'btn btn-light', href: '/browse', 'data-link': true},
        'Browse the catalogue')));
}

function signInFirst() {
  return h('div', {class: 'hero'},
    h('h1', {tabindex: '-1'}, 'Find playlists you will love'),
    h('p', {class: 'lead'}, 'Sign in to like playlists and get picks made for you. ' +
      'The catalogue is open to everyone.'),
    h('p', {class: 'hero-actions'},
      h('a', {class: 'btn btn-light', href: '/browse', 'data-link': true},
        'Browse the catalogue')));
}

export function render(main) {
  if (!state.user) {
    replace(main, state.authMode === 'demo' ? welcome() : signInFirst());
    return null;
  }
  const user = state.user;
  const recsBody = h('div', {class: 'recs', 'aria-live': 'polite'},
    loading('Finding playlists for you…'));
  const recsTitle = h('h2', {id: 'recs-title', tabindex: '-1'}, 'Recommended for you');
  const recsNote = h('p', {class: 'section-note'});
  const likesBody = h('div', {}, loading('Loading your likes…'));
  const likesTitle = h('h2', {}, 'Your liked playlists');
  // Tag chips: only picks with any of the pressed tags (the gateway's `tags` filter).
  const selectedTags = new Set();
  const tagBar = h('div', {class: 'chips tag-filter rec-filter', role: 'group',
    'aria-label': 'Only picks tagged'});
  // After "Not for me": what was hidden, with an undo button (stays until the next one).
  const hiddenNote = h('div', {class: 'hidden-note', role: 'status'});
  let shownIds = null;
  let latestRequest = 0; // quick successive likes: only the newest answer is drawn

  async function loadRecommendations() {
    const request = ++latestRequest;
    recsBody.setAttribute('aria-busy', 'true');
    recsBody.classList.add('is-refreshing');
    try {
      const answer = await api.recommendations(RECOMMENDATION_COUNT, [...selectedTags]);
      if (request !== latestRequest) return;
      const personal = answer.strategy === 'personalized';
      recsTitle.textContent = personal ? 'Picked for you' : 'Popular right now';
      recsNote.textContent = personal
        ? `Based on your ${state.likedIds.size} liked playlists · model ${answer.model}`
        : 'Like a playlist and these become personal.';
      const freshIds = shownIds
        ? new Set(answer.items.map((i) => i.playlist_id).filter((id) => !shownIds.has(id)))
        : new Set();
      shownIds = new Set(answer.items.map((i) => i.playlist_id));
      recsBody.dataset.strategy = answer.strategy;
      // A keyboard user who liked a card here would lose focus with it: keep them in the list.
      const hadFocus = recsBody.contains(document.activeElement);
      replace(recsBody, answer.items.length
        ? cardGrid(answer.items, {freshIds, onDislike: notForMe})
        : selectedTags.size
          ? empty('Nothing with these tags', 'Press another tag, or press it again to clear it.')
          : empty('Nothing to recommend yet', 'You have liked everything we know. Impressive.'));
      if (hadFocus) recsTitle.focus();
    } catch (error) {
      if (request !== latestRequest) return;
      recsTitle.textContent = 'Recommended for you';
      recsNote.textContent = '';
      recsBody.dataset.strategy = 'error';
      replace(recsBody, errorState(error, loadRecommendations, 'recommendations'));
    } finally {
      if (request === latestRequest) {
        recsBody.removeAttribute('aria-busy');
        recsBody.classList.remove('is-refreshing');
      }
    }
  }

  async function notForMe(playlist) {
    try {
      await api.dislike(playlist.id);
    } catch (error) {
      toast(`Could not hide ${playlist.name}: ${error.detail}`, 'error');
      return;
    }
    const card = recsBody.querySelector(`[data-playlist-id="${CSS.escape(playlist.id)}"]`);
    if (card) card.remove();
    replace(hiddenNote, `Hidden “${playlist.name}”. `,
      h('button', {type: 'button', class: 'btn btn-light undo-dislike',
        onClick: () => undo(playlist)}, 'Undo'));
    loadRecommendations();
  }

  async function undo(playlist) {
    try {
      await api.undislike(playlist.id);
    } catch (error) {
      toast(`Could not undo: ${error.detail}`, 'error');
      return;
    }
    replace(hiddenNote, `“${playlist.name}” is back.`);
    loadRecommendations();
  }

  function drawTags(tags) {
    const chip = (tag) => h('button', {type: 'button', class: 'chip chip-toggle',
      'aria-pressed': 'false', 'data-tag': tag, onClick: (event) => {
        if (selectedTags.has(tag)) selectedTags.delete(tag);
        else selectedTags.add(tag);
        event.currentTarget.setAttribute('aria-pressed', String(selectedTags.has(tag)));
        loadRecommendations();
      }}, `#${tag}`);
    replace(tagBar, tags.slice(0, FILTER_TAG_COUNT).map((t) => chip(t.tag)));
  }

  async function loadLikes() {
    try {
      const answer = await api.likes();
      likesTitle.textContent = `Your liked playlists (${answer.total})`;
      replace(likesBody, answer.items.length
        ? cardGrid(answer.items)
        : empty('No likes yet', 'Press Like on any playlist: here, in the catalogue, or on a ' +
            'playlist page.', h('a', {class: 'btn', href: '/browse', 'data-link': true},
            'Browse the catalogue')));
    } catch (error) {
      replace(likesBody, errorState(error, loadLikes, 'your likes'));
    }
  }

  replace(main,
    h('div', {class: 'page-head'},
      h('h1', {tabindex: '-1'}, `Hi, ${user.name}`),
      h('p', {class: 'lead'}, 'Your recommendations update the moment you like or unlike a ' +
        'playlist.')),
    h('section', {class: 'panel', 'aria-labelledby': 'recs-title'}, recsTitle, recsNote, tagBar,
      hiddenNote, recsBody),
    h('section', {class: 'panel'}, likesTitle, likesBody));
  loadRecommendations();
  loadLikes();
  api.tags().then((answer) => drawTags(answer.items)).catch(() => drawTags([]));

  return subscribe((change) => {
    if (change.type === 'likes') {
      loadRecommendations().then(() => {
        if (recsBody.dataset.strategy !== 'error') toast('Recommendations updated', 'success');
      });
      loadLikes();
    }
  });
}
