"""Recommendations from the Bento, with the user's likes as history, plus the model info."""
from __future__ import annotations

import logging

from fastapi import APIRouter, Depends
from sqlalchemy.exc import DBAPIError
from starlette.concurrency import run_in_threadpool

from gateway.access import IdentityDep, allow_self_or_admin, no_store, require_self_or_admin
from gateway.deps import BentoDep, MetricsDep, ServingDep, StoreDep, enrich
from gateway.observability import Metrics, request_id_var
from gateway.dislikes import disliked_ids
from gateway.retrain_report import latest
from gateway.schemas import (K, ModelInfo, PopularRecommendations, Recommendations,
                             SeedRecommendationRequest, SeedRecommendations, TagFilter, UserIdPath)
from gateway.serving import Serving
from gateway.store import Store

log = logging.getLogger("gateway")
router = APIRouter(tags=["recommendations"])
# Recent likes say most about current taste and keep the Bento request small.
MAX_HISTORY = 500
# The Bento takes up to 2000 excluded ids (bento/service.py MAX_IDS) and k up to 100.
MAX_EXCLUDE = 2000
MAX_K = 100
ERRORS = {404: {"description": "unknown user"}, 503: {"description": "the Bento is down"}}


def history_and_excluded(store: Store, user_id: str | None,
                         ) -> tuple[list[tuple[str, float | None]], list[str]]:
    """No user: an empty history, which the Bento answers with popular picks. History: (id,
    liked_at) pairs, newest first. Excluded: the listener's dislikes, then the retired ones."""
    if user_id is None:
        return [], store.retired_ids()
    with store.reading() as conn:  # one checkout for the three reads
        history = store.timed_history(user_id, MAX_HISTORY, conn)
        return history, disliked_ids(store, user_id, conn) + store.retired_ids(conn)


def matches(tags: list[str], wanted: list[str], unwanted: list[str]) -> bool:
    """The filters on the catalogue's current tags (the Bento applied the model's)."""
    return (not wanted or bool(set(tags) & set(wanted))) and not set(tags) & set(unwanted)


def ask_for(k: int, retired: list[str]) -> tuple[int, list[str]]:
    """The k and exclude list to send: retired ids beyond what the Bento takes are filtered
    here instead, so it is asked for that many more (k items whenever the model has them)."""
    overflow = len(retired) - MAX_EXCLUDE
    return (min(MAX_K, k + overflow) if overflow > 0 else k), retired[:MAX_EXCLUDE]


async def recommend(store: Store, serving: Serving, metrics: Metrics, user_id: str | None,
                    k: int, tags: list[str] = (), exclude_tags: list[str] = ()) -> dict:
    """The picks of the listener's arm (champion or challenger Bento) for their history;
    retired and disliked playlists never come back; `tags` (any of) and `exclude_tags` filter
    inside the Bento's top-k. What is shown is recorded as impressions (off the request path)."""
    timed, excluded = await run_in_threadpool(history_and_excluded, store, user_id)
    ask_k, exclude = ask_for(k, excluded)
    arm = serving.arm(user_id)
    # The like times go along: the Bento weighs recent likes more where its model says so.
    answer = await serving.client(arm).recommend(
        [playlist_id for playlist_id, _ in timed], ask_k, exclude, list(tags),
        list(exclude_tags), [liked_at for _, liked_at in timed])
    unknown = answer.get("unknown", [])
    if unknown:  # playlists added since the last training: fine, but worth seeing
        metrics.unknown_playlists.labels("model").inc(len(unknown))
        log.info("history holds playlists the model does not know",
                 extra={"playlist_ids": unknown[:20], "count": len(unknown)})
    items = await enrich(store, metrics, answer["items"], set(excluded))
    if tags or exclude_tags:
        items = [item for item in items if matches(item["tags"], tags, exclude_tags)]
    items = items[:k]
    if serving.recorder is not None:
        serving.recorder.record(user_id, [item["playlist_id"] for item in items],
                                answer["model"], request_id_var.get(), arm)
    return {"user_id": user_id, "strategy": answer["strategy"], "model": answer["model"],
            "unknown": unknown, "items": items}


@router.get("/api/users/{user_id}/recommendations", response_model=Recommendations,
            responses=ERRORS, dependencies=[Depends(require_self_or_admin), Depends(no_store)])
async def user_recommendations(user_id: UserIdPath, store: StoreDep, serving: ServingDep,
                               metrics: MetricsDep, k: K = 10, tags: TagFilter = [],
                               exclude_tags: TagFilter = []):
    """Personal picks from the user's likes; `strategy` is "popular" for users with none."""
    return await recommend(store, serving, metrics, user_id, k, tags, exclude_tags)


@router.get("/api/recommendations/popular", response_model=PopularRecommendations,
            responses={503: ERRORS[503]})
async def popular_recommendations(store: StoreDep, serving: ServingDep, metrics: MetricsDep,
                                  k: K = 10, tags: TagFilter = [], exclude_tags: TagFilter = []):
    """What anyone, signed in or not, may see: the model's picks for an empty history."""
    answer = await recommend(store, serving, metrics, None, k, tags, exclude_tags)
    return {key: answer[key] for key in ("strategy", "model", "items")}


@router.post("/api/recommendations", response_model=SeedRecommendations, responses=ERRORS,
             dependencies=[Depends(no_store)])
async def seed_recommendations(body: SeedRecommendationRequest, store: StoreDep,
                               serving: ServingDep, metrics: MetricsDep, identity: IdentityDep):
    """The seed service's endpoint, same request and response shape; for that listener
    themselves or an admin (anyone in demo mode)."""
    allow_self_or_admin(identity, body.user_id)
    answer = await recommend(store, serving, metrics, body.user_id, body.num_recommendations)
    return {"user_id": body.user_id, "recommendations": answer["items"]}


def last_retrain(store: Store) -> dict | None:
    """The newest retrain verdict; a database outage leaves the Model page without it only."""
    try:
        return latest(store.engine)
    except DBAPIError as err:
        log.warning("the database did not answer for the last retrain: %s", err)
        return None


@router.get("/api/model", response_model=ModelInfo, responses={503: ERRORS[503]})
async def model_info(bento: BentoDep, store: StoreDep):
    """The Bento's model_info (tag, algorithm, metrics, counts, trained_at, registry_version,
    promoted_at), plus `last_retrain`: the newest verdict the retrain job recorded in the
    database (gateway/retrain_report.py)."""
    info = await bento.model_info()
    return {**info, "last_retrain": await run_in_threadpool(last_retrain, store)}
