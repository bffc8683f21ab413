"""A rollback, for real: this release's gateway runs under uvicorn on a PostgreSQL schema that a
later release migrated with an expand-only migration (a new nullable column, a new table), as it
must while pods roll and after a revert; a schema behind this code is still refused."""
from __future__ import annotations

import shutil
from pathlib import Path

import httpx
import pytest
from alembic import command
from sqlalchemy import text

from devtools.procs import free_port, uvicorn_gateway
from gateway.migrations_state import MIGRATIONS, SchemaNotReady, check_schema, expected_heads
from gateway.settings import Settings
from gateway.store import make_engine
from tests.conftest import run_module
from tests.gateway.conftest import alembic_config

NEXT_RELEASE = '''"""The next release's expand-only migration, as a later commit would add it."""
import sqlalchemy as sa
from alembic import op

revision = "0099_next_release"
down_revision = "{head}"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("likes", sa.Column("play_count", sa.Integer(), nullable=True))
    op.create_table("follows", sa.Column("user_id", sa.String(64), primary_key=True),
                    sa.Column("followed_id", sa.String(64), primary_key=True))


def downgrade():
    op.drop_table("follows")
    op.drop_column("likes", "play_count")
'''


def migrate_as_next_release(tmp_path: Path, database_url: str) -> None:
    """`alembic upgrade head` of a checkout one release ahead: these migrations plus one."""
    migrations = tmp_path / "next-release-migrations"
    shutil.copytree(MIGRATIONS, migrations)
    [head] = expected_heads()
    (migrations / "versions" / "0099_next_release.py").write_text(NEXT_RELEASE.format(head=head))
    config = alembic_config(database_url)
    config.set_main_option("script_location", str(migrations))
    command.upgrade(config, "head")


@pytest.fixture
def postgres(postgres_url: str) -> str:
    engine = make_engine(Settings(database_url=postgres_url).sqlalchemy_url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    engine.dispose()
    return postgres_url


def test_the_previous_gateway_serves_on_the_next_schema(tmp_path, postgres, tiny_data_dir):
    migrate_as_next_release(tmp_path, postgres)
    run_module("gateway.importer", str(tiny_data_dir), env={"DATABASE_URL": postgres})
    port = free_port()
    gateway = uvicorn_gateway(port, tmp_path / "gateway.log", env={
        "DATABASE_URL": postgres, "BENTO_URL": f"http://127.0.0.1:{free_port()}",
        "BENTO_TIMEOUT_SECONDS": "1.0", "LOG_LEVEL": "info"})
    try:
        with httpx.Client(base_url=gateway.url, timeout=10) as api:
            user = api.post("/api/users", json={"name": "After the revert"}).json()
            assert api.put(f"/api/users/{user['id']}/likes/pl3").json()["liked"] is True
            likes = api.get(f"/api/users/{user['id']}/likes").json()["items"]
            assert [like["id"] for like in likes] == ["pl3"]
            assert api.get("/api/playlists").json()["total"] == 5
    finally:
        gateway.stop()
    assert "newer than this gateway's" in gateway.log()
    engine = make_engine(Settings(database_url=postgres).sqlalchemy_url)
    with engine.connect() as conn:  # the later release's column is there, left to its default
        assert conn.execute(text("SELECT play_count FROM likes WHERE user_id = :u"),
                            {"u": user["id"]}).scalar_one() is None
    engine.dispose()


def test_a_schema_behind_this_code_is_refused(database_url):
    config = alembic_config(database_url)
    command.upgrade(config, "0003_impressions_user_time")
    engine = make_engine(Settings(database_url=database_url).sqlalchemy_url)
    try:
        with pytest.raises(SchemaNotReady, match="at 0003_impressions_user_time.*alembic upgrade"):
            check_schema(engine)
    finally:
        engine.dispose()
