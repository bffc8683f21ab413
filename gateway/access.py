"""Who may manage the catalogue. For now everyone: replaced by auth (issue 12), which checks the
caller is in the admin group. Routes depend on `require_admin`, so only this module changes."""
from __future__ import annotations

from typing import Annotated

from fastapi import Depends


def require_admin() -> None:
    """Allows every caller until auth replaces it (issue 12: 401/403 JSON otherwise)."""


AdminDep = Annotated[None, Depends(require_admin)]
