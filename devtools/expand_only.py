"""The expand-only rule for gateway migrations (README, "Upgrade"): a release's `upgrade()` may
add tables, nullable or defaulted columns and indexes, never drop, rename or tighten, so the
previous release's pods keep working on the new schema while they roll and after a revert.
Dropping what no running code reads any more (contract) is a later release's own migration,
listed in CONTRACTS with its reason once reviewed."""
from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

VERSIONS = Path(__file__).resolve().parents[1] / "gateway" / "migrations" / "versions"
# Reviewed contract steps: written before the rule, or a drop whose readers are gone.
CONTRACTS = {
    "0004_impressions_per_answer.py": "rebuilt impressions (one row per answer) before the rule",
}
DROPS = {"drop_column", "drop_table", "rename_table"}  # an index only costs speed
DESTRUCTIVE_SQL = re.compile(r"\b(DROP|RENAME|TRUNCATE)\b|\bALTER\s+TABLE\b.*\b(TYPE|SET NOT)\b",
                             re.IGNORECASE | re.DOTALL)


def keyword(call: ast.Call, name: str) -> ast.expr | None:
    return next((kw.value for kw in call.keywords if kw.arg == name), None)


def is_false(node: ast.expr | None) -> bool:
    return isinstance(node, ast.Constant) and node.value is False


def call_problem(call: ast.Call) -> str | None:
    """Why this call in upgrade() breaks the previous release, or None."""
    name = call.func.attr if isinstance(call.func, ast.Attribute) else ""
    if name in DROPS:
        return f"{name} on upgrade: the previous release still reads it (drop it later)"
    if name == "alter_column" and (keyword(call, "new_column_name") or keyword(call, "type_")
                                   or is_false(keyword(call, "nullable"))):
        return "alter_column renames, retypes or tightens a column the previous release uses"
    if name == "add_column":
        column = next((arg for arg in call.args if isinstance(arg, ast.Call)), None)
        if column is not None and is_false(keyword(column, "nullable")) \
                and keyword(column, "server_default") is None:
            return "add_column NOT NULL without server_default: the previous release's " \
                   "inserts fail"
    if name == "execute" and call.args and isinstance(call.args[0], ast.Constant) \
            and isinstance(call.args[0].value, str) and DESTRUCTIVE_SQL.search(call.args[0].value):
        return "execute() drops, renames or tightens by SQL"
    return None


def problems(source: str, filename: str) -> list[str]:
    """`filename:line: reason` for each contract operation outside downgrade() (upgrade() and
    any helper it may call)."""
    upgrade_side = [node for node in ast.parse(source, filename).body
                    if not (isinstance(node, ast.FunctionDef) and node.name == "downgrade")]
    return [f"{filename}:{node.lineno}: {reason}" for top in upgrade_side
            for node in ast.walk(top)
            if isinstance(node, ast.Call) and (reason := call_problem(node))]


def check(versions: Path = VERSIONS) -> list[str]:
    return [problem for path in sorted(versions.glob("*.py")) if path.name not in CONTRACTS
            for problem in problems(path.read_text(), str(path))]


if __name__ == "__main__":
    found = check()
    print("\n".join(found) or "every migration is expand-only")
    sys.exit(1 if found else 0)
