// One playlist: what it is, a like button, and the playlists the model finds most similar.
import {api} from '../api.js';
import {h, replace} from '../dom.js';
import {cardGrid, cover, empty, errorState, likeButton, loading, tagChips} from '../components.js';

const SIMILAR_COUNT = 8;

function details(playlist) {
  // The API sends a track count (or null when the catalogue does not know it).
  const tracks = typeof playlist.tracks === 'number' ? `${playlist.tracks} tracks · ` : '';
  return h('article', {class: 'detail'},
    cover(playlist, 'cover-large'),
    h('div', {class: 'detail-body'},
      h('p', {class: 'eyebrow'}, 'Playlist'),
      h('h1', {tabindex: '-1'}, playlist.name),
      playlist.description ? h('p', {class: 'lead'}, playlist.description) : null,
      tagChips(playlist.tags),
      h('p', {class: 'card-meta'}, `${tracks}${playlist.like_count ?? 0} likes`),
      likeButton(playlist)));
}

export function render(main, {params}) {
  const id = params.id;
  const similarBody = h('div', {}, loading('Finding similar playlists…'));

  async function loadSimilar() {
    replace(similarBody, loading('Finding similar playlists…'));
    try {
      const answer = await api.similar(id, SIMILAR_COUNT);
      replace(similarBody, answer.items.length ? cardGrid(answer.items, {reasons: false})
        : empty('No similar playlists', 'The model has nothing close to this one yet.'));
    } catch (error) {
      const unknown = error.status === 404;
      replace(similarBody, unknown
        ? empty('Too new to compare', 'The model was trained before this playlist had listeners.')
        : errorState(error, loadSimilar, 'similar playlists'));
    }
  }

  replace(main, loading('Loading playlist…'));
  api.playlist(id).then((playlist) => {
    document.title = `${playlist.name} · Playlist Radio`;
    replace(main, details(playlist),
      h('section', {class: 'panel'}, h('h2', {}, 'Similar playlists'), similarBody));
    main.querySelector('h1').focus();
    loadSimilar();
  }).catch((error) => {
    replace(main, h('h1', {tabindex: '-1'}, error.status === 404 ? 'Playlist not found' : 'Oops'),
      errorState(error, () => render(main, {params}), 'this playlist'),
      h('p', {}, h('a', {href: '/browse', 'data-link': true}, 'Back to the catalogue')));
  });
  return null;
}
