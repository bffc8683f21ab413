"""The Bento: serves a trained playlist recommender from the BentoML model store.

    bentoml serve            # from the repo root (bentofile.yaml)

The model is loaded once per worker in `__init__`; `/readyz` answers only after that.
"""
from __future__ import annotations

import gc
import inspect
import json
import os
from datetime import datetime
from pathlib import Path
from typing import Annotated

import bentoml
import numpy as np
from pydantic import Field
from starlette.responses import JSONResponse

from datarules.bodylimit import BodyLimitMiddleware
from bento import answers
from bento.api_types import (MAX_IDS, LikedAt, ModelInfo, PlaylistId, Recommendations,
                             SimilarPlaylists, TagList, TopK)
from bento.jsonbody import JSONBodyMiddleware
from bento.recsys.model import ItemItemModel
from bento.recsys.weighting import recency_weights
from bento.tagfilter import TagIndex


def registry_info() -> dict:
    """What `python -m bento.registry pull --info-out FILE` imported (prod), else nothing."""
    path = os.environ.get("RECOMMENDER_REGISTRY_INFO")
    return json.loads(Path(path).read_text(encoding="utf-8")) if path else {}


REGISTRY_INFO = registry_info()
# A pulled registry version wins over RECOMMENDER_MODEL: the Bento serves exactly that tag.
MODEL_TAG = REGISTRY_INFO.get("tag") or os.environ.get("RECOMMENDER_MODEL",
                                                       "playlist_recommender:latest")
# /recommend's largest legitimate body: 2,000 history + 2,000 excluded ids of up to 128
# characters each (and 2,000 history_times), about 0.6 MB as JSON.
MAX_BODY_BYTES = 1024 * 1024
# Overrides the model's validated recency half-life: a number of days, or "off".
RECENCY_SETTING = "RECOMMENDER_RECENCY_HALF_LIFE_DAYS"


def served_half_life(model: ItemItemModel, env=None) -> float | None:
    """RECOMMENDER_RECENCY_HALF_LIFE_DAYS if set (days, or off/0), else what the trainer
    validated (None: recency off)."""
    value = (os.environ if env is None else env).get(RECENCY_SETTING, "").strip().lower()
    if not value:
        return model.half_life_days
    if value in ("off", "0"):
        return None
    try:
        days = float(value)
    except ValueError:
        days = float("nan")
    if not 0 < days < float("inf"):
        raise ValueError(f"{RECENCY_SETTING}={value!r}: a positive number of days, or off")
    return days


def catalogue_summary(catalogue: dict[str, dict]) -> dict:
    """How many playlists and tags the training catalogue (catalogue.json) held."""
    tags = {tag for entry in catalogue.values() for tag in entry.get("tags", [])}
    return {"playlists": len(catalogue), "tags": len(tags)}


def model_info_gauge():
    """`recommender_model_info{tag, registry_version} 1` on /metrics. prometheus_client is
    imported here, in the worker, after BentoML has set its multiprocess directory."""
    import prometheus_client

    return prometheus_client.Gauge("recommender_model_info", "The model this Bento serves",
                                   ["tag", "registry_version"], multiprocess_mode="max")


def record_promotion(promoted_at: str) -> None:
    """`recommender_model_promoted_timestamp_seconds`: when the served registry version became
    champion (the "no promotion in N days" alert); absent for a model not from the registry."""
    import prometheus_client

    if not promoted_at:
        return
    try:
        when = datetime.fromisoformat(promoted_at).timestamp()
    except ValueError:
        return
    prometheus_client.Gauge("recommender_model_promoted_timestamp_seconds",
                            "When the served registry version was promoted",
                            multiprocess_mode="max").set(when)


