"""Shared resources created by the lifespan, handed to routes as dependencies."""
from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool

from gateway.bento_client import BentoClient
from gateway.store import Store


def get_store(request: Request) -> Store:
    return request.app.state.store


def get_bento(request: Request) -> BentoClient:
    return request.app.state.bento


StoreDep = Annotated[Store, Depends(get_store)]
BentoDep = Annotated[BentoClient, Depends(get_bento)]


async def enrich(store: Store, bento_items: list[dict]) -> list[dict]:
    """Bento items plus catalogue names and tags; items the catalogue lacks are dropped."""
    wanted = [item["playlist_id"] for item in bento_items]
    wanted += [because for item in bento_items for because in item.get("because", [])]
    catalogue = store.cached_playlists(wanted)
    if len(catalogue) < len(set(wanted)):
        catalogue = await run_in_threadpool(store.playlists_by_id, wanted)
    enriched = []
    for item in bento_items:
        entry = catalogue.get(item["playlist_id"])
        if entry is None:
            continue
        enriched.append({
            "playlist_id": entry["id"], "name": entry["name"],
            "description": entry["description"], "tags": entry["tags"],
            "tracks": entry["tracks"], "score": item["score"],
            "because": [{"playlist_id": because,
                         "name": catalogue.get(because, {}).get("name", because)}
                        for because in item.get("because", [])],
        })
    return enriched
