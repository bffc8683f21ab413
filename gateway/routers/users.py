"""Listeners: list, search, read, create."""
from __future__ import annotations

import secrets

from fastapi import APIRouter

from gateway.deps import StoreDep
from gateway.schemas import Limit, Offset, SearchText, User, UserCreate, UserIdPath, UserPage

router = APIRouter(prefix="/api/users", tags=["users"])


@router.get("", response_model=UserPage)
def list_users(store: StoreDep, q: SearchText = None, limit: Limit = 20, offset: Offset = 0):
    items, total = store.list_users(q, limit, offset)
    return {"items": items, "total": total, "limit": limit, "offset": offset}


@router.get("/{user_id}", response_model=User, responses={404: {"description": "unknown user"}})
def get_user(user_id: UserIdPath, store: StoreDep):
    return store.get_user(user_id)


@router.post("", response_model=User, status_code=201,
             responses={409: {"description": "the id is taken"}})
def create_user(body: UserCreate, store: StoreDep):
    """A new listener; the id is generated when not given."""
    return store.create_user(body.id or f"u-{secrets.token_hex(6)}", body.name)
