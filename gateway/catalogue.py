"""Admin writes to the playlist catalogue: create, update, retire. One transaction each.

Retiring keeps the row (likes, history and exports still name it) and stamps `retired_at`;
from then on browse hides it and recommendations exclude it (routers/recommendations.py).
"""
from __future__ import annotations

import time

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError

from gateway.store import Conflict, NotFound, Store
from gateway.tables import playlist_tags, playlists

FIELDS = ("name", "description", "tracks")


def _set_tags(conn, playlist_id: str, tags: list[str]) -> None:
    conn.execute(playlist_tags.delete().where(playlist_tags.c.playlist_id == playlist_id))
    if tags:
        conn.execute(insert(playlist_tags), [
            {"playlist_id": playlist_id, "tag": tag, "position": position}
            for position, tag in enumerate(tags)])


def create_playlist(store: Store, playlist_id: str, name: str, description: str,
                    tags: list[str], tracks: int | None) -> dict:
    """A new playlist; Conflict when the id is taken (retired ids stay taken)."""
    try:
        with store.engine.begin() as conn:
            conn.execute(insert(playlists).values(id=playlist_id, name=name,
                                                  description=description, tracks=tracks,
                                                  like_count=0))
            _set_tags(conn, playlist_id, tags)
    except IntegrityError:
        raise Conflict(f"playlist id {playlist_id!r} is already taken") from None
    return store.get_playlist(playlist_id)


def update_playlist(store: Store, playlist_id: str, changes: dict) -> dict:
    """Change the given fields (name, description, tags, tracks) of a playlist."""
    values = {name: changes[name] for name in FIELDS if name in changes}
    with store.engine.begin() as conn:
        if conn.execute(select(playlists.c.id).where(playlists.c.id == playlist_id)).first() \
                is None:
            raise NotFound("playlist", playlist_id)
        if values:
            conn.execute(update(playlists).where(playlists.c.id == playlist_id).values(**values))
        if "tags" in changes:
            _set_tags(conn, playlist_id, changes["tags"])
    store.forget_catalogue()
    return store.get_playlist(playlist_id)


def retire_playlist(store: Store, playlist_id: str) -> dict:
    """Idempotent: retiring a retired playlist keeps its first `retired_at`."""
    with store.engine.begin() as conn:
        row = conn.execute(select(playlists.c.retired_at)
                           .where(playlists.c.id == playlist_id)).first()
        if row is None:
            raise NotFound("playlist", playlist_id)
        if row.retired_at is None:
            conn.execute(update(playlists).where(playlists.c.id == playlist_id)
                         .values(retired_at=time.time()))
    store.forget_catalogue()
    return store.get_playlist(playlist_id)
