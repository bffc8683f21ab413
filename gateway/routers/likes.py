"""Likes: the feedback that shapes recommendations at once and trains the next model."""
from __future__ import annotations

from fastapi import APIRouter

from gateway.deps import StoreDep
from gateway.schemas import LikeState, Likes, PlaylistIdPath, UserIdPath

router = APIRouter(prefix="/api/users/{user_id}/likes", tags=["likes"])
NOT_FOUND = {404: {"description": "unknown user or playlist"}}


@router.get("", response_model=Likes, responses=NOT_FOUND)
def list_likes(user_id: UserIdPath, store: StoreDep):
    items = store.user_likes(user_id)
    return {"user_id": user_id, "items": items, "total": len(items)}


@router.put("/{playlist_id}", response_model=LikeState, responses=NOT_FOUND)
def like(user_id: UserIdPath, playlist_id: PlaylistIdPath, store: StoreDep):
    """Idempotent; answers only once the like is committed."""
    store.set_like(user_id, playlist_id, liked=True)
    return {"user_id": user_id, "playlist_id": playlist_id, "liked": True}


@router.delete("/{playlist_id}", response_model=LikeState, responses=NOT_FOUND)
def unlike(user_id: UserIdPath, playlist_id: PlaylistIdPath, store: StoreDep):
    """Idempotent: unliking what was never liked is fine."""
    store.set_like(user_id, playlist_id, liked=False)
    return {"user_id": user_id, "playlist_id": playlist_id, "liked": False}
