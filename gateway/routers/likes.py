"""Likes: the feedback that shapes recommendations at once and trains the next model.
Under /api/users/{user_id}: that listener themselves or an admin (gateway.access)."""
from __future__ import annotations

from fastapi import APIRouter, Depends, Request

from gateway.quota import OVER_QUOTA
from gateway.access import WriteQuotaDep, audit, no_store, require_self_or_admin
from gateway.deps import StoreDep
from gateway.store import Store
from gateway.impressions import count_feedback
from gateway.schemas import LikeState, Likes, PlaylistIdPath, UserIdPath

router = APIRouter(prefix="/api/users/{user_id}/likes", tags=["likes"],
                   dependencies=[Depends(require_self_or_admin), Depends(no_store)],
                   responses={401: {"description": "not signed in"},
                              403: {"description": "another listener, and not an admin"}})
NOT_FOUND = {404: {"description": "unknown user or playlist"}}


def record_like(request: Request, store: Store, user_id: str, playlist_id: str,
                liked: bool) -> dict:
    """Set or clear the like (a new one counts as feedback for online metrics), then audit."""
    if store.set_like(user_id, playlist_id, liked=liked) and liked:
        count_feedback(request, user_id, playlist_id)
    audit(request, "like" if liked else "unlike", user_id=user_id, playlist_id=playlist_id)
    return {"user_id": user_id, "playlist_id": playlist_id, "liked": liked}


@router.get("", response_model=Likes, responses=NOT_FOUND)
def list_likes(user_id: UserIdPath, store: StoreDep):
    items = store.user_likes(user_id)
    return {"user_id": user_id, "items": items, "total": len(items)}


@router.put("/{playlist_id}", response_model=LikeState, responses={**NOT_FOUND, **OVER_QUOTA})
def like(user_id: UserIdPath, playlist_id: PlaylistIdPath, store: StoreDep, request: Request,
         _: WriteQuotaDep):
    """Idempotent; answers only once the like is committed."""
    return record_like(request, store, user_id, playlist_id, liked=True)


@router.delete("/{playlist_id}", response_model=LikeState,
               responses={**NOT_FOUND, **OVER_QUOTA})
def unlike(user_id: UserIdPath, playlist_id: PlaylistIdPath, store: StoreDep, request: Request,
           _: WriteQuotaDep):
    """Idempotent: unliking what was never liked is fine."""
    return record_like(request, store, user_id, playlist_id, liked=False)
