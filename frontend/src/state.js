// Who is listening and what they like: one small store every view reads and subscribes to.
// Demo mode: the listener picked in the picker. Proxy/jwt mode: whoever signed in (GET /api/me).
import {api, setDemoUser} from './api.js';

const STORAGE_KEY = 'listener';
const listeners = new Set();

export const state = {
  user: null, // {id, name, like_count}
  likedIds: new Set(),
  authMode: 'demo', // from GET /api/config
};

function emit(change) {
  for (const fn of listeners) fn(change);
}

/** Call `fn({type, ...})` on 'user' and 'likes' changes; returns an unsubscribe function. */
export function subscribe(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

/** Demo mode: make `user` the current listener and load their likes. */
export async function selectUser(user) {
  state.user = user;
  state.likedIds = new Set();
  setDemoUser(user && user.id);
  if (user) {
    localStorage.setItem(STORAGE_KEY, user.id);
    const likes = await api.likes();
    state.likedIds = new Set(likes.items.map((p) => p.id));
  } else {
    localStorage.removeItem(STORAGE_KEY);
  }
  emit({type: 'user'});
}

/** Proxy/jwt mode: whoever the request's identity says; nobody (anonymous) on a 401. */
export async function loadSignedIn() {
  try {
    state.user = await api.me();
    const likes = await api.likes();
    state.likedIds = new Set(likes.items.map((p) => p.id));
  } catch (error) {
    state.user = null;
    state.likedIds = new Set();
    if (error.status !== 401) throw error;
  }
  emit({type: 'user'});
}

/** Bring back the listener from the last visit, if they still exist. */
export async function restoreUser() {
  const id = localStorage.getItem(STORAGE_KEY);
  if (!id) return;
  try {
    await selectUser(await api.user(id));
  } catch {
    localStorage.removeItem(STORAGE_KEY);
  }
}

/** Like or unlike for the current listener; returns the new liked state. */
export async function toggleLike(playlistId) {
  const liked = !state.likedIds.has(playlistId);
  if (liked) {
    await api.like(playlistId);
    state.likedIds.add(playlistId);
  } else {
    await api.unlike(playlistId);
    state.likedIds.delete(playlistId);
  }
  emit({type: 'likes', playlistId, liked});
  return liked;
}
