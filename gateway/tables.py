"""The database schema: users, the playlist catalogue with its tags, and likes."""
from __future__ import annotations

from sqlalchemy import (Column, Float, ForeignKey, Index, Integer, MetaData, String, Table,
                        Text)

ID = String(128)
metadata = MetaData()

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
)

playlist_tags = Table(
    "playlist_tags", metadata,
    Column("playlist_id", ID, ForeignKey("playlists.id", ondelete="CASCADE"), primary_key=True),
    Column("tag", String(200), primary_key=True),
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
