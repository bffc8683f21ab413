"""A bare BentoML service with the same request shape as /recommend and no model: the baseline
for what BentoML itself costs per request on this machine. It answers with the recommender's
own response type (an empty `Recommendations`): BentoML 1.4 serialises a `dict` return on a
slower path (a JSON schema built per response): with a `dict` this baseline served 1.3x to
1.5x fewer requests per second here, which flattered the recommender measured against it."""
from __future__ import annotations

import bentoml

from bento.api_types import Recommendations


@bentoml.service(name="echo_baseline", traffic={"timeout": 10})
class EchoBaseline:
    @bentoml.api
    async def recommend(self, history: list[str] = [], k: int = 10,  # noqa: B006
                        exclude: list[str] = []) -> Recommendations:  # noqa: B006
        return Recommendations(items=[], strategy="popular", unknown=history[:0], model="echo")
