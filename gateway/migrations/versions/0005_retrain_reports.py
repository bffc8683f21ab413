"""retrain_reports: each night's verdict of `python -m bento.retrain`, the record the gateway's
/api/model reads `last_retrain` from (so the gateway never talks to MLflow).

On PostgreSQL the table gets its grants here, from its owner (the migrator): the retrain role
(gateway/migrations/retrain-role.sql) may INSERT rows (it reads every table already), and the
gateway's runtime role only reads them (roles.sql's default privileges gave it row writes too).
A retrain role made after this migration gets its grant from retrain-role.sql itself.

Revision ID: 0005_retrain_reports
Revises: 0004_impressions_per_answer
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_retrain_reports"
down_revision = "0004_impressions_per_answer"
branch_labels = None
depends_on = None

# Roles of roles.sql and retrain-role.sql; either may be missing (dev, tests, another setup).
GRANTS = """
DO $$
BEGIN
    IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'playlists_retrain') THEN
        GRANT INSERT ON retrain_reports TO playlists_retrain;
    END IF;
    IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'playlists_gateway') THEN
        REVOKE INSERT, UPDATE, DELETE ON retrain_reports FROM playlists_gateway;
    END IF;
END
$$
"""


def upgrade() -> None:
    op.create_table(
        "retrain_reports",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("finished_at", sa.Float(), nullable=False),
        sa.Column("decision", sa.String(length=20), nullable=False),
        sa.Column("accepted", sa.Boolean(), nullable=False),
        sa.Column("exit_code", sa.Integer(), nullable=False),
        sa.Column("candidate_version", sa.String(length=200), nullable=True),
        sa.Column("run_id", sa.String(length=64), nullable=True),
        sa.Column("champion_version", sa.String(length=200), nullable=True),
        sa.Column("summary", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_retrain_reports"),
    )
    op.create_index("ix_retrain_reports_finished_at", "retrain_reports", ["finished_at"])
    if op.get_context().dialect.name == "postgresql":
        op.execute(GRANTS)


def downgrade() -> None:
    op.drop_index("ix_retrain_reports_finished_at", table_name="retrain_reports")
    op.drop_table("retrain_reports")