@bentoml.service(
    name="playlist_recommender",
    # Past 64 requests in flight per service (split across workers) BentoML answers 429 at
    # once instead of queueing without bound; the gateway maps that to its own 503.
    traffic={"timeout": 10, "max_concurrency": 64},
    workers=int(os.environ.get("BENTO_WORKERS", "1")),
    http={"cors": {"enabled": False}},
)
class PlaylistRecommender:
    bento_model = bentoml.models.BentoModel(MODEL_TAG)

    def __init__(self) -> None:
        self.model, catalogue = ItemItemModel.load(Path(self.bento_model.path))
        self.tag_index = TagIndex(self.model.item_ids, catalogue)
        self.tag = str(self.bento_model.tag)
        self.half_life = served_half_life(self.model)
        info = self.bento_model.info.metadata
        registry = REGISTRY_INFO if REGISTRY_INFO.get("tag") == self.tag else {}
        self.info = ModelInfo(
            tag=self.tag, algorithm=info.get("algorithm", self.model.algorithm),
            parameters=info.get("parameters", {}), metrics=info.get("metrics", {}),
            baseline_metrics=info.get("baseline_metrics", {}), counts=info.get("counts", {}),
            trained_at=info.get("trained_at", ""), versions=info.get("versions", {}),
            catalogue=catalogue_summary(catalogue),
            registry_version=registry.get("version") or "",
            promoted_at=registry.get("promoted_at") or "",
            signals=info.get("signals", {}), search=info.get("search", {}),
            recency_half_life_days=self.half_life or 0.0)
        model_info_gauge().labels(tag=self.tag,
                                  registry_version=registry.get("version") or "").set(1)
        record_promotion(registry.get("promoted_at") or "")
        # The loaded model and catalogue live as long as the worker: out of the collector's
        # sight, a full collection no longer walks them (~240k objects on a 100k catalogue,
        # ~40 ms per full collection, paused in the middle of some request).
        gc.collect()
        gc.freeze()

    @bentoml.api
    async def recommend(
        self,
        history: Annotated[list[PlaylistId], Field(max_length=MAX_IDS)] = [],  # noqa: B006
        k: TopK = 10,
        exclude: Annotated[list[PlaylistId], Field(max_length=MAX_IDS)] = [],  # noqa: B006
        tags: TagList = [],  # noqa: B006
        exclude_tags: TagList = [],  # noqa: B006
        history_times: Annotated[list[LikedAt], Field(max_length=MAX_IDS)] = [],  # noqa: B006
    ) -> Recommendations:
        """Top-k playlists for a listening history; popular ones when the history says nothing.
        `tags`: only items with any of them; `exclude_tags`: none with one of them.
        `history_times`: when each history item was liked (unix seconds, null: unknown), in
        `history`'s order; with recency on, recent likes weigh more."""
        if history_times and len(history_times) != len(history):
            reason = (f"history_times has {len(history_times)} entries for {len(history)} "
                      "history ids: give one per id, or none")
            return JSONResponse({"error": reason, "detail": reason}, status_code=400)
        known, unknown = self.model.known(history)
        weights = self.recency(known, history, history_times)
        excluded = self.model.known(exclude)[0] if exclude else None  # None: nothing to add
        if tags or exclude_tags:
            blocked = self.tag_index.blocked(tags, exclude_tags)
            excluded = blocked if excluded is None else np.concatenate([excluded, blocked])
        # Unknown history ids are still never returned, because they are not in the catalogue.
        indices, scores, reasons = self.model.answer(known, k, excluded, weights)
        strategy = "personalized" if known.size else "popular"
        # A Recommendations, serialised here (bento.answers: the same bytes, less time)
        return answers.recommendations(answers.items(self.model.item_ids, indices, scores,
                                                     reasons), strategy, unknown, self.tag)

    def recency(self, known: np.ndarray, history: list[str],
                history_times: list[float | None]) -> np.ndarray | None:
        """One weight per known history item, or None (recency off, or no times given)."""
        if self.half_life is None or not history_times or not known.size:
            return None
        newest: dict[str, float] = {}
        for playlist_id, liked_at in zip(history, history_times):
            if liked_at is not None:
                newest[playlist_id] = max(liked_at, newest.get(playlist_id, liked_at))
        ids = self.model.item_ids
        times = np.asarray([newest.get(ids[i], np.nan) for i in known.tolist()])
        return recency_weights(times, self.half_life)

    @bentoml.api
    async def similar(
        self,
        playlist_id: PlaylistId,
        k: TopK = 10,
        exclude: Annotated[list[PlaylistId], Field(max_length=MAX_IDS)] = [],  # noqa: B006
    ) -> SimilarPlaylists:
        """Playlists that people who like `playlist_id` also like; never those in `exclude`
        (the gateway's retired ones), so k come back whenever the model has them."""
        known, _ = self.model.known([playlist_id])
        if not known.size:
            # Raising bentoml's NotFound renders as a one-element list (BentoML 1.4.40), not the
            # object its OpenAPI documents for 404; answer the documented shape ourselves.
            reason = f"unknown playlist_id {playlist_id!r}"
            return JSONResponse({"error": reason, "detail": reason}, status_code=404)
        excluded = self.model.known(exclude)[0] if exclude else None
        indices, scores, reasons = self.model.answer(known[:1], k, excluded)
        return answers.similar_playlists(playlist_id, answers.items(
            self.model.item_ids, indices, scores, reasons), self.tag)

    @bentoml.api
    async def model_info(self) -> ModelInfo:
        """Which model answers, how it was trained and how well it evaluated."""
        return self.info


# Oversized bodies get a JSON 413 before BentoML reads them (BentoML 1.4 has no body limit).
PlaylistRecommender.add_asgi_middleware(BodyLimitMiddleware, max_bytes=MAX_BODY_BYTES)
# Non-JSON bodies get a JSON 415 (bento/jsonbody.py), not BentoML's form parser and its 500s.
PlaylistRecommender.add_asgi_middleware(JSONBodyMiddleware)


def keep_signatures(service) -> None:
    """BentoML 1.4 rebuilds each API function's `inspect.signature` on every request
    (APIMethod._local_call), ~10 us for /recommend's six annotated parameters; a function's
    `__signature__` is what `inspect.signature` returns, so it is built once here, after
    BentoML has read the signatures for the routes and /docs.json (the same object)."""
    for method in service.apis.values():
        method.func.__signature__ = inspect.signature(method.func)


keep_signatures(PlaylistRecommender)
