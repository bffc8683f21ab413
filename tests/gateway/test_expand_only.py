"""The expand-only rule (devtools/expand_only.py) holds for the repo's migrations and refuses
each kind of contract step a migration could take on upgrade."""
from __future__ import annotations

import pytest

from devtools.expand_only import CONTRACTS, VERSIONS, check, problems
from tests.gateway.test_schema_ahead import NEXT_RELEASE

MIGRATION = '''from alembic import op
import sqlalchemy as sa


def upgrade():
    {step}


def downgrade():
    op.drop_table("follows")
'''


def test_the_repo_migrations_are_expand_only_or_reviewed_contracts():
    assert check() == []
    assert all((VERSIONS / name).exists() for name in CONTRACTS)
    [grandfathered] = CONTRACTS  # the rule sees what made it a contract
    assert problems((VERSIONS / grandfathered).read_text(), grandfathered)


def test_an_additive_migration_passes():
    assert problems(NEXT_RELEASE.format(head="x"), "0099.py") == []
    assert problems(MIGRATION.format(step='op.add_column("likes", sa.Column("n", sa.Integer(), '
                                          'nullable=False, server_default="0"))'), "m.py") == []


@pytest.mark.parametrize("step, reason", [
    ('op.drop_column("likes", "weight")', "drop_column"),
    ('op.drop_table("dislikes")', "drop_table"),
    ('op.rename_table("likes", "hearts")', "rename_table"),
    ('op.alter_column("likes", "weight", new_column_name="w")', "renames, retypes or tightens"),
    ('op.alter_column("likes", "weight", nullable=False)', "renames, retypes or tightens"),
    ('op.alter_column("likes", "weight", type_=sa.Integer())', "renames, retypes or tightens"),
    ('op.add_column("likes", sa.Column("n", sa.Integer(), nullable=False))', "NOT NULL"),
    ('op.execute("ALTER TABLE likes DROP COLUMN weight")', "by SQL"),
    ('op.execute("alter table likes alter column weight set not null")', "by SQL"),
    ('with op.batch_alter_table("likes") as batch:\n        batch.drop_column("weight")',
     "drop_column"),
])
def test_each_contract_step_is_refused_with_its_line(step, reason):
    [found] = problems(MIGRATION.format(step=step), "0099_next.py")
    assert found.startswith("0099_next.py:") and reason in found
    line = int(found.split(":")[1])
    assert MIGRATION.format(step=step).splitlines()[line - 1].strip().split("(")[0] in step


def test_a_helper_called_by_upgrade_is_checked_too():
    source = MIGRATION.format(step="rebuild()") + '\n\ndef rebuild():\n    op.drop_table("x")\n'
    line = source.splitlines().index('    op.drop_table("x")') + 1
    assert problems(source, "m.py") == [f"m.py:{line}: drop_table on upgrade: the previous "
                                        "release still reads it (drop it later)"]
