"""Dislikes ("not for me") and impressions (what was shown, for online metrics).

Revision ID: 0002_dislikes_impressions
Revises: 0001_initial
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_dislikes_impressions"
down_revision = "0001_initial"
branch_labels = None
depends_on = None

ID = sa.String(128)


def upgrade() -> None:
    op.create_table(
        "dislikes",
        sa.Column("user_id", ID, nullable=False),
        sa.Column("playlist_id", ID, nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE",
                                name="fk_dislikes_user_id_users"),
        sa.ForeignKeyConstraint(["playlist_id"], ["playlists.id"], ondelete="CASCADE",
                                name="fk_dislikes_playlist_id_playlists"),
        sa.PrimaryKeyConstraint("user_id", "playlist_id", name="pk_dislikes"),
    )
    op.create_table(
        "impressions",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("user_id", ID, nullable=True),
        sa.Column("playlist_id", ID, nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("model_version", sa.String(200), nullable=False),
        sa.Column("request_id", sa.String(200), nullable=False),
        sa.Column("arm", sa.String(20), nullable=False),
        sa.Column("shown_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_impressions"),
    )
    op.create_index("ix_impressions_shown_at", "impressions", ["shown_at"])
    op.create_index("ix_impressions_user_id", "impressions", ["user_id", "playlist_id"])


def downgrade() -> None:
    op.drop_index("ix_impressions_user_id", table_name="impressions")
    op.drop_index("ix_impressions_shown_at", table_name="impressions")
    op.drop_table("impressions")
    op.drop_table("dislikes")
