"""The initial schema: users, playlists (with like_count and retired_at), tags, likes.

Revision ID: 0001_initial
Revises:
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001_initial"
down_revision = None
branch_labels = None
depends_on = None

ID = sa.String(128)


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", ID, nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_users"),
    )
    op.create_table(
        "playlists",
        sa.Column("id", ID, nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("tracks", sa.Integer(), nullable=True),
        sa.Column("like_count", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("retired_at", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_playlists"),
    )
    op.create_index("ix_playlists_browse", "playlists", ["retired_at", "like_count", "id"])
    op.create_table(
        "playlist_tags",
        sa.Column("playlist_id", ID, nullable=False),
        sa.Column("tag", sa.String(200), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["playlist_id"], ["playlists.id"], ondelete="CASCADE",
                                name="fk_playlist_tags_playlist_id_playlists"),
        sa.PrimaryKeyConstraint("playlist_id", "tag", name="pk_playlist_tags"),
    )
    op.create_index("ix_playlist_tags_tag", "playlist_tags", ["tag"])
    op.create_table(
        "likes",
        sa.Column("user_id", ID, nullable=False),
        sa.Column("playlist_id", ID, nullable=False),
        sa.Column("weight", sa.Float(), nullable=False),
        sa.Column("liked_at", sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(["playlist_id"], ["playlists.id"], ondelete="CASCADE",
                                name="fk_likes_playlist_id_playlists"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE",
                                name="fk_likes_user_id_users"),
        sa.PrimaryKeyConstraint("user_id", "playlist_id", name="pk_likes"),
    )
    op.create_index("ix_likes_playlist_id", "likes", ["playlist_id"])


def downgrade() -> None:
    op.drop_table("likes")
    op.drop_table("playlist_tags")
    op.drop_table("playlists")
    op.drop_table("users")
