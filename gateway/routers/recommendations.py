"""Recommendations from the Bento, with the user's likes as history, plus the model info."""
from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from gateway.deps import BentoDep, StoreDep, enrich
from gateway.schemas import (K, ModelInfo, Recommendations, SeedRecommendationRequest,
                             SeedRecommendations, UserIdPath)
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
            responses=ERRORS)
async def user_recommendations(user_id: UserIdPath, store: StoreDep, bento: BentoDep,
                               k: K = 10):
    """Personal picks from the user's likes; `strategy` is "popular" for users with none."""
    return await recommend(store, bento, user_id, k)


@router.post("/api/recommendations", response_model=SeedRecommendations, responses=ERRORS)
async def seed_recommendations(body: SeedRecommendationRequest, store: StoreDep,
                               bento: BentoDep):
    """The seed service's endpoint, same request and response shape."""
    answer = await recommend(store, bento, body.user_id, body.num_recommendations)
    return {"user_id": body.user_id, "recommendations": answer["items"]}


@router.get("/api/model", response_model=ModelInfo, responses={503: ERRORS[503]})
async def model_info(bento: BentoDep, request: Request):
    """The Bento's model_info (tag, algorithm, metrics, counts, trained_at, registry_version,
    promoted_at), plus `last_retrain`: the newest challenger's gate verdict from MLflow."""
    info = await bento.model_info()
    reader = request.app.state.last_retrain
    return {**info, "last_retrain": await reader.get() if reader is not None else None}
