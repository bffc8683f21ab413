// Proxy/jwt mode: who is signed in (from GET /api/me) and a way out; no listener picker.
import {h, replace} from './dom.js';
import {state, subscribe} from './state.js';

/** Only same-site paths and http(s) URLs become links (never `javascript:`). */
function safeUrl(url) {
  if (!url) return null;
  if (url.startsWith('/') && !url.startsWith('//')) return url;
  try {
    const parsed = new URL(url);
    return parsed.protocol === 'https:' || parsed.protocol === 'http:' ? parsed.href : null;
  } catch {
    return null;
  }
}

export function mountAccount(root, signOutUrl) {
  const signOut = safeUrl(signOutUrl);

  function draw() {
    const user = state.user;
    if (!user) {
      replace(root, h('p', {id: 'signed-out', class: 'account'},
        'Not signed in. Browse freely; sign in to like playlists.'));
      return;
    }
    replace(root,
      h('p', {id: 'signed-in', class: 'account'}, 'Signed in as ',
        h('strong', {}, user.name),
        user.email && user.email !== user.name ? ` (${user.email})` : '',
        user.admin ? h('span', {class: 'badge'}, 'admin') : null),
      signOut ? h('a', {id: 'sign-out', class: 'btn btn-quiet', href: signOut}, 'Sign out') : null);
  }

  subscribe((change) => { if (change.type === 'user') draw(); });
  draw();
}
