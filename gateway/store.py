"""Storage behind a thin interface: plain dicts in and out, one transaction per call."""
from __future__ import annotations

import time
from collections import defaultdict
from pathlib import Path
from typing import Iterable

from sqlalchemy import Engine, create_engine, event, exists, func, insert, select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError

from bento.recsys.dataio import Dataset, Playlist
from gateway.tables import likes, metadata, playlist_tags, playlists, users

IMPORT_BATCH = 5000


class NotFound(LookupError):
    """An unknown user or playlist id."""

    def __init__(self, kind: str, item_id: str):
        self.kind, self.item_id = kind, item_id
        super().__init__(f"{kind} {item_id!r} not found")


class Conflict(ValueError):
    """An id that is already taken."""


def make_engine(url: str) -> Engine:
    """An engine with SQLite made safe for a threaded server (WAL, FKs, busy timeout)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True)
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 10})

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
        # Playlists never change through the API, so enrichment reads them once, then from here.
        self._catalogue: dict[str, dict] = {}

    def create_schema(self) -> None:
        metadata.create_all(self.engine)

    def ping(self) -> None:
        with self.engine.connect() as conn:
            conn.execute(select(1))

    def is_empty(self) -> bool:
        with self.engine.connect() as conn:
            return not any(conn.execute(select(exists().select_from(table))).scalar()
                           for table in (users, playlists, likes))

    # -- import / export -------------------------------------------------------------------

    def import_dataset(self, dataset: Dataset) -> dict[str, int]:
        """Bulk-insert a whole dataset in one transaction: all of it or nothing."""
        tag_rows = [{"playlist_id": p.id, "tag": tag, "position": position}
                    for p in dataset.playlists.values() for position, tag in enumerate(p.tags)]
        tables = [
            (users, [{"id": uid, "name": name} for uid, name in dataset.users.items()]),
            (playlists, [{"id": p.id, "name": p.name, "description": p.description,
                          "tracks": p.tracks} for p in dataset.playlists.values()]),
            (playlist_tags, tag_rows),
            (likes, [{"user_id": u, "playlist_id": p, "weight": w, "liked_at": t}
                     for u, p, w, t in zip(dataset.user_ids, dataset.playlist_ids,
                                           dataset.weights, dataset.timestamps)]),
        ]
        with self.engine.begin() as conn:
            for table, rows in tables:
                for start in range(0, len(rows), IMPORT_BATCH):
                    conn.execute(insert(table), rows[start:start + IMPORT_BATCH])
        return {table.name: len(rows) for table, rows in tables}

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

    def delete_user(self, user_id: str) -> int:
        """Erase a listener and all their feedback in one transaction; how many likes went."""
        with self.engine.begin() as conn:
            self._require(conn, users, user_id, "user")
            removed = conn.execute(likes.delete().where(likes.c.user_id == user_id)).rowcount
            conn.execute(users.delete().where(users.c.id == user_id))
        return removed

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
        """Most liked first; `q` searches name and description, `tag` filters exactly."""
        where = []
        if q:
            where.append(contains(playlists.c.name, q) | contains(playlists.c.description, q))
        if tag:
            where.append(exists().where(playlist_tags.c.playlist_id == playlists.c.id,
                                        playlist_tags.c.tag == tag.lower()))
        counts = (select(likes.c.playlist_id, func.count().label("n"))
                  .group_by(likes.c.playlist_id).subquery())
        like_count = func.coalesce(counts.c.n, 0).label("like_count")
        query = (select(playlists, like_count)
                 .outerjoin(counts, counts.c.playlist_id == playlists.c.id).where(*where)
                 .order_by(like_count.desc(), playlists.c.id).limit(limit).offset(offset))
        with self.engine.connect() as conn:
            total = conn.execute(
                select(func.count()).select_from(playlists).where(*where)).scalar()
            rows = [dict(row) for row in conn.execute(query).mappings()]
            return self._with_tags(conn, rows), total

    def get_playlist(self, playlist_id: str) -> dict:
        like_count = (select(func.count()).where(likes.c.playlist_id == playlists.c.id)
                      .scalar_subquery())
        with self.engine.connect() as conn:
            row = conn.execute(select(playlists, like_count.label("like_count"))
                               .where(playlists.c.id == playlist_id)).mappings().first()
            if row is None:
                raise NotFound("playlist", playlist_id)
            return self._with_tags(conn, [dict(row)])[0]

    def playlists_by_id(self, playlist_ids: Iterable[str]) -> dict[str, dict]:
        """Catalogue entries (without like counts) for enriching Bento answers."""
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
        count = func.count().label("count")
        query = (select(playlist_tags.c.tag, count).group_by(playlist_tags.c.tag)
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
        with self.engine.connect() as conn:
            history = list(conn.execute(
                select(likes.c.playlist_id).where(likes.c.user_id == user_id)
                .order_by(likes.c.liked_at.desc().nulls_last(), likes.c.playlist_id)
                .limit(limit)).scalars())
            if not history:
                self._require(conn, users, user_id, "user")
            return history

    def user_likes(self, user_id: str) -> list[dict]:
        counts = (select(func.count()).where(likes.c.playlist_id == playlists.c.id)
                  .correlate(playlists).scalar_subquery())
        with self.engine.connect() as conn:
            self._require(conn, users, user_id, "user")
            rows = [dict(row) for row in conn.execute(
                select(playlists, counts.label("like_count"))
                .join(likes, likes.c.playlist_id == playlists.c.id)
                .where(likes.c.user_id == user_id)
                .order_by(likes.c.liked_at.desc().nulls_last(), playlists.c.id)).mappings()]
            return self._with_tags(conn, rows)

    def set_like(self, user_id: str, playlist_id: str, liked: bool) -> None:
        """Idempotent like/unlike; returns only after the change is committed."""
        key = (likes.c.user_id == user_id) & (likes.c.playlist_id == playlist_id)
        try:
            with self.engine.begin() as conn:
                self._require(conn, users, user_id, "user")
                self._require(conn, playlists, playlist_id, "playlist")
                if not liked:
                    conn.execute(likes.delete().where(key))
                elif conn.execute(select(likes.c.user_id).where(key)).first() is None:
                    conn.execute(insert(likes).values(user_id=user_id, playlist_id=playlist_id,
                                                      weight=1.0, liked_at=time.time()))
        except IntegrityError:
            if not liked:
                raise
            # A concurrent PUT of the same like won the race: the like exists, as asked.
