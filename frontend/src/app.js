// Boot: status bar, listener picker, client-side routes (history API) and like buttons.
import {api} from './api.js';
import {mountAccount} from './account.js';
import {h, toast} from './dom.js';
import {syncAllLikeButtons} from './components.js';
import {mountPicker} from './picker.js';
import {startStatus} from './status.js';
import {loadSignedIn, restoreUser, state, subscribe, toggleLike} from './state.js';
import * as browse from './views/browse.js';
import * as home from './views/home.js';
import * as model from './views/model.js';
import * as playlist from './views/playlist.js';

const APP_NAME = 'Playlist Radio';
const routes = [
  {pattern: /^\/$/, view: home, title: 'For you', nav: '/'},
  {pattern: /^\/browse$/, view: browse, title: 'Browse', nav: '/browse'},
  {pattern: /^\/playlist\/([^/]+)$/, view: playlist, title: 'Playlist', keys: ['id']},
  {pattern: /^\/model$/, view: model, title: 'Model', nav: '/model'},
];

const main = document.getElementById('main');
let cleanup = null;
let picker = null;

function notFound() {
  main.replaceChildren(h('h1', {tabindex: '-1'}, 'Nothing here'),
    h('p', {}, 'That page does not exist. ',
      h('a', {href: '/', 'data-link': true}, 'Go to your recommendations'), '.'));
  return null;
}

// A route's parameters from the path, or null when one is not valid percent-encoding (a
// truncated or mistyped link: decodeURIComponent throws URIError).
function routeParams(route, path) {
  const match = path.match(route.pattern);
  const params = {};
  try {
    (route.keys || []).forEach((key, index) => {
      params[key] = decodeURIComponent(match[index + 1]);
    });
  } catch (error) {
    if (error instanceof URIError) return null;
    throw error;
  }
  return params;
}

function render({focus = true} = {}) {
  if (cleanup) cleanup();
  const path = window.location.pathname;
  const route = routes.find((r) => r.pattern.test(path));
  for (const link of document.querySelectorAll('.nav a')) {
    if (route && link.getAttribute('href') === route.nav) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
  const params = route ? routeParams(route, path) : null;
  document.title = params ? `${route.title} · ${APP_NAME}` : APP_NAME;
  cleanup = params ? route.view.render(main, {params}) : notFound();
  if (focus) main.querySelector('h1')?.focus({preventScroll: false});
}

export function navigate(url) {
  window.history.pushState(null, '', url);
  window.scrollTo(0, 0);
  render();
}

// Same-origin links marked data-link are client-side routes; modifier clicks still open tabs.
document.addEventListener('click', (event) => {
  const link = event.target.closest('a[data-link]');
  if (link && !event.defaultPrevented && event.button === 0 && !event.metaKey &&
      !event.ctrlKey && !event.shiftKey && !event.altKey) {
    event.preventDefault();
    navigate(link.getAttribute('href'));
    return;
  }
  const likeButton = event.target.closest('button[data-like-id]');
  if (likeButton) onLike(likeButton);
});

async function onLike(button) {
  if (!state.user) {
    if (picker) {
      toast('Pick a listener or create a new one to like playlists.', 'info');
      picker.focus();
    } else {
      toast('Sign in to like playlists.', 'info');
    }
    return;
  }
  button.disabled = true;
  try {
    const liked = await toggleLike(button.dataset.likeId);
    toast(`${liked ? 'Liked' : 'Unliked'} “${button.dataset.name}”`, 'success');
  } catch (error) {
    toast(`Could not save that: ${error.detail}`, 'error');
  } finally {
    button.disabled = false;
  }
}

window.addEventListener('popstate', () => render());
subscribe((change) => {
  syncAllLikeButtons();
  if (change.type === 'user') render({focus: false});
});

startStatus(document.getElementById('status'), document.getElementById('offline-banner'));
// The auth mode decides the listener bar: demo mode's picker, or who is signed in.
const config = await api.config().catch(() => ({auth_mode: 'demo', sign_out_url: ''}));
state.authMode = config.auth_mode;
const listenerBar = document.getElementById('listener');
if (config.auth_mode === 'demo') {
  picker = mountPicker(listenerBar);
  restoreUser().finally(() => { if (!state.user) render({focus: false}); });
} else {
  mountAccount(listenerBar, config.sign_out_url);
  loadSignedIn()
    .catch((error) => toast(`Could not tell who is signed in: ${error.detail}`, 'error'))
    .finally(() => { if (!state.user) render({focus: false}); });
}
