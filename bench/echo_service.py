"""A bare BentoML service with the same request shape as /recommend and no model: the baseline
for what BentoML itself costs per request on this machine."""
from __future__ import annotations

import bentoml


@bentoml.service(name="echo_baseline", traffic={"timeout": 10})
class EchoBaseline:
    @bentoml.api
    async def recommend(self, history: list[str] = [], k: int = 10,  # noqa: B006
                        exclude: list[str] = []) -> dict:  # noqa: B006
        return {"items": [], "strategy": "popular", "unknown": history[:0], "model": "echo"}
