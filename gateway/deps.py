"""Shared resources created by the lifespan, handed to routes as dependencies.

Dependencies that do no I/O are `async def`: FastAPI runs a plain `def` one in a worker
thread, and six such hops a recommendations request cost ~0.5 ms of gateway CPU (measured)."""
from __future__ import annotations

import logging
from typing import Annotated

from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool

from gateway.bento_client import BentoClient
from gateway.observability import Metrics
from gateway.serving import Serving
from gateway.store import Store

log = logging.getLogger("gateway")


async def get_store(request: Request) -> Store:
    return request.app.state.store


async def get_bento(request: Request) -> BentoClient:
    return request.app.state.bento


async def get_metrics(request: Request) -> Metrics:
    return request.app.state.metrics


async def get_serving(request: Request) -> Serving:
    return request.app.state.serving


StoreDep = Annotated[Store, Depends(get_store)]
BentoDep = Annotated[BentoClient, Depends(get_bento)]
MetricsDep = Annotated[Metrics, Depends(get_metrics)]
ServingDep = Annotated[Serving, Depends(get_serving)]


async def enrich(store: Store, metrics: Metrics, bento_items: list[dict],
                 retired: set[str] = frozenset()) -> list[dict]:
    """Bento items plus catalogue names and tags, retired playlists left out. An item the
    catalogue lacks is still shown (by its id), logged and counted: a sign that the model
    and the database disagree."""
    wanted = [item["playlist_id"] for item in bento_items]
    wanted += [because for item in bento_items for because in item.get("because", [])]
    catalogue = store.cached_playlists(wanted)
    if len(catalogue) < len(set(wanted)):
        catalogue = await run_in_threadpool(store.playlists_by_id, wanted)
    missing = [item["playlist_id"] for item in bento_items
               if item["playlist_id"] not in catalogue]
    if missing:
        metrics.unknown_playlists.labels("catalogue").inc(len(missing))
        log.warning("the model recommends playlists the catalogue lacks",
                    extra={"playlist_ids": missing[:20], "count": len(missing)})
    enriched = []
    for item in bento_items:
        playlist_id = item["playlist_id"]
        entry = catalogue.get(playlist_id) or {"id": playlist_id, "name": playlist_id,
                                               "description": "", "tags": [], "tracks": None}
        if playlist_id in retired or entry.get("retired_at") is not None:
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
