"""Is the database at a schema this code can run on? The gateway never changes the schema
itself: `alembic upgrade head` does, with the migrator credential, before the gateway starts.

Migrations are expand-only (README, "Upgrade"), so a schema *ahead* of this code, at a revision
a later release added, still holds every table and column this code uses: the previous release
keeps running on it while pods roll, and after a rollback. A schema behind this code, or none,
stops the start with the fix."""
from __future__ import annotations

import logging
from pathlib import Path

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
log = logging.getLogger("gateway.schema")


class SchemaNotReady(RuntimeError):
    """The database is empty or behind this code's migrations' head."""


def scripts() -> ScriptDirectory:
    return ScriptDirectory(str(MIGRATIONS))


def expected_heads() -> set[str]:
    return set(scripts().get_heads())


def check_schema(engine: Engine) -> None:
    """Raise SchemaNotReady with the fix (run the migrations) unless the schema is at head or
    ahead of it (a revision this code does not know: a later release's expand-only migration,
    logged as a warning)."""
    with engine.connect() as conn:
        current = set(MigrationContext.configure(conn).get_current_heads())
    directory = scripts()  # read the migration files once
    expected = set(directory.get_heads())
    if current == expected:
        return
    known = {script.revision for script in directory.walk_revisions()}
    if current and not current & known:
        log.warning("database schema is at %s, newer than this gateway's %s (a later release "
                    "migrated it; expand-only migrations keep this code working on it)",
                    ", ".join(sorted(current)), ", ".join(sorted(expected)))
        return
    found = ", ".join(sorted(current)) or "no schema"
    raise SchemaNotReady(
        f"database schema is at {found}, this gateway needs {', '.join(sorted(expected))}: "
        "run `alembic upgrade head` (docs/ARCHITECTURE.md, \"Migrations\") first")
