// Who is listening and what they like: one small store every view reads and subscribes to.
import {api} from './api.js';

const STORAGE_KEY = 'listener';
const listeners = new Set();

export const state = {
  user: null, // {id, name, like_count}
  likedIds: new Set(),
};

function emit(change) {
  for (const fn of listeners) fn(change);
}

/** Call `fn({type, ...})` on 'user' and 'likes' changes; returns an unsubscribe function. */
export function subscribe(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

/** Make `user` the current listener and load their likes. */
export async function selectUser(user) {
  state.user = user;
  state.likedIds = new Set();
  if (user) {
    localStorage.setItem(STORAGE_KEY, user.id);
    const likes = await api.likes(user.id);
    state.likedIds = new Set(likes.items.map((p) => p.id));
  } else {
    localStorage.removeItem(STORAGE_KEY);
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
    await api.like(state.user.id, playlistId);
    state.likedIds.add(playlistId);
  } else {
    await api.unlike(state.user.id, playlistId);
    state.likedIds.delete(playlistId);
  }
  emit({type: 'likes', playlistId, liked});
  return liked;
}
