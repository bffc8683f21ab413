"""Is the database at the schema this code expects? The gateway never changes the schema
itself: `alembic upgrade head` does, with the migrator credential, before the gateway starts."""
from __future__ import annotations

from pathlib import Path

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


class SchemaNotReady(RuntimeError):
    """The database is empty or at another revision than this code's migrations' head."""


def expected_heads() -> set[str]:
    return set(ScriptDirectory(str(MIGRATIONS)).get_heads())


def check_schema(engine: Engine) -> None:
    """Raise SchemaNotReady with the fix (run the migrations) unless the schema is at head."""
    with engine.connect() as conn:
        current = set(MigrationContext.configure(conn).get_current_heads())
    expected = expected_heads()
    if current != expected:
        found = ", ".join(sorted(current)) or "no schema"
        raise SchemaNotReady(
            f"database schema is at {found}, this gateway needs {', '.join(sorted(expected))}: "
            "run `alembic upgrade head` (docs/ARCHITECTURE.md, \"Migrations\") first")
