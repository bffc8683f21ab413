"""Storage behind a thin interface: plain dicts in and out, one transaction per call."""
from __future__ import annotations

import time
from collections import defaultdict
from contextlib import nullcontext
from pathlib import Path
from typing import Iterable

from sqlalchemy import (Connection, Engine, create_engine, event, exists, func, insert, select,
                        update)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError

from datarules import Playlist
from gateway.tables import dislikes, impressions, likes, playlist_tags, playlists, users

# How long enrichment trusts its copy of names and tags (edits made through another replica
# show up within this); retirements are read from the database on every request instead.
CATALOGUE_TTL_SECONDS = 60.0
# SQLite connections kept open per process: about one per worker thread busy at once, so a
# request under load reuses one instead of opening (and setting up) a connection and closing it.
SQLITE_POOL_SIZE = 20


class NotFound(LookupError):
    """An unknown user or playlist id."""

    def __init__(self, kind: str, item_id: str):
        self.kind, self.item_id = kind, item_id
        super().__init__(f"{kind} {item_id!r} not found")


class Conflict(ValueError):
    """An id that is already taken, or a change the item's state forbids."""


def make_engine(url: str, pool_size: int = 5, max_overflow: int = 5) -> Engine:
    """An engine with SQLite made safe for a threaded server (WAL, FKs, busy timeout); a server
    database gets a bounded pool (pool_size + max_overflow connections at most)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True, pool_size=pool_size,
                             max_overflow=max_overflow)
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 10},
                           pool_size=SQLITE_POOL_SIZE, max_overflow=SQLITE_POOL_SIZE)

    @event.listens_for(engine, "connect")
    def _sqlite_pragmas(dbapi_connection, _record):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()
        # SQLite's own lower() only folds ASCII; search must fold "Ü" like PostgreSQL does.
        dbapi_connection.create_function("lower", 1, unicode_lower, deterministic=True)

    return engine


def unicode_lower(value):
    return value.lower() if isinstance(value, str) else value


def contains(column, text: str):
    """Case-insensitive substring match with LIKE wildcards in `text` escaped."""
    return func.lower(column).contains(text.lower(), autoescape=True)


class Store:
    def __init__(self, engine: Engine):
        self.engine = engine
        # Names and tags for enriching Bento answers, refreshed every CATALOGUE_TTL_SECONDS.
        self._catalogue: dict[str, dict] = {}
        self._catalogue_loaded = time.monotonic()

    def reading(self, conn: Connection | None = None):
        """`conn` if given (several reads share one checkout), else a new connection."""
        return nullcontext(conn) if conn is not None else self.engine.connect()

    def ping(self) -> None:
        with self.engine.connect() as conn:
            conn.execute(select(1))

    def is_empty(self) -> bool:
        with self.engine.connect() as conn:
            return not any(conn.execute(select(exists().select_from(table))).scalar()
                           for table in (users, playlists, likes))

    def forget_catalogue(self) -> None:
        """Drop cached names and tags (after an edit through this process)."""
        self._catalogue = {}
        self._catalogue_loaded = time.monotonic()

    # -- export ----------------------------------------------------------------------------

    def export_rows(self) -> tuple[dict[str, str], list[Playlist], list[tuple]]:
        """Users, playlists and likes in the shapes `dataio.write_dataset` takes."""
        with self.engine.connect() as conn:
            all_users = dict(conn.execute(select(users.c.id, users.c.name)).all())
            tags = self._tags(conn, None)
            catalogue = [Playlist(row.id, row.name, row.description, tags.get(row.id, []),
                                  row.tracks)
                         for row in conn.execute(select(playlists).order_by(playlists.c.id))]
            interactions = [tuple(row) for row in conn.execute(
                select(likes.c.user_id, likes.c.playlist_id, likes.c.weight, likes.c.liked_at)
                .order_by(likes.c.user_id, likes.c.playlist_id))]
        return all_users, catalogue, interactions

    # -- users -----------------------------------------------------------------------------

    def _user_query(self):
        like_count = (select(func.count()).where(likes.c.user_id == users.c.id)
                      .scalar_subquery())
        return select(users.c.id, users.c.name, like_count.label("like_count"))

    def list_users(self, q: str | None, limit: int, offset: int) -> tuple[list[dict], int]:
        where = [contains(users.c.name, q) | contains(users.c.id, q)] if q else []
        with self.engine.connect() as conn:
            total = conn.execute(select(func.count()).select_from(users).where(*where)).scalar()
            rows = conn.execute(self._user_query().where(*where).order_by(users.c.id)
                                .limit(limit).offset(offset)).mappings().all()
        return [dict(row) for row in rows], total

    def get_user(self, user_id: str) -> dict:
        with self.engine.connect() as conn:
            row = conn.execute(self._user_query().where(users.c.id == user_id)).mappings().first()
        if row is None:
            raise NotFound("user", user_id)
        return dict(row)

    def create_user(self, user_id: str, name: str) -> dict:
        try:
            with self.engine.begin() as conn:
                conn.execute(insert(users).values(id=user_id, name=name))
        except IntegrityError:
            raise Conflict(f"user id {user_id!r} is already taken") from None
        return {"id": user_id, "name": name, "like_count": 0}

    def ensure_user(self, user_id: str, name: str) -> None:
        """The signed-in listener's record, created on their first request (gateway.access)."""
        with self.engine.connect() as conn:
            if conn.execute(select(users.c.id).where(users.c.id == user_id)).first():
                return
        try:
            with self.engine.begin() as conn:
                conn.execute(insert(users).values(id=user_id, name=name))
        except IntegrityError:
            pass  # a concurrent first request created it: it exists, as asked

    # -- playlists -------------------------------------------------------------------------

    @staticmethod
    def _tags(conn, playlist_ids: Iterable[str] | None) -> dict[str, list[str]]:
        query = select(playlist_tags.c.playlist_id, playlist_tags.c.tag).order_by(
            playlist_tags.c.playlist_id, playlist_tags.c.position)
        if playlist_ids is not None:
            query = query.where(playlist_tags.c.playlist_id.in_(list(playlist_ids)))
        tags: dict[str, list[str]] = defaultdict(list)
        for playlist_id, tag in conn.execute(query):
            tags[playlist_id].append(tag)
        return tags

    @staticmethod
    def _with_tags(conn, rows) -> list[dict]:
        tags = Store._tags(conn, [row["id"] for row in rows])
        return [{**row, "tags": tags.get(row["id"], [])} for row in rows]

    def list_playlists(self, q: str | None, tag: str | None, limit: int,
                       offset: int) -> tuple[list[dict], int]:
        """Most liked first, retired ones hidden; `q` searches name and description, `tag`
        filters exactly. The order reads the maintained `like_count`, never the likes table."""
        where = [playlists.c.retired_at.is_(None)]
        if q:
            where.append(contains(playlists.c.name, q) | contains(playlists.c.description, q))
        if tag:
            where.append(exists().where(playlist_tags.c.playlist_id == playlists.c.id,
                                        playlist_tags.c.tag == tag.lower()))
        query = (select(playlists).where(*where)
                 .order_by(playlists.c.like_count.desc(), playlists.c.id)
                 .limit(limit).offset(offset))
        with self.engine.connect() as conn:
            total = conn.execute(
                select(func.count()).select_from(playlists).where(*where)).scalar()
            rows = [dict(row) for row in conn.execute(query).mappings()]
            return self._with_tags(conn, rows), total

    def get_playlist(self, playlist_id: str) -> dict:
        """Retired playlists too (a listener's likes may show them), with `retired_at` set."""
        with self.engine.connect() as conn:
            row = conn.execute(select(playlists).where(playlists.c.id == playlist_id)
                               ).mappings().first()
            if row is None:
                raise NotFound("playlist", playlist_id)
            return self._with_tags(conn, [dict(row)])[0]

    def retired_ids(self, conn: Connection | None = None) -> list[str]:
        """Every retired playlist id, most recently retired first (an indexed scan)."""
        with self.reading(conn) as conn:
            return list(conn.execute(
                select(playlists.c.id).where(playlists.c.retired_at.is_not(None))
                .order_by(playlists.c.retired_at.desc(), playlists.c.id)).scalars())

    def playlists_by_id(self, playlist_ids: Iterable[str]) -> dict[str, dict]:
        """Catalogue entries for enriching Bento answers (cached; counts may be stale)."""
        if time.monotonic() - self._catalogue_loaded > CATALOGUE_TTL_SECONDS:
            self.forget_catalogue()
        wanted = list(dict.fromkeys(playlist_ids))
        missing = [playlist_id for playlist_id in wanted if playlist_id not in self._catalogue]
        if missing:
            with self.engine.connect() as conn:
                rows = [dict(row) for row in conn.execute(
                    select(playlists).where(playlists.c.id.in_(missing))).mappings()]
                self._catalogue.update((row["id"], row) for row in self._with_tags(conn, rows))
        return self.cached_playlists(wanted)

    def cached_playlists(self, playlist_ids: Iterable[str]) -> dict[str, dict]:
        """The cached subset of `playlist_ids`, without touching the database."""
        return {playlist_id: self._catalogue[playlist_id] for playlist_id in playlist_ids
                if playlist_id in self._catalogue}

    def tag_counts(self) -> list[dict]:
        """Tags of the playlists one can browse (retired ones do not count)."""
        count = func.count().label("count")
        query = (select(playlist_tags.c.tag, count)
                 .join(playlists, playlists.c.id == playlist_tags.c.playlist_id)
                 .where(playlists.c.retired_at.is_(None)).group_by(playlist_tags.c.tag)
                 .order_by(count.desc(), playlist_tags.c.tag))
        with self.engine.connect() as conn:
            return [dict(row) for row in conn.execute(query).mappings()]

    # -- likes -----------------------------------------------------------------------------

    @staticmethod
    def _require(conn, table, item_id: str, kind: str) -> None:
        if conn.execute(select(table.c.id).where(table.c.id == item_id)).first() is None:
            raise NotFound(kind, item_id)

    def history(self, user_id: str, limit: int) -> list[str]:
        """The user's liked playlist ids, most recent first; NotFound for an unknown user."""
        return [playlist_id for playlist_id, _ in self.timed_history(user_id, limit)]

    def timed_history(self, user_id: str, limit: int, conn: Connection | None = None,
                      ) -> list[tuple[str, float | None]]:
        """(playlist id, liked_at or None) of the user's likes, most recent first."""
        with self.reading(conn) as conn:
            history = [tuple(row) for row in conn.execute(
                select(likes.c.playlist_id, likes.c.liked_at).where(likes.c.user_id == user_id)
                .order_by(likes.c.liked_at.desc().nulls_last(), likes.c.playlist_id)
                .limit(limit))]
            if not history:
                self._require(conn, users, user_id, "user")
            return history

    def user_likes(self, user_id: str) -> list[dict]:
        with self.engine.connect() as conn:
            self._require(conn, users, user_id, "user")
            rows = [dict(row) for row in conn.execute(
                select(playlists).join(likes, likes.c.playlist_id == playlists.c.id)
                .where(likes.c.user_id == user_id)
                .order_by(likes.c.liked_at.desc().nulls_last(), playlists.c.id)).mappings()]
            return self._with_tags(conn, rows)

    @staticmethod
    def _count(conn, playlist_ids, delta: int) -> None:
        """Keep playlists.like_count in step, inside the caller's transaction."""
        conn.execute(update(playlists).where(playlists.c.id.in_(list(playlist_ids)))
                     .values(like_count=playlists.c.like_count + delta))

    def set_like(self, user_id: str, playlist_id: str, liked: bool) -> bool:
        """Idempotent like/unlike; returns only after the change (and the count) is committed,
        True when it changed something. A retired playlist can be unliked, not liked (Conflict)."""
        key = (likes.c.user_id == user_id) & (likes.c.playlist_id == playlist_id)
        try:
            with self.engine.begin() as conn:
                self._require(conn, users, user_id, "user")
                retired = conn.execute(select(playlists.c.retired_at)
                                       .where(playlists.c.id == playlist_id)).first()
                if retired is None:
                    raise NotFound("playlist", playlist_id)
                if not liked:
                    if conn.execute(likes.delete().where(key)).rowcount:
                        self._count(conn, [playlist_id], -1)
                        return True
                elif conn.execute(select(likes.c.user_id).where(key)).first() is None:
                    if retired.retired_at is not None:
                        raise Conflict(f"playlist {playlist_id!r} is retired")
                    conn.execute(insert(likes).values(user_id=user_id, playlist_id=playlist_id,
                                                      weight=1.0, liked_at=time.time()))
                    self._count(conn, [playlist_id], +1)
                    return True
        except IntegrityError:
            if not liked:
                raise
            # A concurrent PUT of the same like won the race: the like exists (and is counted).
        return False

    def erase_user(self, user_id: str) -> int:
        """Delete a listener, all their likes (counts kept in step), dislikes and impressions;
        the number of likes."""
        with self.engine.begin() as conn:
            self._require(conn, users, user_id, "user")
            conn.execute(dislikes.delete().where(dislikes.c.user_id == user_id))
            conn.execute(impressions.delete().where(impressions.c.user_id == user_id))
            liked = list(conn.execute(select(likes.c.playlist_id)
                                      .where(likes.c.user_id == user_id)).scalars())
            conn.execute(likes.delete().where(likes.c.user_id == user_id))
            for start in range(0, len(liked), 500):
                self._count(conn, liked[start:start + 500], -1)
            conn.execute(users.delete().where(users.c.id == user_id))
        return len(liked)
