// The catalogue: search by name, filter by tag, page through; state lives in the URL.
import {api} from '../api.js';
import {debounce, h, replace} from '../dom.js';
import {cardGrid, empty, errorState, loading} from '../components.js';

const PAGE_SIZE = 12;
const TAG_LIMIT = 18;

function readQuery() {
  const params = new URLSearchParams(window.location.search);
  return {q: params.get('q') || '', tag: params.get('tag') || '',
    page: Math.max(1, parseInt(params.get('page'), 10) || 1)};
}

function writeQuery({q, tag, page}) {
  const params = new URLSearchParams();
  if (q) params.set('q', q);
  if (tag) params.set('tag', tag);
  if (page > 1) params.set('page', String(page));
  const search = params.toString();
  window.history.replaceState(null, '', `/browse${search ? `?${search}` : ''}`);
}

export function render(main) {
  const query = readQuery();
  const searchInput = h('input', {id: 'catalogue-search', type: 'search', value: query.q,
    placeholder: 'Name or description', autocomplete: 'off'});
  const tagBar = h('div', {class: 'chips tag-filter', role: 'group',
    'aria-label': 'Filter by tag'});
  const summary = h('p', {class: 'section-note', 'aria-live': 'polite', id: 'browse-summary'});
  const results = h('div', {}, loading('Loading the catalogue…'));
  const pager = h('nav', {class: 'pager', 'aria-label': 'Pages'});
  let latestRequest = 0;

  async function loadPage() {
    writeQuery(query);
    const request = ++latestRequest;
    results.setAttribute('aria-busy', 'true');
    try {
      const answer = await api.playlists({q: query.q, tag: query.tag, limit: PAGE_SIZE,
        offset: (query.page - 1) * PAGE_SIZE});
      if (request !== latestRequest) return;
      drawPage(answer);
    } catch (error) {
      if (request !== latestRequest) return;
      summary.textContent = '';
      replace(pager);
      replace(results, errorState(error, loadPage, 'the catalogue'));
    } finally {
      results.removeAttribute('aria-busy');
    }
  }

  function drawPage(answer) {
    const pages = Math.max(1, Math.ceil(answer.total / PAGE_SIZE));
    const first = answer.total ? answer.offset + 1 : 0;
    const last = answer.offset + answer.items.length;
    const filters = [query.q && `matching “${query.q}”`, query.tag && `tagged #${query.tag}`]
      .filter(Boolean).join(' ');
    summary.textContent = `${first}–${last} of ${answer.total} playlists ${filters}`.trim();
    replace(results, answer.items.length ? cardGrid(answer.items)
      : empty('No playlists found', 'Try a shorter search or another tag.'));
    const go = (page) => () => {
      query.page = page;
      loadPage().then(() => document.getElementById('browse-summary').scrollIntoView());
    };
    replace(pager,
      h('button', {type: 'button', class: 'btn', disabled: query.page <= 1,
        onClick: go(query.page - 1)}, '← Previous'),
      h('span', {class: 'pager-label'}, `Page ${query.page} of ${pages}`),
      h('button', {type: 'button', class: 'btn', disabled: query.page >= pages,
        onClick: go(query.page + 1)}, 'Next →'));
  }

  function drawTags(tags) {
    const chip = (tag, label) => h('button', {type: 'button', class: 'chip chip-toggle',
      'aria-pressed': String(query.tag === tag), onClick: (e) => {
        query.tag = tag;
        query.page = 1;
        for (const other of tagBar.querySelectorAll('button')) {
          other.setAttribute('aria-pressed', String(other === e.currentTarget));
        }
        loadPage();
      }}, label);
    const shown = tags.slice(0, TAG_LIMIT);
    if (query.tag && !shown.some((t) => t.tag === query.tag)) shown.push({tag: query.tag});
    replace(tagBar, chip('', 'All'),
      shown.map((t) => chip(t.tag, t.count ? `#${t.tag} · ${t.count}` : `#${t.tag}`)));
  }

  searchInput.addEventListener('input', debounce(() => {
    query.q = searchInput.value.trim();
    query.page = 1;
    loadPage();
  }, 250));

  replace(main,
    h('div', {class: 'page-head'},
      h('h1', {tabindex: '-1'}, 'Browse the catalogue'),
      h('form', {class: 'search', role: 'search', onSubmit: (e) => e.preventDefault()},
        h('label', {for: 'catalogue-search'}, 'Search playlists'), searchInput)),
    tagBar,
    h('section', {class: 'panel', 'aria-label': 'Playlists'}, summary, results, pager));
  api.tags().then((answer) => drawTags(answer.items)).catch(() => drawTags([]));
  loadPage();
  return null;
}
