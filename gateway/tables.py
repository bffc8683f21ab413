"""The database schema: users, the playlist catalogue with its tags, likes, dislikes,
impressions and the retrain job's nightly verdicts.

Changes go through an Alembic revision in gateway/migrations/versions (`alembic check` in the
tests fails when this file and the migrations disagree).
"""
from __future__ import annotations

from sqlalchemy import (JSON, Boolean, Column, Float, ForeignKey, Index, Integer, MetaData,
                        String, Table, Text, text)

from datarules import MAX_ID_LENGTH, MAX_TAG_LENGTH

ID = String(MAX_ID_LENGTH)
# Stable constraint names, so migrations can address them on every database.
metadata = MetaData(naming_convention={
    "ix": "ix_%(table_name)s_%(column_0_name)s",
    "pk": "pk_%(table_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
})

users = Table(
    "users", metadata,
    Column("id", ID, primary_key=True),
    Column("name", Text, nullable=False),
)

playlists = Table(
    "playlists", metadata,
    Column("id", ID, primary_key=True),
    Column("name", Text, nullable=False),
    Column("description", Text, nullable=False, default=""),
    Column("tracks", Integer, nullable=True),
    # Likes of this playlist, kept in the same transaction as every like change, so browsing
    # (most liked first) never counts the likes table.
    Column("like_count", Integer, nullable=False, default=0, server_default=text("0")),
    # Unix seconds when an admin retired it; retired playlists are never recommended or browsed.
    Column("retired_at", Float, nullable=True),
    # Browse (active ones, most liked first) reads the first rows of this index and stops;
    # the retired ids for every recommendation request are its other end.
    Index("ix_playlists_browse", "retired_at", "like_count", "id"),
)

playlist_tags = Table(
    "playlist_tags", metadata,
    Column("playlist_id", ID, ForeignKey("playlists.id", ondelete="CASCADE"), primary_key=True),
    Column("tag", String(MAX_TAG_LENGTH), primary_key=True),
    Column("position", Integer, nullable=False),
    Index("ix_playlist_tags_tag", "tag"),
)

likes = Table(
    "likes", metadata,
    Column("user_id", ID, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("playlist_id", ID, ForeignKey("playlists.id", ondelete="CASCADE"), primary_key=True),
    # The training signal: imported weights are kept, a like from the API weighs 1.
    Column("weight", Float, nullable=False, default=1.0),
    # Unix seconds; imported interactions may have none.
    Column("liked_at", Float, nullable=True),
    Index("ix_likes_playlist_id", "playlist_id"),
)

# "Not for me": never recommended to that listener again, until they undo it.
dislikes = Table(
    "dislikes", metadata,
    Column("user_id", ID, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("playlist_id", ID, ForeignKey("playlists.id", ondelete="CASCADE"), primary_key=True),
    Column("created_at", Float, nullable=False),  # Unix seconds
)

# What the gateway showed, one row per answer (its items in rank order), written in batches off
# the request path (gateway/impressions.py): a row per item cost ten index inserts an answer and
# made recording ~14% of the gateway's throughput. No foreign keys, so a burst of writes checks
# nothing and erasing a listener deletes their rows explicitly. Rows older than
# IMPRESSIONS_RETENTION_DAYS are pruned by the flusher.
impressions = Table(
    "impressions", metadata,
    # Made by the gateway, time first (gateway/impressions.py `answer_id`): no sequence, so
    # the runtime role needs no grant on one, and a batch appends at the index's right edge.
    Column("id", String(32), primary_key=True),
    Column("user_id", ID, nullable=True),  # None: an anonymous popular-picks request
    # The playlist ids shown, position 0 first, joined by IMPRESSION_SEPARATOR (a newline: ids
    # never hold control characters, datarules.id_problem).
    Column("playlist_ids", Text, nullable=False),
    Column("item_count", Integer, nullable=False),  # the rate's denominator is its SUM
    Column("model_version", String(200), nullable=False),  # the Bento's model tag
    Column("request_id", String(200), nullable=False),
    Column("arm", String(20), nullable=False),  # "champion" or "challenger"
    Column("shown_at", Float, nullable=False),  # Unix seconds
    Index("ix_impressions_shown_at", "shown_at"),
    # By listener then time: the like-within-24h lookup, the rate's join and erasure.
    Index("ix_impressions_user_id", "user_id", "shown_at"),
)
IMPRESSION_SEPARATOR = "\n"

# Each night's verdict, written by `python -m bento.retrain` (the retrain role may INSERT here
# and nowhere else) and read by the gateway's /api/model as `last_retrain`: the database is the
# record, so the gateway never asks MLflow (gateway/retrain_report.py).
retrain_reports = Table(
    "retrain_reports", metadata,
    # A random hex id made by the job (gateway/retrain_report.py `report_row`): no sequence
    # to grant.
    Column("id", String(32), primary_key=True),
    Column("finished_at", Float, nullable=False),  # Unix seconds
    Column("decision", String(20), nullable=False),  # promoted, rejected or error
    Column("accepted", Boolean, nullable=False),  # the gate passed (promoted or not)
    Column("exit_code", Integer, nullable=False),  # the process's (a rejection: 0 in the CronJob)
    # The MLflow registry version and run of the candidate; None: no registry, or the night
    # failed before registering one.
    Column("candidate_version", String(200), nullable=True),
    Column("run_id", String(64), nullable=True),
    Column("champion_version", String(200), nullable=True),  # what it was judged against
    # What the Model page shows: reasons, notes, the candidate's and champion's metrics, error.
    Column("summary", JSON, nullable=False),
    Index("ix_retrain_reports_finished_at", "finished_at"),
)


def joined_ids(playlist_ids: list[str]) -> str:
    """An answer's playlist ids as the impressions.playlist_ids column holds them."""
    return IMPRESSION_SEPARATOR.join(playlist_ids)


def split_ids(playlist_ids: str) -> list[str]:
    """The impressions.playlist_ids column back into ids, position 0 first."""
    return playlist_ids.split(IMPRESSION_SEPARATOR)
