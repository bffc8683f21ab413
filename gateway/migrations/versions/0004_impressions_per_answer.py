"""Impressions: one row per answer (its playlist ids in rank order) instead of one per item.

A row per item cost ten rows and thirty index entries an answer: writing them took ~14% of
the gateway's recommendations throughput on two cores (docs/ARCHITECTURE.md). Existing rows are
kept: the items of an answer share the first 29 characters of their ids (time, random bits; the
last 3 were the position), so they regroup exactly, and the downgrade splits them back.

Revision ID: 0004_impressions_per_answer
Revises: 0003_impressions_user_time
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_impressions_per_answer"
down_revision = "0003_impressions_user_time"
branch_labels = None
depends_on = None

ID = sa.String(128)
SEPARATOR = "\n"  # gateway.tables.IMPRESSION_SEPARATOR when this was written
COMMON = ("user_id", "model_version", "request_id", "arm", "shown_at")
CHUNK = 5000


def columns(per_answer: bool) -> list[sa.Column]:
    middle = ([sa.Column("playlist_ids", sa.Text(), nullable=False),
               sa.Column("item_count", sa.Integer(), nullable=False)] if per_answer else
              [sa.Column("playlist_id", ID, nullable=False),
               sa.Column("position", sa.Integer(), nullable=False)])
    return [sa.Column("id", sa.String(32), nullable=False),
            sa.Column("user_id", ID, nullable=True), *middle,
            sa.Column("model_version", sa.String(200), nullable=False),
            sa.Column("request_id", sa.String(200), nullable=False),
            sa.Column("arm", sa.String(20), nullable=False),
            sa.Column("shown_at", sa.Float(), nullable=False)]


def per_answer(rows):
    """Rows ordered by id -> one answer row per 29-character id prefix."""
    answer = None
    for row in rows:
        if answer is not None and answer["id"] != row.id[:29]:
            yield answer
            answer = None
        if answer is None:
            answer = {"id": row.id[:29], "playlist_ids": [],
                      **{name: getattr(row, name) for name in COMMON}}
        answer["playlist_ids"].append(row.playlist_id)
    if answer is not None:
        yield answer


def per_item(rows):
    for row in rows:
        for position, playlist_id in enumerate(row.playlist_ids.split(SEPARATOR)):
            yield {"id": f"{row.id}{position:03d}", "playlist_id": playlist_id,
                   "position": position, **{name: getattr(row, name) for name in COMMON}}


def rebuild(to_per_answer: bool) -> None:
    """Move the table aside, create the other shape under the same names, copy in chunks."""
    bind = op.get_bind()
    op.drop_index("ix_impressions_user_id", table_name="impressions")
    op.drop_index("ix_impressions_shown_at", table_name="impressions")
    op.rename_table("impressions", "impressions_old")
    if bind.dialect.name == "postgresql":  # constraint names are per schema there
        op.execute("ALTER TABLE impressions_old RENAME CONSTRAINT pk_impressions "
                   "TO pk_impressions_old")
    new = op.create_table("impressions", *columns(to_per_answer),
                          sa.PrimaryKeyConstraint("id", name="pk_impressions"))
    old = sa.table("impressions_old", *(sa.column(c.name) for c in columns(not to_per_answer)))
    # Streamed (a server-side cursor on PostgreSQL): 90 days of impressions need not fit in RAM.
    rows = bind.execute(sa.select(old).order_by(old.c.id).execution_options(yield_per=CHUNK))
    converted = per_answer(rows) if to_per_answer else per_item(rows)
    chunk = []
    for row in converted:
        if to_per_answer:
            row["item_count"] = len(row["playlist_ids"])
            row["playlist_ids"] = SEPARATOR.join(row["playlist_ids"])
        chunk.append(row)
        if len(chunk) == CHUNK:
            bind.execute(new.insert(), chunk)
            chunk = []
    if chunk:
        bind.execute(new.insert(), chunk)
    op.drop_table("impressions_old")
    op.create_index("ix_impressions_shown_at", "impressions", ["shown_at"])
    op.create_index("ix_impressions_user_id", "impressions", ["user_id", "shown_at"])


def upgrade() -> None:
    rebuild(to_per_answer=True)


def downgrade() -> None:
    rebuild(to_per_answer=False)
