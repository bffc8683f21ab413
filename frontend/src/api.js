// The gateway's JSON API (docs/ARCHITECTURE.md), same origin: nginx or the gateway serves us.

const TIMEOUT_MS = 8000;
// Demo mode only: the picked listener, sent as X-Demo-User (the gateway ignores it otherwise).
let demoUser = null;

export function setDemoUser(id) {
  demoUser = id || null;
}

/** An answer other than 2xx, or no answer at all (status 0). `detail` is for people. */
export class ApiError extends Error {
  constructor(status, detail) {
    super(detail);
    this.status = status;
    this.detail = detail;
  }

  /** True when the recommender (not the gateway) is what failed. */
  get recommenderDown() {
    return this.status === 503 || this.status === 504;
  }
}

function describe(detail) {
  if (typeof detail === 'string') return detail;
  if (Array.isArray(detail)) return detail.map((d) => d.msg || JSON.stringify(d)).join('; ');
  return detail ? JSON.stringify(detail) : '';
}

async function request(method, path, {params, body} = {}) {
  const url = new URL(path, window.location.origin);
  for (const [key, value] of Object.entries(params || {})) {
    // A list repeats the parameter (?tags=a&tags=b), as the gateway reads it.
    if (Array.isArray(value)) value.forEach((item) => url.searchParams.append(key, item));
    else if (value !== undefined && value !== null && value !== '') {
      url.searchParams.set(key, value);
    }
  }
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), TIMEOUT_MS);
  let response;
  try {
    response = await fetch(url, {
      method,
      signal: controller.signal,
      headers: {'Accept': 'application/json',
        ...(demoUser ? {'X-Demo-User': demoUser} : {}),
        ...(body === undefined ? {} : {'Content-Type': 'application/json'})},
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (err) {
    throw new ApiError(0, err.name === 'AbortError' ? 'The server took too long to answer.'
      : 'Cannot reach the server. Check your connection.');
  } finally {
    clearTimeout(timer);
  }
  const data = await response.json().catch(() => null);
  if (!response.ok) {
    const detail = describe(data && data.detail) || `${response.status} ${response.statusText}`;
    throw new ApiError(response.status, detail);
  }
  return data;
}

const seg = encodeURIComponent;

export const api = {
  /** /ready answers 503 with per-dependency checks when something is down: show them. */
  readyChecks: async () => {
    const response = await fetch('/ready', {headers: {'Accept': 'application/json'}});
    const data = await response.json().catch(() => ({}));
    return {status: response.status, checks: data.checks || {}, detail: describe(data.detail)};
  },
  model: () => request('GET', '/api/model'),
  online: (days = 30) => request('GET', '/api/metrics/online', {params: {days}}),
  config: () => request('GET', '/api/config'),
  // Other listeners: admins only (everyone in demo mode, where the picker uses them).
  users: (q, limit = 50) => request('GET', '/api/users', {params: {q, limit}}),
  user: (id) => request('GET', `/api/users/${seg(id)}`),
  createUser: (name) => request('POST', '/api/users', {body: {name}}),
  // The signed-in (or, in demo mode, picked) listener.
  me: () => request('GET', '/api/me'),
  likes: () => request('GET', '/api/me/likes'),
  like: (playlistId) => request('PUT', `/api/me/likes/${seg(playlistId)}`),
  unlike: (playlistId) => request('DELETE', `/api/me/likes/${seg(playlistId)}`),
  recommendations: (k = 12, tags = []) =>
    request('GET', '/api/me/recommendations', {params: {k, tags}}),
  // "Not for me": hidden from this listener's picks until undone.
  dislike: (playlistId) => request('PUT', `/api/me/dislikes/${seg(playlistId)}`),
  undislike: (playlistId) => request('DELETE', `/api/me/dislikes/${seg(playlistId)}`),
  playlists: ({q, tag, limit, offset}) =>
    request('GET', '/api/playlists', {params: {q, tag, limit, offset}}),
  playlist: (id) => request('GET', `/api/playlists/${seg(id)}`),
  similar: (id, k = 8) => request('GET', `/api/playlists/${seg(id)}/similar`, {params: {k}}),
  tags: () => request('GET', '/api/tags'),
};
