"""/recommend's and /similar's answers serialised here, as the bytes pydantic would write.

Returning the pydantic model costs per request: an Item built per playlist, then BentoML's
`IterableResponse` (a chunked body: three ASGI sends, each through BentoML's middleware chain,
instead of two). On a 100k catalogue that was about a third of /recommend's time beyond a bare
BentoML echo (bench/serve.py). The routes keep their `Recommendations` / `SimilarPlaylists`
annotations, so /docs.json documents the same response; `pydantic_core.to_json` is the
serializer `model_dump_json` uses, and tests/bento/test_answers.py checks the bytes are equal.
"""
from __future__ import annotations

import numpy as np
from pydantic_core import to_json
from starlette.responses import Response

# pydantic's default for non-finite floats in JSON (ser_json_inf_nan="null")
INF_NAN = "null"


class JSONAnswer(Response):
    media_type = "application/json"


def items(ids: list[str], indices: np.ndarray, scores: np.ndarray,
          reasons: list[np.ndarray]) -> list[dict]:
    """`Item`s as dicts in field order: scores rounded to 6 places, reasons as ids."""
    return [{"playlist_id": ids[i], "score": round(s, 6), "because": [ids[h] for h in why]}
            for i, s, why in zip(indices.tolist(), scores.tolist(),
                                 (why.tolist() for why in reasons))]


def recommendations(items: list[dict], strategy: str, unknown: list[str],
                    model: str) -> JSONAnswer:
    """A `Recommendations`, serialised."""
    return JSONAnswer(to_json({"items": items, "strategy": strategy, "unknown": unknown,
                               "model": model}, inf_nan_mode=INF_NAN))


def similar_playlists(playlist_id: str, items: list[dict], model: str) -> JSONAnswer:
    """A `SimilarPlaylists`, serialised."""
    return JSONAnswer(to_json({"playlist_id": playlist_id, "items": items, "model": model},
                              inf_nan_mode=INF_NAN))
