"""'Not for me': a listener's dislikes, never recommended to them until they undo it.

Kept apart from likes: a dislike is no training signal (offline validation of it as a negative
score was not done, so it only filters), and it never touches a playlist's like count.
"""
from __future__ import annotations

import time

from sqlalchemy import Connection, insert, select
from sqlalchemy.exc import IntegrityError

from gateway.store import Store
from gateway.tables import dislikes, playlists, users


def set_dislike(store: Store, user_id: str, playlist_id: str, disliked: bool) -> None:
    """Idempotent; answers only once the change is committed."""
    key = (dislikes.c.user_id == user_id) & (dislikes.c.playlist_id == playlist_id)
    try:
        with store.engine.begin() as conn:
            Store._require(conn, users, user_id, "user")
            Store._require(conn, playlists, playlist_id, "playlist")
            if not disliked:
                conn.execute(dislikes.delete().where(key))
            elif conn.execute(select(dislikes.c.user_id).where(key)).first() is None:
                conn.execute(insert(dislikes).values(user_id=user_id, playlist_id=playlist_id,
                                                     created_at=time.time()))
    except IntegrityError:
        if not disliked:
            raise
        # A concurrent PUT of the same dislike won the race: it exists.


def user_dislikes(store: Store, user_id: str) -> list[dict]:
    """The listener's dislikes with names, newest first."""
    with store.engine.connect() as conn:
        Store._require(conn, users, user_id, "user")
        rows = conn.execute(
            select(dislikes.c.playlist_id, playlists.c.name, dislikes.c.created_at)
            .join(playlists, playlists.c.id == dislikes.c.playlist_id)
            .where(dislikes.c.user_id == user_id)
            .order_by(dislikes.c.created_at.desc(), dislikes.c.playlist_id)).mappings()
        return [dict(row) for row in rows]


def disliked_ids(store: Store, user_id: str, conn: Connection | None = None) -> list[str]:
    """Sent to the Bento as `exclude` with the retired ids (beyond what it takes, the gateway
    filters them itself)."""
    with store.reading(conn) as conn:
        return list(conn.execute(
            select(dislikes.c.playlist_id).where(dislikes.c.user_id == user_id)
            .order_by(dislikes.c.created_at.desc())).scalars())
