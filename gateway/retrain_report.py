"""The last retrain's verdict for the Model page, read from the MLflow registry.

`python -m bento.retrain` tags every registered version with a compact `gate` report and points
the `challenger` alias at the newest one, accepted or not. One GET of that alias (MLflow REST),
cached for a minute: an MLflow outage leaves the Model page with no retrain section, nothing
else. Without MLFLOW_TRACKING_URI (the embedded default) there is no registry to ask.
"""
from __future__ import annotations

import json
import logging
import time

import aiohttp

MODEL_NAME = "playlist_recommender"
CACHE_SECONDS = 60.0
log = logging.getLogger("gateway.retrain_report")


class LastRetrain:
    def __init__(self, tracking_uri: str, timeout_seconds: float = 1.0):
        self.url = tracking_uri.rstrip("/") + "/api/2.0/mlflow/registered-models/alias"
        self.timeout = aiohttp.ClientTimeout(total=timeout_seconds)
        self.cached: tuple[float, dict | None] = (-CACHE_SECONDS, None)

    async def get(self) -> dict | None:
        """{version, aliases, decision, reasons, candidate, champion...} or None."""
        fetched_at, value = self.cached
        if time.monotonic() - fetched_at < CACHE_SECONDS:
            return value
        try:
            value = await self.fetch()
        except (aiohttp.ClientError, TimeoutError, ValueError, KeyError) as err:
            log.warning("MLflow did not answer for the last retrain: %s", err)
            value = None
        self.cached = (time.monotonic(), value)
        return value

    async def fetch(self) -> dict | None:
        params = {"name": MODEL_NAME, "alias": "challenger"}
        async with aiohttp.ClientSession(timeout=self.timeout) as session:
            async with session.get(self.url, params=params) as response:
                if response.status == 404:
                    return None  # no retrain registered anything yet
                response.raise_for_status()
                version = (await response.json())["model_version"]
        tags = {tag["key"]: tag["value"] for tag in version.get("tags", [])}
        gate = json.loads(tags.get("gate", "{}"))
        return {"version": str(version["version"]), "aliases": version.get("aliases", []),
                "promoted_at": tags.get("promoted_at"), **gate}
