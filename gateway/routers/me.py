"""The signed-in listener's own routes: who am I, my likes and dislikes, my picks, erase me."""
from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from gateway.quota import OVER_QUOTA
from gateway.access import ListenerDep, WriteQuotaDep, audit, no_store
from gateway.deps import MetricsDep, ServingDep, StoreDep
from gateway.routers.likes import record_like
from gateway.routers.recommendations import ERRORS, recommend
from gateway.dislikes import set_dislike, user_dislikes
from gateway.store import Store
from gateway.schemas import K, LikeState, Likes, PlaylistIdPath, Recommendations, TagFilter


router = APIRouter(prefix="/api/me", tags=["me"], dependencies=[Depends(no_store)])
UNAUTHORIZED = {401: {"description": "not signed in"}}
WRITE = {**UNAUTHORIZED, **OVER_QUOTA}


class Me(BaseModel):
    id: str
    name: str
    like_count: int
    email: str
    groups: list[str]
    admin: bool


class Dislike(BaseModel):
    playlist_id: str
    name: str
    created_at: float


class Dislikes(BaseModel):
    user_id: str
    items: list[Dislike]
    total: int


class DislikeState(BaseModel):
    user_id: str
    playlist_id: str
    disliked: bool


class Erased(BaseModel):
    user_id: str
    erased: bool
    likes_removed: int


@router.get("", response_model=Me, responses=UNAUTHORIZED)
def me(identity: ListenerDep, store: StoreDep):
    """The signed-in listener (created on their first request) and what they may do."""
    return {**store.get_user(identity.subject), "email": identity.email,
            "groups": sorted(identity.groups), "admin": identity.admin}


@router.get("/likes", response_model=Likes, responses=UNAUTHORIZED)
def my_likes(identity: ListenerDep, store: StoreDep):
    items = store.user_likes(identity.subject)
    return {"user_id": identity.subject, "items": items, "total": len(items)}


@router.put("/likes/{playlist_id}", response_model=LikeState, responses=WRITE)
def like(playlist_id: PlaylistIdPath, identity: ListenerDep, _: WriteQuotaDep,
         store: StoreDep, request: Request):
    """Idempotent; answers only once the like is committed."""
    return record_like(request, store, identity.subject, playlist_id, liked=True)


@router.delete("/likes/{playlist_id}", response_model=LikeState, responses=WRITE)
def unlike(playlist_id: PlaylistIdPath, identity: ListenerDep, _: WriteQuotaDep,
           store: StoreDep, request: Request):
    return record_like(request, store, identity.subject, playlist_id, liked=False)


@router.get("/recommendations", response_model=Recommendations,
            responses={**UNAUTHORIZED, **ERRORS})
async def my_recommendations(identity: ListenerDep, store: StoreDep, serving: ServingDep,
                             metrics: MetricsDep, k: K = 10, tags: TagFilter = [],
                             exclude_tags: TagFilter = []):
    """Picks from the listener's likes, never their dislikes; `tags` (any of) and
    `exclude_tags` filter them, still k items when k match."""
    return await recommend(store, serving, metrics, identity.subject, k, tags, exclude_tags)


@router.get("/dislikes", response_model=Dislikes, responses=UNAUTHORIZED)
def my_dislikes(identity: ListenerDep, store: StoreDep):
    items = user_dislikes(store, identity.subject)
    return {"user_id": identity.subject, "items": items, "total": len(items)}


def record_dislike(request: Request, store: Store, user_id: str, playlist_id: str,
                   disliked: bool) -> dict:
    set_dislike(store, user_id, playlist_id, disliked=disliked)
    audit(request, "dislike" if disliked else "undislike", user_id=user_id,
          playlist_id=playlist_id)
    return {"user_id": user_id, "playlist_id": playlist_id, "disliked": disliked}


@router.put("/dislikes/{playlist_id}", response_model=DislikeState, responses=WRITE)
def dislike(playlist_id: PlaylistIdPath, identity: ListenerDep, _: WriteQuotaDep,
            store: StoreDep, request: Request):
    """"Not for me": never recommended to this listener again, until DELETE undoes it."""
    return record_dislike(request, store, identity.subject, playlist_id, disliked=True)


@router.delete("/dislikes/{playlist_id}", response_model=DislikeState, responses=WRITE)
def undislike(playlist_id: PlaylistIdPath, identity: ListenerDep, _: WriteQuotaDep,
              store: StoreDep, request: Request):
    return record_dislike(request, store, identity.subject, playlist_id, disliked=False)


@router.delete("", response_model=Erased, responses=UNAUTHORIZED)
async def erase_me(identity: ListenerDep, store: StoreDep,
                   request: Request):
    """Erase the listener and all their feedback (the next export no longer has it). Not
    subject to the write quota: erasure is a right, and it is one call."""
    recorder = request.app.state.serving.recorder
    if recorder is not None:
        recorder.forget(identity.subject)
    removed = await run_in_threadpool(store.erase_user, identity.subject)
    audit(request, "erase_listener", user_id=identity.subject, likes_removed=removed)
    return {"user_id": identity.subject, "erased": True, "likes_removed": removed}
