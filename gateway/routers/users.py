"""Listeners: list, search, read, create, erase. All of it is about other listeners, so admins
only (everyone is admin-equivalent in demo mode); a listener's own record is /api/me."""
from __future__ import annotations

import secrets

from fastapi import APIRouter, Depends, Request
from starlette.concurrency import run_in_threadpool

from gateway.quota import OVER_QUOTA
from gateway.access import AdminWriteDep, audit, no_store, require_admin
from gateway.deps import StoreDep
from gateway.routers.me import Erased
from gateway.schemas import Limit, Offset, SearchText, User, UserCreate, UserIdPath, UserPage

router = APIRouter(prefix="/api/users", tags=["users"],
                   dependencies=[Depends(require_admin), Depends(no_store)],
                   responses={401: {"description": "not signed in"},
                              403: {"description": "not an admin"}})


@router.get("", response_model=UserPage)
def list_users(store: StoreDep, q: SearchText = None, limit: Limit = 20, offset: Offset = 0):
    items, total = store.list_users(q, limit, offset)
    return {"items": items, "total": total, "limit": limit, "offset": offset}


@router.get("/{user_id}", response_model=User, responses={404: {"description": "unknown user"}})
def get_user(user_id: UserIdPath, store: StoreDep):
    return store.get_user(user_id)


@router.post("", response_model=User, status_code=201,
             responses={409: {"description": "the id is taken"}, **OVER_QUOTA})
def create_user(body: UserCreate, store: StoreDep, request: Request, _: AdminWriteDep):
    """A new listener; the id is generated when not given."""
    user = store.create_user(body.id or f"u-{secrets.token_hex(6)}", body.name)
    audit(request, "create_listener", user_id=user["id"])
    return user


@router.delete("/{user_id}", response_model=Erased,
               responses={404: {"description": "unknown user"}, **OVER_QUOTA})
async def erase_user(user_id: UserIdPath, store: StoreDep, request: Request, _: AdminWriteDep):
    """Erase any listener and all their feedback."""
    recorder = request.app.state.serving.recorder
    if recorder is not None:  # their buffered impressions are never written
        recorder.forget(user_id)
    removed = await run_in_threadpool(store.erase_user, user_id)
    audit(request, "erase_listener", user_id=user_id, likes_removed=removed)
    return {"user_id": user_id, "erased": True, "likes_removed": removed}
