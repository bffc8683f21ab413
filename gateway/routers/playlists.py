"""The playlist catalogue: browse, search, filter by tag, similar playlists."""
from __future__ import annotations

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool

from gateway.deps import BentoDep, StoreDep, enrich
from gateway.schemas import (K, Limit, Offset, Playlist, PlaylistIdPath, PlaylistPage,
                             SearchText, Similar, TagList, TagText)

router = APIRouter(tags=["playlists"])
NOT_FOUND = {404: {"description": "unknown playlist"}}


@router.get("/api/playlists", response_model=PlaylistPage)
def list_playlists(store: StoreDep, q: SearchText = None, tag: TagText = None,
                   limit: Limit = 20, offset: Offset = 0):
    """Most liked first; `q` matches name or description, `tag` filters exactly."""
    items, total = store.list_playlists(q, tag, limit, offset)
    return {"items": items, "total": total, "limit": limit, "offset": offset}


@router.get("/api/playlists/{playlist_id}", response_model=Playlist, responses=NOT_FOUND)
def get_playlist(playlist_id: PlaylistIdPath, store: StoreDep):
    return store.get_playlist(playlist_id)


@router.get("/api/playlists/{playlist_id}/similar", response_model=Similar,
            responses={**NOT_FOUND, 503: {"description": "the Bento is down"}})
async def similar_playlists(playlist_id: PlaylistIdPath, store: StoreDep, bento: BentoDep,
                            k: K = 10):
    await run_in_threadpool(store.get_playlist, playlist_id)
    answer = await bento.similar(playlist_id, k)
    return {"playlist_id": playlist_id, "items": await enrich(store, answer["items"]),
            "model": answer.get("model", "")}


@router.get("/api/tags", response_model=TagList)
def list_tags(store: StoreDep):
    """Tags by how many playlists carry them, most used first."""
    return {"items": store.tag_counts()}
