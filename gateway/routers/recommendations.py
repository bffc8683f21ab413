"""Recommendations from the Bento, with the user's likes as history, plus the model info."""
from __future__ import annotations

from fastapi import APIRouter, Depends
from starlette.concurrency import run_in_threadpool

from gateway.access import IdentityDep, allow_self_or_admin, no_store, require_self_or_admin
from gateway.deps import BentoDep, StoreDep, enrich
from gateway.schemas import (K, ModelInfo, PopularRecommendations, Recommendations,
                             SeedRecommendationRequest, SeedRecommendations, UserIdPath)
from gateway.store import Store
from gateway.bento_client import BentoClient

router = APIRouter(tags=["recommendations"])
# Recent likes say most about current taste and keep the Bento request small.
MAX_HISTORY = 500
ERRORS = {404: {"description": "unknown user"}, 503: {"description": "the Bento is down"}}


async def recommend(store: Store, bento: BentoClient, user_id: str, k: int) -> dict:
    history = await run_in_threadpool(store.history, user_id, MAX_HISTORY)
    answer = await bento.recommend(history, k)
    return {"user_id": user_id, "strategy": answer["strategy"], "model": answer["model"],
            "unknown": answer.get("unknown", []),
            "items": await enrich(store, answer["items"])}


@router.get("/api/users/{user_id}/recommendations", response_model=Recommendations,
            responses=ERRORS, dependencies=[Depends(require_self_or_admin), Depends(no_store)])
async def user_recommendations(user_id: UserIdPath, store: StoreDep, bento: BentoDep,
                               k: K = 10):
    """Personal picks from the user's likes; `strategy` is "popular" for users with none."""
    return await recommend(store, bento, user_id, k)


@router.get("/api/recommendations/popular", response_model=PopularRecommendations,
            responses={503: ERRORS[503]})
async def popular_recommendations(store: StoreDep, bento: BentoDep, k: K = 10):
    """What anyone, signed in or not, may see: the model's picks for an empty history."""
    answer = await bento.recommend([], k)
    return {"strategy": answer["strategy"], "model": answer["model"],
            "items": await enrich(store, answer["items"])}


@router.post("/api/recommendations", response_model=SeedRecommendations, responses=ERRORS,
             dependencies=[Depends(no_store)])
async def seed_recommendations(body: SeedRecommendationRequest, store: StoreDep,
                               bento: BentoDep, identity: IdentityDep):
    """The seed service's endpoint, same request and response shape; for that listener
    themselves or an admin (anyone in demo mode)."""
    allow_self_or_admin(identity, body.user_id)
    answer = await recommend(store, bento, body.user_id, body.num_recommendations)
    return {"user_id": body.user_id, "recommendations": answer["items"]}


@router.get("/api/model", response_model=ModelInfo, responses={503: ERRORS[503]})
async def model_info(bento: BentoDep):
    """The Bento's model_info: tag, algorithm, parameters, metrics, counts, trained_at."""
    return await bento.model_info()
