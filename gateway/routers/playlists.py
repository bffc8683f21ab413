"""The playlist catalogue: browse, search, filter by tag, similar playlists; admins create,
update and retire playlists (gateway/access.py says who is an admin)."""
from __future__ import annotations

import secrets

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from gateway import catalogue
from gateway.quota import OVER_QUOTA
from gateway.access import AdminWriteDep, audit
from gateway.deps import BentoDep, MetricsDep, StoreDep, enrich
from gateway.routers.recommendations import ask_for
from gateway.schemas import (K, Limit, Offset, Playlist, PlaylistCreate, PlaylistIdPath,
                             PlaylistPage, PlaylistUpdate, SearchText, Similar, TagList, TagText)

router = APIRouter(tags=["playlists"])
NOT_FOUND = {404: {"description": "unknown playlist"}}


@router.get("/api/playlists", response_model=PlaylistPage)
def list_playlists(store: StoreDep, q: SearchText = None, tag: TagText = None,
                   limit: Limit = 20, offset: Offset = 0):
    """Most liked first, retired playlists hidden; `q` matches name or description, `tag`
    filters exactly."""
    items, total = store.list_playlists(q, tag, limit, offset)
    return {"items": items, "total": total, "limit": limit, "offset": offset}


@router.post("/api/playlists", response_model=Playlist, status_code=201,
             responses={409: {"description": "the id is taken"}, **OVER_QUOTA})
def create_playlist(body: PlaylistCreate, store: StoreDep, _: AdminWriteDep, request: Request):
    """Admin: a new catalogue entry (the id is generated when not given). Browse and likes see
    it at once; the model recommends it after the next retraining."""
    playlist_id = body.id or f"pl-{secrets.token_hex(6)}"
    created = catalogue.create_playlist(store, playlist_id, body.name, body.description,
                                        body.tags, body.tracks)
    audit(request, "create_playlist", playlist_id=playlist_id)
    return created


@router.get("/api/playlists/{playlist_id}", response_model=Playlist, responses=NOT_FOUND)
def get_playlist(playlist_id: PlaylistIdPath, store: StoreDep):
    """Retired playlists too, with `retired_at` set."""
    return store.get_playlist(playlist_id)


@router.patch("/api/playlists/{playlist_id}", response_model=Playlist,
              responses={**NOT_FOUND, **OVER_QUOTA})
def update_playlist(playlist_id: PlaylistIdPath, body: PlaylistUpdate, store: StoreDep,
                    _: AdminWriteDep, request: Request):
    """Admin: change name, description, tags or tracks (only the fields sent)."""
    changes = body.changes()
    updated = catalogue.update_playlist(store, playlist_id, changes)
    audit(request, "update_playlist", playlist_id=playlist_id, fields=sorted(changes))
    return updated


@router.delete("/api/playlists/{playlist_id}", response_model=Playlist,
               responses={**NOT_FOUND, **OVER_QUOTA})
def retire_playlist(playlist_id: PlaylistIdPath, store: StoreDep, _: AdminWriteDep,
                    request: Request):
    """Admin: retire (idempotent). The row and its likes stay; from this moment it is hidden
    from browse and never recommended, without retraining."""
    retired = catalogue.retire_playlist(store, playlist_id)
    audit(request, "retire_playlist", playlist_id=playlist_id)
    return retired


@router.get("/api/playlists/{playlist_id}/similar", response_model=Similar,
            responses={**NOT_FOUND, 503: {"description": "the Bento is down"}})
async def similar_playlists(playlist_id: PlaylistIdPath, store: StoreDep, bento: BentoDep,
                            metrics: MetricsDep, k: K = 10):
    """Playlists liked by the same listeners; retired ones left out (the Bento is told to
    leave them out, so k come back whenever it has them)."""
    await run_in_threadpool(store.get_playlist, playlist_id)
    retired = await run_in_threadpool(store.retired_ids)
    ask_k, exclude = ask_for(k, retired)
    answer = await bento.similar(playlist_id, ask_k, exclude)
    items = await enrich(store, metrics, answer["items"], set(retired))
    return {"playlist_id": playlist_id, "items": items[:k], "model": answer.get("model", "")}


@router.get("/api/tags", response_model=TagList)
def list_tags(store: StoreDep):
    """Tags by how many browsable playlists carry them, most used first."""
    return {"items": store.tag_counts()}
